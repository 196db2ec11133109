package layouts

import (
	"math"
	"slices"

	"github.com/carta-letters/carta/fonts"
	"golang.org/x/text/collate"
)

// Signatory list typography.
const (
	colGutter  = 14.0 // between columns
	minColW    = 96.0 // columns are never narrower; the count is clamped
	entryGap   = 3.5  // between entries in a column
	memberInd  = 9.0  // indent of group members and notes
	hangIndent = 7.0  // indent of the wrapped lines of a name
)

// entry is one signatory laid out in a column: the items [i0, i1).
type entry struct {
	i0, i1 int32
}

// signatories sets the signatory list: an optional heading, then the
// entries in columns that flow over pages. On the last page the columns
// are balanced; an entry is never split across columns unless it is taller
// than a whole column.
func (c *composer) signatories(defCols int) error {
	sg := c.j.Letter.Signatories
	if sg == nil || len(sg.Entries) == 0 {
		c.flush()
		return nil
	}
	ncol := sg.Columns
	if ncol <= 0 {
		ncol = defCols
	}
	ncol = min(ncol, max(1, int((c.width()+colGutter)/(minColW+colGutter))))
	colW := (c.width() - colGutter*float64(ncol-1)) / float64(ncol)

	order := make([]int, len(sg.Entries))
	for i := range order {
		order[i] = i
	}
	if sg.Sort == "alpha" {
		col := collate.New(c.j.LanguageTag(), collate.Numeric) // "Número 9" before "Número 10"
		slices.SortStableFunc(order, func(a, b int) int {
			return col.CompareString(sg.Entries[a].Name, sg.Entries[b].Name)
		})
	}

	c.flush()
	heading := sg.Heading
	if heading == "" {
		heading = c.loc.signatoriesHeading()
	}
	h0 := int32(len(c.items))
	hst := bodyStyle()
	hst.font = fonts.Bold
	if err := c.text(heading, block{st: hst, x: c.left, w: c.width(), whole: true, role: "H2"}); err != nil {
		return err
	}
	h1 := int32(len(c.items))

	name := tstyle{font: fonts.Regular, size: 9.5, lead: 11.9, color: black}
	member := tstyle{font: fonts.Regular, size: 8.5, lead: 10.6, color: black}
	note := member
	note.font = fonts.Italic
	ents := make([]entry, len(order))
	// The entries are a list in reading order; a group's members a
	// list nested in its item's body, its note a paragraph there.
	list := c.listOf(false)
	defer func() { c.list, c.group = nil, nil }()
	for k, i := range order {
		e := &sg.Entries[i]
		ents[k].i0 = int32(len(c.items))
		c.list, c.group = list, nil
		if err := c.text(e.Name, block{st: name, x: c.left, w: colW, indent: hangIndent}); err != nil {
			return err
		}
		body := c.cur
		if len(e.Members) > 0 {
			c.group = body
			c.list = c.listOf(false)
		}
		for _, m := range e.Members {
			if err := c.text(m, block{st: member, x: c.left + memberInd, w: colW - memberInd, indent: hangIndent}); err != nil {
				return err
			}
		}
		if e.Note != "" {
			c.list, c.group = nil, body
			if err := c.text(e.Note, block{st: note, x: c.left + memberInd, w: colW - memberInd, indent: hangIndent}); err != nil {
				return err
			}
		}
		ents[k].i1 = int32(len(c.items))
	}

	// The heading stays with the first entry (or its first lines).
	fullH := c.bottom - laterTop
	hh := c.height(h0, h1)
	first := c.height(ents[0].i0, ents[0].i1)
	if first > fullH/2 {
		first = c.height(ents[0].i0, min(ents[0].i0+2, ents[0].i1))
	}
	space := 22.0
	if c.atTop {
		space = 0
	}
	if !c.atTop && c.y+space+hh+4+first > c.bottom {
		c.newPage()
		space = 0
	}
	c.y = c.place(h0, h1, c.y+space, 0) + 4

	c.flowColumns(ents, ncol, colW+colGutter)
	c.flushed = len(c.items)
	c.atTop = false
	return nil
}

// height returns the height of items [i0, i1) stacked without spaces.
func (c *composer) height(i0, i1 int32) float64 {
	h := 0.0
	for _, it := range c.items[i0:i1] {
		h += it.h
	}
	return h
}

// place puts items [i0, i1) on the current page from y, shifted right by
// dx, and returns the y under them.
func (c *composer) place(i0, i1 int32, y, dx float64) float64 {
	for k := i0; k < i1; k++ {
		it := &c.items[k]
		it.page, it.y, it.dx = c.page, y, dx
		y += it.h
	}
	return y
}

