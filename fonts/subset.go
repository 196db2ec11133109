package fonts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Subset returns a TrueType font holding only .notdef and the glyphs of
// runes (plus the components of composite glyphs). Glyph ids are given in
// increasing rune order after .notdef, components last. The subset has a
// Windows Unicode cmap (format 4, plus format 12 when a rune is above
// U+FFFF), a format 2 post table naming every glyph with GlyphName, and
// the original head, hhea, maxp, OS/2, cvt, fpgm, prep and gasp tables
// adjusted to the new glyph set, and the Windows records of the name
// table (names, copyright and licence). The output is deterministic.
// Every rune must be covered by the face; duplicates are ignored.
func (f *Face) Subset(runes []rune) ([]byte, error) {
	b, err := f.subset(runes)
	if err != nil {
		return nil, fmt.Errorf("subset font %s: %w", f.name, err)
	}
	return b, nil
}

type cmapEntry struct {
	r rune
	g uint16 // new glyph id
}

func (f *Face) subset(runes []rune) ([]byte, error) { return f.subsetWith(runes, buildCmap) }

// subsetWith is subset with the cmap table built by cmapOf from the
// subset's (rune, glyph id) entries, sorted by rune.
func (f *Face) subsetWith(runes []rune, cmapOf func([]cmapEntry) ([]byte, error)) ([]byte, error) {
	rs := slices.Clone(runes)
	slices.Sort(rs)
	rs = slices.Compact(rs)

	oldOf := make([]uint16, 1, len(rs)+16) // new gid -> old gid
	oldOf[0] = 0
	newOf := make([]uint16, f.nGlyphs) // old gid -> new gid; 0: not yet
	names := make([]string, 1, len(rs)+16)
	names[0] = ".notdef"
	entries := make([]cmapEntry, 0, len(rs))
	for _, r := range rs {
		og := f.glyph(r)
		if og == 0 {
			return nil, fmt.Errorf("no glyph for U+%04X", r)
		}
		ng := newOf[og]
		if ng == 0 {
			ng = uint16(len(oldOf))
			newOf[og] = ng
			oldOf = append(oldOf, og)
			names = append(names, GlyphName(r))
		}
		entries = append(entries, cmapEntry{r, ng})
	}
	// Pull in composite components (breadth first, deterministic).
	datas, err := f.pullComponents(&oldOf, func(og uint16) (uint16, bool) {
		if int(og) >= len(newOf) {
			return 0, false
		}
		ng := newOf[og]
		if ng == 0 && og != 0 {
			ng = uint16(len(oldOf))
			newOf[og] = ng
			oldOf = append(oldOf, og)
			names = append(names, fmt.Sprintf("glyph%d", og))
		}
		return ng, true
	})
	if err != nil {
		return nil, err
	}
	tables := f.glyphTables(oldOf, datas)

	cmap, err := cmapOf(entries)
	if err != nil {
		return nil, fmt.Errorf("cmap table: %w", err)
	}
	post, err := f.buildPost(names)
	if err != nil {
		return nil, fmt.Errorf("post table: %w", err)
	}

	tables["cmap"], tables["post"] = cmap, post
	if os2 := f.tables["OS/2"]; len(os2) >= 68 {
		os2 = slices.Clone(os2)
		first, last := 0xFFFF, 0
		for _, e := range entries {
			c := int(min(e.r, 0xFFFF))
			first, last = min(first, c), max(last, c)
		}
		if len(entries) == 0 {
			first = 0
		}
		binary.BigEndian.PutUint16(os2[64:], uint16(first))
		binary.BigEndian.PutUint16(os2[66:], uint16(last))
		tables["OS/2"] = os2
	}
	for t, d := range f.sharedTableMap() {
		tables[t] = d
	}
	return assemble(tables), nil
}

// sharedTags are the tables a subset copies unchanged from its face
// (name being the face's Windows records), in tag order.
var sharedTags = [...]string{"cvt ", "fpgm", "gasp", "name", "prep"}

// sharedTableMap returns the face's tables that every subset carries
// unchanged, by tag.
func (f *Face) sharedTableMap() map[string][]byte {
	m := make(map[string][]byte, len(sharedTags))
	for _, t := range sharedTags {
		d, ok := f.tables[t]
		if t == "name" {
			d, ok = f.names, f.names != nil
		}
		if ok {
			m[t] = d
		}
	}
	return m
}

