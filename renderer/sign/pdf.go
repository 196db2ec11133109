package sign

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/carta-letters/carta/renderer/internal/pdffile"
)

// byteRangeWidth is the width reserved for each number of /ByteRange.
const byteRangeWidth = 10

// stampFunc returns an RFC 3161 timestamp token (DER) over a signature
// value.
type stampFunc func(sigValue []byte) ([]byte, error)

// sign appends the signature update to pdf, signing at time t with
// capacity bytes reserved for the CMS, and returns the signed PDF and the
// CMS. The update holds the signature dictionary, the signature field (a
// widget annotation of page 1), the widget's empty appearance, page 1
// with the widget added to its /Annots, and the catalog with the form.
// errTooSmall is returned when the CMS does not fit capacity.
func (s *Signer) sign(pdf []byte, t time.Time, capacity int, stamp stampFunc) ([]byte, []byte, error) {
	if !hasPrefix(pdf, "%PDF-") {
		return nil, nil, errors.New("not a PDF: no %PDF- header")
	}
	tr, err := readTrailer(pdf)
	if err != nil {
		return nil, nil, err
	}
	catalog, entries, err := readDictObject(tr, tr.root, "catalog")
	if err != nil {
		return nil, nil, err
	}
	if _, ok := entries.get("AcroForm"); ok {
		return nil, nil, errors.New("the PDF already has a form (/AcroForm); signing such PDFs is not supported")
	}
	pageRef, page, err := firstPage(tr, entries)
	if err != nil {
		return nil, nil, err
	}
	annots := "[]"
	if v, ok := page.get("Annots"); ok {
		if !hasPrefix(v, "[") {
			return nil, nil, fmt.Errorf("page %d: /Annots is not a direct array; signing such PDFs is not supported", pageRef.num)
		}
		annots = string(v)
	}

	u := tr.file.UpdateCopy(2*capacity + 4096)
	o, err := newSigObjects(u, tr, entries, pageRef, "Signature1", "Digital signature")
	if err != nil {
		return nil, nil, err
	}

	// The signature dictionary. /ByteRange and /Contents are placeholders
	// filled in below, at the same width.
	var d bytes.Buffer
	d.WriteString("<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached\n")
	ph := writePlaceholders(&d, capacity)
	fmt.Fprintf(&d, "\n/M %s", pdfDate(t))
	for _, e := range []struct{ key, val string }{{"Name", s.name}, {"Reason", s.reason}, {"Location", s.location}} {
		if e.val != "" {
			fmt.Fprintf(&d, "\n/%s %s", e.key, pdfText(e.val))
		}
	}
	d.WriteString("\n/Prop_Build <</App <</Name /Carta>>>>\n>>")
	ph = ph.at(u.Object(o.sig, d.Bytes()))

	// The signature field merged with its widget, on page 1 (/P and the
	// page's /Annots).
	o.writeWidget(u)

	// Page 1 again, with the widget in /Annots (and, when tagged, the
	// tab order of the structure, as PDF/UA wants of pages with
	// annotations); the structure tree objects tagWidget changed.
	pageSet := map[string]string{"Annots": appendRef(annots, o.field)}
	if _, ok := page.get("Tabs"); o.tag != nil && !ok {
		pageSet["Tabs"] = "/S"
	}
	u.Object(pageRef.num, []byte(dictText(page, pageSet)))
	writeTagging(u, o.tag)

	// The catalog again, with the form added. ETSI.CAdES.detached is a
	// PDF 2.0 (or PDF 1.7 with the ESIC extension) feature.
	d.Reset()
	d.WriteString("<<")
	d.Write(bytes.TrimSpace(catalog[2 : len(catalog)-2]))
	fmt.Fprintf(&d, "\n/AcroForm <</Fields [%d 0 R] /SigFlags 3>>", o.field)
	if _, ok := entries.get("Extensions"); !ok {
		d.WriteString("\n/Extensions <</ESIC <</BaseVersion /1.7 /ExtensionLevel 2>>>>")
	}
	if _, ok := entries.get("Version"); !ok && pdfVersion(pdf) < "1.7" {
		d.WriteString("\n/Version /1.7")
	}
	d.WriteString("\n>>")
	u.Object(tr.root.num, d.Bytes())

	b, err := u.Finish(pdffile.Trailer{})
	if err != nil {
		return nil, nil, err
	}

	// Fill in /ByteRange, sign everything but /Contents.
	sig, err := s.cms(ph.covered(b), stamp)
	if err != nil {
		return nil, nil, err
	}
	if len(sig) > capacity {
		return nil, sig, fmt.Errorf("%w: signature of %d bytes, %d reserved", errTooSmall, len(sig), capacity)
	}
	ph.fill(b, sig)
	return b, sig, nil
}

