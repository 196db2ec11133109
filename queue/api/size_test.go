package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/renderer/job"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// TestSubmitSizeCap: a job whose declared Content-Length is over
// job.MaxJobBytes gets 413 without a byte of its body read; a body of
// unknown length is read up to the cap only; one at the cap is taken.
func TestSubmitSizeCap(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	setupQueue(t, nc)
	srv, err := api.New(api.Config{NATS: nc, Tokens: testTokens, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	padded := func(id string, n int) []byte {
		b := bytes.Repeat([]byte(" "), n)
		copy(b, smallJob(id))
		return b
	}
	tests := []struct {
		name          string
		body          []byte
		contentLength int64 // -1: unknown (chunked)
		wantStatus    int
		wantRead      func(n int64) bool
		readWant      string
	}{
		{"declared one byte over the cap: 413, body unread", padded("cap-over-1", job.MaxJobBytes+1), job.MaxJobBytes + 1,
			http.StatusRequestEntityTooLarge, func(n int64) bool { return n == 0 }, "0"},
		{"declared 64 MiB: 413, body unread", padded("cap-over-64m", 64<<20), 64 << 20,
			http.StatusRequestEntityTooLarge, func(n int64) bool { return n == 0 }, "0"},
		{"unknown length over the cap: 413 after reading at most the cap", padded("cap-chunked", 2*job.MaxJobBytes), -1,
			http.StatusRequestEntityTooLarge, func(n int64) bool { return n > 0 && n <= job.MaxJobBytes+1 }, fmt.Sprintf("1 to %d", job.MaxJobBytes+1)},
		{"declared at the cap: read whole and queued", padded("cap-exact", job.MaxJobBytes), job.MaxJobBytes,
			http.StatusAccepted, func(n int64) bool { return n == job.MaxJobBytes }, fmt.Sprint(job.MaxJobBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := &countingReader{r: bytes.NewReader(tt.body)}
			req := httptest.NewRequest("POST", "/v1/jobs", body)
			req.ContentLength = tt.contentLength
			req.Header.Set("Authorization", "Bearer "+submitSecret)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d %s, want %d", rec.Code, rec.Body, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusRequestEntityTooLarge && !strings.Contains(rec.Body.String(), fmt.Sprint(job.MaxJobBytes)) {
				t.Errorf("413 body %q does not give the limit %d", rec.Body, job.MaxJobBytes)
			}
			if !tt.wantRead(body.n) {
				t.Errorf("handler read %d body bytes, want %s", body.n, tt.readWant)
			}
		})
	}
}