// flowColumns fills columns of pitch step page by page with the entries,
// balancing the columns on the last page, and leaves c.y under them.
func (c *composer) flowColumns(ents []entry, ncol int, step float64) {
	const eps = 1e-6
	fullH := c.bottom - laterTop
	idx, part := 0, ents[0].i0 // next entry, and its first item not yet placed
	hs := make([]float64, 0, len(ents))
	y0 := c.y
	for idx < len(ents) {
		// Do the remaining entries fit on this page? Then balance them.
		hs = hs[:0]
		hs = append(hs, c.height(part, ents[idx].i1))
		for _, e := range ents[idx+1:] {
			hs = append(hs, c.height(e.i0, e.i1))
		}
		if splits, _, ok := balance(hs, ncol, entryGap, c.bottom-y0); ok {
			bottom := y0
			for col := 0; col < ncol; col++ {
				y := y0
				for k := splits[col]; k < splits[col+1]; k++ {
					if k > splits[col] {
						y += entryGap
					}
					i0 := ents[idx+k].i0
					if k == 0 {
						i0 = part
					}
					y = c.place(i0, ents[idx+k].i1, y, float64(col)*step)
				}
				bottom = max(bottom, y)
			}
			c.y = bottom
			return
		}
		// Fill this page column by column.
		low := y0
		for col := 0; col < ncol && idx < len(ents); col++ {
			y, dx := y0, float64(col)*step
			for idx < len(ents) {
				gap := 0.0
				if y > y0 {
					gap = entryGap
				}
				e := ents[idx]
				h := c.height(part, e.i1)
				if y+gap+h <= c.bottom+eps {
					y = c.place(part, e.i1, y+gap, dx)
					idx++
					if idx < len(ents) {
						part = ents[idx].i0
					}
					continue
				}
				if h > fullH+eps {
					// Taller than any column: split it at a line.
					yy := y + gap
					k := part
					for k < e.i1 && yy+c.items[k].h <= c.bottom+eps {
						yy += c.items[k].h
						k++
					}
					if k > part {
						c.place(part, k, y+gap, dx)
						part, y = k, yy
					}
				}
				break
			}
			low = max(low, y)
		}
		if idx == len(ents) {
			// The last entry was split to fit: nothing left to balance.
			c.y = low
			return
		}
		c.newPage()
		y0 = c.y
	}
}

// balance reports whether entries of heights hs, separated by gap, fit in
// ncol columns of height avail, and if so splits them into columns
// (column k holds hs[splits[k]:splits[k+1]]) so that the tallest column
// is as short as possible and the columns are as even as possible.
func balance(hs []float64, ncol int, gap, avail float64) (splits []int, colH float64, ok bool) {
	const eps = 1e-6
	n := len(hs)
	pre := make([]float64, n+1)
	for i, h := range hs {
		pre[i+1] = pre[i] + h + gap
	}
	// colHeight is the height of a column holding entries [j, i).
	colHeight := func(j, i int) float64 {
		if i <= j {
			return 0
		}
		return pre[i] - pre[j] - gap
	}
	// columns returns how many columns of height limit greedy filling uses.
	columns := func(limit float64) int {
		cols, j := 1, 0
		for i := 1; i <= n; i++ {
			if hs[i-1] > limit+eps {
				return math.MaxInt
			}
			if colHeight(j, i) > limit+eps {
				cols++
				j = i - 1
			}
		}
		return cols
	}
	if columns(avail) > ncol {
		return nil, 0, false
	}
	lo, hi := 0.0, avail
	for _, h := range hs {
		lo = max(lo, h)
	}
	lo = max(lo, (pre[n]-gap*float64(ncol))/float64(ncol)-eps)
	for hi-lo > 0.01 {
		mid := (lo + hi) / 2
		if columns(mid) <= ncol {
			hi = mid
		} else {
			lo = mid
		}
	}
	limit := hi + eps
	// Even out the columns under that limit: minimise the sum of squared
	// column heights; on ties the later columns are the shorter.
	inf := math.Inf(1)
	cost := make([]float64, (ncol+1)*(n+1))
	from := make([]int, (ncol+1)*(n+1))
	for i := range cost {
		cost[i] = inf
	}
	cost[0] = 0
	for k := 1; k <= ncol; k++ {
		row, prev := cost[k*(n+1):], cost[(k-1)*(n+1):]
		for i := 0; i <= n; i++ {
			for j := i; j >= 0; j-- {
				h := colHeight(j, i)
				if h > limit {
					break
				}
				if v := prev[j] + h*h; v < row[i]-1e-9 {
					row[i], from[k*(n+1)+i] = v, j
				}
			}
		}
	}
	splits = make([]int, ncol+1)
	splits[ncol] = n
	for k, i := ncol, n; k > 0; k-- {
		i = from[k*(n+1)+i]
		splits[k-1] = i
	}
	for k := 0; k < ncol; k++ {
		colH = max(colH, colHeight(splits[k], splits[k+1]))
	}
	return splits, colH, true
}
