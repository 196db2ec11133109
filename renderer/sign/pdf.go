package sign

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
)

// byteRangeWidth is the width reserved for each number of /ByteRange.
const byteRangeWidth = 10

// sign appends the signature update to pdf, signing at time t.
func (s *Signer) sign(pdf []byte, t time.Time) ([]byte, error) {
	if !hasPrefix(pdf, "%PDF-") {
		return nil, errors.New("not a PDF: no %PDF- header")
	}
	tr, err := readTrailer(pdf)
	if err != nil {
		return nil, err
	}
	rootOff, err := objectOffset(pdf, tr, tr.root.num)
	if err != nil {
		return nil, fmt.Errorf("find catalog %d: %w", tr.root.num, err)
	}
	catalog, err := readObjectDict(pdf, rootOff, tr.root)
	if err != nil {
		return nil, fmt.Errorf("read catalog %d: %w", tr.root.num, err)
	}
	entries, err := parseDict(catalog)
	if err != nil {
		return nil, fmt.Errorf("read catalog %d: %w", tr.root.num, err)
	}
	if _, ok := entries.get("AcroForm"); ok {
		return nil, errors.New("the PDF already has a form (/AcroForm); signing such PDFs is not supported")
	}

	sigNum, fieldNum, apNum := tr.size, tr.size+1, tr.size+2
	var out bytes.Buffer
	out.Grow(len(pdf) + 2*s.capacity + 2048)
	out.Write(pdf)
	if last := pdf[len(pdf)-1]; last != '\n' && last != '\r' {
		out.WriteByte('\n')
	}
	offsets := map[int]int{}

	// The signature dictionary. /ByteRange and /Contents are placeholders
	// filled in below, at the same width.
	offsets[sigNum] = out.Len()
	fmt.Fprintf(&out, "%d 0 obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached\n/ByteRange ", sigNum)
	brStart := out.Len()
	out.WriteString(byteRangeText(0, 0, 0))
	out.WriteString("\n/Contents ")
	contentsStart := out.Len()
	out.WriteByte('<')
	out.Write(bytes.Repeat([]byte("0"), 2*s.capacity))
	out.WriteByte('>')
	contentsEnd := out.Len()
	fmt.Fprintf(&out, "\n/M %s", pdfDate(t))
	for _, e := range []struct{ key, val string }{{"Name", s.name}, {"Reason", s.reason}, {"Location", s.location}} {
		if e.val != "" {
			fmt.Fprintf(&out, "\n/%s %s", e.key, pdfText(e.val))
		}
	}
	out.WriteString("\n/Prop_Build <</App <</Name /Carta>>>>\n>>\nendobj\n")

	// The signature field and its invisible widget.
	offsets[fieldNum] = out.Len()
	// PDF/A-1 (ISO 19005-1:2005, 6.5.3) wants an appearance for every
	// widget, even an invisible one: an empty form XObject.
	fmt.Fprintf(&out, "%d 0 obj\n<</Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /V %d 0 R /F 132 /Rect [0 0 0 0] /AP <</N %d 0 R>>>>\nendobj\n", fieldNum, sigNum, apNum)
	offsets[apNum] = out.Len()
	fmt.Fprintf(&out, "%d 0 obj\n<</Type /XObject /Subtype /Form /BBox [0 0 0 0] /Length 0>>\nstream\n\nendstream\nendobj\n", apNum)

	// The catalog again, with the form added. ETSI.CAdES.detached is a
	// PDF 2.0 (or PDF 1.7 with the ESIC extension) feature.
	offsets[tr.root.num] = out.Len()
	fmt.Fprintf(&out, "%d %d obj\n<<", tr.root.num, tr.root.gen)
	out.Write(bytes.TrimSpace(catalog[2 : len(catalog)-2]))
	fmt.Fprintf(&out, "\n/AcroForm <</Fields [%d 0 R] /SigFlags 3>>", fieldNum)
	if _, ok := entries.get("Extensions"); !ok {
		out.WriteString("\n/Extensions <</ESIC <</BaseVersion /1.7 /ExtensionLevel 2>>>>")
	}
	if _, ok := entries.get("Version"); !ok && pdfVersion(pdf) < "1.7" {
		out.WriteString("\n/Version /1.7")
	}
	out.WriteString("\n>>\nendobj\n")

	// Cross-reference section and trailer.
	xref := out.Len()
	out.WriteString("xref\n")
	nums := []int{tr.root.num, sigNum, fieldNum, apNum}
	slices.Sort(nums)
	for i := 0; i < len(nums); {
		j := i + 1
		for j < len(nums) && nums[j] == nums[j-1]+1 {
			j++
		}
		fmt.Fprintf(&out, "%d %d\n", nums[i], j-i)
		for _, n := range nums[i:j] {
			gen := 0
			if n == tr.root.num {
				gen = tr.root.gen
			}
			fmt.Fprintf(&out, "%010d %05d n \n", offsets[n], gen)
		}
		i = j
	}
	fmt.Fprintf(&out, "trailer\n<</Size %d /Root %d %d R", apNum+1, tr.root.num, tr.root.gen)
	if v, ok := tr.dict.get("Info"); ok {
		fmt.Fprintf(&out, " /Info %s", v)
	}
	if v, ok := tr.dict.get("ID"); ok {
		fmt.Fprintf(&out, " /ID %s", v)
	}
	fmt.Fprintf(&out, " /Prev %d>>\nstartxref\n%d\n%%%%EOF\n", tr.offset, xref)

	// Fill in /ByteRange, hash everything but /Contents, and sign.
	b := out.Bytes()
	copy(b[brStart:], byteRangeText(contentsStart, contentsEnd, len(b)-contentsEnd))
	h := sha256.New()
	h.Write(b[:contentsStart])
	h.Write(b[contentsEnd:])
	sig, err := s.cms(h.Sum(nil))
	if err != nil {
		return nil, err
	}
	if len(sig) > s.capacity {
		return nil, fmt.Errorf("signature of %d bytes does not fit the %d reserved", len(sig), s.capacity)
	}
	hex.Encode(b[contentsStart+1:], sig)
	return b, nil
}

