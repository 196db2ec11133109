package pdf

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer/internal/pdffile"
)

// Shaped runs (layouts.Text.Glyphs: Arabic, Hebrew, anything set right
// to left) name glyphs, not characters, so they cannot use the 8-bit
// simple fonts. Each face they use is embedded once more as a Type 0
// font with the Identity-H encoding over a CIDFontType2 descendant (PDF
// 32000-1:2008, 9.7): two-byte codes are CIDs, the CIDs are the glyph
// ids of a subset font (CIDToGIDMap /Identity), with widths (/W), a
// /CIDSet (PDF/A-1b, ISO 19005-1 6.3.5) and a ToUnicode map built from
// the shaped clusters, so that the lam-alef ligature copies out as the
// two letters it stands for. A CID is given to each distinct pair of
// glyph and text: one glyph standing for different characters in two
// places gets two CIDs.
//
// fpdf cannot write such fonts, so they go into an incremental update
// of their own, after the ToUnicode one: the font objects and a new
// version of the page resources dictionary naming them (/C0, /C1, ...).

// cidKey is one CID: a glyph of the face and the text it stands for.
type cidKey struct {
	gid  uint16
	text string
}

// cidFont is one face drawn with shaped glyphs.
type cidFont struct {
	face  *fonts.Face
	name  string // resource name without the slash: "C0", "C1", ...
	cids  map[cidKey]uint16
	order []cidKey // CID k+1 is order[k]
}

// cidPlan collects the CID fonts of a document.
type cidPlan struct {
	byFace map[*fonts.Face]*cidFont
	fonts  []*cidFont
}

// add records the glyphs of the shaped text t.
func (p *cidPlan) add(t *layouts.Text) error {
	if p.byFace == nil {
		p.byFace = map[*fonts.Face]*cidFont{}
	}
	f := p.byFace[t.Face]
	if f == nil {
		f = &cidFont{face: t.Face, name: "C" + strconv.Itoa(len(p.fonts)), cids: map[cidKey]uint16{}}
		p.byFace[t.Face] = f
		p.fonts = append(p.fonts, f)
	}
	for _, g := range t.Glyphs {
		if int(g.ID) >= t.Face.NumGlyphs() {
			return fmt.Errorf("text %q: glyph %d not in font %s", t.S, g.ID, t.Face.Name())
		}
		k := cidKey{g.ID, g.Text}
		if _, ok := f.cids[k]; !ok {
			if len(f.order) >= 0xFFFE {
				return fmt.Errorf("font %s: too many glyphs", t.Face.Name())
			}
			f.order = append(f.order, k)
			f.cids[k] = uint16(len(f.order))
		}
	}
	return nil
}

// shapedText appends the operators drawing the shaped text t (the text
// position is already at its start) to b: glyphs as two-byte CIDs in a
// TJ array, each glyph's shaped advance and offset written as the
// difference from its width in the font, vertical offsets as text rise.
func (d *drawer) shapedText(b []byte, t *layouts.Text) []byte {
	f := d.cid.byFace[t.Face]
	upem := float64(t.Face.UnitsPerEm())
	b = append(b, " /"...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = appendNum(b, t.Size)
	b = append(b, " Tf ["...)
	d.font, d.size = nil, 0 // the simple-font path selects its font again
	rise := int32(0)
	var pend float64 // thousandths of an em owed before the next glyph
	for _, g := range t.Glyphs {
		if g.YOff != rise {
			b = append(b, "]TJ "...)
			b = appendNum(b, float64(g.YOff)*t.Size/upem)
			b = append(b, " Ts ["...)
			rise = g.YOff
		}
		adj := pend - float64(g.XOff)*1000/upem
		if adj != 0 {
			b = appendNum(b, -adj)
		}
		cid := f.cids[cidKey{g.ID, g.Text}]
		b = append(b, '<')
		b = appendHex4(b, cid)
		b = append(b, '>')
		// After the glyph the pen is at its font width; move it to the
		// shaped advance, undoing the offset.
		pend = float64(g.Advance-int32(t.Face.GlyphAdvance(int(g.ID))))*1000/upem + float64(g.XOff)*1000/upem
	}
	b = append(b, "]TJ"...)
	if rise != 0 {
		b = append(b, " 0 Ts"...)
	}
	return b
}

func appendHex4(b []byte, v uint16) []byte {
	const hex = "0123456789ABCDEF"
	return append(b, hex[v>>12], hex[v>>8&15], hex[v>>4&15], hex[v&15])
}

// cidResources finds the page resources dictionary in fpdf's file p
// (fpdf shares one among all pages): its object number and content.
func cidResources(p *pdffile.File) (int, []byte, error) {
	for n := 1; n < p.NumObjects(); n++ {
		ok, err := p.HasPrefix(n, []byte("<<"))
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			continue
		}
		d, err := p.Object(n)
		if err != nil {
			return 0, nil, err
		}
		if bytes.Contains(d[:min(len(d), 64)], []byte("/ProcSet")) && bytes.Contains(d, []byte("/Font <<")) {
			return n, d, nil
		}
	}
	return 0, nil, errors.New("no page resources dictionary with fonts")
}

