package layouts

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts/markup"
	"github.com/carta-letters/carta/renderer/job"
)

// mm is one millimetre in points.
const mm = 72 / 25.4

// Rect is a rectangle on a page, in points, from the top-left corner of
// the page with y growing down, like the Document it belongs to.
type Rect struct{ X, Y, W, H float64 }

// Address typography in the window: 10 pt on a 12.9 pt line (DIN 5008's
// 4.23 mm pitch, six lines in the 27.3 mm address zone), shrunk to fit in
// half-point steps down to 8 pt, the smallest size DIN 5008 and the US
// Postal Service's Publication 25 accept for an address.
const (
	addrSize    = 10.0
	addrLead    = 12.9
	addrMinSize = 8.0
)

// windowSpec is the geometry of a window-envelope layout. All numbers are
// in points from the top-left corner of the page.
type windowSpec struct {
	name        string
	window      Rect      // the envelope window (DIN: the address field) on the page
	zone        Rect      // where the address text lies, inside window
	center      bool      // centre the address vertically in zone, else top-align it
	returnBase  float64   // baseline of the one-line return address, 0 for none
	left, right float64   // the text column
	headTop     float64   // top of the letterhead
	headBottom  float64   // the letterhead ends above this
	infoX       float64   // left edge of the information block (date, reference)
	infoTop     float64   // top of the information block
	bodyTop     float64   // the letter's text starts no higher than this
	folds       []float64 // fold marks
	hole        float64   // the hole-punch mark, 0 for none
}

// DIN 5008 letter sheet (A4, 210 × 297 mm), form A ("hochgestelltes
// Anschriftfeld") and form B ("tiefgestelltes"): the letterhead is 27 mm
// (A) or 45 mm (B) high; under it the 85 × 45 mm address field starts
// 20 mm from the left edge: 17.7 mm for the return address and postal
// notes, then the 27.3 mm address zone (six lines), the address written
// from the left edge of the text, 25 mm from the paper's edge. Fold marks
// at 87 and 192 mm (A) or 105 and 210 mm (B) from the top fold the sheet
// for a DL (110 × 220 mm) window envelope; the hole mark is at 148.5 mm.
// The information block (date, reference, the sender's details) starts
// 125 mm from the left edge, 32 mm (A) or 50 mm (B) from the top. The
// text column is 25 mm from the left edge and 20 mm from the right.
func dinSpec(name string, head float64) windowSpec {
	a4W := 595.28
	field := Rect{20 * mm, head * mm, 85 * mm, 45 * mm}
	zoneTop := (head + 17.7) * mm
	s := windowSpec{
		name:   name,
		window: field,
		// The address zone, less 0.5 mm at the bottom so that descenders
		// stay clear of the field's edge.
		zone:       Rect{25 * mm, zoneTop, 80 * mm, (27.3 - 0.5) * mm},
		returnBase: zoneTop - 2.5,
		left:       25 * mm,
		right:      a4W - 20*mm,
		headBottom: head * mm,
		infoX:      125 * mm,
		infoTop:    (head + 5) * mm,
		bodyTop:    field.Y + field.H + 24,
		hole:       148.5 * mm,
	}
	if head == 27 {
		s.headTop = 32
		s.folds = []float64{87 * mm, 192 * mm}
	} else {
		s.headTop = 54
		s.folds = []float64{105 * mm, 210 * mm}
	}
	return s
}

// US Letter (8.5 × 11 in) in a standard #10 window envelope (4.125 × 9.5
// in; window 4.5 × 1.125 in, 0.875 in from the envelope's left edge and
// 0.5 in from its bottom).
//
// The layout assumes a Z-fold at the fold marks, 3.875 and 7.75 in from
// the top: the top panel (3.875 in, the address upright) faces the
// window, and the folded sheet, 8.5 × 3.875 in, has 0.25 in of play up and
// down and 1 in across in the envelope. USPS (DMM 601.6.3) wants 1/8 in
// between the address and every edge of the window with the insert moved
// to its limits, so the address lies where the window shows the sheet in
// every position: from 2.5 to 3.375 in down (the sheet at the top of the
// envelope, then at its bottom) and from 0.875 to 4.375 in across (the
// sheet at the envelope's left, then at its right), less 1/8 in on every
// side: 1 to 4.25 in across, 2.625 to 3.25 in down, room for four lines
// at 9 pt. (A sheet folded in equal thirds, 3.667 in, would have 0.458 in
// of play and leave room for three lines only.)
const (
	usFold    = 3.875 // in, the first fold from the top
	usPlay    = 4.125 - usFold
	usWinTop  = 4.125 - 0.5 - 1.125 // in, window's top below the envelope's top
	usWinLeft = 0.875
	usSlide   = 9.5 - 8.5 // in, play across
	usClear   = 1.0 / 8
)