// placeholders notes where the /ByteRange and /Contents placeholders of
// a signature dictionary stand in the update being written.
type placeholders struct{ byteRange, contentsStart, contentsEnd int }

// writePlaceholders writes the /ByteRange and /Contents entries of a
// signature dictionary as placeholders of fixed width: /Contents has
// room for capacity bytes in hex.
func writePlaceholders(out *bytes.Buffer, capacity int) placeholders {
	out.WriteString("/ByteRange ")
	p := placeholders{byteRange: out.Len()}
	out.WriteString(byteRangeText(0, 0, 0))
	out.WriteString("\n/Contents ")
	p.contentsStart = out.Len()
	out.WriteByte('<')
	out.Write(bytes.Repeat([]byte("0"), 2*capacity))
	out.WriteByte('>')
	p.contentsEnd = out.Len()
	return p
}

// at returns p moved by off: placeholders written into an object's
// content, placed at off in the file.
func (p placeholders) at(off int) placeholders {
	return placeholders{p.byteRange + off, p.contentsStart + off, p.contentsEnd + off}
}

// covered fills in /ByteRange in b, the whole file with its update
// written, and returns the bytes the signature covers: b but the value
// of /Contents.
func (p placeholders) covered(b []byte) []byte {
	copy(b[p.byteRange:], byteRangeText(p.contentsStart, p.contentsEnd, len(b)-p.contentsEnd))
	content := make([]byte, 0, len(b)-(p.contentsEnd-p.contentsStart))
	return append(append(content, b[:p.contentsStart]...), b[p.contentsEnd:]...)
}

// fill writes value, which must fit the capacity reserved, in hex into
// /Contents of b.
func (p placeholders) fill(b, value []byte) {
	hex.Encode(b[p.contentsStart+1:], value)
}

// sigObjects are the new objects of an update that adds a signature
// field on page 1.
type sigObjects struct {
	sig, field, ap int      // the signature value, the field (its widget), its appearance
	size           int      // /Size of the update
	name           string   // the field's name (/T)
	page           ref      // page 1
	tag            *tagging // the structure tree objects changed, if the PDF is tagged
	extra          string   // the widget's /TU and /StructParent when tagged
}

// newSigObjects numbers the objects of a signature field named name on
// page 1 (page) in update u, and tags its widget if the document is
// tagged, with tooltip (/TU) as its alternate description.
func newSigObjects(u *pdffile.Update, tr *trailer, catalog dict, page ref, name, tooltip string) (*sigObjects, error) {
	o := &sigObjects{sig: u.New(), field: u.New(), ap: u.New(), name: name, page: page}
	form := o.ap + 1 // the structure element of the widget, if tagged
	tag, err := tagWidget(tr, catalog, page, o.field, form)
	if err != nil {
		return nil, err
	}
	if tag != nil {
		if n := u.New(); n != form {
			return nil, fmt.Errorf("number the signature objects: structure element %d, want %d", n, form)
		}
		o.tag = tag
		o.extra = fmt.Sprintf(" /TU (%s) /StructParent %d", tooltip, tag.structParent)
	}
	return o, nil
}

