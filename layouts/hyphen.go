package layouts

import "github.com/carta-letters/carta/fonts"

// Breaking a word that has no break point where its line is full.
//
// Today a word wider than its line (a long compound, a URL, an e-mail
// address) may break between any two characters; wherever it breaks,
// the line ends with a hyphen, which the line's width includes, so a
// reader always sees that the word goes on. Hyphenation points from
// language patterns would plug in here: breakWord would prefer the last
// pattern point before the line is full to the last character that fits.

// hyphen is the character drawn at the end of a line that breaks a word.
const hyphen = '-'

// minWordHead is how many glyphs of a word too long for any line must
// fit at the end of a line for the word to start there rather than on
// the next line.
const minWordHead = 4

// segmentWidth is the width of the glyphs from k up to the next break
// opportunity (a space, a newline, or after a hyphen, dash or slash).
func (c *composer) segmentWidth(k int) float64 {
	w := 0.0
	for ; k < len(c.glyphs); k++ {
		g := &c.glyphs[k]
		if g.cls == clsSpace || g.cls == clsNewline {
			break
		}
		w += g.w
		if g.cls == clsBreakAfter {
			break
		}
	}
	return w
}

// breakWord chooses where to break the word that starts at glyph lo (the
// line's first glyph, or the first after a space when a word too long for
// any line starts on this one) and overflows the line (of width width)
// at glyph i, x points in. It returns the end of the line (the first
// glyph of the next), the line's width and whether the line ends with a
// hyphen: the break falls after the last glyph after which a hyphen
// still fits, at least one glyph of the word in; no hyphen is added after
// a glyph that is itself a hyphen or a dash.
func (c *composer) breakWord(lo, i int, x, width float64) (end int, w float64, hyph bool) {
	const eps = 1e-6
	g := c.glyphs
	end, w = i, x
	for end > lo+1 && w+c.hyphenWidth(end-1) > width+eps {
		end--
		w -= g[end].w
	}
	if g[end-1].cls == clsBreakAfter {
		return end, w, false
	}
	return end, w + c.hyphenWidth(end-1), true
}

// hyphenWidth is the width of a hyphen set after glyph k.
func (c *composer) hyphenWidth(k int) float64 {
	f := c.hyphenFace(k)
	return float64(f.Advance(hyphen)) * c.size / float64(f.UnitsPerEm())
}

// hyphenFace is the face that draws the hyphen after glyph k: glyph k's
// own face when it has one, else the family's regular face.
func (c *composer) hyphenFace(k int) *fonts.Face {
	if f := c.faces[c.glyphs[k].face]; f.Has(hyphen) {
		return f
	}
	return c.fam.Face(fonts.Regular)
}
