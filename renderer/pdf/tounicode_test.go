package pdf

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer/internal/pdffile"
)

// parseCMap reads the bfrange and bfchar entries of a ToUnicode CMap
// with one-byte codes.
func parseCMap(t *testing.T, cm []byte) map[byte]string {
	t.Helper()
	if !bytes.Contains(cm, []byte("/Registry (Adobe) /Ordering (UCS) /Supplement 0")) ||
		!bytes.Contains(cm, []byte("1 begincodespacerange\n<00> <FF>\nendcodespacerange")) ||
		!bytes.HasSuffix(cm, []byte("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")) {
		t.Fatalf("CMap boilerplate missing:\n%s", cm)
	}
	hexUTF16 := func(s string) []uint16 {
		b, err := hex.DecodeString(s)
		if err != nil || len(b)%2 != 0 {
			t.Fatalf("bad destination <%s>", s)
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
		return u
	}
	code := func(s string) int {
		v, err := strconv.ParseUint(s, 16, 8)
		if err != nil || len(s) != 2 {
			t.Fatalf("bad code <%s>", s)
		}
		return int(v)
	}
	out := make(map[byte]string)
	set := func(c int, u []uint16) {
		if _, dup := out[byte(c)]; dup {
			t.Errorf("code %02X mapped twice", c)
		}
		out[byte(c)] = string(utf16.Decode(u))
	}
	var block string
	var left int
	entry := regexp.MustCompile(`^<([0-9A-F]+)>(?: <([0-9A-F]+)>)? <([0-9A-F]+)>$`)
	for _, l := range strings.Split(string(cm), "\n") {
		if n, kind, ok := strings.Cut(l, " "); ok && (kind == "beginbfrange" || kind == "beginbfchar") {
			left, _ = strconv.Atoi(n)
			if left < 1 || left > 100 {
				t.Errorf("block of %d entries", left)
			}
			block = kind
			continue
		}
		if l == "endbfrange" || l == "endbfchar" {
			if left != 0 {
				t.Errorf("%s: %d entries missing", l, left)
			}
			block = ""
			continue
		}
		if block == "" {
			continue
		}
		m := entry.FindStringSubmatch(l)
		if m == nil || (block == "beginbfrange") != (m[2] != "") {
			t.Fatalf("bad %s entry %q", block, l)
		}
		left--
		lo, dst := code(m[1]), hexUTF16(m[3])
		if block == "beginbfchar" {
			set(lo, dst)
			continue
		}
		hi := code(m[2])
		if hi <= lo || len(dst) != 1 || int(dst[0]&0xFF)+hi-lo > 0xFF {
			t.Errorf("bad range %q", l)
		}
		for c := lo; c <= hi; c++ {
			set(c, []uint16{dst[0] + uint16(c-lo)})
		}
	}
	return out
}

func TestCMap(t *testing.T) {
	t.Parallel()
	mk := func(m map[int]rune) *chunk {
		c := &chunk{}
		for code, r := range m {
			c.runes[code] = r
		}
		return c
	}
	many := map[int]rune{}
	for code := 33; code <= 255; code++ {
		many[code] = rune(0x4E00 + 2*code) // no two consecutive: 223 bfchar entries
	}
	tests := []struct {
		name  string
		runes map[int]rune
	}{
		{"space only", map[int]rune{32: ' '}},
		{"ascii run", map[int]rune{32: ' ', 33: '!', 34: '"', 35: '#', 126: '~'}},
		{"range must not wrap the low byte", map[int]rune{40: 0xFE, 41: 0xFF, 42: 0x100, 43: 0x101}},
		{"above the BMP", map[int]rune{33: 0x10300, 34: 0x10301, 35: 0x1F642}},
		{"range up to code 255", map[int]rune{250: 'a', 251: 'b', 252: 'c', 253: 'd', 254: 'e', 255: 'f'}},
		{"more than 100 entries", many},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := parseCMap(t, appendCMap(nil, mk(tc.runes)))
			if len(got) != len(tc.runes) {
				t.Errorf("%d codes mapped, want %d", len(got), len(tc.runes))
			}
			for code, r := range tc.runes {
				if got[byte(code)] != string(r) {
					t.Errorf("code %02X maps to %q, want %q", code, got[byte(code)], string(r))
				}
			}
		})
	}
}

