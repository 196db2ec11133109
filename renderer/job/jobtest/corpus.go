package jobtest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// MinCases is the fewest cases the corpus may have.
const MinCases = 40

// Case is one malformed job of the corpus and the problem its refusal
// must name.
type Case struct {
	Name    string // the file name without .json
	Path    string // the job file
	Data    []byte // its contents
	Field   string // the field the error must name ("" for the job as a whole)
	Message string // a fragment of that problem's message
}

// Dir is the corpus folder, found from this source file so that tests of
// any package can read it.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "invalid")
}

// Corpus reads cases.json and every job file, in name order. It fails tb
// when a job file has no entry, an entry has no file, or there are fewer
// than MinCases cases.
func Corpus(tb testing.TB) []Case {
	tb.Helper()
	dir := Dir()
	raw, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var want map[string]struct{ Field, Message string }
	if err := json.Unmarshal(raw, &want); err != nil {
		tb.Fatalf("parse cases.json: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range files {
		if name := filepath.Base(f); name != "cases.json" {
			if _, ok := want[name]; !ok {
				tb.Errorf("%s has no entry in cases.json", name)
			}
		}
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	cases := make([]Case, 0, len(names))
	for _, name := range names {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Errorf("cases.json names %s: %v", name, err)
			continue
		}
		w := want[name]
		cases = append(cases, Case{strings.TrimSuffix(name, ".json"), path, data, w.Field, w.Message})
	}
	if len(cases) < MinCases {
		tb.Fatalf("only %d cases in %s", len(cases), dir)
	}
	return cases
}

// Padded returns job with spaces appended up to n bytes: a job too large
// to keep in testdata.
func Padded(job []byte, n int) []byte {
	return append(bytes.Clone(job), bytes.Repeat([]byte(" "), n-len(job))...)
}
