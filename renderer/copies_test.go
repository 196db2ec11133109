package renderer_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// windowRecipients are three embassies; the first gets as many address
// lines as a test asks for.
func windowRecipients(lines int) []any {
	first := map[string]any{"honorific": "S.E.", "name": "Andrés Manuel López Obrador"}
	more := []string{"Presidente de los Estados Unidos Mexicanos", "Palacio Nacional", "Plaza de la Constitución s/n", "Col. Centro", "Alcaldía Cuauhtémoc", "06066 Ciudad de México", "México"}
	var addr []any
	for k := 1; k < lines; k++ {
		switch k {
		case 1:
			first["title"] = more[0]
		case 2:
			first["organization"] = more[1]
		default:
			addr = append(addr, more[k-1])
		}
	}
	if len(addr) > 0 {
		first["address"] = addr
	}
	return []any{first,
		map[string]any{"name": "Mélanie Joly", "title": "Minister of Foreign Affairs", "organization": "Global Affairs Canada", "address": []any{"125 Sussex Drive", "Ottawa, ON K1A 0G2"}, "country": "Canada"},
		map[string]any{"honorific": "Frau", "name": "Annalena Baerbock", "organization": "Auswärtiges Amt", "address": []any{"Werderscher Markt 1", "10117 Berlin"}, "country": "Deutschland"},
	}
}

// windowJob is a letter in layout to three recipients, the first with an
// address of the given number of lines.
func windowJob(t testing.TB, layout string, lines int, copies bool) []byte {
	t.Helper()
	paper, locale := "a4", "de-DE"
	recipients := windowRecipients(lines)
	if layout == "us-window" {
		paper, locale = "letter", "en-US"
		delete(recipients[1].(map[string]any), "title") // five lines, as many as the window holds
	}
	m := map[string]any{
		"schema": "letter/v1", "id": "embassies-2024", "layout": layout, "locale": locale, "page_size": paper,
		"letterhead": map[string]any{"name": "Comitė Ciudadano por los Derechos", "lines": []any{"Calle 5 de Mayo 12, 06000 Ciudad de México", "+52 55 1234 5678 · info@example.org"}},
		"letter": map[string]any{
			"date": "2024-03-01", "reference": "CC/2024/017",
			"recipients": recipients,
			"subject":    "Protection of asylum seekers at the northern border",
			"salutation": "Excellencies,",
			"body":       []any{map[string]any{"text": "We write to you about the situation at the border, and ask for a meeting."}},
			"closing":    "Sincerely,",
			"signers":    []any{map[string]any{"name": "Ana López", "title": "Coordinator"}},
		},
	}
	if copies {
		m["output"] = map[string]any{"copies": "per-recipient"}
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

const mm = 72 / 25.4

// windowMaxLines is the most lines of Latin text a layout's window takes.
func windowMaxLines(layout string) int {
	if layout == "us-window" {
		return 5
	}
	return 8
}

type word struct {
	x0, y0, x1, y1 float64
	s              string
}

var (
	pageRE = regexp.MustCompile(`(?s)<page width="[\d.]+" height="[\d.]+">(.*?)</page>`)
	wordRE = regexp.MustCompile(`<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>`)
)

// firstPageWords reads the word boxes of a PDF's first page back with
// pdftotext -bbox: points from the top-left corner.
func firstPageWords(t *testing.T, pdf []byte) []word {
	t.Helper()
	path := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-bbox", "-enc", "UTF-8", "-f", "1", "-l", "1", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v", err)
	}
	pg := pageRE.FindSubmatch(out)
	if pg == nil {
		t.Fatal("pdftotext -bbox: no page")
	}
	var ws []word
	for _, m := range wordRE.FindAllSubmatch(pg[1], -1) {
		f := func(b []byte) float64 { v, _ := strconv.ParseFloat(string(b), 64); return v }
		ws = append(ws, word{f(m[1]), f(m[2]), f(m[3]), f(m[4]), html.UnescapeString(string(m[5]))})
	}
	return ws
}

// personWords returns the words of a recipient as printed in the window.
func personWords(p job.Person) []string {
	var ws []string
	for _, s := range []string{p.Honorific, p.Name, p.Title, p.Organization} {
		ws = append(ws, strings.Fields(s)...)
	}
	for _, s := range p.Address {
		ws = append(ws, strings.Fields(s)...)
	}
	return append(ws, strings.Fields(p.Country)...)
}

