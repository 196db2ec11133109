package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"unicode/utf16"
)

// fpdf's 8-bit font path writes no /ToUnicode entry. addToUnicode adds
// one to every font dictionary by appending an incremental update (PDF
// 32000-1:2008, 7.5.6) to the finished file: a ToUnicode CMap stream per
// subset font and a new version of each font dictionary, under the same
// object number, that refers to it.

// pdfFile is what addToUnicode needs from the file fpdf wrote.
type pdfFile struct {
	b       []byte
	offsets []int  // object number -> offset of "N 0 obj"; -1: none
	xref    int    // offset of the last cross-reference section
	size    int    // trailer /Size
	root    string // trailer /Root value, e.g. "61 0 R"
	info    string // trailer /Info value; "" when absent
	id      string // trailer /ID value; "" when absent
	prev    bool   // the trailer has a /Prev entry
}

var (
	reSize = regexp.MustCompile(`/Size\s+(\d+)`)
	reRoot = regexp.MustCompile(`/Root\s+(\d+\s+\d+\s+R)`)
	reInfo = regexp.MustCompile(`/Info\s+(\d+\s+\d+\s+R)`)
	reID   = regexp.MustCompile(`/ID\s*(\[[^\]]*\])`)
)

// parsePDF reads the trailer and the cross-reference table at the end of
// b. It understands the classic table fpdf writes (no xref streams); of
// an updated file it reads the last section only.
func parsePDF(b []byte) (*pdfFile, error) {
	tail := b[max(0, len(b)-1024):]
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return nil, errors.New("no startxref")
	}
	f := fields(tail[i+len("startxref"):])
	if len(f) < 2 || string(f[1]) != "%%EOF" {
		return nil, errors.New("no %%EOF after startxref")
	}
	xref, err := strconv.Atoi(string(f[0]))
	if err != nil || xref < 0 || xref >= len(b) {
		return nil, fmt.Errorf("bad startxref %q", f[0])
	}
	p := &pdfFile{b: b, xref: xref}
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
		return nil, errors.New("startxref does not point at a cross-reference table")
	}
	for {
		l := line()
		if string(l) == "trailer" || bytes.HasPrefix(l, []byte("trailer")) {
			break
		}
		h := fields(l)
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
	p.size, _ = strconv.Atoi(string(m[1]))
	if m = reRoot.FindSubmatch(tr); m == nil {
		return nil, errors.New("trailer has no /Root")
	}
	p.root = string(m[1])
	if m = reInfo.FindSubmatch(tr); m != nil {
		p.info = string(m[1])
	}
	if m = reID.FindSubmatch(tr); m != nil {
		p.id = string(m[1])
	}
	p.prev = bytes.Contains(tr, []byte("/Prev"))
	if bytes.Contains(tr, []byte("/Encrypt")) {
		return nil, errors.New("encrypted file")
	}
	return p, nil
}

// fields splits b at PDF white space.
func fields(b []byte) [][]byte {
	return bytes.FieldsFunc(b, func(r rune) bool {
		return r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '\f' || r == 0
	})
}

// fontObject is a font dictionary object of the file.
type fontObject struct {
	num  int
	dict []byte // from "<<" to the closing ">>", both included
	base string // the /BaseFont name, without the slash
}

var fontDictStart = []byte("<</Type /Font")

// fontObjects returns the font dictionaries of the file, in object number
// order.
func (p *pdfFile) fontObjects() ([]fontObject, error) {
	var out []fontObject
	for n, off := range p.offsets {
		if off < 0 {
			continue
		}
		head := strconv.AppendInt(nil, int64(n), 10)
		head = append(head, " 0 obj"...)
		r := p.b[off:p.xref]
		if !bytes.HasPrefix(r, head) {
			return nil, fmt.Errorf("object %d: cross-reference offset %d does not point at it", n, off)
		}
		r = bytes.TrimLeft(r[len(head):], " \r\n")
		if !bytes.HasPrefix(r, fontDictStart) || len(r) == len(fontDictStart) || !isDelim(r[len(fontDictStart)]) {
			continue
		}
		end := bytes.Index(r, []byte("endobj"))
		if end < 0 {
			return nil, fmt.Errorf("object %d: no endobj", n)
		}
		d := bytes.TrimRight(r[:end], " \r\n")
		if !bytes.HasSuffix(d, []byte(">>")) || bytes.Contains(d, []byte("stream")) {
			return nil, fmt.Errorf("object %d: font dictionary not understood", n)
		}
		if bytes.Contains(d, []byte("/ToUnicode")) {
			return nil, fmt.Errorf("object %d: font already has a /ToUnicode entry", n)
		}
		i := bytes.Index(d, []byte("/BaseFont"))
		if i < 0 {
			return nil, fmt.Errorf("object %d: font has no /BaseFont", n)
		}
		rest := bytes.TrimLeft(d[i+len("/BaseFont"):], " \r\n")
		if len(rest) == 0 || rest[0] != '/' {
			return nil, fmt.Errorf("object %d: /BaseFont is not a name", n)
		}
		j := 1
		for j < len(rest) && !isDelim(rest[j]) {
			j++
		}
		out = append(out, fontObject{num: n, dict: d, base: string(rest[1:j])})
	}
	return out, nil
}

