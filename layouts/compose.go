package layouts

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts/hyphen"
	"github.com/carta-letters/carta/layouts/markup"
	"github.com/carta-letters/carta/renderer/job"
)

// Page geometry, in points. The printer's safe margin is 28.8 pt (0.4 in);
// everything here stays well inside it.
const (
	marginX      = 72.0 // left and right margins
	firstTop     = 54.0 // top of the letterhead on the first page
	laterTop     = 70.0 // top of the text on later pages, under the running header
	bottomMargin = 62.0 // the text ends this far above the bottom edge
	headerBase   = 44.0 // baseline of the running header
	headerRule   = 51.0 // the rule under the running header
	footerBase   = 40.0 // baseline of the footer, from the bottom edge
	furnitureSz  = 8.5  // size of the running header and the footer
)

// Colours.
var (
	black = RGB{0x11, 0x11, 0x11}
	grey  = RGB{0x55, 0x55, 0x55}
	light = RGB{0xb0, 0xb0, 0xb0}
)

// tstyle is a text style: a face style, a size, a line height and a colour.
type tstyle struct {
	font  fonts.Style
	size  float64
	lead  float64 // line height in points
	color RGB
}

// item is one unit of vertical flow, usually one line of text. Its
// drawables (runs, rules, images) refer to it by index and are placed
// relative to its top-left corner when the item is placed on a page.
type item struct {
	h, space float64 // height, and space before it (dropped at the top of a page)
	keep     bool    // no page break between the previous item and this one
	newPage  bool    // start a new page before this item
	page     int32
	y, dx    float64 // top of the item and horizontal offset, once placed
}

// run is a piece of text drawn with one face, relative to its item.
type run struct {
	item  int32
	x, dy float64 // dy: baseline below the item's top
	size  float64
	face  *fonts.Face
	s     string
	kern  []int16 // see Text.Kern
	color RGB
	elem  *Elem   // structure element; nil: artifact
	hyph  bool    // see Text.Hyphen
	gl    []Glyph // see Text.Glyphs
	lgc   int     // first glyph, for the logical order of a bidi line's runs
	// spaceAfter: the line was broken at a space or a newline after
	// this run.
	spaceAfter bool
}

type ruleRec struct {
	item             int32
	x1, dy1, x2, dy2 float64
	width            float64
	color            RGB
}

type imageRec struct {
	item        int32
	x, dy, w, h float64
	data        []byte
	format      string
	name        string
	elem        *Elem // the Figure; nil: artifact
}

// Glyph classes for line breaking.
const (
	clsText uint8 = iota
	clsSpace
	clsBreakAfter // a break is allowed after it (hyphens, dashes, slashes)
	clsNewline
	clsBreakBefore // a break is allowed before it (UAX #14, between ideographs)
)

// glyph is one shaped rune of the paragraph being set. It holds no
// pointer, so the glyph buffer costs the garbage collector nothing.
type glyph struct {
	w    float64 // advance in points, kern included
	off  int32   // byte offset in its span's text
	kern int16   // pair kerning with the next glyph, in font units (in w)
	kw   float32 // the same in points
	span uint16
	n    uint8 // byte length
	cls  uint8
	face uint8 // index in composer.faces
	lvl  uint8 // bidi embedding level (UAX #9); odd: right to left
}

// line is a range of glyphs set on one line, trailing spaces excluded.
// A line that breaks a word ends with a hyphen, drawn after glyph b-1
// and counted in w.
type line struct {
	a, b int
	w    float64
	hyph bool // the line ends in a hyphen added where it breaks a word (in w)
}