// checkAddressInWindow asserts that, on the first page, the words inside
// the window are exactly the recipient's address, in order, each box
// wholly inside the window (a DIN address field also shows the return
// address in its top 17.7 mm, which is skipped).
func checkAddressInWindow(t *testing.T, layout string, pdf []byte, p job.Person) {
	t.Helper()
	win, ok := layouts.AddressWindow(layout)
	if !ok {
		t.Fatalf("no window for %s", layout)
	}
	const tol = 0.01
	var got []string
	for _, w := range firstPageWords(t, pdf) {
		if w.x1 <= win.X || w.x0 >= win.X+win.W || w.y1 <= win.Y || w.y0 >= win.Y+win.H {
			continue // outside
		}
		if w.x0 < win.X-tol || w.x1 > win.X+win.W+tol || w.y0 < win.Y-tol || w.y1 > win.Y+win.H+tol {
			t.Errorf("%q at x %.2f–%.2f, y %.2f–%.2f crosses the window's edge (x %.2f–%.2f, y %.2f–%.2f)",
				w.s, w.x0, w.x1, w.y0, w.y1, win.X, win.X+win.W, win.Y, win.Y+win.H)
		}
		if strings.HasPrefix(layout, "din5008") && w.y1 <= win.Y+17.7*mm {
			continue // the return address, in the top 17.7 mm of the DIN address field
		}
		got = append(got, w.s)
	}
	want := personWords(p)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the window shows\n%q\nwant\n%q", got, want)
	}
}

// TestWindowAddressInPDF renders each window layout with addresses of
// three to eight lines (five in us-window) and reads the word boxes back from the PDF.
func TestWindowAddressInPDF(t *testing.T) {
	t.Parallel()
	requireTools(t)
	for _, layout := range []string{"din5008-a", "din5008-b", "us-window"} {
		for n := 3; n <= windowMaxLines(layout); n++ {
			t.Run(fmt.Sprintf("%s/%d-lines", layout, n), func(t *testing.T) {
				t.Parallel()
				j, res, err := renderer.RenderJSON(windowJob(t, layout, n, false))
				if err != nil {
					t.Fatal(err)
				}
				checkAddressInWindow(t, layout, res.PDF, j.Letter.Recipients[0])
			})
		}
	}
}