// usSpec is the us-window geometry (see the constants above).
func usSpec() windowSpec {
	const in = 72.0
	win := Rect{usWinLeft * in, usWinTop * in, (4.5 - usSlide) * in, (1.125 - usPlay) * in}
	return windowSpec{
		name:       "us-window",
		window:     win,
		zone:       Rect{win.X + usClear*in, win.Y + usClear*in, win.W - 2*usClear*in, win.H - 2*usClear*in},
		center:     true,
		left:       marginX,
		right:      612 - marginX,
		headTop:    40,
		headBottom: (usWinTop - usPlay) * in,
		infoX:      5.5 * in,
		infoTop:    win.Y,
		bodyTop:    win.Y + win.H + 24,
		folds:      []float64{usFold * in, 2 * usFold * in},
	}
}

var (
	din5008A = windowLayout{dinSpec("din5008-a", 27)}
	din5008B = windowLayout{dinSpec("din5008-b", 45)}
	usWindow = windowLayout{usSpec()}
)

// windowLayout is a letter for a window envelope: the letterhead, the
// first recipient's (or a copy's recipient's) full address in the
// window, the date and reference in an information block beside it, fold
// marks on the left edge, then the other recipients, the letter and the
// signatory list; a press statement in the job follows on a new page, and
// the contact block last.
type windowLayout struct{ spec windowSpec }

// Name returns the layout's name.
func (l windowLayout) Name() string { return l.spec.name }

// Lay lays out j with its first recipient in the window.
func (l windowLayout) Lay(j *job.Job) (*Document, error) { return l.layFor(j, 0) }

// AddressWindow returns the envelope window of a window layout, on the
// first page: the address printed there shows through the window. ok is
// false for layouts without a window.
func AddressWindow(layout string) (r Rect, ok bool) {
	for _, l := range registry {
		if w, isWin := l.(windowLayout); isWin && w.spec.name == layout {
			return w.spec.window, true
		}
	}
	return Rect{}, false
}

func (l windowLayout) layFor(j *job.Job, first int) (*Document, error) {
	s := &l.spec
	c, err := newComposer(j)
	if err != nil {
		return nil, err
	}
	c.first = first
	// The envelope's window does not move: a right-to-left letter's
	// first page is mirrored around it and the information block beside
	// it (see mirror).
	c.bidi.keep = []Rect{s.window, {X: s.infoX, Y: s.headBottom, W: s.right - s.infoX, H: s.bodyTop - s.headBottom}}
	c.left, c.right = s.left, s.right
	if first < 0 || first >= len(j.Letter.Recipients) {
		return nil, fmt.Errorf("lay out letter: no recipient %d", first)
	}
	fit, err := c.fitAddress(s, first)
	if err != nil {
		return nil, err
	}
	infoLines, err := c.windowHead(s)
	if err != nil {
		return nil, err
	}
	if err := c.returnAddress(s); err != nil {
		return nil, err
	}
	c.address(s, first, fit)
	infoBottom, err := c.info(s, infoLines)
	if err != nil {
		return nil, err
	}
	c.foldMarks(s)

	c.y, c.atTop = max(s.bodyTop, infoBottom+18), false
	if err := c.addressees(first); err != nil {
		return nil, err
	}
	if err := c.letterMain(); err != nil {
		return nil, err
	}
	if err := c.signatories(3); err != nil {
		return nil, err
	}
	mark := len(c.items)
	if _, err := c.statement(); err != nil {
		return nil, err
	}
	if mark < len(c.items) {
		c.items[mark].newPage = true
	}
	if err := c.contact(); err != nil {
		return nil, err
	}
	return c.finish()
}

// placeAt lays out the items added since the last flush from y down on the
// first page, outside the flow of the letter.
func (c *composer) placeAt(y float64) float64 {
	c.y, c.atTop = y, false
	c.flush()
	return c.y
}