// byteRangeText is the /ByteRange array [0 a b c], padded with spaces to a
// fixed width so the placeholder can be overwritten in place.
func byteRangeText(a, b, c int) string {
	s := fmt.Sprintf("[0 %d %d %d]", a, b, c)
	width := len("[0 ]") + 3*byteRangeWidth + 2
	for len(s) < width {
		s += " "
	}
	return s
}

// pdfDate formats t as a PDF date in UTC, e.g. (D:20230109150405Z).
func pdfDate(t time.Time) string {
	return "(D:" + t.UTC().Format("20060102150405") + "Z)"
}

// pdfText encodes s as a PDF text string: a literal string if it is
// printable ASCII, else UTF-16BE with a byte order mark in hex.
func pdfText(s string) string {
	ascii := true
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		var b bytes.Buffer
		b.WriteByte('(')
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '(' || c == ')' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		b.WriteByte(')')
		return b.String()
	}
	u := utf16.Encode([]rune(s))
	buf := make([]byte, 2, 2+2*len(u))
	buf[0], buf[1] = 0xfe, 0xff
	for _, c := range u {
		buf = append(buf, byte(c>>8), byte(c))
	}
	return "<" + hex.EncodeToString(buf) + ">"
}

// pdfVersion is the version in the header, e.g. "1.3".
func pdfVersion(pdf []byte) string {
	v := pdf[len("%PDF-"):min(len(pdf), len("%PDF-")+3)]
	return string(v)
}

// ref is an indirect reference.
type ref struct{ num, gen int }

// trailer is the newest trailer of a PDF.
type trailer struct {
	offset int // of the newest cross-reference section
	dict   dict
	size   int
	root   ref
}

