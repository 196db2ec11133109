package pdffile

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// File is a PDF file as Parse read it: its bytes, the object offsets of
// its last cross-reference section and its trailer.
type File struct {
	B       []byte
	offsets []int // object number -> offset of "N 0 obj"; -1: none
	// XRef is the offset of the last cross-reference section.
	XRef int
	// Size is the trailer's /Size: one more than the highest object
	// number.
	Size int
	// Root, Info and ID are the trailer's values as written, e.g.
	// "61 0 R"; Info and ID are "" when absent.
	Root, Info, ID string
	// Prev reports whether the trailer has a /Prev entry (the file has
	// been updated before).
	Prev bool
	// PrevXRef is the trailer's /Prev, the offset of the previous
	// cross-reference section; -1 when there is none.
	PrevXRef int

	prev *File // the previous section, once Previous has read it
}

var (
	reSize = regexp.MustCompile(`/Size\s+(\d+)`)
	reRoot = regexp.MustCompile(`/Root\s+(\d+\s+\d+\s+R)`)
	reInfo = regexp.MustCompile(`/Info\s+(\d+\s+\d+\s+R)`)
	reID   = regexp.MustCompile(`/ID\s*(\[[^\]]*\])`)
	rePrev = regexp.MustCompile(`/Prev\s+(\d+)`)
)

// Parse reads the trailer and the cross-reference table at the end of
// b. It understands classic tables (no cross-reference streams); of an
// updated file it reads the last section only.
func Parse(b []byte) (*File, error) {
	tail := b[max(0, len(b)-1024):]
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return nil, errors.New("no startxref")
	}
	f := Fields(tail[i+len("startxref"):])
	if len(f) < 2 || string(f[1]) != "%%EOF" {
		return nil, errors.New("no %%EOF after startxref")
	}
	xref, err := strconv.Atoi(string(f[0]))
	if err != nil || xref < 0 || xref >= len(b) {
		return nil, fmt.Errorf("bad startxref %q", f[0])
	}
	return parseSection(b, xref)
}

// parseSection reads the cross-reference table at xref and its trailer.
func parseSection(b []byte, xref int) (*File, error) {
	p := &File{B: b, XRef: xref, PrevXRef: -1}
	r := b[xref:]
	line := func() []byte {
		j := bytes.IndexAny(r, "\r\n")
		if j < 0 {
			j = len(r)
		}
		l := r[:j]
		r = r[j:]
		for len(r) > 0 && (r[0] == '\r' || r[0] == '\n') {
			r = r[1:]
		}
		return bytes.TrimRight(l, " ")
	}
	if string(line()) != "xref" {
		return nil, errors.New("startxref does not point at a cross-reference table (cross-reference streams are not supported)")
	}
	for {
		l := line()
		if bytes.HasPrefix(l, []byte("trailer")) {
			break
		}
		h := Fields(l)
		if len(h) != 2 {
			return nil, fmt.Errorf("bad cross-reference subsection header %q", l)
		}
		first, err1 := strconv.Atoi(string(h[0]))
		n, err2 := strconv.Atoi(string(h[1]))
		if err1 != nil || err2 != nil || first < 0 || n < 0 || n*20 > len(r) {
			return nil, fmt.Errorf("bad cross-reference subsection header %q", l)
		}
		if first+n > len(p.offsets) {
			if first+n > xref/8 {
				return nil, fmt.Errorf("bad cross-reference subsection header %q", l)
			}
			for len(p.offsets) < first+n {
				p.offsets = append(p.offsets, -1)
			}
		}
		for k := range n {
			e := r[:20]
			r = r[20:]
			if e[17] != 'n' {
				continue
			}
			off, err := strconv.Atoi(string(e[:10]))
			if err != nil || off >= xref {
				return nil, fmt.Errorf("bad cross-reference entry %q", e[:18])
			}
			p.offsets[first+k] = off
		}
	}
	end := bytes.Index(r, []byte("startxref"))
	if end < 0 {
		return nil, errors.New("no startxref after the trailer")
	}
	tr := r[:end]
	m := reSize.FindSubmatch(tr)
	if m == nil {
		return nil, errors.New("trailer has no /Size")
	}
	p.Size, _ = strconv.Atoi(string(m[1]))
	if m = reRoot.FindSubmatch(tr); m == nil {
		return nil, errors.New("trailer has no /Root")
	}
	p.Root = string(m[1])
	if m = reInfo.FindSubmatch(tr); m != nil {
		p.Info = string(m[1])
	}
	if m = reID.FindSubmatch(tr); m != nil {
		p.ID = string(m[1])
	}
	p.Prev = bytes.Contains(tr, []byte("/Prev"))
	if m = rePrev.FindSubmatch(tr); m != nil {
		p.PrevXRef, _ = strconv.Atoi(string(m[1]))
	}
	if bytes.Contains(tr, []byte("/Encrypt")) {
		return nil, errors.New("encrypted PDFs are not supported")
	}
	return p, nil
}

