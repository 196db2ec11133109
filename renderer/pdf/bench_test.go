package pdf

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts"
)

// benchDoc builds a four-page letter-like document of about 25,000
// characters: justified-looking lines of mixed-language text with bold
// and italic words, a bold heading per page and a rule, laid out greedily
// with the faces' real widths.
func benchDoc() *layouts.Document {
	words := strings.Fields(`The coalition Comitė Ciudadano writes to the Ministry regarding
the consultation of 12 March: López Obrador, Mélanie Joly and Nguyễn Thị Ánh signed
the “open letter” — which asks for transparency – together with partners in Ελλάδα,
Україна and România (ș, ț). We request a meeting… Sincerely, Zoë Øberg-Łukasiewicz;
naïve café façade déjà vu Ångström Straße ŠKODA Ærø Ísafjörður Đorđević ő ű`)
	fam := fonts.Serif()
	doc := &layouts.Document{Width: a4w, Height: a4h, Meta: layouts.Meta{Title: "Benchmark letter", Author: "Carta", Language: "en"}}
	const size, lead, left, right, top, bottom = 10.0, 12.0, 60.0, 535.0, 90.0, 790.0
	wi := 0
	chars := 0
	for p := 0; p < 4; p++ {
		var pg layouts.Page
		pg.Texts = append(pg.Texts, layouts.Text{X: left, Y: 60, Size: 14, Face: fam.Face(fonts.Bold), S: "Re: Consultation — page " + string(rune('1'+p))})
		pg.Rules = append(pg.Rules, layouts.Rule{X1: left, Y1: 70, X2: right, Y2: 70, Width: 0.5, Color: layouts.RGB{R: 90, G: 90, B: 90}})
		for y := top; y < bottom; y += lead {
			x := left
			var run strings.Builder
			st := fonts.Regular
			flush := func() {
				if run.Len() > 0 {
					s := run.String()
					f := fam.Face(st)
					pg.Texts = append(pg.Texts, layouts.Text{X: x, Y: y, Size: size, Face: f, S: s})
					x += f.Width(s, size)
					chars += len(s)
					run.Reset()
				}
			}
			for {
				w := words[wi%len(words)]
				ws := fonts.Regular
				switch wi % 17 {
				case 3:
					ws = fonts.Bold
				case 9:
					ws = fonts.Italic
				}
				if ws != st {
					flush()
					st = ws
				}
				if x+fam.Face(st).Width(run.String()+w, size) > right {
					break
				}
				run.WriteString(w)
				run.WriteByte(' ')
				wi++
			}
			flush()
		}
		doc.Pages = append(doc.Pages, pg)
	}
	_ = chars
	return doc
}

func TestBenchDocSize(t *testing.T) {
	t.Parallel()
	doc := benchDoc()
	n, runs := 0, 0
	for _, p := range doc.Pages {
		for _, tx := range p.Texts {
			n += len([]rune(tx.S))
			runs++
		}
	}
	if n < 20000 || n > 30000 || len(doc.Pages) != 4 {
		t.Errorf("benchmark document has %d characters on %d pages, want about 25,000 on 4", n, len(doc.Pages))
	}
	t.Logf("%d characters in %d runs", n, runs)
}

func BenchmarkWrite(b *testing.B) {
	doc := benchDoc()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		out, err := Write(doc, Options{Creator: "Carta bench"})
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}

// BenchmarkToUnicode measures the incremental update that adds the
// ToUnicode maps, on the benchmark letter's fpdf output.
func BenchmarkToUnicode(b *testing.B) {
	doc := benchDoc()
	out, err := Write(doc, Options{Creator: "Carta bench"})
	if err != nil {
		b.Fatal(err)
	}
	// Write appends the update in place, in the spare capacity of its
	// output buffer; so does the benchmark.
	orig := out[:bytes.Index(out, []byte("%%EOF\n"))+len("%%EOF\n")]
	orig = append(make([]byte, 0, len(out)+64<<10), orig...)
	order, _, _, err := planFonts(doc)
	if err != nil {
		b.Fatal(err)
	}
	var e embedder
	var chunks []*chunk
	for _, u := range order {
		for _, c := range u.chunks {
			if _, _, err := e.chunkFont(u.face, c, nil); err != nil {
				b.Fatal(err)
			}
			chunks = append(chunks, c)
		}
	}
	for _, compress := range []bool{false, true} {
		b.Run(fmt.Sprintf("compress=%v", compress), func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				up, err := addToUnicode(orig, chunks, compress)
				if err != nil {
					b.Fatal(err)
				}
				n = len(up) - len(orig)
			}
			b.ReportMetric(float64(n), "update-bytes")
			b.ReportMetric(float64(len(chunks)), "fonts")
		})
	}
}

// BenchmarkNormalizeJPEG measures the rare path of an image re-encoded
// to pad it: a one-megapixel photograph decoded, widened by a column and
// encoded as PNG.
func BenchmarkNormalizeJPEG(b *testing.B) {
	m := image.NewNRGBA(image.Rect(0, 0, 1000, 1000))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 7)
	}
	var j bytes.Buffer
	if err := jpeg.Encode(&j, m, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := normalize(j.Bytes(), "jpeg", 1); err != nil {
			b.Fatal(err)
		}
	}
}
