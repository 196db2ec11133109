package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
		{"link expiry too long", []string{"-link-expiry", "200h"}, exitInvalid, "-link-expiry (CARTA_LINK_EXPIRY)"},
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

// TestDemoLinksExpire: the demo's staff page redirects a download to a
// presigned link of the embedded S3 server (Versity Gateway), which serves
// the letter until -link-expiry has passed and refuses it (403) after,
// as does a link whose signature was tampered with.
func TestDemoLinksExpire(t *testing.T) {
	t.Parallel()
	const expiry = 10 * time.Second
	dir := t.TempDir()
	want := wantSHA256(t, demo.ReferenceJob)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- runDemo(ctx, []string{"-data", dir, "-nats-addr", "127.0.0.1:0", "-s3-addr", "127.0.0.1:0",
			"-http-addr", "127.0.0.1:0", "-link-expiry", expiry.String()}, &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("demo exit %d; stderr:\n%s", code, stderr.String())
		}
	})
	staff := regexp.MustCompile(`staff page  (http://\S+/)\n`)
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(stdout.String(), "Press Ctrl-C") {
		select {
		case code := <-done:
			done <- code
			t.Fatalf("demo exited (%d) early:\n%s\n%s", code, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo not ready after 2 minutes:\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := staff.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no staff page in the demo's output:\n%s", stdout.String())
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(m[1] + "v1/letters/cda-nals-2023-joint-letter.pdf")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	link := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || link == "" {
		t.Fatalf("download: %s, Location %q; want 302 to a presigned link", resp.Status, link)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("X-Amz-Expires") != "10" || q.Get("X-Amz-Signature") == "" {
		t.Fatalf("link %s: want a SigV4 presigned URL lasting 10 s", link)
	}
	signedAt, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	expires := signedAt.Add(expiry)

	get := func(link string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	code, body := get(link)
	if time.Now().Before(expires) {
		sum := sha256.Sum256(body)
		if code != http.StatusOK || hex.EncodeToString(sum[:]) != want {
			t.Fatalf("link before expiry: %d, sha256 %x; want 200 and the letter (%s)", code, sum, want)
		}
	} else {
		t.Logf("the first fetch ended after the link expired (a slow machine); checking expiry only")
	}
	tampered := q
	sig := []byte(tampered.Get("X-Amz-Signature"))
	sig[0] ^= 1
	tampered.Set("X-Amz-Signature", string(sig))
	tu := *u
	tu.RawQuery = tampered.Encode()
	if code, _ := get(tu.String()); code != http.StatusForbidden {
		t.Errorf("tampered link: %d, want 403", code)
	}

	// After expiry (the server's clock, one second of grace either way).
	time.Sleep(time.Until(expires.Add(2 * time.Second)))
	if code, body := get(link); code != http.StatusForbidden {
		t.Fatalf("link after expiry: %d (%.200s), want 403", code, body)
	}
}
