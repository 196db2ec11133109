package fonts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Face is one parsed TrueType face. It is immutable and safe for
// concurrent use.
type Face struct {
	name     string // PostScript name
	family   string // typographic family name (name id 16, else 1)
	version  string // font revision from name id 5, e.g. "2.1.4"
	data     []byte // the whole font file (shared, never modified)
	tables   map[string][]byte
	names    []byte // name table for subsets: Windows records only
	shared   []byte // the tables every subset carries unchanged (see SharedTables)
	upem     int
	ascent   int // hhea ascender
	descent  int // hhea descender (negative)
	lineGap  int // hhea line gap
	capH     int
	xH       int
	bbox     [4]int // xMin, yMin, xMax, yMax
	italic   float64
	ulPos    int
	ulThick  int
	weight   int
	fixed    bool
	flags    uint16 // head.macStyle
	nGlyphs  int
	longLoca bool

	advances []uint16 // by glyph id
	bmp      [256]*[256]uint16
	astral   map[rune]uint16
	nRunes   int
	kern     *kernTable // nil: no pair kerning
	shaper   shaperFace // see Shaper
}

// Name returns the face's PostScript name, e.g. "LiberationSerif-Bold".
func (f *Face) Name() string { return f.name }

// FamilyName returns the family name recorded in the font, e.g.
// "Liberation Serif".
func (f *Face) FamilyName() string { return f.family }

// Version returns the font file's own version, from its name table
// (name ID 5) without the "Version " prefix and without anything after
// the number, e.g. "2.1.4" for "Version 2.1.4" or "2.37" for "Version
// 2.37; ttfautohint (v1.8)". It is empty when the font records none.
func (f *Face) Version() string { return f.version }

// UnitsPerEm returns the number of font units in one em.
func (f *Face) UnitsPerEm() int { return f.upem }

// Ascent returns the typographic ascender in font units (positive): the
// hhea ascender, which is what text layout engines and PDF viewers use
// for line placement.
func (f *Face) Ascent() int { return f.ascent }

// Descent returns the typographic descender in font units (negative).
func (f *Face) Descent() int { return f.descent }

// LineGap returns the recommended extra space between lines in font units.
func (f *Face) LineGap() int { return f.lineGap }

// CapHeight returns the height of capital letters in font units. When
// the font does not record it, it is the top of "H".
func (f *Face) CapHeight() int { return f.capH }

// XHeight returns the height of lowercase letters in font units (0 when
// unknown).
func (f *Face) XHeight() int { return f.xH }

// BBox returns the union of all glyph bounding boxes, in font units:
// xMin, yMin, xMax, yMax.
func (f *Face) BBox() [4]int { return f.bbox }

// ItalicAngle returns the italic angle in degrees counter-clockwise from
// vertical (negative for faces leaning right, 0 for upright ones).
func (f *Face) ItalicAngle() float64 { return f.italic }

// UnderlinePosition returns the suggested underline position in font
// units (negative: below the baseline).
func (f *Face) UnderlinePosition() int { return f.ulPos }

// UnderlineThickness returns the suggested underline thickness in font units.
func (f *Face) UnderlineThickness() int { return f.ulThick }

// Weight returns the OS/2 weight class (400 regular, 700 bold).
func (f *Face) Weight() int { return f.weight }

// IsItalic reports whether the face is italic or oblique.
func (f *Face) IsItalic() bool { return f.flags&2 != 0 || f.italic != 0 }

// IsBold reports whether the face is bold.
func (f *Face) IsBold() bool { return f.flags&1 != 0 || f.weight >= 600 }

// IsFixedPitch reports whether all glyphs have the same advance.
func (f *Face) IsFixedPitch() bool { return f.fixed }

// NumGlyphs returns the number of glyphs in the font.
func (f *Face) NumGlyphs() int { return f.nGlyphs }

// NumRunes returns the number of characters the font maps to a glyph.
func (f *Face) NumRunes() int { return f.nRunes }

// glyph returns the glyph id of r, 0 when the face does not have it.
func (f *Face) glyph(r rune) uint16 {
	if uint32(r) < 0x10000 {
		if p := f.bmp[r>>8]; p != nil {
			return p[r&0xff]
		}
		return 0
	}
	return f.astral[r]
}