// Previous reads the cross-reference section before p's (the one its
// trailer's /Prev points at) with its trailer; nil when p's is the
// first. The sections of a file must come one after the other: a /Prev
// that does not point before p's section is an error.
func (p *File) Previous() (*File, error) {
	if p.prev != nil || p.PrevXRef < 0 {
		return p.prev, nil
	}
	if p.PrevXRef >= p.XRef {
		return nil, fmt.Errorf("bad /Prev %d in the trailer of the section at %d", p.PrevXRef, p.XRef)
	}
	q, err := parseSection(p.B, p.PrevXRef)
	if err != nil {
		return nil, fmt.Errorf("section at %d: %w", p.PrevXRef, err)
	}
	p.prev = q
	return q, nil
}

// Latest returns the content of object n as Object does, from the
// newest cross-reference section that has it, following /Prev; nil when
// none has it.
func (p *File) Latest(n int) ([]byte, error) {
	for q := p; q != nil; {
		o, err := q.Object(n)
		if o != nil || err != nil {
			return o, err
		}
		if q, err = q.Previous(); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// NumObjects returns one more than the highest object number of the
// last cross-reference section.
func (p *File) NumObjects() int { return len(p.offsets) }

// Object returns the content of object n of the last cross-reference
// section, between "n 0 obj" and "endobj", without surrounding white
// space; nil when the section has no such object.
func (p *File) Object(n int) ([]byte, error) {
	if n < 0 || n >= len(p.offsets) || p.offsets[n] < 0 {
		return nil, nil
	}
	off := p.offsets[n]
	head := strconv.AppendInt(nil, int64(n), 10)
	head = append(head, " 0 obj"...)
	r := p.B[off:p.XRef]
	if !bytes.HasPrefix(r, head) {
		return nil, fmt.Errorf("object %d: cross-reference offset %d does not point at it", n, off)
	}
	r = r[len(head):]
	end := bytes.Index(r, []byte("endobj"))
	if end < 0 {
		return nil, fmt.Errorf("object %d: no endobj", n)
	}
	return bytes.Trim(r[:end], " \r\n"), nil
}

// HasPrefix reports whether the content of object n of the last
// cross-reference section starts with prefix (after white space), without
// reading the rest of the object; false when there is no such object.
func (p *File) HasPrefix(n int, prefix []byte) (bool, error) {
	if n < 0 || n >= len(p.offsets) || p.offsets[n] < 0 {
		return false, nil
	}
	off := p.offsets[n]
	head := strconv.AppendInt(make([]byte, 0, 16), int64(n), 10)
	head = append(head, " 0 obj"...)
	r := p.B[off:p.XRef]
	if !bytes.HasPrefix(r, head) {
		return false, fmt.Errorf("object %d: cross-reference offset %d does not point at it", n, off)
	}
	return bytes.HasPrefix(bytes.TrimLeft(r[len(head):], " \r\n"), prefix), nil
}

// RefNum returns the object number of a reference such as "61 0 R".
func RefNum(ref string) (int, error) {
	f := Fields([]byte(ref))
	if len(f) != 3 || string(f[1]) != "0" || string(f[2]) != "R" {
		return 0, fmt.Errorf("bad reference %q", ref)
	}
	return strconv.Atoi(string(f[0]))
}

// Fields splits b at PDF white space.
func Fields(b []byte) [][]byte {
	return bytes.FieldsFunc(b, func(r rune) bool {
		return r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '\f' || r == 0
	})
}

// IsDelim reports whether c ends a PDF name: white space or a delimiter.
func IsDelim(c byte) bool {
	switch c {
	case ' ', '\n', '\r', '\t', '\f', 0, '/', '<', '>', '[', ']', '(', ')', '{', '}', '%':
		return true
	}
	return false
}

// Update is an incremental update being appended to a File.
type Update struct {
	f       *File
	out     []byte
	entries []entry
	size    int
}

type entry struct{ num, off int }

// Update starts an incremental update of p. It appends to p.B: the
// caller gives up p.B.
func (p *File) Update() *Update {
	return p.updateOf(p.B)
}

// UpdateCopy starts an incremental update of a copy of p.B, with room
// for extra bytes of update before the copy grows; p.B stays as it is.
func (p *File) UpdateCopy(extra int) *Update {
	out := make([]byte, len(p.B), len(p.B)+1+extra)
	copy(out, p.B)
	return p.updateOf(out)
}

func (p *File) updateOf(out []byte) *Update {
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return &Update{f: p, out: out, size: p.Size}
}

// Len is the length of the file with what the update has appended so
// far: the offset the next object starts at.
func (u *Update) Len() int { return len(u.out) }

// New returns a new object number.
func (u *Update) New() int {
	u.size++
	return u.size - 1
}

// Object appends object num (new, or a new version of an existing one)
// with the given content, e.g. a dictionary "<<...>>", and returns the
// offset of the content in the file.
func (u *Update) Object(num int, content []byte) int {
	u.begin(num)
	at := len(u.out)
	u.out = append(u.out, content...)
	u.out = append(u.out, "\nendobj\n"...)
	return at
}

// Stream appends the stream object num: dict holds its dictionary's
// entries other than /Length (e.g. "/Filter /FlateDecode"), data the
// stream's bytes as stored.
func (u *Update) Stream(num int, dict string, data []byte) {
	u.begin(num)
	u.out = append(u.out, "<<"...)
	if dict != "" {
		u.out = append(u.out, dict...)
		u.out = append(u.out, ' ')
	}
	u.out = append(u.out, "/Length "...)
	u.out = strconv.AppendInt(u.out, int64(len(data)), 10)
	u.out = append(u.out, ">>\nstream\n"...)
	u.out = append(u.out, data...)
	u.out = append(u.out, "\nendstream\nendobj\n"...)
}

func (u *Update) begin(num int) {
	u.entries = append(u.entries, entry{num, len(u.out)})
	u.out = strconv.AppendInt(u.out, int64(num), 10)
	u.out = append(u.out, " 0 obj\n"...)
}

// Trailer holds the trailer values of an update; an empty Info or ID
// keeps the previous trailer's.
type Trailer struct {
	Info string // e.g. "29 0 R"
	ID   string // e.g. "[<...> <...>]"
}

// Finish appends the cross-reference section and the trailer and returns
// the updated file. The update must not be used afterwards.
func (u *Update) Finish(t Trailer) ([]byte, error) {
	slices.SortFunc(u.entries, func(a, b entry) int { return a.num - b.num })
	for i := 1; i < len(u.entries); i++ {
		if u.entries[i].num == u.entries[i-1].num {
			return nil, fmt.Errorf("object %d written twice", u.entries[i].num)
		}
	}
	out := u.out
	xref := len(out)
	out = append(out, "xref\n"...)
	es := u.entries
	for i := 0; i < len(es); {
		j := i + 1
		for j < len(es) && es[j].num == es[j-1].num+1 {
			j++
		}
		out = strconv.AppendInt(out, int64(es[i].num), 10)
		out = append(out, ' ')
		out = strconv.AppendInt(out, int64(j-i), 10)
		out = append(out, '\n')
		for _, e := range es[i:j] {
			out = appendXRefEntry(out, e.off)
		}
		i = j
	}
	out = append(out, "trailer\n<<\n/Size "...)
	out = strconv.AppendInt(out, int64(u.size), 10)
	out = append(out, "\n/Root "...)
	out = append(out, u.f.Root...)
	info, id := t.Info, t.ID
	if info == "" {
		info = u.f.Info
	}
	if id == "" {
		id = u.f.ID
	}
	if info != "" {
		out = append(out, "\n/Info "...)
		out = append(out, info...)
	}
	if id != "" {
		out = append(out, "\n/ID "...)
		out = append(out, id...)
	}
	out = append(out, "\n/Prev "...)
	out = strconv.AppendInt(out, int64(u.f.XRef), 10)
	out = append(out, "\n>>\nstartxref\n"...)
	out = strconv.AppendInt(out, int64(xref), 10)
	out = append(out, "\n%%EOF\n"...)
	return out, nil
}

// appendXRefEntry appends the 20-byte in-use entry of the object at off.
func appendXRefEntry(b []byte, off int) []byte {
	var e [20]byte
	copy(e[10:], " 00000 n \n")
	for i := 9; i >= 0; i-- {
		e[i] = byte('0' + off%10)
		off /= 10
	}
	return append(b, e[:]...)
}