// TestWindowLayoutPassesPdfcheck runs the shared checker on window
// letters of each layout, with the longest address its window takes.
func TestWindowLayoutPassesPdfcheck(t *testing.T) {
	t.Parallel()
	requireTools(t)
	for _, layout := range []string{"din5008-a", "din5008-b", "us-window"} {
		t.Run(layout, func(t *testing.T) {
			t.Parallel()
			data := windowJob(t, layout, windowMaxLines(layout), true)
			outs, err := renderer.RenderAll(mustDecode(t, data))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			jobPath := filepath.Join(dir, "job.json")
			if err := os.WriteFile(jobPath, data, 0o644); err != nil {
				t.Fatal(err)
			}
			// The combined letter and the last copy (the others differ only
			// in the order of the addresses).
			for _, o := range []renderer.Output{outs[0], outs[len(outs)-1]} {
				pdfPath := filepath.Join(dir, o.Name+".pdf")
				if err := os.WriteFile(pdfPath, o.PDF, 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(pdfcheck, jobPath, pdfPath).CombinedOutput()
				if err != nil || !bytes.Contains(out, []byte("6/6 checks passed")) {
					t.Errorf("pdfcheck %s: %v\n%s", o.Name, err, out)
				}
			}
		})
	}
}

func mustDecode(t *testing.T, data []byte) *job.Job {
	t.Helper()
	j, err := job.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestRenderAllCopies renders one copy per recipient: each has its
// recipient in the window and names the others; keys are unique and
// under the job's prefix; the combined letter is Render's.
func TestRenderAllCopies(t *testing.T) {
	t.Parallel()
	requireTools(t)
	j := mustDecode(t, windowJob(t, "din5008-b", 5, true))
	outs, err := renderer.RenderAll(j)
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"letter", "copy-01-andres-manuel-lopez-obrador", "copy-02-melanie-joly", "copy-03-annalena-baerbock"}
	wantKeys := []string{"letters/embassies-2024.pdf", "letters/embassies-2024/copy-01-andres-manuel-lopez-obrador.pdf",
		"letters/embassies-2024/copy-02-melanie-joly.pdf", "letters/embassies-2024/copy-03-annalena-baerbock.pdf"}
	if len(outs) != len(wantNames) {
		t.Fatalf("%d outputs, want %d", len(outs), len(wantNames))
	}
	for k, o := range outs {
		if o.Name != wantNames[k] || o.Key != wantKeys[k] || o.Recipient != k-1 {
			t.Errorf("output %d: %s %s recipient %d; want %s %s %d", k, o.Name, o.Key, o.Recipient, wantNames[k], wantKeys[k], k-1)
		}
		if o.Pages < 1 || len(o.SHA256) != 64 {
			t.Errorf("output %d: %d pages, sha256 %q", k, o.Pages, o.SHA256)
		}
	}
	single, err := renderer.Render(j)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(single.PDF, outs[0].PDF) {
		t.Error("the combined letter differs from Render's")
	}
	for _, o := range outs[1:] {
		t.Run(o.Name, func(t *testing.T) {
			checkAddressInWindow(t, "din5008-b", o.PDF, j.Letter.Recipients[o.Recipient])
			text := pdfText(t, o.PDF)
			for _, p := range j.Letter.Recipients {
				if !strings.Contains(text, p.Name) {
					t.Errorf("copy does not name %s", p.Name)
				}
			}
		})
	}
	again, err := renderer.RenderAll(j)
	if err != nil {
		t.Fatal(err)
	}
	for k := range outs {
		if !bytes.Equal(outs[k].PDF, again[k].PDF) {
			t.Errorf("output %d differs between two renders", k)
		}
	}
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "copy.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// TestRenderAllWithoutCopies gives the combined letter alone.
func TestRenderAllWithoutCopies(t *testing.T) {
	t.Parallel()
	j := mustDecode(t, readFile(t, referenceJob))
	outs, err := renderer.RenderAll(j)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || outs[0].Name != "letter" || outs[0].Key != j.OutputKey() || outs[0].Recipient != -1 {
		t.Fatalf("outputs %+v", outs)
	}
}

// TestRenderAllRefusesAddress refuses the whole job when one copy's
// address cannot fit its window, naming that recipient.
func TestRenderAllRefusesAddress(t *testing.T) {
	t.Parallel()
	var m map[string]any
	if err := json.Unmarshal(windowJob(t, "us-window", 4, true), &m); err != nil {
		t.Fatal(err)
	}
	rs := m["letter"].(map[string]any)["recipients"].([]any)
	rs[2].(map[string]any)["address"] = []any{"Werderscher Markt 1", "Eingang Nord", "Pforte 3", "Zimmer 12", "10117 Berlin"}
	rs[2].(map[string]any)["title"] = "Bundesministerin des Auswärtigen"
	data, _ := json.Marshal(m)
	_, err := renderer.RenderAll(mustDecode(t, data))
	var verr *job.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("got %v, want a validation error", err)
	}
	want := "letter.recipients[2].address: 9 lines do not fit the us-window address window (at most 5): the name, the title, the organization, 5 address lines and the country"
	if len(verr.Problems) != 1 || verr.Problems[0].String() != want {
		t.Errorf("got %v\nwant %s", verr, want)
	}
	// Without copies only the first recipient goes in a window.
	delete(m, "output")
	data, _ = json.Marshal(m)
	if _, err := renderer.RenderAll(mustDecode(t, data)); err != nil {
		t.Errorf("without copies: %v", err)
	}
}

// TestCopyKey checks copy names and keys.
func TestCopyKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, recipient, want string
	}{
		{"default key", "", "Andrés Manuel López Obrador", "letters/x-1/copy-01-andres-manuel-lopez-obrador.pdf"},
		{"given key", "cartas/2024/nals.pdf", "Mélanie Joly", "cartas/2024/nals/copy-01-melanie-joly.pdf"},
		{"German and Nordic letters", "", "Jürgen Großmann-Øster", "letters/x-1/copy-01-jurgen-grossmann-oster.pdf"},
		{"Greek name", "", "Κυριάκος Μητσοτάκης", "letters/x-1/copy-01-recipient.pdf"},
		{"punctuation only between words", "", "  O'Neil / Smith & Co.  ", "letters/x-1/copy-01-o-neil-smith-co.pdf"},
		{"long name cut at a word", "", "Secretaría de Relaciones Exteriores de los Estados Unidos Mexicanos", "letters/x-1/copy-01-secretaria-de-relaciones-exteriores-de.pdf"},
		{"key of a bare .pdf", ".pdf", "Ana", "letter/copy-01-ana.pdf"},
		{"key ending in /..pdf", "a/..pdf", "Ana", "a/.letter/copy-01-ana.pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := &job.Job{ID: "x-1", Letter: job.Letter{Recipients: []job.Person{{Name: tt.recipient}}}}
			if tt.key != "" {
				j.Output = &job.Output{Key: tt.key, Copies: "per-recipient"}
			}
			got := renderer.CopyKey(j, 0)
			if got != tt.want {
				t.Errorf("CopyKey = %q, want %q", got, tt.want)
			}
			if len(got)-len(j.OutputKey()) > job.CopySuffixBytes {
				t.Errorf("copy key %d bytes longer than the letter's, limit %d", len(got)-len(j.OutputKey()), job.CopySuffixBytes)
			}
		})
	}
}
