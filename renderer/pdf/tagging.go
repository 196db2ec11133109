package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer/internal/pdffile"
)

// Tagged PDF (PDF 32000-1:2008, 14.8; PDF/UA-1, ISO 14289-1). The drawer
// wraps every piece of page content in marked content: a text run, an
// image, a rule belongs either to a structure element of the document
// (layouts.Document.Elems), as a marked-content sequence "/Role <</MCID
// n>> BDC … EMC", or is an artifact "/Artifact <</Type …>> BDC … EMC".
// Consecutive runs of one element share a sequence. The update then
// writes the structure tree: a Document element holding the layout's
// elements in reading order, each with its marked content and, where its
// text is in another language than the document's, its /Lang
// (Elem.Lang); the parent tree that maps each page's MCIDs back to their elements, /StructParents
// and /Tabs /S on every page, and /MarkInfo, /StructTreeRoot and
// /ViewerPreferences /DisplayDocTitle in the catalog.

// tagTree is the marked content the drawer wrote, per page.
type tagTree struct {
	elems []*layouts.Elem
	index map[*layouts.Elem]int32 // element -> position in elems
	pages [][]int32               // page -> MCID -> element's position
	marks [][]mark                // element's position -> its marked content
	last  *layouts.Elem           // the element begin saw last, and
	lastI int32                   // its position
	h2    string                  // the structure type H2 is written as
}

// mark is one marked-content sequence of an element.
type mark struct{ page, mcid int }

func newTagTree(doc *layouts.Document) *tagTree {
	t := &tagTree{elems: doc.Elems, index: make(map[*layouts.Elem]int32, len(doc.Elems)),
		pages: make([][]int32, len(doc.Pages)), marks: make([][]mark, len(doc.Elems)), lastI: -1}
	for i, e := range doc.Elems {
		t.index[e] = int32(i)
	}
	// PDF/UA-1 (Matterhorn 14-002) wants the first heading to be an H1:
	// a letter without a subject or headline has H2s only, which are
	// then written as H1s.
	t.h2 = "H2"
	for _, e := range doc.Elems {
		if e.Role == "H1" || e.Role == "H2" {
			if e.Role == "H2" {
				t.h2 = "H1"
			}
			break
		}
	}
	return t
}

// role returns the structure type e is written as.
func (t *tagTree) role(e *layouts.Elem) string {
	if e.Role == "H2" {
		return t.h2
	}
	return e.Role
}

// begin returns the BDC operator that opens the marked content of e on
// page pi (nil e: an artifact of kind artifact).
func (t *tagTree) begin(b []byte, pi int, e *layouts.Elem, artifact string) []byte {
	if e == nil {
		b = append(b, "/Artifact <</Type /"...)
		b = append(b, artifact...)
		return append(b, ">> BDC\n"...)
	}
	if e != t.last {
		i, ok := t.index[e]
		if !ok {
			i = -1
		}
		t.last, t.lastI = e, i
	}
	i := t.lastI
	if i < 0 {
		// Not in the document's list: refused by write.
		t.pages[pi] = append(t.pages[pi], -1)
		return append(b, "/Span <<>> BDC\n"...)
	}
	n := len(t.pages[pi])
	t.pages[pi] = append(t.pages[pi], i)
	t.marks[i] = append(t.marks[i], mark{pi, n})
	b = append(b, '/')
	b = append(b, t.role(e)...)
	b = append(b, " <</MCID "...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, ">> BDC\n"...)
}

var (
	reKids     = regexp.MustCompile(`/Kids\s*\[([^\]]*)\]`)
	knownRoles = map[string]bool{"H1": true, "H2": true, "P": true, "L": true, "LI": true, "Lbl": true, "LBody": true, "Figure": true, "Div": true}
)

