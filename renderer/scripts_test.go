package renderer_test

import (
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// scriptJobs are letters in scripts that are shaped, set right to left
// or set without spaces between words.
var scriptJobs = []struct{ name, path string }{
	{"Arabic letter to an Arabic-speaking ministry, right to left", "testdata/jobs/arabic.json"},
	{"Hebrew letter to a ministry, right to left", "testdata/jobs/hebrew.json"},
	{"English letter with Arabic and Chinese signatories", "testdata/jobs/mixed-signatories.json"},
	{"Japanese recipient in an English letter", "testdata/jobs/cjk.json"},
}

// printedStrings returns the strings of j a reader must find in the PDF.
func printedStrings(j *job.Job) []string {
	var out []string
	add := func(ss ...string) {
		for _, s := range ss {
			if strings.TrimSpace(s) != "" {
				out = append(out, s)
			}
		}
	}
	add(j.Letterhead.Name)
	add(j.Letterhead.Lines...)
	l := &j.Letter
	add(l.Reference, l.Subject, l.Salutation, l.Closing)
	for _, p := range l.Recipients {
		add(p.Honorific, p.Name, p.Title, p.Organization, p.Country)
		add(p.Address...)
	}
	for _, b := range l.Body {
		if b.Text != nil {
			add(*b.Text)
		}
		add(b.List...)
	}
	for _, s := range l.Signers {
		add(s.Name, s.Title, s.Organization)
	}
	if sg := l.Signatories; sg != nil {
		for _, e := range sg.Entries {
			add(e.Name)
		}
	}
	return out
}

// foldText normalises text for comparison: NFC, lower case, without
// white space, hyphens at line ends, the bidi embedding marks poppler
// wraps right-to-left lines in, and combining marks (poppler attaches a
// vowel sign to the letter it is drawn over, which for fathatan before
// alef is the next one).
func foldText(s string) string {
	s = strings.ReplaceAll(s, "-\n", "")
	s = norm.NFD.String(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), r >= 0x202A && r <= 0x202E, r == 0x200E, r == 0x200F, unicode.Is(unicode.Mn, r):
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// noPunct drops brackets, guillemets and sentence punctuation.
func noPunct(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("()[]{}«».,:;!?،؛", r) {
			return -1
		}
		return r
	}, s)
}

var reBox = regexp.MustCompile(`<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>`)

