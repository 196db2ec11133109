package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/renderer"
)

// startTestStack runs embedded NATS, the embedded S3 server and a worker
// on free loopback ports for one test.
func startTestStack(t *testing.T) *stack {
	t.Helper()
	st, err := startStack(context.Background(), stackConfig{
		dataDir: t.TempDir(), natsAddr: "127.0.0.1:0", s3Addr: "127.0.0.1:0", bucket: "carta",
		worker: queue.Config{Concurrency: 2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.stop)
	return st
}

// wantSHA256 is the sha256 of what the renderer makes of job.
func wantSHA256(t *testing.T, job []byte) string {
	t.Helper()
	_, res, err := renderer.RenderJSON(job)
	if err != nil {
		t.Fatalf("render job: %v", err)
	}
	return res.SHA256
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func writeJobFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
