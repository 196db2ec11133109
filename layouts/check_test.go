package layouts

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/job"
	"golang.org/x/text/unicode/norm"
)

const safeMargin = 28.8 // the printer's safe margin, 0.4 in

// box is the ink box of a Text: X..X+width, Y-ascent..Y-descent.
type box struct{ x0, y0, x1, y1 float64 }

func textBox(t Text) box {
	f := t.Face
	em := float64(f.UnitsPerEm())
	if f.IsCJKFace() || f.IsShapedFace() {
		// Layout places CJK, Arabic and Hebrew text by its ink (see
		// fonts.Face.IsCJKFace and IsShapedFace).
		lo, hi := f.InkBounds(t.S)
		if t.Glyphs != nil {
			lo, hi = f.GlyphInkBounds(glyphIDs(t.Glyphs))
		}
		return box{x0: t.X, x1: t.X + t.Width(), y0: t.Y - float64(hi)*t.Size/em, y1: t.Y - float64(lo)*t.Size/em}
	}
	return box{
		x0: t.X,
		x1: t.X + t.Width(),
		y0: t.Y - float64(f.Ascent())*t.Size/em,
		y1: t.Y - float64(f.Descent())*t.Size/em,
	}
}

func glyphIDs(gs []Glyph) []uint16 {
	ids := make([]uint16, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	return ids
}

// isFurniture reports whether t is a running header or a footer.
func isFurniture(d *Document, t Text) bool {
	return t.Y == headerBase || t.Y == d.Height-footerBase
}

// checkDoc asserts the invariants every laid-out document keeps: every
// run's face has its runes, no text in the safe margin nor outside the
// side margins, no two text boxes overlapping, no empty page.
func checkDoc(t *testing.T, d *Document) {
	t.Helper()
	const eps = 1e-6
	for p, pg := range d.Pages {
		if len(pg.Texts) == 0 {
			t.Errorf("page %d: no text", p+1)
		}
		boxes := make([]box, len(pg.Texts))
		for i, tx := range pg.Texts {
			if tx.S == "" {
				t.Errorf("page %d: empty run at (%.1f, %.1f)", p+1, tx.X, tx.Y)
			}
			for _, r := range tx.S {
				if !tx.Face.Has(r) {
					t.Errorf("page %d: run %q: face %s lacks %q", p+1, tx.S, tx.Face.Name(), r)
				}
			}
			b := textBox(tx)
			boxes[i] = b
			if b.x0 < marginX-eps || b.x1 > d.Width-marginX+eps {
				t.Errorf("page %d: %q spans x %.2f–%.2f, outside the side margins", p+1, tx.S, b.x0, b.x1)
			}
			if b.y0 < safeMargin || b.y1 > d.Height-safeMargin {
				t.Errorf("page %d: %q spans y %.2f–%.2f, inside the safe margin", p+1, tx.S, b.y0, b.y1)
			}
		}
		for i := range boxes {
			for k := i + 1; k < len(boxes); k++ {
				a, b := boxes[i], boxes[k]
				if strings.TrimSpace(pg.Texts[i].S) == "" || strings.TrimSpace(pg.Texts[k].S) == "" {
					continue // spaces have no ink (runs of them occur in bidi lines)
				}
				if math.Min(a.x1, b.x1)-math.Max(a.x0, b.x0) > 0.01 && math.Min(a.y1, b.y1)-math.Max(a.y0, b.y0) > 0.01 {
					t.Errorf("page %d: %q overlaps %q", p+1, pg.Texts[i].S, pg.Texts[k].S)
				}
			}
		}
		for _, im := range pg.Images {
			if im.X < marginX-eps || im.X+im.W > d.Width-marginX+eps || im.Y < safeMargin || im.Y+im.H > d.Height-safeMargin {
				t.Errorf("page %d: image %s at (%.1f, %.1f, %.1f, %.1f) outside the margins", p+1, im.Name, im.X, im.Y, im.W, im.H)
			}
		}
	}
}

// fold normalises text for comparison as pdfcheck does: NFC, lower case,
// no white space, no hyphens (a word broken at a line end gets one).
func fold(s string) string {
	s = strings.ToLower(norm.NFC.String(s))
	s = strings.NewReplacer("-", "", "\u00ad", "", "\u2010", "", "\u2011", "").Replace(s)
	return strings.Join(strings.Fields(s), "")
}

// stream returns the document's text, page furniture and the hyphens
// added at line breaks left out, folded.
func stream(d *Document) string {
	var b strings.Builder
	for _, pg := range d.Pages {
		for _, tx := range pg.Texts {
			if !isFurniture(d, tx) && !tx.Hyphen {
				b.WriteString(tx.S)
			}
		}
	}
	return fold(b.String())
}

// stripMarkup removes markup as pdfcheck does.
func stripMarkup(s string) string {
	s = strings.ReplaceAll(s, `\\`, "\x00")
	s = strings.ReplaceAll(s, `\*`, "\x01")
	s = strings.ReplaceAll(s, "*", "")
	return strings.NewReplacer("\x00", `\`, "\x01", "*").Replace(s)
}

// jobStrings returns every printed string of j in document order.
func jobStrings(j *job.Job) []string {
	var out []string
	add := func(ss ...string) {
		for _, s := range ss {
			if strings.TrimSpace(s) != "" {
				out = append(out, s)
			}
		}
	}
	person := func(p job.Person) {
		add(p.Honorific, p.Name, p.Title, p.Organization)
		add(p.Address...)
		add((&composer{j: j}).country(p.Country)) // a code prints as the country's name
	}
	add(j.Letterhead.Name)
	add(j.Letterhead.Lines...)
	if s := j.Statement; s != nil {
		add(s.Kicker, s.Headline, s.Dateline)
		for _, p := range s.Paragraphs {
			add(stripMarkup(p))
		}
	}
	l := j.Letter
	add(l.Reference)
	for _, p := range l.Recipients {
		person(p)
	}
	add(l.Subject, l.Salutation)
	for _, b := range l.Body {
		if b.Text != nil {
			add(stripMarkup(*b.Text))
		}
		if b.Heading != nil {
			add(stripMarkup(*b.Heading))
		}
		for _, it := range b.List {
			add(stripMarkup(it))
		}
	}
	add(l.Closing)
	for _, s := range l.Signers {
		add(s.Name, s.Title, s.Organization)
	}
	for _, p := range l.CC {
		person(p)
	}
	if sg := l.Signatories; sg != nil {
		add(sg.Heading)
		if sg.Sort != "alpha" {
			for _, e := range sg.Entries {
				add(e.Name)
				add(e.Members...)
				add(e.Note)
			}
		}
	}
	if c := j.Contact; c != nil {
		add(c.Heading)
		add(c.Lines...)
	}
	return out
}

// checkStrings asserts that every string of the job is printed, each
// contiguous, all in document order.
func checkStrings(t *testing.T, j *job.Job, d *Document) {
	t.Helper()
	all := stream(d)
	pos := 0
	for _, s := range jobStrings(j) {
		f := fold(s)
		i := strings.Index(all[pos:], f)
		if i < 0 {
			if strings.Contains(all, f) {
				t.Errorf("%q is printed out of order", s)
			} else {
				t.Errorf("%q is not printed", s)
			}
			continue
		}
		pos += i + len(f)
	}
	if sg := j.Letter.Signatories; sg != nil && sg.Sort == "alpha" {
		for _, e := range sg.Entries {
			if !strings.Contains(all, fold(e.Name)) {
				t.Errorf("signatory %q is not printed", e.Name)
			}
		}
	}
}

// signatoryTexts returns the runs of the signatory list on page p: their
// sizes are those of entries, members and notes.
func signatoryTexts(d *Document, p int) []Text {
	var out []Text
	for _, tx := range d.Pages[p].Texts {
		if !isFurniture(d, tx) && (tx.Size == nameSize || tx.Size == memberSize) && tx.Color == black {
			out = append(out, tx)
		}
	}
	return out
}

// columnGeometry returns the number of signatory columns, their pitch and width.
func columnGeometry(j *job.Job, d *Document) (int, float64, float64) {
	width := d.Width - 2*marginX
	n := j.Letter.Signatories.Columns
	if n == 0 {
		n = 3
	}
	n = min(n, max(1, int((width+colGutter)/(minColW+colGutter))))
	colW := (width - colGutter*float64(n-1)) / float64(n)
	return n, colW + colGutter, colW
}

// checkColumns asserts that signatory runs stay inside their column and
// that the columns on the list's last page are balanced: their heights
// differ by at most one entry.
func checkColumns(t *testing.T, j *job.Job, d *Document) {
	t.Helper()
	n, step, colW := columnGeometry(j, d)
	last := -1
	for p := range d.Pages {
		for _, tx := range signatoryTexts(d, p) {
			last = p
			col := int((tx.X - marginX + 0.5) / step)
			if right := marginX + float64(col)*step + colW; textBox(tx).x1 > right+1e-6 {
				t.Errorf("page %d: signatory run %q ends at %.2f, past its column's edge %.2f", p+1, tx.S, textBox(tx).x1, right)
			}
		}
	}
	if last < 0 {
		t.Fatal("no signatory list printed")
	}
	// Column heights, and the tallest entry: an entry starts with a run at
	// the column's left edge; its other lines are indented.
	top, bottom := make([]float64, n), make([]float64, n)
	for k := range top {
		top[k], bottom[k] = math.Inf(1), math.Inf(-1)
	}
	tallest, start := 0.0, 0.0
	for _, tx := range signatoryTexts(d, last) {
		col := int((tx.X - marginX + 0.5) / step)
		if math.Abs(tx.X-(marginX+float64(col)*step)) < 0.01 {
			start = tx.Y
		}
		tallest = max(tallest, tx.Y-start)
		top[col] = min(top[col], tx.Y)
		bottom[col] = max(bottom[col], tx.Y)
	}
	var heights []float64
	for k := range n {
		if !math.IsInf(top[k], 0) {
			heights = append(heights, bottom[k]-top[k])
		}
	}
	// Balanced: moving one entry between columns would not help, so the
	// heights differ by at most the tallest entry and the gap before it.
	if len(heights) == n {
		if spread := slices.Max(heights) - slices.Min(heights); spread > tallest+nameLead+entryGap+1e-6 {
			t.Errorf("page %d: signatory columns unbalanced, heights %.1f, tallest entry %.1f", last+1, heights, tallest+nameLead)
		}
	}
}

// dumpKern lists a run's pair kerning as " kern rune:units ...".
func dumpKern(k []int16) string {
	if k == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(" kern")
	for i, v := range k {
		if v != 0 {
			fmt.Fprintf(&b, " %d:%d", i, v)
		}
	}
	return b.String()
}

// dumpGlyphs lists a shaped run's glyphs as " glyphs id/advance ...".
func dumpGlyphs(gs []Glyph) string {
	if gs == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(" glyphs")
	for _, g := range gs {
		fmt.Fprintf(&b, " %d/%d", g.ID, g.Advance)
		if g.XOff != 0 || g.YOff != 0 {
			fmt.Fprintf(&b, "@%d,%d", g.XOff, g.YOff)
		}
	}
	return b.String()
}

// dump renders the geometry compactly for golden files.
func dump(d *Document) string {
	var b strings.Builder
	fmt.Fprintf(&b, "document %gx%g, %d pages, title %q, author %q, language %s\n", d.Width, d.Height, len(d.Pages), d.Meta.Title, d.Meta.Author, d.Meta.Language)
	for p, pg := range d.Pages {
		fmt.Fprintf(&b, "\npage %d\n", p+1)
		for _, tx := range pg.Texts {
			fmt.Fprintf(&b, "T %7.2f %7.2f %4.1f %-26s #%02x%02x%02x %q%s\n", tx.X, tx.Y, tx.Size, tx.Face.Name(), tx.Color.R, tx.Color.G, tx.Color.B, tx.S, dumpKern(tx.Kern)+dumpGlyphs(tx.Glyphs))
		}
		for _, r := range pg.Rules {
			fmt.Fprintf(&b, "R %7.2f %7.2f %7.2f %7.2f w%.2f #%02x%02x%02x\n", r.X1, r.Y1, r.X2, r.Y2, r.Width, r.Color.R, r.Color.G, r.Color.B)
		}
		for _, im := range pg.Images {
			fmt.Fprintf(&b, "I %7.2f %7.2f %7.2f %7.2f %s %s %d bytes\n", im.X, im.Y, im.W, im.H, im.Name, im.Format, len(im.Data))
		}
	}
	return b.String()
}