// sharedTables returns the bytes of the face's shared tables as assemble
// lays them out: in tag order, each padded to 4 bytes.
func (f *Face) sharedTables() []byte {
	var b []byte
	for _, t := range sharedTags {
		if d, ok := f.sharedTableMap()[t]; ok {
			b = append(b, d...)
			for len(b)%4 != 0 {
				b = append(b, 0)
			}
		}
	}
	return b
}

// SharedTables returns the bytes every subset of f (Subset, SubsetCodes,
// SubsetGlyphs) carries unchanged right after its table directory: the
// hinting programs and tables (cvt, fpgm, prep, gasp) and the name
// table, which do not depend on the characters. A PDF writer can
// compress them once per process (see package renderer/pdf). The slice
// must not be modified.
func (f *Face) SharedTables() []byte { return f.shared }

// lsb returns the left side bearing of glyph g from hmtx.
func (f *Face) lsb(g int) int {
	mtx := f.tables["hmtx"]
	nh := int(u16(f.tables["hhea"], 34))
	if g < nh {
		return i16(mtx, 4*g+2)
	}
	off := 4*nh + 2*(g-nh)
	if off+2 > len(mtx) {
		return 0
	}
	return i16(mtx, off)
}

// walkComponents calls fn with the offset of each component's glyph
// index in the composite glyph d.
func walkComponents(d []byte, fn func(at int)) error {
	off := 10
	for {
		if off+4 > len(d) {
			return errors.New("composite glyph truncated")
		}
		flags := u16(d, off)
		fn(off + 2)
		off += 4
		if flags&0x0001 != 0 { // ARG_1_AND_2_ARE_WORDS
			off += 4
		} else {
			off += 2
		}
		switch {
		case flags&0x0008 != 0: // WE_HAVE_A_SCALE
			off += 2
		case flags&0x0040 != 0: // WE_HAVE_AN_X_AND_Y_SCALE
			off += 4
		case flags&0x0080 != 0: // WE_HAVE_A_TWO_BY_TWO
			off += 8
		}
		if flags&0x0020 == 0 { // MORE_COMPONENTS
			if off > len(d) {
				return errors.New("composite glyph truncated")
			}
			return nil
		}
	}
}

func buildCmap(entries []cmapEntry) ([]byte, error) {
	// entries are sorted by rune.
	var bmp []cmapEntry
	astral := false
	for _, e := range entries {
		if e.r <= 0xFFFF {
			bmp = append(bmp, e)
		} else {
			astral = true
		}
	}
	f4, err := cmapFormat4(bmp)
	if err != nil {
		return nil, err
	}
	subs := [][]byte{f4}
	ids := [][2]uint16{{3, 1}}
	if astral {
		subs = append(subs, cmapFormat12(entries))
		ids = append(ids, [2]uint16{3, 10})
	}
	out := make([]byte, 4+8*len(subs))
	binary.BigEndian.PutUint16(out[2:], uint16(len(subs)))
	for i, s := range subs {
		binary.BigEndian.PutUint16(out[4+8*i:], ids[i][0])
		binary.BigEndian.PutUint16(out[6+8*i:], ids[i][1])
		binary.BigEndian.PutUint32(out[8+8*i:], uint32(len(out)))
		out = append(out, s...)
	}
	return out, nil
}