// windowHead sets the letterhead in its band: the name, and the
// letterhead lines if they fit there too; otherwise the lines go to the
// information block, and windowHead returns true. A logo sits on the
// right, as high as the band allows.
func (c *composer) windowHead(s *windowSpec) (linesToInfo bool, err error) {
	lh := &c.j.Letterhead
	band := s.headBottom - s.headTop
	textW := c.width()
	if lh.Logo != "" {
		p, err := decodeDataURL(lh.Logo)
		if err != nil {
			return false, fmt.Errorf("lay out letterhead: logo: %w", err)
		}
		w, h := p.fit(min(44, band-4), 160)
		textW -= w + 16
		it := c.addItem(0, 0, false)
		c.images = append(c.images, imageRec{item: it, x: c.right - w, w: w, h: h, data: p.data, format: p.format, name: "logo", elem: c.logoFigure()})
		c.placeAt(s.headTop)
	}
	items, runs, elems := len(c.items), len(c.runs), len(c.elems)
	small := tstyle{font: fonts.Regular, size: 9, lead: 11.7, color: grey}
	// The name in 16 pt, or smaller if it takes too many lines; with the
	// letterhead lines under it if they fit in the band.
	for _, size := range []float64{16, 13, 11} {
		for _, withLines := range []bool{true, false} {
			if withLines && len(lh.Lines) == 0 {
				continue
			}
			c.items, c.runs, c.elems = c.items[:items], c.runs[:runs], c.elems[:elems]
			c.flushed = items
			name := tstyle{font: fonts.Bold, size: size, lead: size * 1.25, color: c.accent}
			if err := c.text(lh.Name, block{st: name, x: c.left, w: textW, whole: true}); err != nil {
				return false, err
			}
			if withLines {
				for i, l := range lh.Lines {
					space := 0.0
					if i == 0 {
						space = 2
					}
					if err := c.text(l, block{st: small, x: c.left, w: textW, space: space, whole: true}); err != nil {
						return false, err
					}
				}
			}
			h := 0.0
			for _, it := range c.items[items:] {
				h += it.space + it.h
			}
			if h <= band-3 {
				c.placeAt(s.headTop)
				return !withLines && len(lh.Lines) > 0, nil
			}
			if !withLines {
				break
			}
		}
	}
	return false, &job.ValidationError{Problems: []job.Problem{{Field: "letterhead.name",
		Message: fmt.Sprintf("is too long for the %s letterhead (%.0f mm high) even at 11 pt", s.name, band/mm)}}}
}

// returnAddress sets the one-line return address at the foot of the DIN
// address field's upper zone: the sender's name and postal address, so
// that returned mail comes back. The postal address is the letterhead's
// first line (with further lines while they fit): name and first line
// at 7 pt, shrunk in half-point steps to 6 pt (the smallest DIN 5008
// allows), else the first line alone from 7 to 6 pt. A letterhead without
// lines, or a first line too long even alone at 6 pt, is refused naming
// the field, since the return line would not be a postal address.
func (c *composer) returnAddress(s *windowSpec) error {
	if s.returnBase == 0 {
		return nil
	}
	lh := &c.j.Letterhead
	if len(lh.Lines) == 0 {
		return &job.ValidationError{Problems: []job.Problem{{Field: "letterhead.lines",
			Message: "must give the sender's postal address (its first line) for the " + s.name + " return address"}}}
	}
	st := tstyle{font: fonts.Regular, lead: 9, color: grey}
	const sep = " \u00b7 "
	text, ok := "", false
	for _, alone := range []bool{false, true} {
		for size := 7.0; size >= 6-1e-9 && !ok; size -= 0.5 {
			st.size = size
			text = lh.Name + sep + lh.Lines[0]
			if alone {
				text = lh.Lines[0]
			}
			if c.measure(text, st.font, size) > s.zone.W {
				continue
			}
			ok = true
			for _, l := range lh.Lines[1:] {
				if c.measure(text+sep+l, st.font, size) > s.zone.W {
					break
				}
				text += sep + l
			}
		}
	}
	if !ok {
		return &job.ValidationError{Problems: []job.Problem{{Field: "letterhead.lines[0]",
			Message: fmt.Sprintf("is too long for the %s return address line (%.0f mm) even alone at 6 pt", s.name, s.zone.W/mm)}}}
	}
	it := c.addItem(0, 0, false)
	c.cur = c.elem("P", nil)
	if _, err := c.str(it, text, st, s.zone.X, 0); err != nil {
		return err
	}
	c.placeAt(s.returnBase)
	return nil
}

// addrFit is how an address is set in the window.
type addrFit struct {
	size, lead float64
	asc        float64 // the tallest ascent of the faces used, in em
	lines      int     // lines once wrapped
}

