package renderer_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// renderTimeLimit bounds one fuzzed render: the largest valid job renders
// in well under a second, so anything near this limit is a runaway.
const renderTimeLimit = 20 * time.Second

// checkRender renders data and fails on a panic, a hang, an error that is
// not a validation error for a job that decoded, or a result that is not
// a deterministic PDF.
func checkRender(t *testing.T, data []byte) {
	t.Helper()
	type outcome struct {
		res *renderer.Result
		err error
		j   *job.Job
	}
	done := make(chan outcome, 1)
	go func() {
		j, res, err := renderer.RenderJSON(data)
		done <- outcome{res, err, j}
	}()
	var o outcome
	select {
	case o = <-done:
	case <-time.After(renderTimeLimit):
		t.Fatalf("render did not finish within %v", renderTimeLimit)
	}
	if o.err != nil {
		var verr *job.ValidationError
		if o.j == nil && !errors.As(o.err, &verr) {
			t.Fatalf("decode failed without a *job.ValidationError: %v", o.err)
		}
		if o.j != nil && !errors.As(o.err, &verr) {
			t.Fatalf("a valid job failed to render: %v", o.err)
		}
		return
	}
	if !bytes.HasPrefix(o.res.PDF, []byte("%PDF-")) || o.res.Pages < 1 {
		t.Fatalf("render gave no PDF (%d bytes, %d pages)", len(o.res.PDF), o.res.Pages)
	}
	again, err := renderer.Render(o.j)
	if err != nil || !bytes.Equal(again.PDF, o.res.PDF) {
		t.Fatalf("second render of the same job differs (err %v)", err)
	}
}

// FuzzRenderJSON feeds whole job documents, seeded with every job in the
// repository, through decode, validation and rendering.
func FuzzRenderJSON(f *testing.F) {
	f.Add(readFile(f, referenceJob))
	seeds, _ := filepath.Glob("testdata/jobs/*.json")
	for _, p := range seeds {
		f.Add(readFile(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRender(t, data)
	})
}

// FuzzRenderFields puts fuzzed strings and numbers into the fields of a
// valid letter, so that most inputs pass validation and reach layout.
func FuzzRenderFields(f *testing.F) {
	f.Add("Comitė Ciudadano", "**Niñez** *Migrante* \\* \\\\", "https://example.org/"+string(bytes.Repeat([]byte("x"), 120)), 3, "es-MX", "a4", "alpha", 12)
	f.Add("Ελληνικά Українська", "Nguyễn Thị Ánh\nsecond line", "", 6, "fr-FR", "legal", "none", 1)
	f.Add("A", "*", "**", 1, "en-US", "letter", "", 400)
	f.Fuzz(func(t *testing.T, name, paragraph, token string, columns int, locale, pageSize, sort string, entries int) {
		if entries < 0 || entries > 700 {
			entries = 700
		}
		list := make([]job.Entry, 0, entries+2)
		for range entries {
			list = append(list, job.Entry{Name: name})
		}
		list = append(list, job.Entry{Name: token + "x", Members: []string{name, token + "y"}, Note: paragraph + "z"})
		j := job.Job{
			Schema:     job.Schema,
			ID:         "fuzz",
			Locale:     locale,
			PageSize:   pageSize,
			Letterhead: job.Letterhead{Name: name + "n", Lines: []string{token + "l"}},
			Letter: job.Letter{
				Recipients:  []job.Person{{Name: name + "r", Title: token + "t", Address: []string{paragraph + "a"}}},
				Salutation:  name + ",",
				Body:        []job.Block{{Text: &paragraph}, {List: []string{paragraph + "i", token + "j"}}, {Heading: &name}},
				Closing:     token + "c",
				Signatories: &job.Signatories{Columns: columns, Sort: sort, Entries: list},
			},
		}
		data, err := json.Marshal(&j)
		if err != nil {
			t.Skip()
		}
		checkRender(t, data)
	})
}

// TestFuzzCrashers replays inputs the fuzzers once found, kept as
// regression tests in testdata/crashers.
func TestFuzzCrashers(t *testing.T) {
	t.Parallel()
	paths, _ := filepath.Glob("testdata/crashers/*.json")
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			checkRender(t, data)
		})
	}
}