// runs groups sorted entries into runs of consecutive runes with
// consecutive glyph ids.
func runs(es []cmapEntry) [][2]int {
	var out [][2]int // [start index, end index] inclusive
	for i := 0; i < len(es); {
		j := i
		for j+1 < len(es) && es[j+1].r == es[j].r+1 && es[j+1].g == es[j].g+1 {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j + 1
	}
	return out
}

func cmapFormat4(es []cmapEntry) ([]byte, error) {
	type seg struct{ start, end, delta uint16 }
	var segs []seg
	for _, r := range runs(es) {
		a, b := es[r[0]], es[r[1]]
		segs = append(segs, seg{uint16(a.r), uint16(b.r), uint16(int(a.g) - int(a.r))})
	}
	segs = append(segs, seg{0xFFFF, 0xFFFF, 1})
	sc := len(segs)
	length := 16 + 8*sc
	if length > 0xFFFF {
		return nil, errors.New("format 4 subtable too large")
	}
	es2 := 0
	for 1<<(es2+1) <= sc {
		es2++
	}
	sr := 2 << es2
	b := make([]byte, length)
	binary.BigEndian.PutUint16(b[0:], 4)
	binary.BigEndian.PutUint16(b[2:], uint16(length))
	binary.BigEndian.PutUint16(b[6:], uint16(2*sc))
	binary.BigEndian.PutUint16(b[8:], uint16(sr))
	binary.BigEndian.PutUint16(b[10:], uint16(es2))
	binary.BigEndian.PutUint16(b[12:], uint16(2*sc-sr))
	for i, s := range segs {
		binary.BigEndian.PutUint16(b[14+2*i:], s.end)
		binary.BigEndian.PutUint16(b[16+2*sc+2*i:], s.start)
		binary.BigEndian.PutUint16(b[16+4*sc+2*i:], s.delta)
		// idRangeOffset stays 0.
	}
	return b, nil
}

func cmapFormat12(es []cmapEntry) []byte {
	rr := runs(es)
	b := make([]byte, 16+12*len(rr))
	binary.BigEndian.PutUint16(b[0:], 12)
	binary.BigEndian.PutUint32(b[4:], uint32(len(b)))
	binary.BigEndian.PutUint32(b[12:], uint32(len(rr)))
	for i, r := range rr {
		g := b[16+12*i:]
		binary.BigEndian.PutUint32(g[0:], uint32(es[r[0]].r))
		binary.BigEndian.PutUint32(g[4:], uint32(es[r[1]].r))
		binary.BigEndian.PutUint32(g[8:], uint32(es[r[0]].g))
	}
	return b
}

func (f *Face) buildPost(names []string) ([]byte, error) {
	b := make([]byte, 32, 34+2*len(names)+8*len(names))
	if p := f.tables["post"]; len(p) >= 32 {
		copy(b, p[:32])
	}
	binary.BigEndian.PutUint32(b[0:], 0x00020000)
	for i := 16; i < 32; i++ { // memory usage hints: unknown
		b[i] = 0
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(names)))
	for i := range names {
		if i == 0 {
			b = binary.BigEndian.AppendUint16(b, 0) // .notdef is standard name 0
		} else {
			b = binary.BigEndian.AppendUint16(b, uint16(258+i-1))
		}
	}
	for _, n := range names[1:] {
		if len(n) > 255 {
			return nil, fmt.Errorf("glyph name %q too long", n)
		}
		b = append(b, byte(len(n)))
		b = append(b, n...)
	}
	return b, nil
}

func checksum(b []byte) uint32 {
	var s uint32
	for len(b) >= 4 {
		s += binary.BigEndian.Uint32(b)
		b = b[4:]
	}
	if len(b) > 0 {
		var t [4]byte
		copy(t[:], b)
		s += binary.BigEndian.Uint32(t[:])
	}
	return s
}

// assemble writes an sfnt file with the given tables in tag order and
// sets head.checkSumAdjustment.
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	es := 0
	for 1<<(es+1) <= n {
		es++
	}
	sr := 16 << es
	size := 12 + 16*n
	for _, t := range tags {
		size += (len(tables[t]) + 3) &^ 3
	}
	out := make([]byte, 12+16*n, size)
	binary.BigEndian.PutUint32(out[0:], 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(sr))
	binary.BigEndian.PutUint16(out[8:], uint16(es))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-sr))
	// The directory lists the tables in tag order; their data comes in
	// two runs, each in tag order: first the shared tables (the same in
	// every subset of a face, see Face.SharedTables), then the others.
	headAt := -1
	for _, shared := range []bool{true, false} {
		for i, t := range tags {
			if slices.Contains(sharedTags[:], t) != shared {
				continue
			}
			d := tables[t]
			rec := out[12+16*i:]
			copy(rec, t)
			binary.BigEndian.PutUint32(rec[4:], checksum(d))
			binary.BigEndian.PutUint32(rec[8:], uint32(len(out)))
			binary.BigEndian.PutUint32(rec[12:], uint32(len(d)))
			if t == "head" {
				headAt = len(out)
			}
			out = append(out, d...)
			for len(out)%4 != 0 {
				out = append(out, 0)
			}
		}
	}
	if headAt >= 0 {
		binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	}
	return out
}

