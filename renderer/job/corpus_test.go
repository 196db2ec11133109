package job

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInvalidCorpus decodes every job in testdata/invalid and checks that
// it is refused with the field and message cases.json expects.
func TestInvalidCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "invalid")
	data, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("parse cases.json: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range files {
		name := filepath.Base(f)
		if name == "cases.json" {
			continue
		}
		seen++
		c, ok := cases[name]
		if !ok {
			t.Errorf("%s has no entry in cases.json", name)
			continue
		}
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			t.Parallel()
			job, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			j, err := Decode(job)
			if j != nil {
				t.Errorf("Decode returned a job with the error")
			}
			wantProblem(t, err, c.Field, c.Message)
		})
	}
	if seen != len(cases) {
		t.Errorf("cases.json has %d entries for %d files", len(cases), seen)
	}
	if seen < 40 {
		t.Errorf("only %d invalid jobs", seen)
	}
}