// Has reports whether the face has a glyph for r.
func (f *Face) Has(r rune) bool { return f.glyph(r) != 0 }

// Advance returns the advance width of r in font units, 0 when !Has(r).
func (f *Face) Advance(r rune) int {
	g := f.glyph(r)
	if g == 0 {
		return 0
	}
	return int(f.advances[g])
}

// GlyphAdvance returns the advance width of glyph id g in font units.
func (f *Face) GlyphAdvance(g int) int {
	if g < 0 || g >= len(f.advances) {
		return 0
	}
	return int(f.advances[g])
}

// Width returns the width in points of s set at size points: the sum of
// the advances of its runes (no kerning). Runes the face lacks count 0.
func (f *Face) Width(s string, size float64) float64 {
	return float64(f.Units(s)) * size / float64(f.upem)
}

// Units returns the width of s in font units (sum of advances, no kerning).
func (f *Face) Units(s string) int {
	u := 0
	for _, r := range s {
		u += f.Advance(r)
	}
	return u
}

var errShort = errors.New("table too short")

func u16(b []byte, off int) uint16 { return binary.BigEndian.Uint16(b[off:]) }
func i16(b []byte, off int) int    { return int(int16(binary.BigEndian.Uint16(b[off:]))) }
func u32(b []byte, off int) uint32 { return binary.BigEndian.Uint32(b[off:]) }

// Parse parses a TrueType font file. The returned Face keeps a reference
// to data, which must not be modified afterwards.
func Parse(data []byte) (*Face, error) {
	f, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse font: %w", err)
	}
	return f, nil
}

func parse(data []byte) (*Face, error) {
	if len(data) < 12 {
		return nil, errors.New("file too short")
	}
	switch v := u32(data, 0); v {
	case 0x00010000, 0x74727565: // 1.0, 'true'
	case 0x4f54544f:
		return nil, errors.New("CFF-flavoured OpenType is not supported")
	default:
		return nil, fmt.Errorf("unknown sfnt version %#08x", v)
	}
	n := int(u16(data, 4))
	if len(data) < 12+16*n {
		return nil, errors.New("table directory truncated")
	}
	f := &Face{data: data, tables: make(map[string][]byte, n)}
	for i := 0; i < n; i++ {
		rec := data[12+16*i:]
		tag := string(rec[:4])
		off, ln := u32(rec, 8), u32(rec, 12)
		if uint64(off)+uint64(ln) > uint64(len(data)) {
			return nil, fmt.Errorf("%s table: extends past end of file", tag)
		}
		f.tables[tag] = data[off : off+ln : off+ln]
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "cmap", "loca", "glyf"} {
		if _, ok := f.tables[t]; !ok {
			return nil, fmt.Errorf("%s table: missing", t)
		}
	}
	if err := f.parseHead(); err != nil {
		return nil, fmt.Errorf("head table: %w", err)
	}
	maxp := f.tables["maxp"]
	if len(maxp) < 6 {
		return nil, fmt.Errorf("maxp table: %w", errShort)
	}
	f.nGlyphs = int(u16(maxp, 4))
	if err := f.parseHhea(); err != nil {
		return nil, fmt.Errorf("hhea table: %w", err)
	}
	if err := f.parseCmap(); err != nil {
		return nil, fmt.Errorf("cmap table: %w", err)
	}
	f.parseOS2()
	f.parseKern()
	f.parsePost()
	f.parseName()
	f.names = windowsNames(f.tables["name"])
	f.shared = f.sharedTables()
	if f.capH == 0 {
		f.capH = f.glyphTop('H')
	}
	if f.capH == 0 {
		f.capH = f.ascent
	}
	if f.xH == 0 {
		f.xH = f.glyphTop('x')
	}
	return f, nil
}

func (f *Face) parseHead() error {
	h := f.tables["head"]
	if len(h) < 54 {
		return errShort
	}
	f.upem = int(u16(h, 18))
	if f.upem < 16 || f.upem > 16384 {
		return fmt.Errorf("bad unitsPerEm %d", f.upem)
	}
	f.bbox = [4]int{i16(h, 36), i16(h, 38), i16(h, 40), i16(h, 42)}
	f.flags = u16(h, 44)
	f.longLoca = i16(h, 50) == 1
	return nil
}