// personFields returns the job fields of the lines personLines returns.
func personFields(p *job.Person) []string {
	out := []string{"name"}
	if p.Title != "" {
		out = append(out, "title")
	}
	if p.Organization != "" {
		out = append(out, "organization")
	}
	for i, s := range p.Address {
		if s != "" {
			out = append(out, "address["+strconv.Itoa(i)+"]")
		}
	}
	if p.Country != "" {
		out = append(out, "country")
	}
	return out
}

// measureAddress shapes the address lines at size, broken to width w. It
// returns the number of lines, whether any line had to wrap (and the
// first that did), and the tallest ascent and deepest descent, in em, of
// the faces used.
func (c *composer) measureAddress(ss []string, size, w float64) (n, wrapped int, asc, desc float64, err error) {
	wrapped = -1
	for k, s := range ss {
		c.spans = append(c.spans[:0], markup.Span{Text: s})
		if err := c.shape(fonts.Regular, size); err != nil {
			return 0, 0, 0, 0, err
		}
		var inked *fonts.Face
		for _, g := range c.glyphs {
			f := c.faces[g.face]
			if f.IsCJKFace() || f.IsShapedFace() {
				inked = f
				f = c.fam.Face(fonts.Regular) // placed by their ink, as in baseline
			}
			em := float64(f.UnitsPerEm())
			asc = max(asc, float64(f.Ascent())/em)
			desc = max(desc, -float64(f.Descent())/em)
		}
		if inked != nil {
			// Their ink may reach beyond the regular face's box (Naskh's
			// descenders): lines must clear it too.
			lo, hi := inked.InkBounds(s)
			em := float64(inked.UnitsPerEm())
			asc = max(asc, float64(hi)/em)
			desc = max(desc, -float64(lo)/em)
		}
		c.breakLines(w, w)
		if len(c.lines) > 1 && wrapped < 0 {
			wrapped = k
		}
		n += len(c.lines)
	}
	return n, wrapped, asc, desc, nil
}

// fitAddress finds the largest size, from 10 pt down to 8 pt, at which
// recipient i's address fits the window's zone: first without wrapping any
// line, then wrapping long lines. The line height is 1.29 times the size
// or what the zone allows, never less than the faces' ascent plus
// descent, so lines never overlap. An address that does not fit even at
// 8 pt is refused with a *job.ValidationError naming the field.
func (c *composer) fitAddress(s *windowSpec, i int) (addrFit, error) {
	p := &c.j.Letter.Recipients[i]
	ss := c.personLines(p)
	var sizes []float64
	for sz := addrSize; sz >= addrMinSize-1e-9; sz -= 0.5 {
		sizes = append(sizes, sz)
	}
	for _, wrap := range []bool{false, true} {
		for _, size := range sizes {
			n, wrapped, asc, desc, err := c.measureAddress(ss, size, s.zone.W)
			if err != nil {
				return addrFit{}, err
			}
			if wrapped >= 0 && !wrap {
				continue
			}
			// Taller scripts (Naskh's descenders) get the lead they
			// need, as far as the zone allows.
			lead := min(max(size*addrLead/addrSize, (asc+desc)*size), s.zone.H/float64(n))
			if lead+1e-9 >= (asc+desc)*size {
				return addrFit{size: size, lead: lead, asc: asc, lines: n}, nil
			}
		}
	}
	// Refused: say how many lines fit at the smallest size.
	path := "letter.recipients[" + strconv.Itoa(i) + "]"
	n, wrapped, asc, desc, err := c.measureAddress(ss, addrMinSize, s.zone.W)
	if err != nil {
		return addrFit{}, err
	}
	most := int(math.Floor(s.zone.H/((asc+desc)*addrMinSize) + 1e-9))
	prob := job.Problem{Field: path + ".address", Message: tooManyLines(p, len(ss), s.name, most)}
	if len(ss) <= most && wrapped >= 0 {
		prob = job.Problem{Field: path + "." + personFields(p)[wrapped],
			Message: fmt.Sprintf("is too wide for the %s address window (%.0f mm) even at %g pt; wrapped, the address takes %d lines (at most %d)",
				s.name, s.zone.W/mm, addrMinSize, n, most)}
	}
	return addrFit{}, &job.ValidationError{Problems: []job.Problem{prob}}
}

