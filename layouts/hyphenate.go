package layouts

import (
	"unicode"
	"unicode/utf8"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts/hyphen"
)

// hyphZone is how much room a line may leave empty at its right end
// before the breaker hyphenates the next word into it (body text only):
// 18 pt, a quarter inch, as word processors' hyphenation zone.
const hyphZone = 18.0

// maxHyphenated is the most consecutive lines of running text that end
// in a hyphen added by hyphenation.
const maxHyphenated = 2

// hyphenation is the composer's hyphenation state.
type hyphenation struct {
	h       *hyphen.Hyphenator // the job's language; nil: no patterns
	running bool               // the text being set is running text (see composer.marked)
	size    float64            // font size of the glyphs being set
	pts     []int
	word    []byte
}

// hyphenate decides whether the line that starts at glyph start and
// overflows at glyph i (x wide before it) ends inside the word at i,
// with a hyphen at a pattern point of the job's language. spaceBreak
// tells whether the line has an earlier break (ending bW wide): the word
// is hyphenated then only in running text and only when breaking at
// that space would leave more than hyphZone empty; without one (a word
// wider than the line), even names break at a pattern point when the
// word has one. It returns the glyph the hyphenated line ends before and
// the line's width, hyphen included.
func (c *composer) hyphenate(start, i int, x, width float64, spaceBreak bool, bW float64) (int, float64, bool) {
	const eps = 1e-6
	hs := &c.hyph
	if hs.h == nil || (spaceBreak && (!hs.running || width-bW <= hyphZone || c.hyphenLadder())) {
		return 0, 0, false
	}
	g := c.glyphs
	// The word around glyph i, without the punctuation around it.
	a, b := i, i
	for a > 0 && g[a-1].cls == clsText {
		a--
	}
	for b < len(g) && g[b].cls == clsText {
		b++
	}
	if c.machineToken(a, b) {
		return 0, 0, false
	}
	for a < b && !isWordRune(c.runeOf(a)) {
		a++
	}
	for b > a && !isWordRune(c.runeOf(b-1)) {
		b--
	}
	if b-a < hs.h.MinLeft()+hs.h.MinRight() || b <= start+1 {
		return 0, 0, false
	}
	hs.word = hs.word[:0]
	upper := 0
	for k := a; k < b; k++ {
		r := c.runeOf(k)
		if unicode.IsUpper(r) {
			upper++
		}
		hs.word = utf8.AppendRune(hs.word, r)
	}
	if upper > 1 {
		return 0, 0, false // acronyms and names in capitals are left whole
	}
	hs.pts = hs.h.Points(hs.pts[:0], string(hs.word))
	// The last pattern point where the line, hyphen included, fits.
	for k := len(hs.pts) - 1; k >= 0; k-- {
		p := a + hs.pts[k]
		if p > i {
			continue
		}
		if p <= start {
			break
		}
		xp := x
		for q := p; q < i; q++ {
			xp -= g[q].w
		}
		last := &g[p-1]
		xp -= float64(last.kw)
		hf := c.hyphenFace(last)
		xp += float64(hf.Advance('-')) * hs.size / float64(hf.UnitsPerEm())
		if xp <= width+eps {
			return p, xp, true
		}
	}
	return 0, 0, false
}

// machineToken reports whether the space-delimited token around glyphs
// a..b is an address, a file name or the like (a URL, an e-mail
// address, "final.pdf", "snake_case"), which no hyphen may be added to.
func (c *composer) machineToken(a, b int) bool {
	g := c.glyphs
	for a > 0 && g[a-1].cls != clsSpace && g[a-1].cls != clsNewline {
		a--
	}
	for b < len(g) && g[b].cls != clsSpace && g[b].cls != clsNewline {
		b++
	}
	for k := a; k < b; k++ {
		switch c.runeOf(k) {
		case '/', '@', '_', '\\', '=', '#', '&':
			return true
		case '.', ':':
			if k+1 < b && isWordRune(c.runeOf(k+1)) {
				return true
			}
		}
	}
	return false
}

// hyphenLadder reports whether the last maxHyphenated lines set all end
// in a hyphen: running text then breaks at a space.
func (c *composer) hyphenLadder() bool {
	n := len(c.lines)
	if n < maxHyphenated {
		return false
	}
	for _, ln := range c.lines[n-maxHyphenated:] {
		if !ln.hyph {
			return false
		}
	}
	return true
}

// runeOf returns the rune of glyph k.
func (c *composer) runeOf(k int) rune {
	gk := &c.glyphs[k]
	r, _ := utf8.DecodeRuneInString(c.spans[gk.span].Text[gk.off:])
	return r
}

// isWordRune reports whether r can be part of a hyphenated word.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Mn, r)
}

// hyphenFace returns the face the hyphen after glyph gl is drawn with:
// its own face when it has a hyphen.
func (c *composer) hyphenFace(gl *glyph) *fonts.Face {
	if f := c.faces[gl.face]; f.Has('-') {
		return f
	}
	return c.faces[0]
}