// readTrailer finds the newest cross-reference section and its trailer.
func readTrailer(pdf []byte) (*trailer, error) {
	i := bytes.LastIndex(pdf, []byte("startxref"))
	if i < 0 {
		return nil, errors.New("read trailer: no startxref")
	}
	toks := fields(pdf[i+len("startxref"):], 1)
	if len(toks) < 1 {
		return nil, errors.New("read trailer: no offset after startxref")
	}
	off, err := strconv.Atoi(string(toks[0]))
	if err != nil || off < 0 || off >= len(pdf) {
		return nil, fmt.Errorf("read trailer: bad startxref offset %q", toks[0])
	}
	d, err := xrefTrailer(pdf, off)
	if err != nil {
		return nil, err
	}
	if _, ok := d.get("Encrypt"); ok {
		return nil, errors.New("read trailer: encrypted PDFs are not supported")
	}
	tr := &trailer{offset: off, dict: d}
	v, _ := d.get("Size")
	if tr.size, err = strconv.Atoi(string(v)); err != nil || tr.size < 1 {
		return nil, fmt.Errorf("read trailer: bad /Size %q", v)
	}
	v, _ = d.get("Root")
	if tr.root, err = parseRef(v); err != nil {
		return nil, fmt.Errorf("read trailer: /Root: %w", err)
	}
	return tr, nil
}

// xrefTrailer returns the trailer dictionary of the cross-reference table
// at off.
func xrefTrailer(pdf []byte, off int) (dict, error) {
	if !hasPrefix(pdf[off:], "xref") {
		return nil, fmt.Errorf("read cross-reference table at %d: not a classic xref table (cross-reference streams are not supported)", off)
	}
	i := bytes.Index(pdf[off:], []byte("trailer"))
	if i < 0 {
		return nil, fmt.Errorf("read cross-reference table at %d: no trailer", off)
	}
	rest := pdf[off+i+len("trailer"):]
	start := bytes.Index(rest, []byte("<<"))
	if start < 0 {
		return nil, fmt.Errorf("read trailer at %d: no dictionary", off+i)
	}
	end, err := skipValue(rest, start)
	if err != nil {
		return nil, fmt.Errorf("read trailer at %d: %w", off+i, err)
	}
	d, err := parseDict(rest[start:end])
	if err != nil {
		return nil, fmt.Errorf("read trailer at %d: %w", off+i, err)
	}
	return d, nil
}

// objectOffset finds the offset of object num in the cross-reference
// tables, newest first, following /Prev.
func objectOffset(pdf []byte, tr *trailer, num int) (int, error) {
	off, seen := tr.offset, map[int]bool{}
	for !seen[off] {
		seen[off] = true
		d, err := xrefTrailer(pdf, off)
		if err != nil {
			return 0, err
		}
		end := bytes.Index(pdf[off:], []byte("trailer"))
		toks := fields(pdf[off+len("xref"):off+end], -1)
		for len(toks) >= 2 {
			first, err1 := strconv.Atoi(string(toks[0]))
			count, err2 := strconv.Atoi(string(toks[1]))
			if err1 != nil || err2 != nil || count < 0 || len(toks) < 2+3*count {
				return 0, fmt.Errorf("read cross-reference table at %d: bad subsection %q %q", off, toks[0], toks[1])
			}
			if num >= first && num < first+count {
				e := toks[2+3*(num-first):]
				if string(e[2]) != "n" {
					return 0, errors.New("object is free")
				}
				o, err := strconv.Atoi(string(e[0]))
				if err != nil || o < 0 || o >= len(pdf) {
					return 0, fmt.Errorf("bad offset %q", e[0])
				}
				return o, nil
			}
			toks = toks[2+3*count:]
		}
		prev, ok := d.get("Prev")
		if !ok {
			break
		}
		if off, err = strconv.Atoi(string(prev)); err != nil || off < 0 || off >= len(pdf) {
			return 0, fmt.Errorf("bad /Prev %q", prev)
		}
	}
	return 0, errors.New("not in the cross-reference tables")
}

// readObjectDict returns the dictionary of object r at off, from << to >>.
func readObjectDict(pdf []byte, off int, r ref) ([]byte, error) {
	head := fmt.Sprintf("%d %d obj", r.num, r.gen)
	if !hasPrefix(pdf[off:], head) {
		return nil, fmt.Errorf("no %q at offset %d", head, off)
	}
	rest := pdf[off+len(head):]
	start := 0
	for start < len(rest) && isSpace(rest[start]) {
		start++
	}
	if !hasPrefix(rest[start:], "<<") {
		return nil, errors.New("not a dictionary")
	}
	end, err := skipValue(rest, start)
	if err != nil {
		return nil, err
	}
	return rest[start:end], nil
}

// dict is a parsed dictionary: keys (without /) and raw values, in order.
type dict []struct {
	key string
	val []byte
}