func (f *Face) parseHhea() error {
	h := f.tables["hhea"]
	if len(h) < 36 {
		return errShort
	}
	f.ascent, f.descent, f.lineGap = i16(h, 4), i16(h, 6), i16(h, 8)
	if f.descent > 0 {
		f.descent = -f.descent
	}
	nh := int(u16(h, 34))
	if nh == 0 || nh > f.nGlyphs {
		return fmt.Errorf("bad numberOfHMetrics %d", nh)
	}
	mtx := f.tables["hmtx"]
	if len(mtx) < 4*nh {
		return fmt.Errorf("hmtx table: %w", errShort)
	}
	f.advances = make([]uint16, f.nGlyphs)
	for g := 0; g < f.nGlyphs; g++ {
		if g < nh {
			f.advances[g] = u16(mtx, 4*g)
		} else {
			f.advances[g] = f.advances[nh-1]
		}
	}
	return nil
}

func (f *Face) parseOS2() {
	o := f.tables["OS/2"]
	if len(o) < 78 {
		return
	}
	f.weight = int(u16(o, 4))
	if u16(o, 0) >= 2 && len(o) >= 90 {
		f.xH = i16(o, 86)
		f.capH = i16(o, 88)
	}
}

func (f *Face) parsePost() {
	p := f.tables["post"]
	if len(p) < 16 {
		return
	}
	f.italic = float64(int32(u32(p, 4))) / 65536
	f.ulPos = i16(p, 8)
	f.ulThick = i16(p, 10)
	f.fixed = u32(p, 12) != 0
}

func (f *Face) parseName() {
	t := f.tables["name"]
	if len(t) < 6 {
		return
	}
	count, strOff := int(u16(t, 2)), int(u16(t, 4))
	var ps, fam, ver string
	for i := 0; i < count && 6+12*i+12 <= len(t); i++ {
		rec := t[6+12*i:]
		plat, enc, id := u16(rec, 0), u16(rec, 2), u16(rec, 6)
		ln, off := int(u16(rec, 8)), int(u16(rec, 10))
		if id != 6 && id != 1 && id != 16 && id != 5 {
			continue
		}
		if strOff+off+ln > len(t) {
			continue
		}
		raw := t[strOff+off : strOff+off+ln]
		var s string
		switch {
		case plat == 3 && (enc == 1 || enc == 10), plat == 0:
			u := make([]uint16, len(raw)/2)
			for j := range u {
				u[j] = u16(raw, 2*j)
			}
			s = string(utf16.Decode(u))
		case plat == 1 && enc == 0:
			s = string(raw) // PostScript and family names are ASCII
		default:
			continue
		}
		switch id {
		case 6:
			if ps == "" || plat == 3 {
				ps = s
			}
		case 16:
			fam = s
		case 1:
			if fam == "" {
				fam = s
			}
		case 5:
			if ver == "" || plat == 3 {
				ver = s
			}
		}
	}
	f.name, f.family, f.version = ps, fam, versionNumber(ver)
	if f.name == "" {
		f.name = "Unnamed"
	}
}

// versionNumber returns the version number of a name ID 5 string:
// "Version 2.37; ttfautohint (v1.8)" gives "2.37". A string that does not
// start with "Version" is kept whole, trimmed to its first field.
func versionNumber(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= len("version") && strings.EqualFold(s[:len("version")], "version") {
		s = strings.TrimSpace(s[len("version"):])
	}
	if i := strings.IndexAny(s, "; \t"); i >= 0 {
		s = s[:i]
	}
	return s
}

// glyphData returns the glyf bytes of glyph g (nil for an empty glyph).
func (f *Face) glyphData(g int) ([]byte, error) {
	loca, glyf := f.tables["loca"], f.tables["glyf"]
	var a, b int
	if f.longLoca {
		if len(loca) < 4*(g+2) {
			return nil, fmt.Errorf("loca table: %w", errShort)
		}
		a, b = int(u32(loca, 4*g)), int(u32(loca, 4*g+4))
	} else {
		if len(loca) < 2*(g+2) {
			return nil, fmt.Errorf("loca table: %w", errShort)
		}
		a, b = 2*int(u16(loca, 2*g)), 2*int(u16(loca, 2*g+2))
	}
	if a > b || b > len(glyf) {
		return nil, fmt.Errorf("glyf table: glyph %d out of bounds", g)
	}
	if a == b {
		return nil, nil
	}
	return glyf[a:b:b], nil
}

