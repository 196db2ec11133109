package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// copiesJobFile writes the reference job asking for per-recipient copies,
// without any date, and returns its path and the decoded job.
func copiesJobFile(t *testing.T) (string, *job.Job) {
	t.Helper()
	data, err := os.ReadFile(referenceJob)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["output"] = map[string]any{"copies": "per-recipient"}
	delete(m["statement"].(map[string]any), "date")
	data, _ = json.Marshal(m)
	path := filepath.Join(t.TempDir(), "job.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := job.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return path, j
}

// TestRenderWritesCopies: "carta render JOB -o DIR" writes the combined
// letter and every copy under their S3 keys; with OUT.pdf the copies go
// in the folder OUT; an undated job is dated with -accepted, and the same
// -accepted gives the same bytes.
func TestRenderWritesCopies(t *testing.T) {
	t.Parallel()
	jobPath, j := copiesJobFile(t)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"render", jobPath, "-o", dir, "-accepted", "2024-03-01"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := []string{j.OutputKey()}
	for i := range j.Letter.Recipients {
		want = append(want, renderer.CopyKey(j, i))
	}
	var first []byte
	for i, key := range want {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
		if err != nil {
			t.Fatalf("output %d: %v\n%s", i, err, stdout.String())
		}
		if !bytes.Contains(data, []byte("/CreationDate (D:20240301")) {
			t.Errorf("%s is not dated 2024-03-01", key)
		}
		if i == 0 {
			first = data
		}
	}
	if n := strings.Count(stdout.String(), "\n"); n != len(want) || !strings.Contains(stdout.String(), "dated 2024-03-01 (accepted") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	// Again, to a .pdf path, accepted later the same day.
	out := filepath.Join(t.TempDir(), "nals.pdf")
	stdout.Reset()
	if code := run(context.Background(), []string{"render", jobPath, "-o", out, "-accepted", "2024-03-01T18:30:00-05:00"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	again, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, first) {
		t.Error("the same job with the same acceptance date gave different bytes")
	}
	for i := range j.Letter.Recipients {
		if _, err := os.Stat(filepath.Join(strings.TrimSuffix(out, ".pdf"), renderer.CopyName(j, i)+".pdf")); err != nil {
			t.Error(err)
		}
	}
	// Standard output holds one PDF only.
	if code := run(context.Background(), []string{"render", jobPath, "-o", "-"}, &stdout, &stderr); code != exitInvalid {
		t.Errorf("-o - with copies: exit %d, want %d", code, exitInvalid)
	}
	if code := run(context.Background(), []string{"render", jobPath, "-o", dir, "-accepted", "March 1"}, &stdout, &stderr); code != exitInvalid || !strings.Contains(stderr.String(), "-accepted") {
		t.Errorf("bad -accepted: exit %d, stderr %s", code, stderr.String())
	}
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) { return v, k == "CARTA_ACCEPTED" }
	}
	if d, err := acceptedDate("", env("2024-03-01")); err != nil || d.Format(time.DateOnly) != "2024-03-01" {
		t.Errorf("CARTA_ACCEPTED: %v, %v", d, err)
	}
	if _, err := acceptedDate("", env("yesterday")); err == nil || !strings.Contains(err.Error(), "CARTA_ACCEPTED") {
		t.Errorf("bad CARTA_ACCEPTED: %v", err)
	}
}