// composer lays out one document. It is created per call to Lay and
// holds every buffer, so layouts share no state.
type composer struct {
	j           *job.Job
	fam         *fonts.Family
	loc         locale
	W, H        float64
	left, right float64 // the text column
	bottom      float64 // no item extends below this
	accent      RGB     // the letterhead's accent colour, black if none
	first       int     // the recipient a window layout puts in the window (a copy's recipient); 0 by default

	items  []item
	runs   []run
	rules  []ruleRec
	images []imageRec

	// Structure (see Document.Elems): elems in reading order; cur is
	// the element runs are added to, group the parent of new
	// paragraphs, list (when set) the list each paragraph becomes an
	// item of.
	elems            []*Elem
	elemSlab         []Elem // elems are allocated from it, 64 at a time
	cur, group, list *Elem

	glyphs []glyph
	kerns  []int16       // backing store of the runs' kern slices
	faces  []*fonts.Face // the faces glyphs refer to
	spans  []markup.Span
	lines  []line
	hyph   hyphenation
	cjk    lineBreaks
	bidi   bidiState

	// Pagination cursor: items before flushed are placed; y is the next
	// free position on page, atTop whether the page has no item yet.
	flushed int
	page    int32
	y       float64
	atTop   bool
}

func newComposer(j *job.Job) (*composer, error) {
	c := &composer{j: j, fam: fonts.Serif(), loc: newLocale(j)}
	c.hyph.h = hyphen.For(j.LocaleOrDefault())
	c.bidi.rtlDoc = rtlLanguage(j.LocaleOrDefault())
	switch size := j.PageSizeOrDefault(); size {
	case "letter":
		c.W, c.H = 612, 792
	case "a4":
		c.W, c.H = 595.28, 841.89
	case "legal":
		c.W, c.H = 612, 1008
	default:
		return nil, fmt.Errorf("lay out letter: page_size: unknown size %q", size)
	}
	c.left, c.right = marginX, c.W-marginX
	c.bottom = c.H - bottomMargin
	c.y, c.atTop = firstTop, true
	c.accent = black
	if a, ok := parseColor(j.Letterhead.Accent); ok {
		c.accent = a
	}
	// Size the buffers from the job: about one item and one run per line.
	n, longest := textSize(j)
	c.items = make([]item, 0, n+16)
	c.runs = make([]run, 0, n+16)
	c.glyphs = make([]glyph, 0, longest)
	c.faces = make([]*fonts.Face, 0, 8)
	c.spans = make([]markup.Span, 0, 8)
	c.lines = make([]line, 0, 16)
	c.kerns = make([]int16, 0, 40*n) // a kern entry per character of a kerned run: about a line's worth per item
	return c, nil
}

// textSize estimates the number of lines of a job (one per string plus
// one per 80 bytes of text) and returns the length of its longest string.
func textSize(j *job.Job) (lines, longest int) {
	add := func(ss ...string) {
		for _, s := range ss {
			lines += 1 + len(s)/80
			longest = max(longest, len(s))
		}
	}
	add(j.Letterhead.Name)
	add(j.Letterhead.Lines...)
	if s := j.Statement; s != nil {
		add(s.Kicker, s.Headline, s.Dateline)
		add(s.Paragraphs...)
	}
	l := &j.Letter
	add(l.Reference, l.Subject, l.Salutation, l.Closing, l.Date)
	for _, p := range l.Recipients {
		lines += 4 + len(p.Address)
	}
	lines += 2 * len(l.CC)
	lines += 4 * len(l.Signers)
	for _, b := range l.Body {
		if b.Text != nil {
			add(*b.Text)
		}
		if b.Heading != nil {
			add(*b.Heading)
		}
		add(b.List...)
	}
	if sg := l.Signatories; sg != nil {
		for _, e := range sg.Entries {
			lines += 1 + len(e.Name)/30 + len(e.Members)
			if e.Note != "" {
				lines += 1 + len(e.Note)/30
			}
		}
	}
	if ct := j.Contact; ct != nil {
		lines += 1 + len(ct.Lines)
	}
	return lines, longest
}

// parseColor parses "#RRGGBB".
func parseColor(s string) (RGB, bool) {
	if len(s) != 7 || s[0] != '#' {
		return RGB{}, false
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return RGB{}, false
	}
	return RGB{uint8(v >> 16), uint8(v >> 8), uint8(v)}, true
}