// write appends the structure tree to the update and returns the
// catalog entries that refer to it. pages is the catalog's /Pages
// reference.
func (t *tagTree) write(p *pdffile.File, u *pdffile.Update, pages string) ([]byte, error) {
	pn, err := pdffile.RefNum(pages)
	if err != nil {
		return nil, err
	}
	pd, err := p.Object(pn)
	if err != nil || pd == nil {
		return nil, fmt.Errorf("read page tree: %v", err)
	}
	m := reKids.FindSubmatch(pd)
	if m == nil {
		return nil, errors.New("page tree has no /Kids")
	}
	kids := pdffile.Fields(m[1])
	if len(kids) != 3*len(t.pages) {
		return nil, fmt.Errorf("page tree has %d entries for %d pages", len(kids)/3, len(t.pages))
	}
	pageNums := make([]int, len(t.pages))
	for i := range pageNums {
		if pageNums[i], err = pdffile.RefNum(string(bytes.Join(kids[3*i:3*i+3], []byte(" ")))); err != nil {
			return nil, fmt.Errorf("page tree: %w", err)
		}
	}

	// An element is written when it or a descendant has content.
	n := len(t.elems)
	used := make([]bool, n)
	parent := make([]int32, n) // position of the parent; -1: the document
	for i, e := range t.elems {
		if !knownRoles[e.Role] {
			return nil, fmt.Errorf("unknown structure type %q", e.Role)
		}
		parent[i] = -1
		if e.Parent != nil {
			pi, ok := t.index[e.Parent]
			if !ok || int(pi) >= i {
				return nil, fmt.Errorf("structure element %s comes before its parent %s", e.Role, e.Parent.Role)
			}
			parent[i] = pi
		}
	}
	for _, es := range t.pages {
		for _, i := range es {
			if i < 0 {
				return nil, errors.New("content of a structure element not in the document's list")
			}
		}
	}
	for i := n - 1; i >= 0; i-- {
		if len(t.marks[i]) > 0 || used[i] {
			used[i] = true
			if q := parent[i]; q >= 0 {
				used[q] = true
			}
		}
	}
	root, doc, parentTree := u.New(), u.New(), u.New()
	num := make([]int, n)
	children := make([][]int32, n)
	var top []int32
	for i := range t.elems {
		if !used[i] {
			continue
		}
		num[i] = u.New()
		if q := parent[i]; q < 0 {
			top = append(top, int32(i))
		} else {
			children[q] = append(children[q], int32(i))
		}
	}
	appendRef := func(b []byte, n int) []byte {
		b = strconv.AppendInt(b, int64(n), 10)
		return append(b, " 0 R"...)
	}
	appendKids := func(b []byte, es []int32) []byte {
		for i, c := range es {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendRef(b, num[c])
		}
		return b
	}

	b := make([]byte, 0, 256)
	b = append(b, "<</Type /StructTreeRoot /K "...)
	b = appendRef(b, doc)
	b = append(b, " /ParentTree "...)
	b = appendRef(b, parentTree)
	b = append(b, " /ParentTreeNextKey "...)
	b = strconv.AppendInt(b, int64(len(t.pages)), 10)
	b = append(b, ">>"...)
	u.Object(root, b)

	b = append(b[:0], "<</S /Document /P "...)
	b = appendRef(b, root)
	b = append(b, " /K ["...)
	b = appendKids(b, top)
	b = append(b, "]>>"...)
	u.Object(doc, b)

	for i, e := range t.elems {
		if !used[i] {
			continue
		}
		b = append(b[:0], "<</S /"...)
		b = append(b, t.role(e)...)
		b = append(b, " /P "...)
		if q := parent[i]; q < 0 {
			b = appendRef(b, doc)
		} else {
			b = appendRef(b, num[q])
		}
		if e.Alt != "" {
			b = append(b, " /Alt "...)
			b = appendHexText(b, e.Alt)
		}
		if e.Lang != "" {
			b = append(b, " /Lang "...)
			b = appendHexText(b, e.Lang) // a BCP 47 tag: ASCII, written as <6172> for "ar"
		}
		if e.ListNumbering != "" {
			b = append(b, " /A <</O /List /ListNumbering /"...)
			b = append(b, e.ListNumbering...)
			b = append(b, ">>"...)
		}
		ms := t.marks[i]
		if len(ms) > 0 {
			b = append(b, " /Pg "...)
			b = appendRef(b, pageNums[ms[0].page])
		}
		b = append(b, " /K ["...)
		for i, mk := range ms {
			if i > 0 {
				b = append(b, ' ')
			}
			if mk.page == ms[0].page {
				b = strconv.AppendInt(b, int64(mk.mcid), 10)
				continue
			}
			b = append(b, "<</Type /MCR /Pg "...)
			b = appendRef(b, pageNums[mk.page])
			b = append(b, " /MCID "...)
			b = strconv.AppendInt(b, int64(mk.mcid), 10)
			b = append(b, ">>"...)
		}
		if cs := children[i]; len(cs) > 0 {
			if len(ms) > 0 {
				b = append(b, ' ')
			}
			b = appendKids(b, cs)
		}
		b = append(b, "]>>"...)
		u.Object(num[i], b)
	}

	b = append(b[:0], "<</Nums ["...)
	for pi, es := range t.pages {
		if pi > 0 {
			b = append(b, '\n')
		}
		b = strconv.AppendInt(b, int64(pi), 10)
		b = append(b, " ["...)
		b = appendKids(b, es)
		b = append(b, ']')
	}
	b = append(b, "]>>"...)
	u.Object(parentTree, b)

	for pi, n := range pageNums {
		d, err := p.Object(n)
		if err != nil || d == nil || !bytes.HasPrefix(d, []byte("<</Type /Page")) || !bytes.HasSuffix(d, []byte(">>")) {
			return nil, fmt.Errorf("page %d: object %d is not a page dictionary (%v)", pi+1, n, err)
		}
		b = append(b[:0], bytes.TrimRight(d[:len(d)-2], " \r\n")...)
		b = append(b, "\n/StructParents "...)
		b = strconv.AppendInt(b, int64(pi), 10)
		b = append(b, " /Tabs /S\n>>"...)
		u.Object(n, b)
	}

	c := []byte(" /MarkInfo <</Marked true>> /StructTreeRoot ")
	c = appendRef(c, root)
	return append(c, " /ViewerPreferences <</DisplayDocTitle true>>"...), nil
}