// isDelim reports whether c ends a PDF name: white space or a delimiter.
func isDelim(c byte) bool {
	switch c {
	case ' ', '\n', '\r', '\t', '\f', 0, '/', '<', '>', '[', ']', '(', ')', '{', '}', '%':
		return true
	}
	return false
}

// addToUnicode appends to the PDF file b, as fpdf wrote it, an
// incremental update that gives every font a ToUnicode CMap built from
// its chunk. Every font of the file must be one of chunks' and every
// chunk's font must be in the file.
//
// The CMaps are deflated when compress is set.
func addToUnicode(b []byte, chunks []*chunk, compress bool) ([]byte, error) {
	p, err := parsePDF(b)
	if err != nil {
		return nil, fmt.Errorf("read pdf: %w", err)
	}
	if p.prev {
		return nil, errors.New("read pdf: file already has an update")
	}
	objs, err := p.fontObjects()
	if err != nil {
		return nil, fmt.Errorf("read pdf: %w", err)
	}
	byName := make(map[string]*chunk, len(chunks))
	for _, c := range chunks {
		// Equal names come from equal face names and equal code to
		// rune tables (see subsetTag), hence equal maps; a tag collision
		// would give a font another's map.
		if o := byName[c.base]; o != nil && o.runes != c.runes {
			return nil, fmt.Errorf("fonts %s and %s have the same name %s", o.family, c.family, c.base)
		}
		byName[c.base] = c
	}
	// One CMap per distinct name, numbered in object order.
	cmapNum := make(map[string]int, len(byName))
	var names []string
	for _, o := range objs {
		if byName[o.base] == nil {
			return nil, fmt.Errorf("object %d: font %s is not one of the document's", o.num, o.base)
		}
		if _, ok := cmapNum[o.base]; !ok {
			cmapNum[o.base] = p.size + len(names)
			names = append(names, o.base)
		}
	}
	for _, c := range chunks {
		if _, ok := cmapNum[c.base]; !ok {
			return nil, fmt.Errorf("font %s: no font object in the output", c.base)
		}
	}

	out := b
	if out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	type entry struct{ num, off int }
	entries := make([]entry, 0, len(names)+len(objs))
	cm := make([]byte, 0, 4<<10)
	for _, name := range names {
		cm = appendCMap(cm[:0], byName[name])
		data := cm
		if compress {
			var err error
			if data, err = zlibCompress(cm); err != nil {
				return nil, fmt.Errorf("compress cmap: %w", err)
			}
		}
		n := cmapNum[name]
		entries = append(entries, entry{n, len(out)})
		out = strconv.AppendInt(out, int64(n), 10)
		out = append(out, " 0 obj\n<<"...)
		if compress {
			out = append(out, "/Filter /FlateDecode "...)
		}
		out = append(out, "/Length "...)
		out = strconv.AppendInt(out, int64(len(data)), 10)
		out = append(out, ">>\nstream\n"...)
		out = append(out, data...)
		out = append(out, "\nendstream\nendobj\n"...)
	}
	for _, o := range objs {
		entries = append(entries, entry{o.num, len(out)})
		out = strconv.AppendInt(out, int64(o.num), 10)
		out = append(out, " 0 obj\n"...)
		d := bytes.TrimRight(o.dict[:len(o.dict)-2], " \r\n")
		out = append(out, d...)
		out = append(out, "\n/ToUnicode "...)
		out = strconv.AppendInt(out, int64(cmapNum[o.base]), 10)
		out = append(out, " 0 R\n>>\nendobj\n"...)
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.num - b.num })

	xref := len(out)
	out = append(out, "xref\n"...)
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].num == entries[j-1].num+1 {
			j++
		}
		out = strconv.AppendInt(out, int64(entries[i].num), 10)
		out = append(out, ' ')
		out = strconv.AppendInt(out, int64(j-i), 10)
		out = append(out, '\n')
		for _, e := range entries[i:j] {
			out = fmt.Appendf(out, "%010d 00000 n \n", e.off)
		}
		i = j
	}
	out = append(out, "trailer\n<<\n/Size "...)
	out = strconv.AppendInt(out, int64(p.size+len(names)), 10)
	out = append(out, "\n/Root "...)
	out = append(out, p.root...)
	if p.info != "" {
		out = append(out, "\n/Info "...)
		out = append(out, p.info...)
	}
	if p.id != "" {
		out = append(out, "\n/ID "...)
		out = append(out, p.id...)
	}
	out = append(out, "\n/Prev "...)
	out = strconv.AppendInt(out, int64(p.xref), 10)
	out = append(out, "\n>>\nstartxref\n"...)
	out = strconv.AppendInt(out, int64(xref), 10)
	out = append(out, "\n%%EOF\n"...)
	return out, nil
}