// width returns the text width of the content column.
func (c *composer) width() float64 { return c.right - c.left }

// addItem appends an item and returns its index.
func (c *composer) addItem(h, space float64, keep bool) int32 {
	c.items = append(c.items, item{h: h, space: space, keep: keep})
	return int32(len(c.items) - 1)
}

// baseline returns the baseline of a line of style st below the line's
// top: the glyph boxes of every face of the fallback chain are centred in
// the line, so lines never overlap as long as lead >= about 1.17 size.
func (c *composer) baseline(st tstyle) float64 {
	asc, desc := 0.0, 0.0
	for _, f := range c.fam.Faces(st.font) {
		if f.IsCJKFace() {
			continue // see fonts.Face.IsCJKFace
		}
		em := float64(f.UnitsPerEm())
		asc = max(asc, float64(f.Ascent())/em)
		desc = max(desc, -float64(f.Descent())/em)
	}
	return (st.lead-(asc+desc)*st.size)/2 + asc*st.size
}

// faceFor returns the face that draws r in style st.
func (c *composer) faceFor(st fonts.Style, r rune) (*fonts.Face, error) {
	if f := c.fam.Face(st); f.Has(r) && (r < 0x0590 || !fonts.NeedsShaping(r)) {
		return f, nil
	}
	if f := c.fam.FaceFor(st, r); f != nil {
		return f, nil
	}
	return nil, fmt.Errorf("lay out text: no bundled font has %q (U+%04X)", r, r)
}

// measure returns the width of s set in st.
func (c *composer) measure(s string, font fonts.Style, size float64) float64 {
	if c.bidi.rtlDoc || needsBidi(s) {
		return c.complexStr(-1, s, tstyle{font: font, size: size}, 0, 0, false)
	}
	w := 0
	var last *fonts.Face
	var em float64
	total := 0.0
	prev := rune(-1)
	for _, r := range s {
		f, err := c.faceFor(font, r)
		if err != nil {
			continue
		}
		if f != last {
			if last != nil {
				total += float64(w) * size / em
			}
			last, em, w, prev = f, float64(f.UnitsPerEm()), 0, -1
		}
		if prev >= 0 {
			w += f.Kern(prev, r)
		}
		w += f.Advance(r)
		prev = r
	}
	if last != nil {
		total += float64(w) * size / em
	}
	return total
}

// str draws s on one line in style st at x, attached to item it, split
// into runs where the face changes. It returns the width drawn.
func (c *composer) str(it int32, s string, st tstyle, x, dy float64) (float64, error) {
	if c.bidi.rtlDoc || needsBidi(s) {
		return c.complexStr(it, s, st, x, dy, true), nil
	}
	start := 0
	var face *fonts.Face
	w, total := 0, 0.0
	prev := rune(-1)
	kerned := false
	k0 := len(c.kerns)
	flush := func(end int) {
		if face != nil && end > start {
			var kern []int16
			if kerned {
				kern = c.kerns[k0:len(c.kerns):len(c.kerns)]
			}
			c.runs = append(c.runs, run{item: it, x: x + total, dy: dy, size: st.size, face: face, s: s[start:end], kern: kern, color: st.color, elem: c.cur})
			total += float64(w) * st.size / float64(face.UnitsPerEm())
		}
		if !kerned {
			c.kerns = c.kerns[:k0]
		}
		kerned, k0 = false, len(c.kerns)
	}
	for i, r := range s {
		f, err := c.faceFor(st.font, r)
		if err != nil {
			return 0, err
		}
		if f != face {
			flush(i)
			start, face, w, prev = i, f, 0, -1
		}
		if prev >= 0 {
			k := f.Kern(prev, r)
			c.kerns[len(c.kerns)-1] = int16(k)
			kerned = kerned || k != 0
			w += k
		}
		c.kerns = append(c.kerns, 0)
		w += f.Advance(r)
		prev = r
	}
	flush(len(s))
	return total, nil
}

