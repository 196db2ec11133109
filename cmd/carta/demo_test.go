package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carta-letters/carta/cmd/carta/demo"
)

// TestDemo runs "carta demo -exit" twice on one data folder: the first run
// renders the reference letter through NATS, the worker and S3; the second
// (a restart) finds the letter already done and stored.
func TestDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := wantSHA256(t, demo.ReferenceJob)
	pdf := filepath.Join(dir, "out", "cda-nals-2023-joint-letter.pdf")
	args := []string{"-exit", "-data", dir, "-nats-addr", "127.0.0.1:0", "-s3-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0", "-addr", "127.0.0.1:0"}
	for _, run := range []string{"first run renders the letter", "restart finds the stored letter"} {
		var stdout, stderr bytes.Buffer
		if code := runDemo(context.Background(), args, &stdout, &stderr); code != exitOK {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", run, code, &stdout, &stderr)
		}
		for _, s := range []string{"NATS        nats://127.0.0.1:", "S3          http://127.0.0.1:", "/metrics", "staff page  http://127.0.0.1:", "saved to    " + pdf, "sha256 " + want} {
			if !strings.Contains(stdout.String(), s) {
				t.Errorf("%s: stdout lacks %q:\n%s", run, s, &stdout)
			}
		}
		if got := fileSHA256(t, pdf); got != want {
			t.Fatalf("%s: PDF sha256 %s, renderer gives %s", run, got, want)
		}
		if got := fileSHA256(t, filepath.Join(dir, "s3", "carta", "letters", "cda-nals-2023-joint-letter.pdf")); got != want {
			t.Fatalf("%s: stored object sha256 %s, renderer gives %s", run, got, want)
		}
	}
}

func TestDemoFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unexpected argument", []string{"job.json"}, exitInvalid, `unexpected argument "job.json"`},
		{"bad log level", []string{"-log-level", "loud"}, exitInvalid, "-log-level"},
		{"bad concurrency", []string{"-concurrency", "0"}, exitInvalid, "positive integer"},
		{"help", []string{"-h"}, exitOK, "usage: carta demo"},
		{"staff page on all interfaces", []string{"-addr", "0.0.0.0:8080"}, exitInvalid, "-addr (CARTA_ADDR) must be a loopback address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := runDemo(context.Background(), tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, &stderr, tc.code, tc.stderr)
			}
		})
	}
}