const cmapHead = `/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<00> <FF>
endcodespacerange
`

const cmapTail = `endcmap
CMapName currentdict /CMap defineresource pop
end
end
`

// appendCMap appends the ToUnicode CMap of c: each used code maps to its
// rune in UTF-16BE. Runs of consecutive codes for consecutive runes of
// the Basic Multilingual Plane become bfrange entries; the other codes
// are bfchar entries.
func appendCMap(b []byte, c *chunk) []byte {
	type span struct {
		code, n int
		r       rune
	}
	var rbuf, cbuf [maxCode + 1]span
	ranges, chars := rbuf[:0], cbuf[:0]
	for code := 0; code <= maxCode; {
		r := c.runes[code]
		if r == 0 {
			code++
			continue
		}
		n := 1
		if r < 0x10000 {
			// Only the last byte of the destination may change within
			// a range, and it must not wrap.
			for code+n <= maxCode && c.runes[code+n] == r+rune(n) && (r+rune(n))&0xFF != 0 {
				n++
			}
		}
		if n > 1 {
			ranges = append(ranges, span{code, n, r})
		} else {
			chars = append(chars, span{code, 1, r})
		}
		code += n
	}
	b = append(b, cmapHead...)
	for len(ranges) > 0 {
		k := min(len(ranges), 100)
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, " beginbfrange\n"...)
		for _, s := range ranges[:k] {
			b = appendHexCode(b, s.code)
			b = append(b, ' ')
			b = appendHexCode(b, s.code+s.n-1)
			b = append(b, ' ')
			b = appendUTF16Hex(b, s.r)
			b = append(b, '\n')
		}
		b = append(b, "endbfrange\n"...)
		ranges = ranges[k:]
	}
	for len(chars) > 0 {
		k := min(len(chars), 100)
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, " beginbfchar\n"...)
		for _, s := range chars[:k] {
			b = appendHexCode(b, s.code)
			b = append(b, ' ')
			b = appendUTF16Hex(b, s.r)
			b = append(b, '\n')
		}
		b = append(b, "endbfchar\n"...)
		chars = chars[k:]
	}
	return append(b, cmapTail...)
}

const hexDigits = "0123456789ABCDEF"

func appendHexCode(b []byte, code int) []byte {
	return append(b, '<', hexDigits[code>>4&0xF], hexDigits[code&0xF], '>')
}

// appendUTF16Hex appends r as a hex string of its UTF-16BE encoding.
func appendUTF16Hex(b []byte, r rune) []byte {
	var units [2]uint16
	u := units[:1]
	if r >= 0x10000 {
		r1, r2 := utf16.EncodeRune(r)
		units[0], units[1] = uint16(r1), uint16(r2)
		u = units[:2]
	} else {
		units[0] = uint16(r)
	}
	b = append(b, '<')
	for _, v := range u {
		b = append(b, hexDigits[v>>12], hexDigits[v>>8&0xF], hexDigits[v>>4&0xF], hexDigits[v&0xF])
	}
	return append(b, '>')
}
