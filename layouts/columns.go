package layouts

import (
	"math"
	"slices"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts/markup"
	"golang.org/x/text/collate"
)

// Signatory list typography.
const (
	colGutter  = 14.0 // between columns
	minColW    = 96.0 // columns are never narrower; the count is clamped
	entryGap   = 3.0  // between entries in a column
	memberInd  = 9.0  // indent of group members and notes
	hangIndent = 7.0  // indent of the wrapped lines of a name

	nameSize   = 9.0 // an entry's name
	nameLead   = 11.2
	memberSize = 8.0 // a group's members and an entry's note
	memberLead = 10.0
)

// atom is the smallest piece of the signatory list a column break never
// cuts (unless it alone is taller than its column): a whole entry; or,
// in a group, the group's name with its first member, or one further
// member (the last with the group's note). Items [i0, i1).
type atom struct {
	i0, i1 int32
	gap    float64 // space before it when it is not first in its column
	group  int32   // a member after the first: its entry's index in the job, whose name a column starting here repeats as continued; else -1
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

	name := tstyle{font: fonts.Regular, size: nameSize, lead: nameLead, color: black}
	member := tstyle{font: fonts.Regular, size: memberSize, lead: memberLead, color: black}
	note := member
	note.font = fonts.Italic
	atoms := make([]atom, 0, len(order))
	var contH map[int32]float64 // height of a group's continued heading, by entry
	// The entries are a list in reading order; a group's members a
	// list nested in its item's body, its note a paragraph there.
	list := c.listOf(false)
	defer func() { c.list, c.group = nil, nil }()
	for _, i := range order {
		e := &sg.Entries[i]
		start := int32(len(c.items))
		c.list, c.group = list, nil
		if err := c.text(e.Name, block{st: name, x: c.left, w: colW, indent: hangIndent}); err != nil {
			return err
		}
		body := c.cur
		if len(e.Members) > 0 {
			c.group = body
			c.list = c.listOf(false)
		}
		atoms = append(atoms, atom{i0: start, gap: entryGap, group: -1})
		for k, m := range e.Members {
			mi := int32(len(c.items))
			if k > 0 {
				atoms[len(atoms)-1].i1 = mi
				atoms = append(atoms, atom{i0: mi, group: int32(i)})
			}
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
		atoms[len(atoms)-1].i1 = int32(len(c.items))
		if len(e.Members) > 1 {
			// Measure the continued heading, then take it back: it is set
			// again only where a column starts inside the group.
			mark, runs := len(c.items), len(c.runs)
			i0, i1, err := c.contHeading(e.Name, colW)
			if err != nil {
				return err
			}
			if contH == nil {
				contH = make(map[int32]float64)
			}
			contH[int32(i)] = c.height(i0, i1)
			c.items, c.runs = c.items[:mark], c.runs[:runs]
		}
	}

	// The heading stays with the first entry (or its first lines).
	fullH := c.bottom - laterTop
	hh := c.height(h0, h1)
	first := c.height(atoms[0].i0, atoms[0].i1)
	if first > fullH/2 {
		first = c.height(atoms[0].i0, min(atoms[0].i0+2, atoms[0].i1))
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

	f := flow{c: c, atoms: atoms, contH: contH, colW: colW, step: colW + colGutter, ncol: ncol}
	if err := f.run(); err != nil {
		return err
	}
	c.flushed = len(c.items)
	c.atTop = false
	return nil
}

// contHeading sets a group's name marked as continued ("Name (cont.)")
// in a column of width colW and returns its items.
func (c *composer) contHeading(group string, colW float64) (int32, int32, error) {
	i0 := int32(len(c.items))
	c.spans = append(c.spans[:0], markup.Span{Text: group + " "}, markup.Span{Text: c.loc.continued(), Style: markup.Italic})
	st := tstyle{font: fonts.Regular, size: nameSize, lead: nameLead, color: black}
	// The heading repeats what the structure already holds: it is an
	// artifact, adding no element to the tree.
	list, group0, cur, nElems, r0 := c.list, c.group, c.cur, len(c.elems), len(c.runs)
	c.list, c.group = nil, nil
	err := c.para(block{st: st, x: c.left, w: colW, indent: hangIndent})
	for k := r0; k < len(c.runs); k++ {
		c.runs[k].elem = nil
	}
	c.elems = c.elems[:nElems]
	c.list, c.group, c.cur = list, group0, cur
	if err != nil {
		return 0, 0, err
	}
	return i0, int32(len(c.items)), nil
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

// flow sets the atoms of a signatory list in columns, page by page:
// every page but the last fills its columns from the top down to the
// bottom, breaking only between atoms (so a group breaks only between
// members, and its name is repeated as continued at the top of the next
// column); the last page is balanced. An atom taller than the space of an
// empty column is split between lines, the only split inside an atom.
type flow struct {
	c     *composer
	atoms []atom
	contH map[int32]float64
	colW  float64
	step  float64 // column pitch
	ncol  int

	idx  int   // next atom
	part int32 // its first item not yet placed
	hs   []float64
	gaps []float64
	lead []float64
}

// run flows every atom and leaves c.y under the list.
func (f *flow) run() error {
	c := f.c
	f.part = f.atoms[0].i0
	y0 := c.y
	for {
		if done, err := f.balanced(y0); done || err != nil {
			return err
		}
		low := y0
		for col := 0; col < f.ncol && f.idx < len(f.atoms); col++ {
			y, err := f.fill(col, y0)
			if err != nil {
				return err
			}
			low = max(low, y)
		}
		if f.idx == len(f.atoms) {
			// The last atom was split to fit: nothing left to balance.
			c.y = low
			return nil
		}
		c.newPage()
		y0 = c.y
	}
}

// lead is the continued heading a column starting with atom k needs.
func (f *flow) leadOf(k int) float64 {
	a := f.atoms[k]
	if a.group < 0 || (k == f.idx && f.part != a.i0) {
		return 0
	}
	return f.contH[a.group]
}

// balanced sets the remaining atoms in balanced columns from y0 if they
// fit on this page, and reports whether it did.
func (f *flow) balanced(y0 float64) (bool, error) {
	c := f.c
	f.hs, f.gaps, f.lead = f.hs[:0], f.gaps[:0], f.lead[:0]
	for k := f.idx; k < len(f.atoms); k++ {
		a := f.atoms[k]
		i0 := a.i0
		if k == f.idx {
			i0 = f.part
		}
		f.hs = append(f.hs, c.height(i0, a.i1))
		f.gaps = append(f.gaps, a.gap)
		f.lead = append(f.lead, f.leadOf(k))
	}
	splits, _, ok := balance(f.hs, f.gaps, f.lead, f.ncol, c.bottom-y0)
	if !ok {
		return false, nil
	}
	bottom := y0
	base := f.idx
	for col := 0; col < f.ncol; col++ {
		y, dx := y0, float64(col)*f.step
		for k := base + splits[col]; k < base+splits[col+1]; k++ {
			var err error
			if y, err = f.put(k, y, dx, k == base+splits[col]); err != nil {
				return false, err
			}
		}
		bottom = max(bottom, y)
	}
	f.idx = len(f.atoms)
	c.y = bottom
	return true, nil
}

// put places what remains of atom k at y in the column at dx, after its
// gap or, first in its column, its continued heading; it returns the y
// under it and moves on to the next atom.
func (f *flow) put(k int, y, dx float64, first bool) (float64, error) {
	c := f.c
	a := f.atoms[k]
	i0 := a.i0
	if k == f.idx {
		i0 = f.part
	}
	if first {
		if lead := f.leadOf(k); lead > 0 {
			h0, h1, err := c.contHeading(c.j.Letter.Signatories.Entries[a.group].Name, f.colW)
			if err != nil {
				return 0, err
			}
			y = c.place(h0, h1, y, dx)
		}
	} else {
		y += a.gap
	}
	y = c.place(i0, a.i1, y, dx)
	f.idx = k + 1
	if f.idx < len(f.atoms) {
		f.part = f.atoms[f.idx].i0
	}
	return y, nil
}

// fill fills column col of the current page from y0 down to the bottom
// and returns the y under what it placed.
func (f *flow) fill(col int, y0 float64) (float64, error) {
	const eps = 1e-6
	c := f.c
	y, dx := y0, float64(col)*f.step
	for first := true; f.idx < len(f.atoms); first = false {
		k := f.idx
		a := f.atoms[k]
		need := c.height(f.part, a.i1)
		if first {
			need += f.leadOf(k)
		} else {
			need += a.gap
		}
		if y+need <= c.bottom+eps {
			var err error
			if y, err = f.put(k, y, dx, first); err != nil {
				return 0, err
			}
			continue
		}
		if !first {
			break
		}
		// Alone in its column and still too tall: split it between lines,
		// at least one line per column so that the flow moves on.
		if lead := f.leadOf(k); lead > 0 && y+lead+c.items[f.part].h <= c.bottom+eps {
			h0, h1, err := c.contHeading(c.j.Letter.Signatories.Entries[a.group].Name, f.colW)
			if err != nil {
				return 0, err
			}
			y = c.place(h0, h1, y, dx)
		}
		p := f.part
		for p < a.i1 && (p == f.part || y+c.items[p].h <= c.bottom+eps) {
			y = c.place(p, p+1, y, dx)
			p++
		}
		f.part = p
		if p == a.i1 {
			f.idx++
			if f.idx < len(f.atoms) {
				f.part = f.atoms[f.idx].i0
			}
		}
		break
	}
	return y, nil
}

// balance reports whether atoms of heights hs fit in ncol columns of
// height avail and if so splits them into columns (column k holds atoms
// [splits[k], splits[k+1])) so that the tallest column is as short as
// possible and the columns as even as possible. gaps[i] is the space
// before atom i unless it starts a column; lead[i] the continued heading
// over atom i when it does.
func balance(hs, gaps, lead []float64, ncol int, avail float64) (splits []int, colH float64, ok bool) {
	const eps = 1e-6
	n := len(hs)
	pre := make([]float64, n+1)
	for i, h := range hs {
		pre[i+1] = pre[i] + h + gaps[i]
	}
	// colHeight is the height of a column holding atoms [j, i).
	colHeight := func(j, i int) float64 {
		if i <= j {
			return 0
		}
		return pre[i] - pre[j] - gaps[j] + lead[j]
	}
	// columns returns how many columns of height limit greedy filling uses.
	columns := func(limit float64) int {
		cols, j := 1, 0
		for i := 1; i <= n; i++ {
			if hs[i-1]+lead[i-1] > limit+eps {
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
		lo = max(lo, h-eps)
	}
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
