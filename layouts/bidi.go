package layouts

import (
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/go-text/typesetting/bidi"
	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts/markup"
)

// bidiState is the composer's state for right-to-left and shaped text.
//
// Text with Arabic or Hebrew, and every paragraph of a right-to-left
// job, goes through the Unicode bidirectional algorithm (UAX #9,
// go-text/typesetting's bidi package): each glyph gets an embedding
// level. Runs that need shaping (Arabic and Hebrew, and every run set
// right to left, so that brackets are mirrored) are shaped with
// go-text/typesetting's HarfBuzz port, word by word, for their widths;
// each line's runs are then put in visual order (rule L2) and shaped
// again as drawn. Latin, Greek, Cyrillic and CJK text outside such
// paragraphs never reaches this code.
type bidiState struct {
	rtlDoc bool   // the job's language is written right to left: the page is mirrored
	keep   []Rect // regions of the first page mirrored in place (an envelope window and its information block)
	active bool   // the paragraph being set went through the algorithm
	base   uint8
	para   bidi.Paragraph
	runes  []rune
	segs   []segment
}

// segment is a run of one line: glyphs a..b of one span, face and level.
type segment struct {
	a, b   int
	lvl    uint8
	shaped bool
}

// shapers holds go-text HarfBuzz shapers; each keeps a cache of shaping
// plans and is used by one composer at a time.
var shapers = sync.Pool{New: func() any { return new(shaping.HarfbuzzShaper) }}

// rtlLanguage reports whether a BCP 47 locale's language is written
// right to left (Arabic, Persian, Urdu, Hebrew, Yiddish, Pashto, Sindhi,
// Uyghur, Kurdish in Arabic script).
func rtlLanguage(locale string) bool {
	lang, rest, _ := strings.Cut(strings.ToLower(locale), "-")
	switch lang {
	case "ar", "fa", "ur", "he", "iw", "yi", "ps", "sd", "ug", "ckb", "dv":
		return true
	case "ku":
		return strings.Contains(rest, "arab")
	}
	return false
}

// needsBidi reports whether s has text that must be shaped.
func needsBidi(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xD6 { // lead byte of U+0590 and above
			for _, r := range s[i:] {
				if fonts.NeedsShaping(r) {
					return true
				}
			}
			return false
		}
	}
	return false
}

// shapeComplex runs the bidi algorithm over c.glyphs when the paragraph
// needs it and gives the glyphs of shaped runs their shaped widths (on
// the first glyph of each cluster).
func (c *composer) shapeComplex(size float64) error {
	bs := &c.bidi
	bs.active = false
	g := c.glyphs
	var need bool
	bs.runes, need = c.paragraphRunes(bs.runes, fonts.NeedsShaping)
	if !(need || bs.rtlDoc) || len(g) == 0 {
		return nil
	}
	bs.active = true
	// The paragraph's direction: the job's, or the first strong letter's
	// (UAX #9 P2, P3).
	bs.base = 0
	if bs.rtlDoc {
		bs.base = 1
	} else {
		for _, r := range bs.runes {
			if fonts.NeedsShaping(r) && unicode.IsLetter(r) {
				bs.base = 1
				break
			}
			if unicode.IsLetter(r) {
				break
			}
		}
	}
	dir := bidi.LeftToRight
	if bs.base == 1 {
		dir = bidi.RightToLeft
	}
	runs := bs.para.Segment(bs.runes, dir)
	for i := 0; i < runs.NumRuns(); i++ {
		r := runs.Run(i)
		for k := r.Start; k < r.End && k < len(g); k++ {
			g[k].lvl = uint8(r.Level)
		}
		if bs.base == 0 && r.Level == 2 {
			c.splitEvenRun(r.Start, min(r.End, len(g)))
		}
	}
	// Shaped widths, word by word.
	sh := shapers.Get().(*shaping.HarfbuzzShaper)
	defer shapers.Put(sh)
	for a := 0; a < len(g); {
		if !c.isShaped(a) {
			a++
			continue
		}
		b := a + 1
		for b < len(g) && g[b].span == g[a].span && g[b].face == g[a].face && g[b].lvl == g[a].lvl &&
			g[b].cls != clsSpace && g[b].cls != clsNewline {
			b++
		}
		f := c.faces[g[a].face]
		out, err := c.shapeRun(sh, f, a, b, g[a].lvl)
		if err != nil {
			return err
		}
		scale := size / float64(f.UnitsPerEm())
		for k := a; k < b; k++ {
			g[k].w, g[k].kern, g[k].kw = 0, 0, 0
		}
		for _, og := range out.Glyphs {
			k := a + og.ClusterIndex - out.Runes.Offset
			if k >= a && k < b {
				g[k].w += float64(og.Advance.Round()) * scale
			}
		}
		a = b
	}
	return nil
}