// writeWidget writes the signature field merged with its widget, with
// the signature value as /V: invisible (empty rectangle) but printable
// (/F 4) and locked (/F 128), on page 1 (/P), with an empty appearance
// as PDF/A wants.
func (o *sigObjects) writeWidget(u *pdffile.Update) {
	u.Object(o.field, fmt.Appendf(nil, "<</Type /Annot /Subtype /Widget /FT /Sig /T (%s) /V %d 0 R /F 132 /Rect [0 0 0 0] /P %d %d R /AP <</N %d 0 R>>%s>>",
		o.name, o.sig, o.page.num, o.page.gen, o.ap, o.extra))
	u.Stream(o.ap, "/Type /XObject /Subtype /Form /BBox [0 0 0 0] /Resources <<>>", nil)
}

// appendRef returns the direct array arr with a reference to object n
// (generation 0) added at its end.
func appendRef(arr string, n int) string {
	return fmt.Sprintf("%s %d 0 R]", strings.TrimSuffix(strings.TrimSpace(arr), "]"), n)
}

// writeTagging writes the objects of t, if any.
func writeTagging(u *pdffile.Update, t *tagging) {
	if t == nil {
		return
	}
	for _, n := range slices.Sorted(maps.Keys(t.objects)) {
		u.Object(n, []byte(t.objects[n]))
	}
}

// errTooSmall says the space reserved for the CMS was too small.
var errTooSmall = errors.New("signature does not fit the space reserved")

// readDictObject reads the dictionary of object r; what names it in
// errors.
func readDictObject(tr *trailer, r ref, what string) ([]byte, dict, error) {
	raw, err := readObjectDict(tr, r)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s %d: %w", what, r.num, err)
	}
	d, err := parseDict(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s %d: %w", what, r.num, err)
	}
	return raw, d, nil
}

// readObjectDict returns the dictionary of object r, from << to >>, from
// the newest cross-reference section that has it. Carta writes
// generation 0 only, and so does pdffile read.
func readObjectDict(tr *trailer, r ref) ([]byte, error) {
	if r.gen != 0 {
		return nil, fmt.Errorf("generation %d: only generation 0 is supported", r.gen)
	}
	o, err := tr.file.Latest(r.num)
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, errors.New("not in the cross-reference tables")
	}
	if !hasPrefix(o, "<<") {
		return nil, errors.New("not a dictionary")
	}
	end, err := skipValue(o, 0)
	if err != nil {
		return nil, err
	}
	return o[:end], nil
}

// firstPage finds page 1 through the page tree of catalog.
func firstPage(tr *trailer, catalog dict) (ref, dict, error) {
	v, _ := catalog.get("Pages")
	r, err := parseRef(v)
	if err != nil {
		return ref{}, nil, fmt.Errorf("read catalog: /Pages: %w", err)
	}
	for depth := 0; depth < 32; depth++ {
		_, d, err := readDictObject(tr, r, "page tree node")
		if err != nil {
			return ref{}, nil, err
		}
		if t, _ := d.get("Type"); string(t) == "/Page" {
			return r, d, nil
		}
		kids, _ := d.get("Kids")
		toks := fields(bytes.Trim(kids, "[]"), 3)
		if len(toks) < 3 {
			return ref{}, nil, fmt.Errorf("read page tree node %d: no /Kids", r.num)
		}
		if r, err = parseRef(bytes.Join(toks, []byte(" "))); err != nil {
			return ref{}, nil, fmt.Errorf("read page tree node %d: /Kids: %w", r.num, err)
		}
	}
	return ref{}, nil, errors.New("read page tree: too deep")
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

// trailer is the newest trailer of a PDF, read by pdffile.
type trailer struct {
	file   *pdffile.File
	offset int // of the newest cross-reference section
	size   int
	root   ref
}

// readTrailer reads the newest cross-reference section and its trailer.
func readTrailer(pdf []byte) (*trailer, error) {
	f, err := pdffile.Parse(pdf)
	if err != nil {
		return nil, fmt.Errorf("read trailer: %w", err)
	}
	tr := &trailer{file: f, offset: f.XRef, size: f.Size}
	if tr.size < 1 {
		return nil, fmt.Errorf("read trailer: bad /Size %d", f.Size)
	}
	if tr.root, err = parseRef([]byte(f.Root)); err != nil {
		return nil, fmt.Errorf("read trailer: /Root: %w", err)
	}
	return tr, nil
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
