package layouts

// Breaking a word that has no break point where its line is full.
//
// A word wider than its line (a long compound, a URL, an e-mail address)
// breaks at a pattern point of the job's language when it has one
// (composer.hyphenate, tried first); otherwise between any two
// characters. Wherever it breaks, the line ends with a hyphen, which the
// line's width includes, so a reader always sees that the word goes on.

// hyphen is the character drawn at the end of a line that breaks a word.
const hyphenRune = '-'

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
	w -= float64(g[end-1].kw) // its kerning with the next line's glyph is not drawn
	if g[end-1].cls == clsBreakAfter {
		return end, w, false
	}
	return end, w + c.hyphenWidth(end-1), true
}

// hyphenWidth is the width of a hyphen set after glyph k.
func (c *composer) hyphenWidth(k int) float64 {
	f := c.hyphenFace(&c.glyphs[k])
	return float64(f.Advance(hyphenRune)) * c.hyph.size / float64(f.UnitsPerEm())
}