// windowsNames returns a copy of the name table keeping only the Windows
// platform records (which hold every name, the copyright and the licence),
// dropping the duplicate Macintosh ones. It returns nil if the table
// cannot be read or has no Windows records.
func windowsNames(t []byte) []byte {
	if len(t) < 6 || u16(t, 0) != 0 {
		return nil
	}
	count, strOff := int(u16(t, 2)), int(u16(t, 4))
	if len(t) < 6+12*count {
		return nil
	}
	type rec struct{ hdr, str []byte }
	var keep []rec
	for i := 0; i < count; i++ {
		r := t[6+12*i : 18+12*i]
		ln, off := int(u16(r, 8)), int(u16(r, 10))
		if u16(r, 0) != 3 || strOff+off+ln > len(t) {
			continue
		}
		keep = append(keep, rec{r, t[strOff+off : strOff+off+ln]})
	}
	if len(keep) == 0 {
		return nil
	}
	out := make([]byte, 6+12*len(keep))
	binary.BigEndian.PutUint16(out[2:], uint16(len(keep)))
	binary.BigEndian.PutUint16(out[4:], uint16(len(out)))
	var strs []byte
	for i, r := range keep {
		h := out[6+12*i:]
		copy(h, r.hdr[:8])
		binary.BigEndian.PutUint16(h[8:], uint16(len(r.str)))
		binary.BigEndian.PutUint16(h[10:], uint16(len(strs)))
		strs = append(strs, r.str...)
	}
	return append(out, strs...)
}

// pullComponents reads the glyph data of the glyphs *oldOf lists (old
// glyph ids by new id), appending, breadth first, the components their
// composite glyphs refer to: newID gives a component's new id, adding it
// to *oldOf when it is not there yet, or false when the old id is out of
// range. The composites' data is copied with the new ids.
func (f *Face) pullComponents(oldOf *[]uint16, newID func(og uint16) (uint16, bool)) ([][]byte, error) {
	datas := make([][]byte, 0, len(*oldOf))
	for i := 0; i < len(*oldOf); i++ {
		d, err := f.glyphData(int((*oldOf)[i]))
		if err != nil {
			return nil, err
		}
		if len(d) >= 10 && int16(u16(d, 0)) < 0 {
			d = slices.Clone(d)
			bad := false
			err := walkComponents(d, func(at int) {
				ng, ok := newID(u16(d, at))
				if !ok {
					bad = true
					return
				}
				binary.BigEndian.PutUint16(d[at:], ng)
			})
			if err == nil && bad {
				err = errors.New("component glyph id out of range")
			}
			if err != nil {
				return nil, fmt.Errorf("glyph %d: %w", (*oldOf)[i], err)
			}
		}
		datas = append(datas, d)
		if len(*oldOf) > 0xFFFF {
			return nil, errors.New("too many glyphs")
		}
	}
	return datas, nil
}

// glyphTables returns the tables of a subset holding the glyphs oldOf
// lists (old glyph ids by new id) with their data datas: glyf and loca
// (long offsets, glyphs padded to 4 bytes), hmtx (a full metric for every
// glyph), and head, hhea and maxp adjusted to the new glyph set.
func (f *Face) glyphTables(oldOf []uint16, datas [][]byte) map[string][]byte {
	n := len(oldOf)
	size := 0
	for _, d := range datas {
		size += (len(d) + 3) &^ 3
	}
	glyf := make([]byte, 0, size)
	loca := make([]byte, 4*(n+1))
	for i, d := range datas {
		binary.BigEndian.PutUint32(loca[4*i:], uint32(len(glyf)))
		glyf = append(glyf, d...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
	}
	binary.BigEndian.PutUint32(loca[4*n:], uint32(len(glyf)))

	hmtx := make([]byte, 4*n)
	for i, og := range oldOf {
		binary.BigEndian.PutUint16(hmtx[4*i:], f.advances[og])
		binary.BigEndian.PutUint16(hmtx[4*i+2:], uint16(f.lsb(int(og))))
	}

	head := slices.Clone(f.tables["head"])
	binary.BigEndian.PutUint32(head[8:], 0)  // checkSumAdjustment, set by assemble
	binary.BigEndian.PutUint16(head[50:], 1) // long loca
	hhea := slices.Clone(f.tables["hhea"])
	binary.BigEndian.PutUint16(hhea[34:], uint16(n))
	maxp := slices.Clone(f.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(n))
	return map[string][]byte{"head": head, "hhea": hhea, "maxp": maxp, "hmtx": hmtx, "loca": loca, "glyf": glyf}
}