// splitEvenRun gives back their own levels to the glyphs a..b of a run
// go-text reports at level 2 in a left-to-right paragraph. Its runs end
// only where the direction changes, with the level of their first
// character; without embeddings (Carta refuses bidi controls), a level-2
// run there starts with a number that follows right-to-left text (UAX #9
// W2, I1) and may go on with left-to-right text at level 0 ("... (الشبكة)
// 2024 report"). The number (digits, with the separators between them and
// the terminators next to them, W4 and W5) keeps level 2; the rest gets 0.
func (c *composer) splitEvenRun(a, b int) {
	rs := c.bidi.runes
	g := c.glyphs
	isNum := func(r rune) bool { return unicode.IsDigit(r) }
	isSep := func(r rune) bool {
		return r == '.' || r == ',' || r == ':' || r == '/' || r == '\u066B' || r == '\u066C'
	}
	isTerm := func(r rune) bool { return r == '%' || r == '\u066A' || r == '#' || unicode.Is(unicode.Sc, r) }
	for k := a; k < b; k++ {
		r := rs[k]
		switch {
		case isNum(r) || isTerm(r):
			g[k].lvl = 2
		case isSep(r) && k > a && k+1 < b && isNum(rs[k-1]) && isNum(rs[k+1]):
			g[k].lvl = 2
		default:
			g[k].lvl = 0
		}
	}
}

// isShaped reports whether glyph k is set by the shaper: Arabic and
// Hebrew, and anything but spaces set right to left (so that brackets
// are mirrored).
func (c *composer) isShaped(k int) bool {
	gl := &c.glyphs[k]
	return gl.cls != clsSpace && gl.cls != clsNewline && (gl.lvl%2 == 1 || fonts.NeedsShaping(c.bidi.runes[k]))
}

// shapeRun shapes bs.runes[a:b] (glyphs a..b) with face f, in the
// direction of level lvl, with the rest of the paragraph as context.
func (c *composer) shapeRun(sh *shaping.HarfbuzzShaper, f *fonts.Face, a, b int, lvl uint8) (shaping.Output, error) {
	gf, err := f.Shaper()
	if err != nil {
		return shaping.Output{}, err
	}
	in := shaping.Input{
		Text:      c.bidi.runes,
		RunStart:  a,
		RunEnd:    b,
		Direction: di.DirectionLTR,
		Face:      gf,
		Size:      fixed.I(f.UnitsPerEm()),
		Script:    language.LookupScript(c.bidi.runes[a]),
	}
	if lvl%2 == 1 {
		in.Direction = di.DirectionRTL
	}
	for k := a; k < b; k++ {
		if s := language.LookupScript(c.bidi.runes[k]); s.Strong() {
			in.Script = s
			break
		}
	}
	return sh.Shape(in), nil
}

