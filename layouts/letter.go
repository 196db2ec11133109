package layouts

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/renderer/job"
)

// Body typography.
const (
	bodySize = 11.0
	bodyLead = 15.0 // 1.36
	// bodyMeasure is the widest body line in ems of bodySize: Liberation
	// Serif (Times metrics) sets about 2.3 characters an em of running
	// text, so 34 ems hold about 78 characters.
	bodyMeasure = 34.0
	paraGap     = 8.0 // between paragraphs
	listIndent  = 22.0
	labelGap    = 7.0 // between a list label and its text
)

// bodyWidth is the measure of body text: at most bodyMeasure ems of the
// body size, so that a line holds about 65 to 85 characters, and never
// wider than the text column.
func (c *composer) bodyWidth() float64 { return min(c.width(), bodyMeasure*bodySize) }

func bodyStyle() tstyle {
	return tstyle{font: fonts.Regular, size: bodySize, lead: bodyLead, color: black}
}

// letterLayout is the plain letter: letterhead, letter, signatory list.
// A job's statement, if it has one, is printed before the letter after a
// rule, and its contact block at the end, so nothing of a job is lost.
type letterLayout struct{}

// Name returns "letter".
func (letterLayout) Name() string { return "letter" }

// Lay lays out j as a letter.
func (l letterLayout) Lay(j *job.Job) (*Document, error) { return l.layFor(j, 0) }

func (letterLayout) layFor(j *job.Job, first int) (*Document, error) {
	c, err := newComposer(j)
	if err != nil {
		return nil, err
	}
	c.first = first
	if err := c.letterhead(); err != nil {
		return nil, err
	}
	hasStatement, err := c.statement()
	if err != nil {
		return nil, err
	}
	if hasStatement {
		c.rule(c.left, c.right, 1, 18, 0.6, c.ruleColor(), false)
	}
	if err := c.letter(false, 3); err != nil {
		return nil, err
	}
	if err := c.contact(); err != nil {
		return nil, err
	}
	return c.finish()
}

// letterhead sets the sender's name (bold, in the accent colour), the
// letterhead lines and the logo on the right, and a thin rule under them.
func (c *composer) letterhead() error {
	lh := &c.j.Letterhead
	textW := c.width()
	first := int32(len(c.items))
	logoH := 0.0
	if lh.Logo != "" {
		p, err := decodeDataURL(lh.Logo)
		if err != nil {
			return fmt.Errorf("lay out letterhead: logo: %w", err)
		}
		w, h := p.fit(44, 160)
		textW -= w + 16
		logoH = h
		c.images = append(c.images, imageRec{item: first, x: c.right - w, w: w, h: h, data: p.data, format: p.format, name: "logo", elem: c.logoFigure()})
	}
	name := tstyle{font: fonts.Bold, size: 16, lead: 20, color: c.accent}
	if err := c.text(lh.Name, block{st: name, x: c.left, w: textW, whole: true}); err != nil {
		return err
	}
	small := tstyle{font: fonts.Regular, size: 9, lead: 11.7, color: grey}
	for i, l := range lh.Lines {
		space := 0.0
		if i == 0 {
			space = 2
		}
		if err := c.text(l, block{st: small, x: c.left, w: textW, space: space, keepPrev: true, whole: true}); err != nil {
			return err
		}
	}
	textH := 0.0
	for _, it := range c.items[first:] {
		textH += it.space + it.h
	}
	if logoH > textH {
		c.addItem(logoH-textH, 0, true)
	}
	c.rule(c.left, c.right, 1, 7, 0.6, c.ruleColor(), true)
	return nil
}

// personLines returns the lines of a recipient: honorific and name, title,
// organization, address lines, country.
func personLines(p *job.Person) []string {
	out := make([]string, 0, 4+len(p.Address))
	name := p.Name
	if p.Honorific != "" {
		name = p.Honorific + " " + p.Name
	}
	out = append(out, name)
	for _, s := range []string{p.Title, p.Organization} {
		if s != "" {
			out = append(out, s)
		}
	}
	for _, s := range p.Address {
		if s != "" {
			out = append(out, s)
		}
	}
	if p.Country != "" {
		out = append(out, p.Country)
	}
	return out
}

// stack sets each string as its own paragraph, the whole kept on one page.
func (c *composer) stack(ss []string, st tstyle, x, w, space float64, keepPrev bool) error {
	for i, s := range ss {
		b := block{st: st, x: x, w: w, indent: 12, whole: true, keepPrev: true}
		if i == 0 {
			b.space, b.keepPrev = space, keepPrev
		}
		if err := c.text(s, b); err != nil {
			return err
		}
	}
	return nil
}

