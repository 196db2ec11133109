package layouts

import (
	"fmt"
	"strconv"

	"github.com/carta-letters/carta/renderer/job"
)

// Signers' typography.
const (
	// signSpace is the clear space above each signer's name for a
	// handwritten signature, or for the signature image scaled into it:
	// 15.5 mm, so at least 15 mm clear above the name's tallest glyph.
	signSpace  = 44.0
	signGutter = 24.0  // between signers side by side
	minSignW   = 140.0 // signers are set side by side only in columns this wide
	maxPerRow  = 3
	rowGap     = 12.0 // between rows of signers
)

// signersPerRow returns how many of n signers share a row of width w: up
// to three when the columns stay at least minSignW wide, the rows as even
// as possible (four signers are two rows of two, five a row of three and
// one of two).
func signersPerRow(n int, w float64) int {
	most := min(maxPerRow, max(1, int((w+signGutter)/(minSignW+signGutter))))
	if n <= 1 {
		return 1
	}
	rows := (n + most - 1) / most
	return (n + rows - 1) / rows
}

// signers sets the signers in the given order, left to right and row by
// row: above each name a clear space of signSpace (holding the signature
// image, if any), then name, title and organization. A row is never
// split over pages, and the first row stays with the closing.
func (c *composer) signers() error {
	ss := c.j.Letter.Signers
	if len(ss) == 0 {
		return nil
	}
	w := c.width()
	per := signersPerRow(len(ss), w)
	colW := (w - signGutter*float64(per-1)) / float64(per)
	body := bodyStyle()
	for r0 := 0; r0 < len(ss); r0 += per {
		row := ss[r0:min(r0+per, len(ss))]
		space := rowGap
		if r0 == 0 {
			space = 6
		}
		top := c.addItem(signSpace, space, r0 == 0)
		// Set each signer's lines, then merge them line by line into the
		// row's items so the row flows as one block.
		type placed struct {
			line int
			r    run
		}
		var saved []placed
		lines := 0
		for k := range row {
			i := r0 + k
			s := &row[k]
			x := c.left + float64(k)*(colW+signGutter)
			// A signer is a group: the signature's Figure, then a
			// paragraph per line.
			div := c.elem("Div", nil)
			if s.Signature != "" {
				p, err := decodeDataURL(s.Signature)
				if err != nil {
					return fmt.Errorf("lay out letter: signers[%d].signature: %w", i, err)
				}
				iw, ih := p.fit(signSpace-6, min(180, colW))
				fig := c.elem("Figure", div)
				fig.Alt = s.SignatureAlt
				if fig.Alt == "" {
					fig.Alt = "Signature of " + s.Name
				}
				c.images = append(c.images, imageRec{item: top, x: x, dy: signSpace - 3 - ih, w: iw, h: ih, data: p.data, format: p.format, name: "signature-" + strconv.Itoa(i+1), elem: fig})
			}
			mark, runMark := int32(len(c.items)), len(c.runs)
			c.group = div
			err := c.stack(signerLines(s), body, x, colW, 0, true)
			c.group = nil
			if err != nil {
				return err
			}
			for _, rn := range c.runs[runMark:] {
				saved = append(saved, placed{int(rn.item - mark), rn})
			}
			lines = max(lines, len(c.items)-int(mark))
			c.items, c.runs = c.items[:mark], c.runs[:runMark]
		}
		first := int32(len(c.items))
		for range lines {
			c.addItem(body.lead, 0, true)
		}
		for _, p := range saved {
			p.r.item = first + int32(p.line)
			c.runs = append(c.runs, p.r)
		}
	}
	return nil
}

// signerLines returns a signer's name, title and organization, those given.
func signerLines(s *job.Signer) []string {
	out := make([]string, 0, 3)
	for _, v := range []string{s.Name, s.Title, s.Organization} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
