package layouts

import (
	"strings"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts/markup"
	"github.com/carta-letters/carta/renderer/job"
)

// jointStatement is a press statement that wraps a letter: the statement
// under the letterhead, then the letter after a rule on the same page
// when its opening fits there (from a new page if the statement asks
// with letter_new_page), then the press contact block.
type jointStatement struct{}

// Name returns "joint-statement".
func (jointStatement) Name() string { return "joint-statement" }

// Lay lays out j as a joint statement.
func (l jointStatement) Lay(j *job.Job) (*Document, error) { return l.layFor(j, 0) }

func (jointStatement) layFor(j *job.Job, first int) (*Document, error) {
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
	newPage := hasStatement && j.Statement.LetterNewPage
	if hasStatement && !newPage {
		c.rule(c.left, c.right, 1, 18, 0.6, c.ruleColor(), false)
	}
	if err := c.letter(newPage, 3); err != nil {
		return nil, err
	}
	if err := c.contact(); err != nil {
		return nil, err
	}
	return c.finish()
}

// statement sets the kicker (small bold capitals in the accent colour),
// the headline, the "DATELINE — Date" line and the paragraphs. It reports
// whether it set anything.
func (c *composer) statement() (bool, error) {
	s := c.j.Statement
	if s == nil {
		return false, nil
	}
	mark := len(c.items)
	x, w := c.left, c.width()
	space := 24.0
	if s.Kicker != "" {
		st := tstyle{font: fonts.Bold, size: 9.5, lead: 12, color: c.accent}
		if err := c.text(strings.ToUpper(s.Kicker), block{st: st, x: x, w: w, space: space, whole: true}); err != nil {
			return false, err
		}
		space = 6
	}
	if s.Headline != "" {
		st := tstyle{font: fonts.Bold, size: 19, lead: 23.5, color: black}
		if err := c.text(s.Headline, block{st: st, x: x, w: w, space: space, keepPrev: true, whole: true, role: "H1"}); err != nil {
			return false, err
		}
		space = 14
	}
	body := bodyStyle()
	keep := true
	if s.Dateline != "" || s.Date != "" {
		c.spans = c.spans[:0]
		if s.Dateline != "" {
			c.spans = append(c.spans, markup.Span{Text: s.Dateline, Style: markup.Bold})
		}
		if s.Date != "" {
			date := c.loc.longDate(s.Date)
			if s.Dateline != "" {
				date = " \u2014 " + date
			}
			c.spans = append(c.spans, markup.Span{Text: date})
		}
		if err := c.para(block{st: body, x: x, w: w, space: space, keepPrev: keep}); err != nil {
			return false, err
		}
		space = 10
	}
	for _, p := range s.Paragraphs {
		if err := c.marked(p, block{st: body, x: x, w: c.bodyWidth(), space: space, keepPrev: keep}); err != nil {
			return false, err
		}
		keep, space = false, paraGap
	}
	return len(c.items) > mark, nil
}
