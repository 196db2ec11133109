package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/job"
)

// corpusDir holds the malformed-job corpus and its cases.json.
var corpusDir = filepath.Join("..", "..", "renderer", "job", "testdata", "invalid")

// corpusCase is one malformed job and the problem its refusal must name.
type corpusCase struct {
	name    string // the file name without .json
	path    string // the job file
	field   string // the field the error must name ("" for the job as a whole)
	message string // a fragment of that problem's message
}

// loadCorpus reads cases.json, checks that every job file has an entry
// and every entry a file, and adds jobs too large to keep in testdata
// (written under dir).
func loadCorpus(t *testing.T, dir string) []corpusCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(corpusDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct{ Field, Message string }
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("parse cases.json: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := filepath.Base(f); name != "cases.json" && want[name] == (struct{ Field, Message string }{}) {
			t.Errorf("%s has no entry in cases.json", name)
		}
	}
	var cases []corpusCase
	for _, name := range slices.Sorted(maps.Keys(want)) {
		path := filepath.Join(corpusDir, name)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("cases.json names %s: %v", name, err)
			continue
		}
		w := want[name]
		cases = append(cases, corpusCase{strings.TrimSuffix(name, ".json"), path, w.Field, w.Message})
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases in %s", len(cases), corpusDir)
	}
	// Too large for testdata: a valid job padded past the job limit, and
	// one many times over it (the CLI must not read it whole).
	valid, err := os.ReadFile(referenceJob)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		name string
		size int
	}{
		{"generated-over-job-limit", job.MaxJobBytes + 1},
		{"generated-eight-times-the-limit", 8 * job.MaxJobBytes},
	} {
		path := filepath.Join(dir, g.name+".json")
		data := append(bytes.Clone(valid), bytes.Repeat([]byte(" "), g.size-len(valid))...)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, corpusCase{g.name, path, "", fmt.Sprintf("the limit is %d", job.MaxJobBytes)})
	}
	return cases
}

// wantProblemLine checks that stderr has a line "FIELD: MESSAGE" naming
// the field with a message containing fragment, or, for a problem of the
// job as a whole (field ""), a line containing fragment.
func wantProblemLine(t *testing.T, stderr, field, fragment string) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, ": ") {
			t.Errorf("stderr line %q has an empty field name", line)
		}
	}
	for _, line := range strings.Split(stderr, "\n") {
		if field == "" && strings.Contains(line, fragment) {
			return
		}
		if msg, ok := strings.CutPrefix(line, field+": "); ok && field != "" && strings.Contains(msg, fragment) {
			return
		}
	}
	t.Errorf("stderr has no line %q containing %q; stderr:\n%s", field+": ", fragment, stderr)
}

// TestMalformedCorpus runs every job of the malformed-job corpus through
// "carta validate" and "carta render -o": both refuse it with exit 2,
// name the field cases.json expects, print nothing on standard output
// and write no file.
func TestMalformedCorpus(t *testing.T) {
	t.Parallel()
	cases := loadCorpus(t, t.TempDir())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			t.Run("validate", func(t *testing.T) {
				t.Parallel()
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), []string{"validate", tc.path}, &stdout, &stderr)
				if code != exitInvalid {
					t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInvalid, stderr.String())
				}
				if stdout.Len() != 0 {
					t.Errorf("stdout = %q, want nothing", stdout.String())
				}
				wantProblemLine(t, stderr.String(), tc.field, tc.message)
			})
			t.Run("render", func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				out := filepath.Join(dir, "out.pdf")
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), []string{"render", tc.path, "-o", out}, &stdout, &stderr)
				if code != exitInvalid {
					t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInvalid, stderr.String())
				}
				if stdout.Len() != 0 {
					t.Errorf("stdout = %q, want nothing", stdout.String())
				}
				wantProblemLine(t, stderr.String(), tc.field, tc.message)
				entries, err := os.ReadDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					t.Errorf("render of an invalid job left %s behind", e.Name())
				}
			})
		})
	}
}