// TestToUnicodeResolvable follows every font's /ToUnicode reference with
// qpdf and checks that the maps, together, give back exactly the
// characters the document draws.
func TestToUnicodeResolvable(t *testing.T) {
	t.Parallel()
	qpdf := tool(t, "qpdf")
	pdffonts := tool(t, "pdffonts")
	doc := extractionDoc()
	for _, compress := range []bool{false, true} {
		b, err := Write(doc, Options{CompressContent: compress})
		if err != nil {
			t.Fatal(err)
		}
		path := writeTemp(t, b)
		out, err := exec.Command(pdffonts, path).CombinedOutput()
		if err != nil {
			t.Fatalf("pdffonts: %v\n%s", err, out)
		}
		got := map[rune]bool{}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")[2:]
		ref := regexp.MustCompile(`/ToUnicode (\d+) 0 R`)
		for _, l := range lines {
			f := strings.Fields(l)
			obj := f[len(f)-2]
			d, err := exec.Command(qpdf, "--show-object="+obj, path).CombinedOutput()
			if err != nil {
				t.Fatalf("qpdf --show-object=%s: %v\n%s", obj, err, d)
			}
			m := ref.FindSubmatch(d)
			if m == nil {
				t.Fatalf("font %s (object %s) has no /ToUnicode: %s", f[0], obj, d)
			}
			cm, err := exec.Command(qpdf, "--show-object="+string(m[1]), "--filtered-stream-data", path).Output()
			if err != nil {
				t.Fatalf("qpdf --show-object=%s --filtered-stream-data: %v", m[1], err)
			}
			codes := parseCMap(t, cm)
			if codes[' '] != " " {
				t.Errorf("font %s: code 32 maps to %q, want a space", f[0], codes[' '])
			}
			for _, s := range codes {
				for _, r := range s {
					got[r] = true
				}
			}
		}
		want := map[rune]bool{' ': true}
		for _, pg := range doc.Pages {
			for _, tx := range pg.Texts {
				for _, r := range tx.S {
					want[r] = true
				}
			}
		}
		if !mapsEqual(got, want) {
			t.Errorf("compressed content %v: ToUnicode maps cover %s, want %s", compress, runeSet(got), runeSet(want))
		}
	}
}