// emitBidiLine adds the runs of one line of a paragraph that went
// through the bidi algorithm: split where span, face or level change,
// put in visual order (UAX #9 L2), shaped runs shaped again as drawn.
// In a mirrored (right-to-left) job the order is reversed here, since
// mirroring the page reverses it again.
func (c *composer) emitBidiLine(it int32, ln line, st tstyle, x, dy float64) {
	g := c.glyphs
	bs := &c.bidi
	segs := bs.segs[:0]
	for j := ln.a; j < ln.b; {
		k := j + 1
		sj := c.isShaped(j)
		for k < ln.b && g[k].span == g[j].span && g[k].face == g[j].face && g[k].lvl == g[j].lvl && c.isShaped(k) == sj {
			k++
		}
		segs = append(segs, segment{a: j, b: k, lvl: g[j].lvl, shaped: sj})
		j = k
	}
	bs.segs = segs
	// L2: from the highest level down to the lowest odd one, reverse
	// every sequence of segments at that level or higher.
	hi, lowOdd := uint8(0), uint8(255)
	for _, s := range segs {
		hi = max(hi, s.lvl)
		if s.lvl%2 == 1 {
			lowOdd = min(lowOdd, s.lvl)
		}
	}
	for lv := hi; lv >= lowOdd && lv > 0; lv-- {
		for i := 0; i < len(segs); {
			if segs[i].lvl < lv {
				i++
				continue
			}
			j := i
			for j < len(segs) && segs[j].lvl >= lv {
				j++
			}
			for p, q := i, j-1; p < q; p, q = p+1, q-1 {
				segs[p], segs[q] = segs[q], segs[p]
			}
			i = j
		}
	}
	if bs.rtlDoc {
		for p, q := 0, len(segs)-1; p < q; p, q = p+1, q-1 {
			segs[p], segs[q] = segs[q], segs[p]
		}
	}
	hyphenFirst := ln.hyph && (bs.base == 1) != bs.rtlDoc
	if hyphenFirst {
		x += c.emitHyphen(it, ln, st, x, dy)
	}
	sh := shapers.Get().(*shaping.HarfbuzzShaper)
	defer shapers.Put(sh)
	first := len(c.runs)
	for _, sg := range segs {
		f := c.faces[g[sg.a].face]
		sp := c.spans[g[sg.a].span].Text
		s := sp[g[sg.a].off : g[sg.b-1].off+int32(g[sg.b-1].n)]
		r := run{item: it, x: x, dy: dy, size: st.size, face: f, s: s, color: st.color, elem: c.cur}
		if sg.shaped {
			out, err := c.shapeRun(sh, f, sg.a, sg.b, sg.lvl)
			if err == nil {
				r.gl = c.glyphsOf(out, sg.a, sg.b)
				for _, gg := range r.gl {
					x += float64(gg.Advance) * st.size / float64(f.UnitsPerEm())
				}
				r.lgc = sg.a
				c.runs = append(c.runs, r)
				continue
			}
		}
		w := 0.0
		kerned := false
		for k := sg.a; k < sg.b; k++ {
			w += g[k].w
			kerned = kerned || (g[k].kern != 0 && k+1 < sg.b)
		}
		if kerned {
			k0 := len(c.kerns)
			for q := sg.a; q < sg.b; q++ {
				c.kerns = append(c.kerns, g[q].kern)
			}
			c.kerns[len(c.kerns)-1] = 0
			r.kern = c.kerns[k0:len(c.kerns):len(c.kerns)]
			w -= float64(g[sg.b-1].kw)
		}
		r.lgc = sg.a
		c.runs = append(c.runs, r)
		x += w
	}
	// The runs go into the page in logical order, each where the visual
	// order put it: text extraction and the document's reading order
	// then follow the job's text.
	slices.SortStableFunc(c.runs[first:], func(p, q run) int { return p.lgc - q.lgc })
	if n := len(c.runs); n > first && ln.b < len(g) && (g[ln.b].cls == clsSpace || g[ln.b].cls == clsNewline) {
		c.runs[n-1].spaceAfter = true // the word boundary at the line's end, in logical order
	}
	if ln.hyph && !hyphenFirst {
		c.emitHyphen(it, ln, st, x, dy)
	}
}

// emitHyphen adds the hyphen of a hyphenated line at x and returns its
// width.
func (c *composer) emitHyphen(it int32, ln line, st tstyle, x, dy float64) float64 {
	f := c.hyphenFace(&c.glyphs[ln.b-1])
	c.runs = append(c.runs, run{item: it, x: x, dy: dy, size: st.size, face: f, s: "-", color: st.color, hyph: true})
	return float64(f.Advance('-')) * st.size / float64(f.UnitsPerEm())
}