// styleOf combines a base face style with inline markup.
func styleOf(base fonts.Style, m markup.Style) fonts.Style {
	bold := base == fonts.Bold || base == fonts.BoldItalic || m&markup.Bold != 0
	italic := base == fonts.Italic || base == fonts.BoldItalic || m&markup.Italic != 0
	switch {
	case bold && italic:
		return fonts.BoldItalic
	case bold:
		return fonts.Bold
	case italic:
		return fonts.Italic
	}
	return fonts.Regular
}

// faceIndex returns the index of f in c.faces, adding it if needed.
func (c *composer) faceIndex(f *fonts.Face) uint8 {
	for i, g := range c.faces {
		if g == f {
			return uint8(i)
		}
	}
	c.faces = append(c.faces, f)
	return uint8(len(c.faces) - 1)
}

// shape turns c.spans into c.glyphs, measuring every rune once.
func (c *composer) shape(base fonts.Style, size float64) error {
	n := 0
	for _, sp := range c.spans {
		n += len(sp.Text)
	}
	if cap(c.glyphs) < n {
		c.glyphs = make([]glyph, 0, n)
	}
	c.hyph.size = size
	gs := c.glyphs[:n] // at most one glyph per byte
	k := 0
	cjk, complex := false, c.bidi.rtlDoc // the paragraph needs markBreaks, shapeComplex
	for si, sp := range c.spans {
		st := styleOf(base, sp.Style)
		primary := c.fam.Face(st)
		pi := c.faceIndex(primary)
		scale := size / float64(primary.UnitsPerEm())
		var prev *glyph // the glyph before, in this span, when it can kern with the next
		pr := rune(0)
		for i, r := range sp.Text {
			g := &gs[k]
			k++
			if r >= 0x0590 {
				cjk = cjk || fonts.IsCJK(r)
				complex = complex || fonts.NeedsShaping(r)
			}
			*g = glyph{face: pi, off: int32(i), n: uint8(utf8.RuneLen(r)), span: uint16(si)}
			switch r {
			case ' ':
				g.cls = clsSpace
			case '\n':
				g.cls = clsNewline
				prev = nil
				continue
			case '-', '/', '\u2010', '\u2013', '\u2014':
				g.cls = clsBreakAfter
			}
			if r == utf8.RuneError {
				_, size := utf8.DecodeRuneInString(sp.Text[i:])
				g.n = uint8(size)
			}
			if adv := primary.Advance(r); (adv != 0 || primary.Has(r)) && (r < 0x0590 || !fonts.NeedsShaping(r)) {
				g.w = float64(adv) * scale
				if prev != nil && prev.face == pi {
					c.kernPair(prev, pr, r, primary, scale)
				}
				prev, pr = g, r
				continue
			}
			f, err := c.faceFor(st, r)
			if err != nil {
				c.glyphs = gs[:0]
				return err
			}
			g.face = c.faceIndex(f)
			fs := size / float64(f.UnitsPerEm())
			g.w = float64(f.Advance(r)) * fs
			if prev != nil && prev.face == g.face {
				c.kernPair(prev, pr, r, f, fs)
			}
			prev, pr = g, r
		}
	}
	c.glyphs = gs[:k]
	if cjk {
		c.markBreaks()
	}
	c.bidi.active = false
	if complex {
		return c.shapeComplex(size)
	}
	return nil
}

// kernPair adds the pair kerning of f between l (the glyph prev) and r
// to prev, whose width then includes it.
func (c *composer) kernPair(prev *glyph, l, r rune, f *fonts.Face, scale float64) {
	if k := f.Kern(l, r); k != 0 {
		prev.kern = int16(k)
		prev.kw = float32(float64(k) * scale)
		prev.w += float64(k) * scale
	}
}

