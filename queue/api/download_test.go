package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/queue/client"
)

// fakePDF is a stand-in for a rendered letter: the API never looks inside.
var fakePDF = []byte("%PDF-1.7\n% Carta test letter: Mélanie Joly, Comitė Ciudadano\n%%EOF\n")

func TestDownload(t *testing.T) {
	t.Parallel()
	endpoint := startVersity(t)
	nc := startNATS(t)
	kv := setupQueue(t, nc)
	st := newBucket(t, endpoint)
	storePDF(t, st, kv, "dl-1", "Letter one", []string{"Mélanie Joly"}, fakePDF, 1)
	other := append([]byte("%PDF-1.7\n% another\n"), fakePDF...)
	storePDF(t, st, kv, "dl-2", "Letter two", []string{"Justin Trudeau"}, other, 1)
	putResult(t, kv, client.Result{ID: "dl-failed", Status: client.StatusFailed, FinishedAt: time.Now().UTC(),
		Error: &client.ResultError{Code: client.CodeStorageFailed, Message: "S3 unreachable"}})

	// The public host name differs from the worker's: localhost vs 127.0.0.1.
	public := strings.Replace(endpoint, "127.0.0.1", "localhost", 1)
	redirect := startAPI(t, nc, api.Config{Objects: presigner(t, endpoint, public)})
	short := startAPI(t, nc, api.Config{Objects: presigner(t, endpoint, ""), LinkExpiry: time.Second})
	stream := startAPI(t, nc, api.Config{Objects: presigner(t, endpoint, ""), Stream: true})
	none := startAPI(t, nc, api.Config{})
	for _, h := range []*harness{redirect, short, stream, none} {
		h.waitReady(t)
		h.waitListed(t, "dl-1", "dl-2", "dl-failed")
	}

	location := func(t *testing.T, h *harness, id string) string {
		t.Helper()
		resp := h.do(t, "GET", "/v1/letters/"+id+".pdf", readSecret, nil)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("GET %s.pdf = %d %s, want 302", id, resp.StatusCode, readAll(t, resp.Body))
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		return resp.Header.Get("Location")
	}
	fetch := func(t *testing.T, u string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("GET presigned URL: %v", err)
		}
		defer resp.Body.Close()
		return resp, readAll(t, resp.Body)
	}

	t.Run("redirect to a presigned URL on the public host", func(t *testing.T) {
		t.Parallel()
		u := location(t, redirect, "dl-1")
		if !strings.HasPrefix(u, public+"/") {
			t.Errorf("Location %q is not on the public endpoint %s", u, public)
		}
		resp, body := fetch(t, u)
		if resp.StatusCode != 200 {
			t.Fatalf("GET presigned = %d %s", resp.StatusCode, body)
		}
		if sha(body) != sha(fakePDF) {
			t.Errorf("downloaded sha256 %s, want %s", sha(body), sha(fakePDF))
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, `filename="dl-1 - Letter one.pdf"`) {
			t.Errorf("Content-Disposition = %q, want an attachment named after the id and title", cd)
		}
	})

	t.Run("tampered links are refused", func(t *testing.T) {
		t.Parallel()
		u, err := url.Parse(location(t, redirect, "dl-1"))
		if err != nil {
			t.Fatal(err)
		}
		otherKey := *u
		otherKey.Path = strings.Replace(u.Path, "dl-1.pdf", "dl-2.pdf", 1)
		q := u.Query()
		q.Set("X-Amz-Expires", "604800")
		longer := *u
		longer.RawQuery = q.Encode()
		q = u.Query()
		sig := []byte(q.Get("X-Amz-Signature"))
		if sig[0] == '0' {
			sig[0] = '1'
		} else {
			sig[0] = '0'
		}
		q.Set("X-Amz-Signature", string(sig))
		badSig := *u
		badSig.RawQuery = q.Encode()
		for name, v := range map[string]*url.URL{"other key": &otherKey, "longer expiry": &longer, "changed signature": &badSig} {
			if resp, body := fetch(t, v.String()); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: GET = %d %q, want 403", name, resp.StatusCode, body)
			}
		}
	})

	t.Run("presigned URL expires", func(t *testing.T) {
		t.Parallel()
		u := location(t, short, "dl-2")
		if !strings.Contains(u, "X-Amz-Expires=1&") && !strings.HasSuffix(u, "X-Amz-Expires=1") {
			t.Errorf("URL %q does not carry a 1 s expiry", u)
		}
		// Wait past the expiry (S3 counts whole seconds from X-Amz-Date).
		time.Sleep(2500 * time.Millisecond)
		if resp, body := fetch(t, u); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET after expiry = %d %q, want 403", resp.StatusCode, body)
		}
	})

	t.Run("streamed through carta", func(t *testing.T) {
		t.Parallel()
		resp := stream.do(t, "GET", "/v1/letters/dl-2.pdf", readSecret, nil)
		body := readAll(t, resp.Body)
		if resp.StatusCode != 200 || sha(body) != sha(other) {
			t.Fatalf("GET = %d, sha256 %s, want 200 and %s", resp.StatusCode, sha(body), sha(other))
		}
		h := resp.Header
		if h.Get("Content-Type") != "application/pdf" || !strings.Contains(h.Get("Content-Disposition"), `attachment; filename="dl-2 - Letter two.pdf"`) {
			t.Errorf("headers = %v", h)
		}
	})

	tests := []struct {
		name string
		h    *harness
		path string
		want int
	}{
		{"failed job has no pdf", redirect, "/v1/letters/dl-failed.pdf", 404},
		{"unknown letter", redirect, "/v1/letters/nope.pdf", 404},
		{"not a pdf name", redirect, "/v1/letters/dl-1.txt", 404},
		{"bad id", redirect, "/v1/letters/..pdf", 404},
		{"downloads not configured", none, "/v1/letters/dl-1.pdf", 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if resp := tc.h.do(t, "GET", tc.path, readSecret, nil); resp.StatusCode != tc.want {
				t.Errorf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.want)
			}
		})
	}
}