// TestScriptsReadBack renders each letter and reads it back as a reader
// would: pdftotext returns every string of the job with its characters
// in logical order, no word lies in the printer's safe margin, no two
// words overlap, every font is embedded with a ToUnicode map (the
// shaped ones as Identity-H CID fonts), qpdf finds no error.
func TestScriptsReadBack(t *testing.T) {
	t.Parallel()
	requireTools(t)
	for _, tc := range scriptJobs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := readFile(t, tc.path)
			j, res, err := renderer.RenderJSON(data)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			pdfPath := filepath.Join(t.TempDir(), "letter.pdf")
			if err := os.WriteFile(pdfPath, res.PDF, 0o644); err != nil {
				t.Fatal(err)
			}
			// poppler rebuilds the logical order of right-to-left lines
			// from positions, by heuristics: its reading-order mode keeps
			// the lam-alef pair and marks together but moves a bracket
			// next to digits ("(... 2024)" comes out "(... )2024"), its
			// raw mode (content order, which Carta writes in logical
			// order) keeps brackets and digits but splits a word at the
			// zero-width alef of lam-alef; both put the punctuation that
			// ends a right-to-left sentence after a Latin name before it.
			// A string must come out whole in one of them, or in the
			// first with its brackets and punctuation left out (its
			// letters, words and numbers still in order).
			out, err := exec.Command("pdftotext", "-enc", "UTF-8", pdfPath, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			raw, err := exec.Command("pdftotext", "-raw", "-enc", "UTF-8", pdfPath, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext -raw: %v\n%s", err, raw)
			}
			text, rawText := foldText(string(out)), foldText(string(raw))
			for _, s := range printedStrings(j) {
				if f := foldText(s); !strings.Contains(text, f) && !strings.Contains(rawText, f) &&
					!strings.Contains(noPunct(text), noPunct(f)) {
					t.Errorf("%q is not extracted in order", s)
				}
			}
			if t.Failed() {
				t.Logf("pdftotext:\n%s\npdftotext -raw:\n%s", out, raw)
			}
			out, err = exec.Command("pdftotext", "-bbox", "-enc", "UTF-8", pdfPath, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext -bbox: %v\n%s", err, out)
			}
			type box struct {
				x0, y0, x1, y1 float64
				s              string
			}
			for p, page := range strings.Split(string(out), "</page>") {
				var ws []box
				for _, m := range reBox.FindAllStringSubmatch(page, -1) {
					var b box
					b.x0, _ = strconv.ParseFloat(m[1], 64)
					b.y0, _ = strconv.ParseFloat(m[2], 64)
					b.x1, _ = strconv.ParseFloat(m[3], 64)
					b.y1, _ = strconv.ParseFloat(m[4], 64)
					b.s = html.UnescapeString(m[5])
					ws = append(ws, b)
					const margin = 28.8
					if b.x0 < margin || b.y0 < margin || b.x1 > 612-margin || b.y1 > 841.89-margin {
						t.Errorf("page %d: %q at x %.1f–%.1f, y %.1f–%.1f lies in the safe margin", p+1, b.s, b.x0, b.x1, b.y0, b.y1)
					}
				}
				for i, a := range ws {
					for _, b := range ws[i+1:] {
						ix := min(a.x1, b.x1) - max(a.x0, b.x0)
						iy := min(a.y1, b.y1) - max(a.y0, b.y0)
						small := min((a.x1-a.x0)*(a.y1-a.y0), (b.x1-b.x0)*(b.y1-b.y0))
						if ix > 0.5 && iy > 0.5 && ix*iy > small/3 {
							t.Errorf("page %d: %q overlaps %q", p+1, a.s, b.s)
						}
					}
				}
			}
			out, err = exec.Command("pdffonts", pdfPath).CombinedOutput()
			if err != nil {
				t.Fatalf("pdffonts: %v\n%s", err, out)
			}
			rows := strings.Split(strings.TrimSpace(string(out)), "\n")[2:]
			cid := 0
			for _, r := range rows {
				f := strings.Fields(r)
				if len(f) < 5 || f[len(f)-5] != "yes" || f[len(f)-4] != "yes" || f[len(f)-3] != "yes" {
					t.Errorf("font not embedded as a subset with a ToUnicode map: %s", r)
				}
				if strings.Contains(r, "CID TrueType") {
					cid++
					if !strings.Contains(r, "Identity-H") {
						t.Errorf("CID font without Identity-H: %s", r)
					}
				}
			}
			if shaped := strings.Contains(tc.path, "arabic") || strings.Contains(tc.path, "hebrew") || strings.Contains(tc.path, "mixed"); shaped && cid == 0 {
				t.Errorf("no CID font for the shaped text:\n%s", out)
			}
			if out, err := exec.Command("qpdf", "--check", pdfPath).CombinedOutput(); err != nil {
				t.Errorf("qpdf --check: %v\n%s", err, out)
			}
		})
	}
}

// The lam-alef of "لا" is drawn as shaped glyphs and extracts as the
// two letters it stands for.
func TestLamAlefExtractsAsTwoLetters(t *testing.T) {
	t.Parallel()
	requireTools(t)
	data := []byte(`{"schema":"letter/v1","id":"lam-alef","locale":"ar","letterhead":{"name":"لا"},
	"letter":{"recipients":[{"name":"سلام"}],"salutation":"لا","body":[{"text":"لا للتمييز"}],"closing":"لا"}}`)
	_, res, err := renderer.RenderJSON(data)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	pdfPath := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(pdfPath, res.PDF, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", pdfPath, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	if got := foldText(string(out)); !strings.Contains(got, "لاللتمييز") || strings.ContainsRune(got, '\uFEFB') {
		t.Errorf("extracted %q, want لا للتمييز as its letters", out)
	}
}

// BenchmarkRenderArabic renders the Arabic letter to a ministry (shaped,
// right to left, mirrored, with CID fonts): to be read beside
// BenchmarkRender.
func BenchmarkRenderArabic(b *testing.B) {
	j, err := job.Decode(readFile(b, "testdata/jobs/arabic.json"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := renderer.Render(j); err != nil { // fonts prepared once per process
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := renderer.Render(j); err != nil {
			b.Fatal(err)
		}
	}
}

// Shaped and right-to-left letters are byte-for-byte deterministic too.
func TestScriptsDeterministic(t *testing.T) {
	t.Parallel()
	for _, tc := range scriptJobs {
		data := readFile(t, tc.path)
		_, a, err := renderer.RenderJSON(data)
		if err != nil {
			t.Fatalf("%s: render: %v", tc.name, err)
		}
		_, b, err := renderer.RenderJSON(data)
		if err != nil {
			t.Fatalf("%s: render again: %v", tc.name, err)
		}
		if a.SHA256 != b.SHA256 {
			t.Errorf("%s: two renders differ", tc.name)
		}
	}
}
