package pdf

import (
	"bytes"
	"compress/zlib"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts"
)

const a4w, a4h = 595.28, 841.89

// line lays s out on one baseline with the Serif family, splitting it
// into runs wherever the fallback chain changes face, as layout does.
func line(x, y, size float64, st fonts.Style, s string) []layouts.Text {
	fam := fonts.Serif()
	var out []layouts.Text
	var cur *fonts.Face
	var b strings.Builder
	flush := func() {
		if b.Len() == 0 {
			return
		}
		out = append(out, layouts.Text{X: x, Y: y, Size: size, Face: cur, S: b.String()})
		x += cur.Width(b.String(), size)
		b.Reset()
	}
	for _, r := range s {
		f := fam.FaceFor(st, r)
		if f == nil {
			panic("test text not covered: " + string(r))
		}
		if r == ' ' && cur != nil {
			f = cur
		}
		if f != cur {
			flush()
			cur = f
		}
		b.WriteRune(r)
	}
	flush()
	return out
}

// manyRunes returns more distinct characters than one 8-bit chunk holds.
func manyRunes() string {
	var b strings.Builder
	for r := rune(0x100); r < 0x180; r++ {
		b.WriteRune(r)
	}
	for r := rune(0x391); r <= 0x3C9; r++ {
		if r != 0x3A2 {
			b.WriteRune(r)
		}
	}
	for r := rune(0x410); r < 0x450; r++ {
		b.WriteRune(r)
	}
	return b.String()
}

func runeRange(from, to rune) string {
	var b strings.Builder
	for r := from; r <= to; r++ {
		if r != 0xAD { // soft hyphen: extractors may drop it
			b.WriteRune(r)
		}
	}
	return b.String()
}