// breakLines breaks c.glyphs into c.lines: the first line at most w0 wide,
// the others at most w1. Breaks fall at spaces and after hyphens, dashes
// and slashes; a word wider than the line is broken between characters.
func (c *composer) breakLines(w0, w1 float64) {
	const eps = 1e-6
	c.lines = c.lines[:0]
	g := c.glyphs
	n := len(g)
	i := 0
outer:
	for {
		for i < n && g[i].cls == clsSpace {
			i++
		}
		if i >= n {
			break
		}
		width := w1
		if len(c.lines) == 0 {
			width = w0
		}
		start, x := i, 0.0
		bEnd, bNext, bW := -1, -1, 0.0
		end, next, lw := -1, -1, 0.0
		hyph := false
		for ; i < n; i++ {
			gi := &g[i]
			if gi.cls == clsNewline {
				end, next, lw = i, i+1, x
				break
			}
			if gi.cls == clsSpace {
				if i > start && g[i-1].cls != clsSpace {
					bEnd, bNext, bW = i, i+1, x
				}
				x += gi.w
				continue
			}
			if gi.cls == clsBreakBefore && i > start {
				bEnd, bNext, bW = i, i, x-float64(g[i-1].kw)
			}
			if x+gi.w > width+eps && i > start {
				// A word that cannot fit a line of its own is broken
				// here rather than moved whole to the next line: at a
				// pattern point of the job's language if it has one,
				// else after the last glyph a hyphen still fits after.
				lo := start // the word to break starts here
				if bEnd > start && i-bNext >= minWordHead && c.segmentWidth(bNext) > w1+eps {
					lo = bNext
				}
				if p, pw, ok := c.hyphenate(start, i, x, width, bEnd > start && lo == start, bW); ok {
					end, next, lw, hyph = p, p, pw, true
				} else if bEnd > start && lo == start {
					end, next, lw = bEnd, bNext, bW
				} else {
					var forced bool
					end, lw, forced = c.breakWord(lo, i, x, width)
					next = end
					if forced {
						c.lines = append(c.lines, line{a: start, b: end, w: lw, hyph: true})
						i = next
						continue outer
					}
				}
				break
			}
			x += gi.w
			if gi.cls == clsBreakAfter && i > start && g[i-1].cls != clsSpace && i+1 < n && g[i+1].cls != clsSpace {
				bEnd, bNext, bW = i+1, i+1, x
			}
		}
		if end < 0 {
			end, next, lw = n, n, x
		}
		for end > start && g[end-1].cls == clsSpace {
			end--
			lw -= g[end].w
		}
		if end > start {
			lw -= float64(g[end-1].kw) // kerning with what follows the line is not drawn
		}
		c.lines = append(c.lines, line{a: start, b: end, w: lw, hyph: hyph})
		i = next
	}
}

// block describes how a paragraph is set.
type block struct {
	st       tstyle
	x, w     float64 // left edge and width of the first line
	indent   float64 // extra indent of the lines after the first
	space    float64 // space before the first line
	keepPrev bool    // keep the first line with what precedes it
	whole    bool    // never break the page inside the paragraph
	label    string  // drawn before the first line, ending at x-labelGap
	labelGap float64
	role     string // structure type; "" is "P" (see composer.list)
}

// elem adds a structure element of role under parent (nil: the
// document) and returns it.
func (c *composer) elem(role string, parent *Elem) *Elem {
	if len(c.elemSlab) == cap(c.elemSlab) {
		c.elemSlab = make([]Elem, 0, 64)
	}
	c.elemSlab = append(c.elemSlab, Elem{Role: role, Parent: parent})
	e := &c.elemSlab[len(c.elemSlab)-1]
	c.elems = append(c.elems, e)
	return e
}

// listOf returns a new list element under the current group, numbered
// with numbers or bullets.
func (c *composer) listOf(numbered bool) *Elem {
	l := c.elem("L", c.group)
	l.ListNumbering = "Disc"
	if numbered {
		l.ListNumbering = "Decimal"
	}
	return l
}