// letter sets the letter: date, reference, recipients, subject,
// salutation, body, closing, signers, copies, then the signatory list in
// defCols columns unless the job says otherwise.
func (c *composer) letter(newPage bool, defCols int) error {
	l := &c.j.Letter
	body := bodyStyle()
	x, w := c.left, c.width()
	mark := len(c.items)
	space := 22.0
	if l.Date != "" {
		if err := c.text(c.loc.longDate(l.Date), block{st: body, x: x, w: w, space: space}); err != nil {
			return err
		}
		space = 4
	}
	if l.Reference != "" {
		if err := c.text(l.Reference, block{st: body, x: x, w: w, space: space, keepPrev: true}); err != nil {
			return err
		}
	}
	if mark < len(c.items) {
		space = 18
	}
	// Every copy names the recipients in the job's order: the sender's
	// order of precedence.
	for i := range l.Recipients {
		if err := c.stack(c.personLines(&l.Recipients[i]), body, x, w, space, false); err != nil {
			return err
		}
		space = 10
	}
	if err := c.letterMain(); err != nil {
		return err
	}
	if mark < len(c.items) {
		// A new page, or kept with what precedes it (the letterhead's
		// rule, or the rule closing a statement).
		c.items[mark].newPage = newPage
		c.items[mark].keep = !newPage
	}
	return c.signatories(defCols)
}

// letterMain sets the letter from the subject line to the cc block:
// subject, salutation, body, closing, signers and copies.
func (c *composer) letterMain() error {
	l := &c.j.Letter
	body := bodyStyle()
	x, w := c.left, c.bodyWidth()
	if l.Subject != "" {
		bold := body
		bold.font = fonts.Bold
		if err := c.text(l.Subject, block{st: bold, x: x, w: w, indent: 0, space: 18, whole: true, role: "H1"}); err != nil {
			return err
		}
	}
	// The subject stays with the salutation, and the salutation with the
	// first two lines of the body (the first block keeps with it below).
	if err := c.text(l.Salutation, block{st: body, x: x, w: w, space: 16, keepPrev: l.Subject != ""}); err != nil {
		return err
	}
	keep := true // the first block stays with the salutation
	for i, b := range l.Body {
		var err error
		switch {
		case b.Heading != nil:
			h := body
			h.font = fonts.Bold
			err = c.marked(*b.Heading, block{st: h, x: x, w: w, space: 16, keepPrev: keep, whole: true, role: "H2"})
			keep = true
		case b.Text != nil:
			err = c.marked(*b.Text, block{st: body, x: x, w: w, space: paraGap, keepPrev: keep})
			keep = strings.HasSuffix(strings.TrimSpace(*b.Text), ":")
		default:
			c.list = c.listOf(b.Numbered)
			for k, s := range b.List {
				label := "\u2022"
				if b.Numbered {
					label = strconv.Itoa(k+1) + "."
				}
				sp := 4.0
				if k == 0 {
					sp = paraGap
				}
				err = c.marked(s, block{st: body, x: x + listIndent, w: w - listIndent, space: sp, keepPrev: k == 0 && keep, label: label, labelGap: labelGap})
				if err != nil {
					break
				}
			}
			c.list = nil
			keep = false
		}
		if err != nil {
			return fmt.Errorf("lay out letter: body[%d]: %w", i, err)
		}
	}
	// The closing stays with the end of the body and with the first signer.
	if err := c.text(l.Closing, block{st: body, x: x, w: w, space: 14, keepPrev: true}); err != nil {
		return err
	}
	if err := c.signers(); err != nil {
		return err
	}
	return c.copies()
}

// logoFigure returns the logo's Figure element, its /Alt the job's
// letterhead.logo_alt or "Logo of " and the letterhead's name.
func (c *composer) logoFigure() *Elem {
	fig := c.elem("Figure", nil)
	fig.Alt = c.j.Letterhead.LogoAlt
	if fig.Alt == "" {
		fig.Alt = "Logo of " + c.j.Letterhead.Name
	}
	return fig
}

// copies sets the cc block: a localised label, then one person per line,
// their details joined with commas and wrapped under the first.
func (c *composer) copies() error {
	cc := c.j.Letter.CC
	if len(cc) == 0 {
		return nil
	}
	st := tstyle{font: fonts.Regular, size: 10, lead: 13, color: black}
	label := c.loc.ccLabel()
	lw := c.measure(label, st.font, st.size)
	x := c.left + lw + 6
	c.list = c.listOf(false)
	defer func() { c.list = nil }()
	for i := range cc {
		s := strings.Join(c.personLines(&cc[i]), ", ")
		b := block{st: st, x: x, w: c.right - x, indent: 12, keepPrev: true, whole: true}
		if i == 0 {
			b.space, b.keepPrev, b.label, b.labelGap = 20, false, label, 6
		}
		if err := c.text(s, b); err != nil {
			return err
		}
	}
	return nil
}

// contact sets the closing press contact block after a short rule.
func (c *composer) contact() error {
	ct := c.j.Contact
	if ct == nil || (ct.Heading == "" && len(ct.Lines) == 0) {
		return nil
	}
	c.rule(c.left, c.left+72, 1, 26, 0.6, c.ruleColor(), false)
	st := tstyle{font: fonts.Regular, size: 10, lead: 13, color: black}
	space := 6.0
	if ct.Heading != "" {
		h := st
		h.font = fonts.Bold
		if err := c.text(ct.Heading, block{st: h, x: c.left, w: c.width(), space: space, keepPrev: true, whole: true, role: "H2"}); err != nil {
			return err
		}
		space = 0
	}
	return c.stack(ct.Lines, st, c.left, c.width(), space, true)
}

// ruleColor is the colour of decorative rules: the accent, else grey.
func (c *composer) ruleColor() RGB {
	if c.accent == black {
		return grey
	}
	return c.accent
}
