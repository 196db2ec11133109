package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/job"
	"github.com/carta-letters/carta/renderer/job/jobtest"
)

// loadCorpus is the malformed-job corpus (see jobtest) with jobs too
// large to keep in testdata, written under dir: a valid job padded past
// the job limit, and one many times over it (the CLI must not read it
// whole).
func loadCorpus(t *testing.T, dir string) []jobtest.Case {
	t.Helper()
	cases := jobtest.Corpus(t)
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
		if err := os.WriteFile(path, jobtest.Padded(valid, g.size), 0o644); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, jobtest.Case{Name: g.name, Path: path, Message: fmt.Sprintf("the limit is %d", job.MaxJobBytes)})
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
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			t.Run("validate", func(t *testing.T) {
				t.Parallel()
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), []string{"validate", tc.Path}, &stdout, &stderr)
				if code != exitInvalid {
					t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInvalid, stderr.String())
				}
				if stdout.Len() != 0 {
					t.Errorf("stdout = %q, want nothing", stdout.String())
				}
				wantProblemLine(t, stderr.String(), tc.Field, tc.Message)
			})
			t.Run("render", func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				out := filepath.Join(dir, "out.pdf")
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), []string{"render", tc.Path, "-o", out}, &stdout, &stderr)
				if code != exitInvalid {
					t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInvalid, stderr.String())
				}
				if stdout.Len() != 0 {
					t.Errorf("stdout = %q, want nothing", stdout.String())
				}
				wantProblemLine(t, stderr.String(), tc.Field, tc.Message)
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