// para sets c.spans as a paragraph; widows and orphans are avoided: a page
// break leaves at least two lines on each side.
func (c *composer) para(b block) error {
	if err := c.shape(b.st.font, b.st.size); err != nil {
		return err
	}
	c.breakLines(b.w, b.w-b.indent)
	dy := c.baseline(b.st)
	first := int32(len(c.items))
	if c.list != nil {
		li := c.elem("LI", c.list)
		if b.label != "" {
			c.cur = c.elem("Lbl", li)
			lw := c.measure(b.label, b.st.font, b.st.size)
			if _, err := c.str(first, b.label, b.st, b.x-b.labelGap-lw, dy); err != nil {
				return err
			}
		}
		c.cur = c.elem("LBody", li)
	} else {
		role := b.role
		if role == "" {
			role = "P"
		}
		c.cur = c.elem(role, c.group)
	}
	if b.label != "" && c.list == nil {
		lw := c.measure(b.label, b.st.font, b.st.size)
		if _, err := c.str(first, b.label, b.st, b.x-b.labelGap-lw, dy); err != nil {
			return err
		}
	}
	n := len(c.lines)
	if n == 0 {
		c.addItem(b.st.lead, b.space, b.keepPrev)
		return nil
	}
	for k, ln := range c.lines {
		keep := k == 1 || (k > 0 && k == n-1) || (k > 0 && b.whole)
		space := 0.0
		if k == 0 {
			keep, space = b.keepPrev, b.space
		}
		it := c.addItem(b.st.lead, space, keep)
		x := b.x
		if k > 0 {
			x += b.indent
		}
		c.emitLine(it, ln, b.st, x, dy)
	}
	return nil
}

// emitLine adds the runs of one line: one run per stretch of glyphs that
// share a span and a face, its text a slice of the span's text.
func (c *composer) emitLine(it int32, ln line, st tstyle, x, dy float64) {
	if c.bidi.active {
		c.emitBidiLine(it, ln, st, x, dy)
		return
	}
	g := c.glyphs
	for j := ln.a; j < ln.b; {
		k, w := j, 0.0
		kerned := false
		for k < ln.b && g[k].span == g[j].span && g[k].face == g[j].face {
			w += g[k].w
			kerned = kerned || (g[k].kern != 0 && k+1 < ln.b)
			k++
		}
		s := c.spans[g[j].span].Text[g[j].off : g[k-1].off+int32(g[k-1].n)]
		var kern []int16
		if kerned {
			// One entry per rune; the last glyph's kern (with a glyph
			// on the next line or in the next run) is not drawn.
			k0 := len(c.kerns)
			for q := j; q < k; q++ {
				c.kerns = append(c.kerns, g[q].kern)
			}
			c.kerns[len(c.kerns)-1] = 0
			kern = c.kerns[k0:len(c.kerns):len(c.kerns)]
		}
		c.runs = append(c.runs, run{item: it, x: x, dy: dy, size: st.size, face: c.faces[g[j].face], s: s, kern: kern, color: st.color, elem: c.cur,
			spaceAfter: k == ln.b && ln.b < len(g) && (g[ln.b].cls == clsSpace || g[ln.b].cls == clsNewline)})
		x += w
		j = k
	}
	if ln.hyph && ln.b > ln.a {
		// The hyphen is not the job's text: an artifact (no element).
		last := &g[ln.b-1]
		x -= float64(last.kw) // its kerning with the next line's glyph is not drawn
		c.runs = append(c.runs, run{item: it, x: x, dy: dy, size: st.size, face: c.hyphenFace(last), s: "-", color: st.color, hyph: true})
	}
}

// text sets a paragraph of plain text (no markup).
func (c *composer) text(s string, b block) error {
	c.spans = append(c.spans[:0], markup.Span{Text: s})
	return c.para(b)
}

// marked sets a paragraph with inline markup.
func (c *composer) marked(s string, b block) error {
	c.spans = markup.Parse(c.spans[:0], s)
	// Running text (paragraphs, list items, statement paragraphs) is
	// hyphenated; everything else (names, addresses, headings, kept
	// whole, the signatory list) only where one word is wider than its
	// column.
	c.hyph.running = !b.whole
	defer func() { c.hyph.running = false }()
	return c.para(b)
}

