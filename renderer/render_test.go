package renderer_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// referenceJob is the real 2023 joint letter every rendering is held to.
const referenceJob = "../../shared/jobs/nals-2023.json"

// pdfcheck is the shared checker: structure, page size, fonts, text,
// margins and overlap.
const pdfcheck = "../../shared/tools/pdfcheck"

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return data
}

// requireTools skips when the PDF tools are missing on a developer's
// machine, and fails in CI, where .ci/run installs them.
func requireTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pdftotext", "pdfinfo", "pdffonts", "qpdf", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed; .ci/run installs poppler-utils and qpdf", tool)
			}
			t.Skipf("%s is not installed (apt-get install poppler-utils qpdf)", tool)
		}
	}
	if _, err := os.Stat(pdfcheck); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pdfcheck missing at %s: ../shared must sit beside the repository", pdfcheck)
		}
		t.Skipf("pdfcheck missing at %s", pdfcheck)
	}
}

// bigListJob is the reference letter with 640 signatories in four columns,
// group members and notes included.
func bigListJob(t testing.TB) []byte {
	var m map[string]any
	if err := json.Unmarshal(readFile(t, referenceJob), &m); err != nil {
		t.Fatal(err)
	}
	m["id"] = "big-list-640"
	letter := m["letter"].(map[string]any)
	var entries []any
	for i := range 640 {
		e := map[string]any{"name": fmt.Sprintf("Organización Número %d de la Sociedad Civil", i+1)}
		if i%97 == 5 {
			e["members"] = []any{"Servicio Jesuita a Migrantes", "Niñez Migrante A.C.", "Comitė Ciudadano"}
			e["note"] = "Secretaría Técnica."
		}
		entries = append(entries, e)
	}
	letter["signatories"] = map[string]any{"columns": 4, "entries": entries, "sort": "alpha"}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRenderPassesPdfcheck(t *testing.T) {
	t.Parallel()
	requireTools(t)
	cases := []struct {
		name string
		job  func(t testing.TB) []byte
	}{
		{"reference joint statement", func(t testing.TB) []byte { return readFile(t, referenceJob) }},
		{"formal French letter to an embassy on A4", func(t testing.TB) []byte { return readFile(t, "testdata/jobs/fr-embassy.json") }},
		{"Greek Cyrillic and Vietnamese names", func(t testing.TB) []byte { return readFile(t, "testdata/jobs/scripts.json") }},
		{"decomposed accents normalised to NFC", func(t testing.TB) []byte { return readFile(t, "testdata/jobs/decomposed.json") }},
		{"Japanese recipient, Chinese and Korean signers in an English letter", func(t testing.TB) []byte { return readFile(t, "testdata/jobs/cjk.json") }},
		{"long unbreakable tokens in four columns", func(t testing.TB) []byte { return readFile(t, "testdata/jobs/long-tokens.json") }},
		{"640 signatories in four columns", bigListJob},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := tc.job(t)
			_, res, err := renderer.RenderJSON(data)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			dir := t.TempDir()
			jobPath, pdfPath := filepath.Join(dir, "job.json"), filepath.Join(dir, "letter.pdf")
			if err := os.WriteFile(jobPath, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pdfPath, res.PDF, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(pdfcheck, jobPath, pdfPath).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "6/6 checks passed") {
				t.Fatalf("pdfcheck: %v\n%s", err, out)
			}
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	t.Parallel()
	data := readFile(t, referenceJob)
	_, a, err := renderer.RenderJSON(data)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	_, b, err := renderer.RenderJSON(data)
	if err != nil {
		t.Fatalf("render again: %v", err)
	}
	if !bytes.Equal(a.PDF, b.PDF) || a.SHA256 != b.SHA256 {
		t.Fatalf("two renders of the same job differ: %s vs %s", a.SHA256, b.SHA256)
	}
	if a.Pages < 2 {
		t.Fatalf("reference letter has %d pages, want several", a.Pages)
	}
}

func TestRenderRefusesUncoveredCharacters(t *testing.T) {
	t.Parallel()
	_, res, err := renderer.RenderJSON(readFile(t, "testdata/jobs/emoji.json"))
	if res != nil {
		t.Fatal("an invalid job rendered a PDF")
	}
	var verr *job.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("err = %v, want *job.ValidationError", err)
	}
	msg := err.Error()
	for _, want := range []string{"letter.body[0].text", "letter.signatories.entries[1].name", "U+1F642"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	j, err := job.Decode(readFile(b, referenceJob))
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

// BenchmarkRenderJSON is what a worker pays per job: decode, validate and
// render the reference job's JSON bytes.
func BenchmarkRenderJSON(b *testing.B) {
	data := readFile(b, referenceJob)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := renderer.RenderJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRenderRefusesTooManyPages(t *testing.T) {
	t.Parallel()
	blank := strings.Repeat("a\n", 5400)
	body := make([]job.Block, 40)
	for i := range body {
		body[i] = job.Block{Text: &blank}
	}
	data, err := json.Marshal(&job.Job{
		Schema: job.Schema, ID: "too-many-pages", Letterhead: job.Letterhead{Name: "Coalition"},
		Letter: job.Letter{Recipients: []job.Person{{Name: "Minister"}}, Salutation: "Dear Minister,", Body: body, Closing: "Sincerely,"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := renderer.RenderJSON(data)
	var verr *job.ValidationError
	if res != nil || !errors.As(err, &verr) || !strings.Contains(err.Error(), "the limit is 200") {
		t.Fatalf("RenderJSON = %v, %v; want a validation error naming the page limit", res, err)
	}
}

func TestBigListPageCount(t *testing.T) {
	t.Parallel()
	_, res, err := renderer.RenderJSON(bigListJob(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("640 signatories in four columns: %d pages", res.Pages)
	if res.Pages > renderer.MaxPages/10 {
		t.Fatalf("640 signatories took %d pages", res.Pages)
	}
}