// glyphTop returns yMax of the glyph for r, 0 if unknown.
func (f *Face) glyphTop(r rune) int {
	g := f.glyph(r)
	if g == 0 {
		return 0
	}
	d, err := f.glyphData(int(g))
	if err != nil || len(d) < 10 {
		return 0
	}
	return i16(d, 8)
}

func (f *Face) setGlyph(r rune, g uint16) {
	if g == 0 || int(g) >= f.nGlyphs || r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF) {
		return
	}
	if r < 0x10000 {
		p := f.bmp[r>>8]
		if p == nil {
			p = new([256]uint16)
			f.bmp[r>>8] = p
		}
		if p[r&0xff] == 0 {
			f.nRunes++
		}
		p[r&0xff] = g
		return
	}
	if f.astral == nil {
		f.astral = make(map[rune]uint16)
	}
	if _, ok := f.astral[r]; !ok {
		f.nRunes++
	}
	f.astral[r] = g
}

func (f *Face) parseCmap() error {
	c := f.tables["cmap"]
	if len(c) < 4 {
		return errShort
	}
	n := int(u16(c, 2))
	if len(c) < 4+8*n {
		return errShort
	}
	var fmt4, fmt12 []byte
	for i := 0; i < n; i++ {
		plat, enc, off := u16(c, 4+8*i), u16(c, 6+8*i), int(u32(c, 8+8*i))
		if off+4 > len(c) {
			return fmt.Errorf("subtable %d out of bounds", i)
		}
		sub := c[off:]
		unicode := plat == 0 || (plat == 3 && (enc == 1 || enc == 10))
		if !unicode {
			continue
		}
		switch u16(sub, 0) {
		case 4:
			if fmt4 == nil {
				fmt4 = sub
			}
		case 12:
			if fmt12 == nil {
				fmt12 = sub
			}
		}
	}
	if fmt4 == nil && fmt12 == nil {
		return errors.New("no Unicode subtable of format 4 or 12")
	}
	if fmt4 != nil {
		if err := f.cmap4(fmt4); err != nil {
			return fmt.Errorf("format 4: %w", err)
		}
	}
	if fmt12 != nil {
		if err := f.cmap12(fmt12); err != nil {
			return fmt.Errorf("format 12: %w", err)
		}
	}
	return nil
}

func (f *Face) cmap4(s []byte) error {
	if len(s) < 14 {
		return errShort
	}
	segX2 := int(u16(s, 6))
	if segX2%2 != 0 || len(s) < 16+4*segX2 {
		return errShort
	}
	ends, starts, deltas, ranges := 14, 16+segX2, 16+2*segX2, 16+3*segX2
	for i := 0; i < segX2/2; i++ {
		end, start := int(u16(s, ends+2*i)), int(u16(s, starts+2*i))
		delta, ro := int(u16(s, deltas+2*i)), int(u16(s, ranges+2*i))
		if start > end {
			continue
		}
		for c := start; c <= end && c != 0xFFFF; c++ {
			var g int
			if ro == 0 {
				g = (c + delta) & 0xFFFF
			} else {
				addr := ranges + 2*i + ro + 2*(c-start)
				if addr+2 > len(s) {
					break
				}
				g = int(u16(s, addr))
				if g != 0 {
					g = (g + delta) & 0xFFFF
				}
			}
			f.setGlyph(rune(c), uint16(g))
		}
	}
	return nil
}

func (f *Face) cmap12(s []byte) error {
	if len(s) < 16 {
		return errShort
	}
	n := int(u32(s, 12))
	if n > (len(s)-16)/12 {
		return errShort
	}
	for i := 0; i < n; i++ {
		g := s[16+12*i:]
		start, end, gid := u32(g, 0), u32(g, 4), u32(g, 8)
		if end > 0x10FFFF || start > end {
			continue
		}
		for c := start; c <= end; c++ {
			if gid+(c-start) < 0x10000 {
				f.setGlyph(rune(c), uint16(gid+(c-start)))
			}
		}
	}
	return nil
}