var extractionLines = []struct {
	name  string
	style fonts.Style
	s     string
}{
	{"latin extended", fonts.Regular, "Comitė Ciudadano, López Obrador, Mélanie Joly: ąčęėįšųūž ș ț Ș Ț ő Ő ű Ű"},
	{"vietnamese", fonts.Bold, "Nguyễn Thị Ánh"},
	{"greek", fonts.Italic, "Ελληνικά"},
	{"cyrillic", fonts.BoldItalic, "Українська, Русский"},
	{"typography", fonts.Regular, "“Quoted” ‘single’ — em – en … end"},
	{"pdf string escapes", fonts.Regular, `(parens) and \backslash\`},
	{"fallback faces", fonts.Regular, "Heta Ͱ ͱ and reference ※ mark"},
	{"fallback bold", fonts.Bold, "Bold Ϗ ‿"},
	{"above the BMP", fonts.Regular, "Old Italic 𐌀𐌁"},
	{"fpdf alias text kept", fonts.Regular, "Page {nb} of {nb}"},
	{"several chunks", fonts.Regular, manyRunes()},
	{"glyph list names, ASCII and Latin-1", fonts.Regular, runeRange(0x21, 0x7E) + runeRange(0xA1, 0xFF)},
	{"glyph list names, Latin Extended-A", fonts.Regular, runeRange(0x100, 0x17F) + "ƒˆˇ˘˙˚˛˜˝–—‘’‚“”„†‡•…‰‹›⁄€™−"},
}

func extractionDoc() *layouts.Document {
	doc := &layouts.Document{Width: a4w, Height: a4h, Meta: layouts.Meta{
		Title: "Lettre à la ministre — Ελληνικά", Author: "Comitė Ciudadano",
		Subject: "Test", Language: "fr-CA", Keywords: "carta, prueba",
	}}
	var pg layouts.Page
	y := 72.0
	for _, l := range extractionLines {
		size := 11.0
		if l.name == "several chunks" || strings.HasPrefix(l.name, "glyph list") {
			size = 3 // keep it on one line
		}
		pg.Texts = append(pg.Texts, line(36, y, size, l.style, l.s)...)
		y += 24
	}
	pg.Rules = []layouts.Rule{{X1: 36, Y1: 60, X2: 550, Y2: 60, Width: 0.5, Color: layouts.RGB{R: 200}}}
	pg.Texts[0].Color = layouts.RGB{B: 128}
	doc.Pages = append(doc.Pages, pg, layouts.Page{Texts: line(36, 72, 12, fonts.Regular, "Page two")})
	return doc
}

// tool returns the path of a command-line tool the test needs. It skips
// the test when the tool is missing, unless running in CI.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "out.pdf")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTextExtraction(t *testing.T) {
	t.Parallel()
	pdftotext := tool(t, "pdftotext")
	b, err := Write(extractionDoc(), Options{Creator: "Carta test"})
	if err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, b)
	out, err := exec.Command(pdftotext, "-enc", "UTF-8", "-f", "1", "-l", "1", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	var got []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(strings.Trim(l, "\f")); l != "" {
			got = append(got, l)
		}
	}
	if len(got) != len(extractionLines) {
		t.Fatalf("pdftotext gave %d lines, want %d:\n%s", len(got), len(extractionLines), out)
	}
	for i, l := range extractionLines {
		if got[i] != l.s {
			t.Errorf("%s: extracted %q, want %q", l.name, got[i], l.s)
		}
	}
}

func TestFontsEmbedded(t *testing.T) {
	t.Parallel()
	pdffonts := tool(t, "pdffonts")
	b, err := Write(extractionDoc(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdffonts, writeTemp(t, b)).CombinedOutput()
	if err != nil {
		t.Fatalf("pdffonts: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 3 {
		t.Fatalf("pdffonts lists no fonts:\n%s", out)
	}
	names := map[string]bool{}
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		// name type encoding emb sub uni object ID
		if len(f) < 8 || f[len(f)-5] != "yes" || f[len(f)-4] != "yes" || f[1] != "TrueType" {
			t.Errorf("font not an embedded TrueType subset: %s", l)
			continue
		}
		if f[len(f)-3] != "yes" {
			t.Errorf("font has no ToUnicode map: %s", l)
		}
		tag, base, _ := strings.Cut(f[0], "+")
		if len(tag) != 6 || strings.ToUpper(tag) != tag {
			t.Errorf("bad subset tag in %s", f[0])
		}
		names[base] = true
	}
	for _, want := range []string{"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic", "LiberationSerif-BoldItalic", "DejaVuSerif", "DejaVuSans", "DejaVuSerif-Bold"} {
		if !names[want] {
			t.Errorf("no font %s in:\n%s", want, out)
		}
	}
}

func TestQpdfCheck(t *testing.T) {
	t.Parallel()
	qpdf := tool(t, "qpdf")
	doc := extractionDoc()
	doc.Pages[1].Images = testImages(t)
	for _, compress := range []bool{false, true} {
		b, err := Write(doc, Options{Creator: "Carta test", Producer: "Carta", CompressContent: compress})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(qpdf, "--check", writeTemp(t, b)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "No syntax or stream encoding errors") || strings.Contains(strings.ToLower(string(out)), "warning") {
			t.Fatalf("qpdf --check (compressed content: %v): %v\n%s", compress, err, out)
		}
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	pdfinfo := tool(t, "pdfinfo")
	b, err := Write(extractionDoc(), Options{Creator: "Carta v0.1.0", Producer: "Carta"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdfinfo, "-enc", "UTF-8", writeTemp(t, b)).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Title:           Lettre à la ministre — Ελληνικά",
		"Author:          Comitė Ciudadano",
		"Subject:         Test",
		"Keywords:        carta, prueba",
		"Creator:         Carta v0.1.0",
		"Producer:        Carta",
		"Pages:           2",
		"Page size:       595.28 x 841.89 pts (A4)",
	} {
		if !strings.Contains(string(out), want+"\n") {
			t.Errorf("pdfinfo lacks %q:\n%s", want, out)
		}
	}
	if !bytes.Contains(b, []byte("/Lang (fr-CA)")) {
		t.Error("no /Lang (fr-CA) in the catalog")
	}
	if !bytes.Contains(b, []byte("/CreationDate (D:20000101000000)")) {
		t.Error("creation date is not the fixed default")
	}
}

// TestInfoDictionaryText checks that the information dictionary's text
// strings come back exactly, including characters above U+FFFF (which
// fpdf's own UTF-8 conversion garbles) and characters whose UTF-16 bytes
// are ( ) \ CR or LF, and that the PDF stays valid and deterministic.
func TestInfoDictionaryText(t *testing.T) {
	t.Parallel()
	pdfinfo := tool(t, "pdfinfo")
	qpdf := tool(t, "qpdf")
	tests := []struct {
		name string
		meta layouts.Meta
		opt  Options
	}{
		{"character above U+FFFF", layouts.Meta{Title: "Org 𐌀 López", Author: "Org 𐌀 López", Subject: "𐌀𐌁𐌂 subject", Keywords: "𐌀, López"},
			Options{Creator: "Carta 𐌀", Producer: "Producer 𐌀"}},
		{"UTF-16 bytes needing escapes", layouts.Meta{Title: "ന⡜尩ഊਊ (a) \\ b", Author: "López Obrador", Subject: "Mélanie Joly", Keywords: "ഊ"},
			Options{Creator: "Carta"}},
		{"Latin and Greek", layouts.Meta{Title: "Lettre à la ministre — Ελληνικά", Author: "Comitė Ciudadano", Subject: "Test", Keywords: "carta, prueba"},
			Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := &layouts.Document{Width: a4w, Height: a4h, Meta: tt.meta, Pages: []layouts.Page{{}}}
			b, err := Write(doc, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Write(doc, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, again) {
				t.Error("two writes of the same document differ")
			}
			file := writeTemp(t, b)
			out, err := exec.Command(pdfinfo, "-enc", "UTF-8", file).CombinedOutput()
			if err != nil {
				t.Fatalf("pdfinfo: %v\n%s", err, out)
			}
			fields := map[string]string{
				"Title": tt.meta.Title, "Author": tt.meta.Author, "Subject": tt.meta.Subject,
				"Keywords": tt.meta.Keywords, "Creator": tt.opt.Creator, "Producer": producer(tt.opt),
			}
			got := map[string]string{}
			for _, l := range strings.Split(string(out), "\n") {
				if k, v, ok := strings.Cut(l, ":"); ok {
					got[k] = strings.TrimLeft(v, " ")
				}
			}
			for k, want := range fields {
				if want == "" {
					continue
				}
				if got[k] != want {
					t.Errorf("pdfinfo %s = %q, want %q\n%s", k, got[k], want, out)
				}
			}
			c, err := exec.Command(qpdf, "--check", file).CombinedOutput()
			if err != nil || !strings.Contains(string(c), "No syntax or stream encoding errors") || strings.Contains(strings.ToLower(string(c)), "warning") {
				t.Errorf("qpdf --check: %v\n%s", err, c)
			}
		})
	}
}

func TestProducer(t *testing.T) {
	t.Parallel()
	pdfinfo := tool(t, "pdfinfo")
	tests := []struct {
		name string
		opt  Options
		want string
	}{
		{"from the creator", Options{Creator: "Carta 0.1.0"}, "Carta 0.1.0 (codeberg.org/go-pdf/fpdf v0.12.0)"},
		{"no creator", Options{}, "Carta (codeberg.org/go-pdf/fpdf v0.12.0)"},
		{"given", Options{Creator: "Carta 0.1.0", Producer: "Other"}, "Other"},
	}
	doc := &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := Write(doc, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(pdfinfo, "-enc", "UTF-8", writeTemp(t, b)).CombinedOutput()
			if err != nil {
				t.Fatalf("pdfinfo: %v\n%s", err, out)
			}
			if want := "Producer:        " + tc.want + "\n"; !strings.Contains(string(out), want) {
				t.Errorf("pdfinfo lacks %q:\n%s", want, out)
			}
		})
	}
}

// TestFpdfModule keeps the version in the default producer in step with
// the fpdf go.mod requires.
func TestFpdfModule(t *testing.T) {
	t.Parallel()
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(mod), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "require "))
		if len(f) >= 2 && f[0] == "codeberg.org/go-pdf/fpdf" {
			if got := f[0] + " " + f[1]; got != fpdfModule {
				t.Errorf("fpdfModule = %q, but go.mod requires %q", fpdfModule, got)
			}
			return
		}
	}
	t.Error("go.mod does not require fpdf")
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	doc := extractionDoc()
	doc.Pages[1].Images = testImages(t)
	a, err := Write(doc, Options{Creator: "Carta"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := Write(doc, Options{Creator: "Carta"})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatal("two writes of the same document differ")
		}
	}
}

func TestNoUTF8FontPath(t *testing.T) {
	t.Parallel()
	b, err := Write(extractionDoc(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"/Identity-H", "/CIDFontType2", "/Type1"} {
		if bytes.Contains(b, []byte(bad)) {
			t.Errorf("PDF contains %s", bad)
		}
	}
	// The fonts are symbolic with their own (3,0) cmap and no
	// Differences (PDF/A-1 refuses them on a TrueType font).
	if bytes.Contains(b, []byte("/Differences")) {
		t.Error("a font has a Differences encoding")
	}
	if !regexp.MustCompile(`/Flags (4|6|68|70|5|7|69|71) `).Match(b) {
		t.Error("no symbolic font descriptor")
	}
}

func testImages(t *testing.T) []layouts.Image {
	t.Helper()
	// Distinct pixel widths; images sharing one are tested in
	// images_test.go.
	img := func(w int) *image.RGBA {
		m := image.NewRGBA(image.Rect(0, 0, w, 4))
		for x := range w {
			m.Set(x, x%4, color.RGBA{R: 255, A: 255})
		}
		return m
	}
	var p, j bytes.Buffer
	if err := png.Encode(&p, img(8)); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, img(12), nil); err != nil {
		t.Fatal(err)
	}
	return []layouts.Image{
		{X: 36, Y: 100, W: 80, H: 40, Data: p.Bytes(), Format: "png", Name: "logo"},
		{X: 136, Y: 100, W: 80, H: 40, Data: j.Bytes(), Format: "jpeg", Name: "signature"},
		{X: 236, Y: 100, W: 40, H: 20, Data: p.Bytes(), Format: "png", Name: "logo"},
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	reg := fonts.Serif().Face(fonts.Regular)
	ok := []layouts.Text{{X: 10, Y: 10, Size: 10, Face: reg, S: "ok"}}
	img := testImages(t)
	tests := []struct {
		name string
		doc  *layouts.Document
		want string
	}{
		{"nil document", nil, "write pdf: no document"},
		{"no pages", &layouts.Document{Width: a4w, Height: a4h}, "write pdf: document has no pages"},
		{"zero size", &layouts.Document{Pages: []layouts.Page{{Texts: ok}}}, "write pdf: bad page size 0x0"},
		{"uncovered rune", &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{Texts: []layouts.Text{{Size: 10, Face: reg, S: "a🙂"}}}}},
			`write pdf: page 1: text "a🙂": font LiberationSerif has no glyph for "🙂" (U+1F642)`},
		{"no face", &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{Texts: []layouts.Text{{Size: 10, S: "a"}}}}},
			`write pdf: page 1: text "a" has no face`},
		{"bad language", &layouts.Document{Width: a4w, Height: a4h, Meta: layouts.Meta{Language: "en) /Foo ("}, Pages: []layouts.Page{{Texts: ok}}},
			`write pdf: bad language tag "en) /Foo ("`},
		{"image name clash", &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{Images: []layouts.Image{img[0], {Name: "logo", Format: "jpeg", Data: img[1].Data, W: 1, H: 1}}}}},
			`write pdf: page 1: image "logo": two different images share the name`},
		{"zero font size", &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{Texts: []layouts.Text{{Face: reg, S: "a"}}}}},
			`write pdf: page 1: text "a": bad position or size (0, 0, 0pt)`},
		{"NaN rule", &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{Rules: []layouts.Rule{{X1: math.NaN()}}}}},
			`write pdf: page 1: rule: bad coordinates or width`},
		{"empty image box", &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{Images: []layouts.Image{{Name: "logo", Format: "png", Data: img[0].Data}}}}},
			`write pdf: page 1: image "logo": bad box`},
		{"image format", &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{Images: []layouts.Image{{Name: "x", Format: "gif", Data: []byte("GIF89a"), W: 1, H: 1}}}}},
			`write pdf: page 1: image "x": unsupported format "gif"`},
		{"corrupt image", &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{{Images: []layouts.Image{{Name: "x", Format: "png", Data: []byte("not a png"), W: 1, H: 1}}}}},
			`write pdf: page 1: image "x": `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Write(tc.doc, Options{})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestAppendNum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"}, {1, "1"}, {-1, "-1"}, {0.5, "0.5"}, {12.25, "12.25"},
		{841.89, "841.89"}, {0.0004, "0"}, {-0.0004, "0"}, {1.0005, "1.001"},
		{-3.125, "-3.125"}, {100.1, "100.1"}, {0.05, "0.05"},
	}
	for _, tc := range tests {
		if got := string(appendNum(nil, tc.v)); got != tc.want {
			t.Errorf("appendNum(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestZlibCompressRoundTrip(t *testing.T) {
	t.Parallel()
	sub, err := fonts.Serif().Face(fonts.Regular).Subset([]rune(" Comitė"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]byte{nil, []byte("a"), sub} {
		z, err := zlibCompress(in)
		if err != nil {
			t.Fatal(err)
		}
		r, err := zlib.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, in) {
			t.Errorf("round trip of %d bytes: got %d bytes, %v", len(in), len(got), err)
		}
	}
}