// rule adds a horizontal rule as an item of height h, the rule centred in it.
func (c *composer) rule(x1, x2, h, space, width float64, color RGB, keep bool) {
	it := c.addItem(h, space, keep)
	c.rules = append(c.rules, ruleRec{item: it, x1: x1, dy1: h / 2, x2: x2, dy2: h / 2, width: width, color: color})
}

// newPage moves the cursor to the top of a new page.
func (c *composer) newPage() {
	c.page++
	c.y, c.atTop = laterTop, true
}

// flush paginates the items added since the last flush. A page break
// never falls before an item marked keep unless the kept chain is taller
// than a page; then it falls where the page is full.
func (c *composer) flush() {
	const eps = 1e-6
	items := c.items
	start := c.flushed // first item of this batch on the current page
	prior := !c.atTop  // the page has items from before this batch
	for i := c.flushed; i < len(items); {
		it := &items[i]
		if it.newPage && !c.atTop {
			c.newPage()
			start, prior = i, false
		}
		space := it.space
		if c.atTop {
			space = 0
		}
		if it.h == 0 {
			// Empty: only space, never worth a page break.
			it.page, it.y = c.page, min(c.y+space, c.bottom)
			c.y = it.y
			i++
			continue
		}
		if !c.atTop && c.y+space+it.h > c.bottom+eps {
			k := i
			for k > start && items[k].keep {
				k--
			}
			if k == start && (items[k].keep || !prior) {
				k = i // nowhere to keep the chain whole: break where full
			}
			c.newPage()
			start, prior = k, false
			i = k
			continue
		}
		it.page, it.y = c.page, c.y+space
		c.y += space + it.h
		c.atTop = false
		i++
	}
	c.flushed = len(items)
}