// get returns the raw value of key.
func (d dict) get(key string) ([]byte, bool) {
	for _, e := range d {
		if e.key == key {
			return e.val, true
		}
	}
	return nil, false
}

// parseDict parses a dictionary << ... >> one level deep, keeping each
// value's raw bytes.
func parseDict(b []byte) (dict, error) {
	if !hasPrefix(b, "<<") || !bytes.HasSuffix(b, []byte(">>")) {
		return nil, errors.New("parse dictionary: not a dictionary")
	}
	body := b[2 : len(b)-2]
	var d dict
	i := 0
	for {
		for i < len(body) && isSpace(body[i]) {
			i++
		}
		if i == len(body) {
			return d, nil
		}
		if body[i] != '/' {
			return nil, fmt.Errorf("parse dictionary: expected a name at %q", clip(body[i:]))
		}
		j := i + 1
		for j < len(body) && !isSpace(body[j]) && !isDelim(body[j]) {
			j++
		}
		key := string(body[i+1 : j])
		for j < len(body) && isSpace(body[j]) {
			j++
		}
		end, err := skipValue(body, j)
		if err != nil {
			return nil, fmt.Errorf("parse dictionary: /%s: %w", key, err)
		}
		// An indirect reference "n g R" is one value.
		if toks := fields(body[end:], 2); len(toks) == 2 && string(toks[1]) == "R" && isInt(body[j:end]) && isInt(toks[0]) {
			end = bytes.Index(body[end:], []byte("R")) + end + 1
		}
		d = append(d, struct {
			key string
			val []byte
		}{key, bytes.TrimSpace(body[j:end])})
		i = end
	}
}

// skipValue returns the end of the value starting at b[i]: a dictionary,
// array, string, name or plain token.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("missing value")
	}
	switch {
	case hasPrefix(b[i:], "<<"):
		return skipItems(b, i+2, ">>", "dictionary")
	case b[i] == '[':
		return skipItems(b, i+1, "]", "array")
	case b[i] == '<':
		j := bytes.IndexByte(b[i:], '>')
		if j < 0 {
			return 0, errors.New("unterminated hex string")
		}
		return i + j + 1, nil
	case b[i] == '(':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unterminated string")
	case b[i] == '/':
		j := i + 1
		for j < len(b) && !isSpace(b[j]) && !isDelim(b[j]) {
			j++
		}
		return j, nil
	case isDelim(b[i]):
		return 0, fmt.Errorf("unexpected %q", b[i])
	default:
		j := i
		for j < len(b) && !isSpace(b[j]) && !isDelim(b[j]) {
			j++
		}
		return j, nil
	}
}

// skipItems skips the values of a dictionary or array from j up to and
// including its closing delimiter, returning the offset after it.
func skipItems(b []byte, j int, closing, what string) (int, error) {
	for j < len(b) {
		switch {
		case hasPrefix(b[j:], closing):
			return j + len(closing), nil
		case isSpace(b[j]):
			j++
		default:
			end, err := skipValue(b, j)
			if err != nil {
				return 0, err
			}
			j = end
		}
	}
	return 0, errors.New("unterminated " + what)
}

// parseRef parses "n g R".
func parseRef(v []byte) (ref, error) {
	toks := fields(v, -1)
	if len(toks) != 3 || string(toks[2]) != "R" {
		return ref{}, fmt.Errorf("not a reference: %q", v)
	}
	n, err1 := strconv.Atoi(string(toks[0]))
	g, err2 := strconv.Atoi(string(toks[1]))
	if err1 != nil || err2 != nil || n < 1 || g < 0 {
		return ref{}, fmt.Errorf("not a reference: %q", v)
	}
	return ref{n, g}, nil
}

// fields splits b at PDF white space into at most n tokens (all if n < 0).
func fields(b []byte, n int) [][]byte {
	var out [][]byte
	for i := 0; i < len(b) && (n < 0 || len(out) < n); {
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		j := i
		for j < len(b) && !isSpace(b[j]) {
			j++
		}
		if j > i {
			out = append(out, b[i:j])
		}
		i = j
	}
	return out
}

func isInt(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}

// clip shortens b for an error message.
func clip(b []byte) []byte { return b[:min(len(b), 20)] }