func mapsEqual(a, b map[rune]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func runeSet(m map[rune]bool) string {
	var rs []rune
	for r := range m {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	return fmt.Sprintf("%q", string(rs))
}

func TestToUnicodeUpdate(t *testing.T) {
	t.Parallel()
	doc := &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{Texts: line(36, 72, 12, 0, "Mélanie Heta Ͱ")}}}
	b, err := Write(doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The original file is kept whole, then the update follows.
	first := bytes.Index(b, []byte("%%EOF\n")) + len("%%EOF\n")
	orig, update := b[:first], b[first:]
	if bytes.Contains(orig, []byte("/ToUnicode")) {
		t.Error("ToUnicode written into the original file")
	}
	p, err := pdffile.Parse(bytes.Clone(orig))
	if err != nil {
		t.Fatal(err)
	}
	// Two CMaps, the ICC profile, the structure tree root, its Document
	// element and parent tree (the text is an artifact), and the XMP
	// metadata are new objects.
	want := fmt.Sprintf("/Size %d\n/Root %s\n/Info %s\n/ID [<", p.Size+7, p.Root, p.Info)
	if !bytes.Contains(update, []byte(want)) || !bytes.Contains(update, []byte(fmt.Sprintf("/Prev %d\n>>\nstartxref\n", p.XRef))) {
		t.Errorf("update trailer lacks %q or /Prev %d:\n%s", want, p.XRef, update[bytes.LastIndex(update, []byte("trailer")):])
	}
	if n := bytes.Count(update, []byte("/ToUnicode ")); n != 2 {
		t.Errorf("%d fonts got a /ToUnicode entry, want 2", n)
	}
	if bytes.Contains(update, []byte("/Encoding")) {
		t.Error("a font dictionary of the update keeps an /Encoding")
	}
	// Every entry of the new xref section points at its object.
	x := bytes.LastIndex(b, []byte("\nxref\n")) + 1
	q, err := pdffile.Parse(b)
	if err != nil {
		t.Fatalf("read the updated file: %v", err)
	}
	entries := 0
	for n := range q.NumObjects() {
		o, err := q.Object(n)
		if err != nil {
			t.Error(err)
		}
		if o != nil {
			entries++
		}
	}
	// The new objects, 2 fonts, the page, information dictionary, catalog.
	if q.XRef != x || q.Size != p.Size+7 || entries != 12 {
		t.Errorf("update xref at %d with %d entries, /Size %d; want at %d with 12, /Size %d", q.XRef, entries, q.Size, x, p.Size+7)
	}
}

// addToUnicode is addUpdate with no metadata.
func addToUnicode(b []byte, chunks []*chunk, compress bool) ([]byte, error) {
	return addUpdate(b, chunks, update{compress: compress})
}

func TestAddToUnicodeErrors(t *testing.T) {
	t.Parallel()
	doc := &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{Texts: line(36, 72, 12, 0, "Mélanie")}}}
	order, _, _, err := planFonts(doc)
	if err != nil {
		t.Fatal(err)
	}
	var e embedder
	c := order[0].chunks[0]
	if _, _, err := e.chunkFont(order[0].face, c, nil); err != nil {
		t.Fatal(err)
	}
	b, err := Write(doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	orig := b[:bytes.Index(b, []byte("%%EOF\n"))+len("%%EOF\n")]
	other := *c
	other.base = "ABCDEF+Other"
	clash := *c
	clash.runes['~'] = '~'
	xref := bytes.LastIndex(orig, []byte("\nxref\n")) + 1
	shifted := bytes.Clone(orig)
	e1 := xref + bytes.Index(orig[xref:], []byte(" 65535 f \n")) + len(" 65535 f \n")
	if string(shifted[e1+10:e1+18]) != " 00000 n" {
		t.Fatalf("unexpected xref layout: %q", shifted[xref:e1+20])
	}
	copy(shifted[e1:], "0000000009")
	tests := []struct {
		name   string
		pdf    []byte
		chunks []*chunk
		want   string
	}{
		{"not a pdf", []byte("hello"), []*chunk{c}, "read pdf: no startxref"},
		{"already updated", b, []*chunk{c}, "read pdf: file already has an update"},
		{"font of the file unknown", orig, []*chunk{&other}, "is not one of the document's"},
		{"name collision", orig, []*chunk{c, &clash}, "have the same name"},
		{"chunk font missing", orig, []*chunk{c, &other}, "font ABCDEF+Other: no font object in the output"},
		{"bad startxref", append(bytes.Clone(orig[:bytes.LastIndex(orig, []byte("startxref"))]), "startxref\n5\n%%EOF\n"...), []*chunk{c}, "read pdf: startxref does not point at a cross-reference table"},
		{"shifted offsets", shifted, []*chunk{c}, "object 1: cross-reference offset"},
		{"truncated xref", append(bytes.Clone(orig[:xref+30]), fmt.Sprintf("\nstartxref\n%d\n%%%%EOF\n", xref)...), []*chunk{c}, "read pdf: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := addToUnicode(bytes.Clone(tc.pdf), tc.chunks, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %s", err, tc.want)
			}
		})
	}
	if _, err := addToUnicode(bytes.Clone(orig), []*chunk{c}, false); err != nil {
		t.Errorf("the original file: %v", err)
	}
}

// FuzzAddUpdate feeds damaged files to the update writer: it must
// return an error or a file, never panic.
func FuzzAddUpdate(f *testing.F) {
	doc := &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{Texts: line(36, 72, 12, 0, "Mélanie")}}}
	b, err := Write(doc, Options{})
	if err != nil {
		f.Fatal(err)
	}
	order, _, _, err := planFonts(doc)
	if err != nil {
		f.Fatal(err)
	}
	var e embedder
	c := order[0].chunks[0]
	if _, _, err := e.chunkFont(order[0].face, c, nil); err != nil {
		f.Fatal(err)
	}
	orig := b[:bytes.Index(b, []byte("%%EOF\n"))+len("%%EOF\n")]
	f.Add(orig[len(orig)-400:])
	f.Add([]byte("xref\n0 1\n0000000000 65535 f \ntrailer\n<</Size 1/Root 1 0 R>>\nstartxref\n0\n%%EOF"))
	f.Fuzz(func(t *testing.T, tail []byte) {
		in := append(bytes.Clone(orig[:len(orig)-400]), tail...)
		addToUnicode(in, []*chunk{c}, false)
	})
}