// address sets recipient i's address in the window's zone as fitted:
// every line at fit.size, each item one line of fit.lead, the baseline
// placed so that the faces' boxes stay inside the line.
func (c *composer) address(s *windowSpec, i int, fit addrFit) {
	st := tstyle{font: fonts.Regular, size: fit.size, lead: fit.lead, color: black}
	ss := c.personLines(&c.j.Letter.Recipients[i])
	_, _, asc, desc, _ := c.measureAddress(ss, fit.size, s.zone.W) // shaping succeeded in fitAddress
	dy := (fit.lead-(asc+desc)*fit.size)/2 + asc*fit.size
	for _, line := range ss {
		c.cur = c.elem("P", nil)
		c.spans = append(c.spans[:0], markup.Span{Text: line})
		_ = c.shape(fonts.Regular, fit.size)
		c.breakLines(s.zone.W, s.zone.W)
		for _, ln := range c.lines {
			it := c.addItem(fit.lead, 0, true)
			c.emitLine(it, ln, st, s.zone.X, dy)
		}
	}
	top := s.zone.Y
	if s.center {
		top += (s.zone.H - float64(fit.lines)*fit.lead) / 2
	}
	c.placeAt(top)
}

// info sets the information block beside the window: the letterhead's
// lines when the letterhead band had no room for them, then the reference
// and the date. It returns the bottom of the block.
func (c *composer) info(s *windowSpec, withLines bool) (float64, error) {
	x, w := s.infoX, s.right-s.infoX
	l := &c.j.Letter
	small := tstyle{font: fonts.Regular, size: 9, lead: 11.7, color: grey}
	st := tstyle{font: fonts.Regular, size: 10, lead: 13, color: black}
	space := 0.0
	if withLines {
		for _, line := range c.j.Letterhead.Lines {
			if err := c.text(line, block{st: small, x: x, w: w, indent: 8, whole: true}); err != nil {
				return 0, err
			}
		}
		space = 10
	}
	for _, v := range []string{l.Reference, c.loc.longDate(l.Date)} {
		if v == "" {
			continue
		}
		if err := c.text(v, block{st: st, x: x, w: w, indent: 8, space: space, whole: true}); err != nil {
			return 0, err
		}
		space = 2
	}
	return c.placeAt(s.infoTop), nil
}

// foldMarks draws the fold marks and the hole mark on the left edge of
// the first page: short rules, 5 to 10 mm from the edge (the hole mark to
// 13 mm), outside any text.
func (c *composer) foldMarks(s *windowSpec) {
	it := c.addItem(0, 0, false)
	for _, y := range s.folds {
		c.rules = append(c.rules, ruleRec{item: it, x1: 5 * mm, dy1: y, x2: 10 * mm, dy2: y, width: 0.5, color: grey})
	}
	if s.hole > 0 {
		c.rules = append(c.rules, ruleRec{item: it, x1: 5 * mm, dy1: s.hole, x2: 13 * mm, dy2: s.hole, width: 0.5, color: grey})
	}
	c.placeAt(0)
}

// addressees names the recipients other than the one in the window, in
// the job's order, under a localised label ("Also addressed to:"): one
// paragraph each, their details joined with commas.
func (c *composer) addressees(first int) error {
	rs := c.j.Letter.Recipients
	if len(rs) < 2 {
		return nil
	}
	st := tstyle{font: fonts.Regular, size: 10, lead: 13, color: black}
	label := st
	label.color = grey
	if err := c.text(c.loc.addresseesLabel(), block{st: label, x: c.left, w: c.width(), whole: true}); err != nil {
		return err
	}
	for i := range rs {
		if i == first {
			continue
		}
		s := strings.Join(c.personLines(&rs[i]), ", ")
		if err := c.text(s, block{st: st, x: c.left, w: c.width(), indent: 12, space: 2, keepPrev: true, whole: true}); err != nil {
			return err
		}
	}
	return nil
}

// tooManyLines says that recipient p's block of n lines does not fit
// the named window, which holds at most most, counting the lines as
// the job gives them: "9 lines do not fit the din5008-a address window
// (at most 8): the name, the title and 7 address lines".
func tooManyLines(p *job.Person, n int, window string, most int) string {
	parts := []string{"the name"}
	if p.Title != "" {
		parts = append(parts, "the title")
	}
	if p.Organization != "" {
		parts = append(parts, "the organization")
	}
	addr := 0
	for _, a := range p.Address {
		if a != "" {
			addr++
		}
	}
	switch addr {
	case 0:
	case 1:
		parts = append(parts, "1 address line")
	default:
		parts = append(parts, strconv.Itoa(addr)+" address lines")
	}
	if p.Country != "" {
		parts = append(parts, "the country")
	}
	list := parts[0]
	if len(parts) > 1 {
		list = strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	}
	return fmt.Sprintf("%d lines do not fit the %s address window (at most %d): %s", n, window, most, list)
}