// glyphsOf converts shaped glyphs of runes a..b to Glyphs, giving each
// cluster's text to its first glyph in logical order.
func (c *composer) glyphsOf(out shaping.Output, a, b int) []Glyph {
	gs := make([]Glyph, len(out.Glyphs))
	byCluster := make(map[int][]int, len(out.Glyphs)) // cluster -> its glyphs
	for i, og := range out.Glyphs {
		gs[i] = Glyph{
			ID:      uint16(og.GlyphID),
			Advance: int32(og.Advance.Round()),
			XOff:    int32(og.XOffset.Round()),
			YOff:    int32(og.YOffset.Round()),
		}
		byCluster[og.ClusterIndex] = append(byCluster[og.ClusterIndex], i)
	}
	rs := c.bidi.runes
	for _, og := range out.Glyphs {
		idx := byCluster[og.ClusterIndex]
		if idx == nil {
			continue
		}
		byCluster[og.ClusterIndex] = nil
		k, e := og.ClusterIndex, min(og.ClusterIndex+og.RuneCount, len(rs))
		// The widest glyph (the base, not a mark) carries the first
		// character; when the cluster has as many glyphs as characters
		// each of the others carries one (a mark on its own glyph), else
		// the widest carries them all (a ligature).
		w := idx[0]
		for _, i := range idx {
			if gs[i].Advance > gs[w].Advance {
				w = i
			}
		}
		if len(idx) == e-k {
			gs[w].Text = string(rs[k])
			n := k + 1
			for _, i := range idx {
				if i != w {
					gs[i].Text = string(rs[n])
					n++
				}
			}
		} else {
			gs[w].Text = string(rs[k:e])
		}
	}
	return gs
}

// complexStr sets s on one line, as str does, when s needs shaping: with
// a composer of its own, so the paragraph being set is left alone. It
// adds the runs to item it when draw is set and returns the width.
func (c *composer) complexStr(it int32, s string, st tstyle, x, dy float64, draw bool) float64 {
	sub := &composer{fam: c.fam, loc: c.loc}
	sub.bidi.rtlDoc = c.bidi.rtlDoc
	sub.spans = append(sub.spans, markup.Span{Text: s})
	if err := sub.shape(st.font, st.size); err != nil {
		return 0
	}
	ln := line{a: 0, b: len(sub.glyphs)}
	for k := range sub.glyphs {
		ln.w += sub.glyphs[k].w
	}
	if draw {
		sub.emitLine(it, ln, st, x, dy)
		c.runs = append(c.runs, sub.runs...)
	}
	return ln.w
}

// mirror flips every page of doc left to right: the layout of a
// right-to-left letter is that of a left-to-right one seen in a mirror,
// with each run's own glyph order kept (the runs were put in reversed
// visual order for this). The regions keep of the first page (an
// envelope window and the information block beside it) stay where the
// envelope needs them, what lies in each mirrored within it; so do the
// fold and hole marks at the paper's left edge.
func mirror(doc *Document, keep []Rect) {
	const edge = 15 * mm // fold and hole marks lie closer to the edge than this
	for p := range doc.Pages {
		pg := &doc.Pages[p]
		first := p == 0 && len(keep) > 0
	texts:
		for i := range pg.Texts {
			t := &pg.Texts[i]
			w := t.Width()
			if first {
				for _, k := range keep {
					if t.X >= k.X-1e-6 && t.X+w <= k.X+k.W+1e-6 && t.Y > k.Y && t.Y <= k.Y+k.H {
						t.X = 2*k.X + k.W - t.X - w
						continue texts
					}
				}
			}
			t.X = doc.Width - t.X - w
		}
		for i := range pg.Rules {
			r := &pg.Rules[i]
			if first && max(r.X1, r.X2) < edge {
				continue
			}
			r.X1, r.X2 = doc.Width-r.X1, doc.Width-r.X2
		}
		for i := range pg.Images {
			im := &pg.Images[i]
			im.X = doc.Width - im.X - im.W
		}
	}
}