// finish places the page furniture (running headers on later pages, a
// "Page i of N" footer on every page of a letter of two pages or more,
// or of every letter if the job asks) and builds the Document.
func (c *composer) finish() (*Document, error) {
	c.flush()
	n := int(c.page) + 1
	if len(c.items) > 0 {
		// The last page holding an item (a signatory group's continued
		// heading is added after the entries it sits among).
		n = 0
		for i := range c.items {
			n = max(n, int(c.items[i].page)+1)
		}
	}
	doc := &Document{Width: c.W, Height: c.H, Pages: make([]Page, n), Meta: c.meta(), Elems: c.elems}
	c.cur = nil // the running header and the footers are artifacts

	// The running header: shaped once, drawn on every page after the first.
	hst := tstyle{font: fonts.Regular, size: furnitureSz, lead: furnitureSz * 1.3, color: grey}
	mark := len(c.runs)
	if _, err := c.str(-1, c.fitLine(c.j.Letterhead.Name, hst, c.width()), hst, c.left, 0); err != nil {
		return nil, err
	}
	header := append([]run(nil), c.runs[mark:]...)
	c.runs = c.runs[:mark]

	texts := make([]int, n)
	rules := make([]int, n)
	imgs := make([]int, n)
	for i := range c.runs {
		texts[c.items[c.runs[i].item].page]++
	}
	for i := range c.rules {
		rules[c.items[c.rules[i].item].page]++
	}
	for i := range c.images {
		imgs[c.items[c.images[i].item].page]++
	}
	for p := range doc.Pages {
		pg := &doc.Pages[p]
		extra := 2 // footer, with a spare for a fallback face
		if p > 0 {
			extra += len(header)
		}
		pg.Texts = make([]Text, 0, texts[p]+extra)
		pg.Rules = make([]Rule, 0, rules[p]+1)
		if imgs[p] > 0 {
			pg.Images = make([]Image, 0, imgs[p])
		}
		if p > 0 {
			for _, r := range header {
				pg.Texts = append(pg.Texts, Text{X: r.x, Y: headerBase, Size: r.size, Face: r.face, S: r.s, Kern: r.kern, Color: r.color, Hyphen: r.hyph, Glyphs: r.gl})
			}
			pg.Rules = append(pg.Rules, Rule{X1: c.left, Y1: headerRule, X2: c.right, Y2: headerRule, Width: 0.5, Color: light})
		}
	}
	for _, r := range c.runs {
		it := &c.items[r.item]
		pg := &doc.Pages[it.page]
		pg.Texts = append(pg.Texts, Text{X: r.x + it.dx, Y: it.y + r.dy, Size: r.size, Face: r.face, S: r.s, Kern: r.kern, Color: r.color, Elem: r.elem, SpaceAfter: r.spaceAfter, Hyphen: r.hyph, Glyphs: r.gl})
	}
	for _, r := range c.rules {
		it := &c.items[r.item]
		pg := &doc.Pages[it.page]
		pg.Rules = append(pg.Rules, Rule{X1: r.x1 + it.dx, Y1: it.y + r.dy1, X2: r.x2 + it.dx, Y2: it.y + r.dy2, Width: r.width, Color: r.color})
	}
	for _, im := range c.images {
		it := &c.items[im.item]
		pg := &doc.Pages[it.page]
		pg.Images = append(pg.Images, Image{X: im.x + it.dx, Y: it.y + im.dy, W: im.w, H: im.h, Data: im.data, Format: im.format, Name: im.name, Elem: im.elem})
	}
	if c.bidi.rtlDoc {
		mirror(doc, c.bidi.keep)
	}
	markLangs(doc)
	// Footers, centred: none on a one-page letter unless the job asks.
	var buf []byte
	for p := range doc.Pages {
		if n == 1 && !c.j.PageNumbersAlways() {
			break
		}
		buf = c.loc.pageOf(buf[:0], p+1, n)
		s := string(buf)
		w := c.measure(s, fonts.Regular, furnitureSz)
		c.runs = c.runs[:0]
		if _, err := c.str(-1, s, hst, (c.W-w)/2, 0); err != nil {
			return nil, err
		}
		for _, r := range c.runs {
			t := Text{X: r.x, Y: c.H - footerBase, Size: r.size, Face: r.face, S: r.s, Kern: r.kern, Color: r.color, Hyphen: r.hyph, Glyphs: r.gl}
			if c.bidi.rtlDoc {
				t.X = c.W - t.X - t.Width() // mirrored as the pages were
			}
			doc.Pages[p].Texts = append(doc.Pages[p].Texts, t)
		}
	}
	return doc, nil
}

// fitLine returns s, or if it is wider than w its longest prefix that
// fits with an ellipsis, cut after a word when one fits.
func (c *composer) fitLine(s string, st tstyle, w float64) string {
	if c.measure(s, st.font, st.size) <= w {
		return s
	}
	const ell = "\u2026"
	w -= c.measure(ell, st.font, st.size)
	x, cut, word := 0.0, 0, 0
	for i, r := range s {
		f, err := c.faceFor(st.font, r)
		if err != nil {
			break
		}
		x += float64(f.Advance(r)) * st.size / float64(f.UnitsPerEm())
		if x > w {
			break
		}
		cut = i + utf8.RuneLen(r)
		if r == ' ' {
			word = i
		}
	}
	if word > 0 {
		cut = word
	}
	return s[:cut] + ell
}

// meta is the document metadata: the subject is the letter's subject line,
// else the names of its recipients, so a document list shows whom it is for.
func (c *composer) meta() Meta {
	subject := c.j.Letter.Subject
	if subject == "" {
		names := make([]string, len(c.j.Letter.Recipients))
		for i, r := range c.j.Letter.Recipients {
			names[i] = r.Name
		}
		subject = strings.Join(names, ", ")
	}
	return Meta{
		Title:    c.j.DocTitle(),
		Author:   c.j.Letterhead.Name,
		Subject:  subject,
		Language: c.j.LocaleOrDefault(),
	}
}