// writeCIDFonts writes plan's fonts into the update u of fpdf's file p
// (see addUpdate): for each, the subset font program, its CIDSet,
// descriptor, CIDFontType2 and Type0 dictionaries and ToUnicode CMap, and
// a new version of the page resources dictionary naming them.
func writeCIDFonts(p *pdffile.File, u *pdffile.Update, plan *cidPlan) error {
	resNum, resDict, err := cidResources(p)
	if err != nil {
		return err
	}
	type ref struct {
		name string
		num  int
	}
	var refs []ref
	var out []byte
	for _, f := range plan.fonts {
		face := f.face
		gids := make([]uint16, len(f.order))
		for i, k := range f.order {
			gids[i] = k.gid
		}
		prog, err := face.SubsetGlyphs(gids)
		if err != nil {
			return err
		}
		z, err := compressSubset(face, prog)
		if err != nil {
			return fmt.Errorf("compress font: %w", err)
		}
		base := cidTag(face.Name(), f.order) + "+" + pdfName(face.Name())
		upem := float64(face.UnitsPerEm())
		scale := func(v int) int { return int(math.Round(float64(v) * 1000 / upem)) }
		fileNum, setNum, descNum, cidNum, cmapNum, type0Num := u.New(), u.New(), u.New(), u.New(), u.New(), u.New()
		u.Stream(fileNum, "/Filter /FlateDecode /Length1 "+strconv.Itoa(len(prog)), z)
		// CIDSet: one bit per CID from 0, most significant bit first.
		set := make([]byte, (len(f.order)+1+7)/8)
		for c := 0; c <= len(f.order); c++ {
			set[c/8] |= 0x80 >> (c % 8)
		}
		u.Stream(setNum, "", set)
		bb := face.BBox()
		flags := 4 // symbolic
		if face.IsItalic() {
			flags |= flagItalic
		}
		stemV := 80
		if face.IsBold() {
			stemV = 120
		}
		out = fmt.Appendf(out[:0], "<</Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [%d %d %d %d] /ItalicAngle %d /Ascent %d /Descent %d /CapHeight %d /StemV %d /FontFile2 %d 0 R /CIDSet %d 0 R>>",
			base, flags, scale(bb[0]), scale(bb[1]), scale(bb[2]), scale(bb[3]), int(math.Round(face.ItalicAngle())),
			scale(face.Ascent()), scale(face.Descent()), scale(face.CapHeight()), stemV, fileNum, setNum)
		u.Object(descNum, out)
		out = fmt.Appendf(out[:0], "<</Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>> /FontDescriptor %d 0 R /CIDToGIDMap /Identity /DW 0 /W [1 [", base, descNum)
		for i, k := range f.order {
			if i > 0 {
				out = append(out, ' ')
			}
			out = appendNum(out, float64(face.GlyphAdvance(int(k.gid)))*1000/upem)
		}
		out = append(out, "]]>>"...)
		u.Object(cidNum, out)
		u.Stream(cmapNum, "", appendCIDCMap(nil, f))
		out = fmt.Appendf(out[:0], "<</Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R>>", base, cidNum, cmapNum)
		u.Object(type0Num, out)
		refs = append(refs, ref{f.name, type0Num})
	}
	// The resources dictionary again, with the CID fonts added.
	i := bytes.Index(resDict, []byte("/Font <<"))
	out = append(out[:0], resDict[:i+len("/Font <<")]...)
	for _, r := range refs {
		out = fmt.Appendf(out, "\n/%s %d 0 R", r.name, r.num)
	}
	out = append(out, resDict[i+len("/Font <<"):]...)
	u.Object(resNum, out)
	return nil
}

// appendCIDCMap appends the ToUnicode CMap of f: two-byte codes, each
// CID mapped to the text of its glyph's cluster.
func appendCIDCMap(b []byte, f *cidFont) []byte {
	b = append(b, cmapStart+`<0000> <FFFF>
endcodespacerange
`...)
	var chars []int
	for i, k := range f.order {
		if k.text != "" {
			chars = append(chars, i+1)
		}
	}
	for len(chars) > 0 {
		n := min(len(chars), 100)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, " beginbfchar\n"...)
		for _, c := range chars[:n] {
			b = append(b, '<')
			b = appendHex4(b, uint16(c))
			b = append(b, "> <"...)
			for _, u := range utf16.Encode([]rune(f.order[c-1].text)) {
				b = appendHex4(b, u)
			}
			b = append(b, ">\n"...)
		}
		b = append(b, "endbfchar\n"...)
		chars = chars[n:]
	}
	return append(b, cmapTail...)
}

// cidTag derives a subset tag from the font's glyphs and texts.
func cidTag(name string, order []cidKey) string {
	h := sha256.New()
	h.Write([]byte(name))
	for _, k := range order {
		h.Write([]byte{byte(k.gid >> 8), byte(k.gid)})
		h.Write([]byte(k.text))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	return string(tag)
}
