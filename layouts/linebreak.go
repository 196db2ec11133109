package layouts

import (
	"github.com/go-text/typesetting/segmenter"

	"github.com/carta-letters/carta/fonts"
)

// lineBreaks finds the break opportunities of text in Chinese, Japanese
// and Korean, which has no spaces between words, with the Unicode line
// breaking algorithm (UAX #14, go-text/typesetting's segmenter): between
// ideographs and kana, never before a closing bracket, a full stop or a
// small kana, never after an opening bracket.
type lineBreaks struct {
	seg   segmenter.Segmenter
	runes []rune
}

// markBreaks marks the glyphs of c.glyphs a line may start with under
// UAX #14, when the paragraph has CJK text; the others keep the classes
// shape gave them (spaces, hyphens and dashes break as before).
func (c *composer) markBreaks() {
	g := c.glyphs
	lb := &c.cjk
	var any bool
	lb.runes, any = c.paragraphRunes(lb.runes, fonts.IsCJK)
	if !any {
		return
	}
	lb.seg.Init(lb.runes)
	it := lb.seg.LineIterator()
	for it.Next() {
		k := it.Line().Offset
		if k == 0 || k >= len(g) || g[k].cls != clsText {
			continue
		}
		// Breaks after spaces, hyphens and newlines are found by shape's
		// classes already; the new ones are those next to CJK text.
		if p := g[k-1].cls; (p == clsText || p == clsBreakBefore) && (fonts.IsCJK(lb.runes[k]) || fonts.IsCJK(lb.runes[k-1])) {
			g[k].cls = clsBreakBefore
		}
	}
}

// paragraphRunes returns buf[:0] with the rune of each glyph of c.glyphs
// appended ('\n' for a line break), and whether has holds for any of
// them.
func (c *composer) paragraphRunes(buf []rune, has func(rune) bool) ([]rune, bool) {
	buf = buf[:0]
	found := false
	for k := range c.glyphs {
		r := c.runeOf(k)
		if c.glyphs[k].cls == clsNewline {
			r = '\n'
		}
		found = found || has(r)
		buf = append(buf, r)
	}
	return buf, found
}
