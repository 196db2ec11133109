package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/queue/s3store"
)

func newPresigner(t *testing.T, endpoint, public, bucket string) *s3store.Presigner {
	t.Helper()
	p, err := s3store.NewPresigner(context.Background(), s3store.PresignConfig{
		Config: s3store.Config{
			Bucket: bucket, Endpoint: endpoint, Region: queuetest.Region, PathStyle: true,
			AccessKey: queuetest.AccessKey, SecretKey: queuetest.SecretKey,
		},
		PublicEndpoint: public,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func get(t *testing.T, u string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

func TestPresign(t *testing.T) {
	t.Parallel()
	v := queuetest.StartVersity(t)
	endpoint := v.Endpoint()
	st := queuetest.Store(t, endpoint, "presign", nil, true)
	pdf := []byte("%PDF-1.7\n% Comitė Ciudadano\n%%EOF\n")
	if err := st.PutIfAbsent(context.Background(), queue.Object{Key: "letters/p-1.pdf", Body: pdf, ContentType: "application/pdf"}); err != nil {
		t.Fatal(err)
	}
	public := strings.Replace(endpoint, "127.0.0.1", "localhost", 1)
	p := newPresigner(t, endpoint, public, "presign")
	ctx := context.Background()

	t.Run("url on the public endpoint works", func(t *testing.T) {
		t.Parallel()
		u, err := p.PresignGet(ctx, "", "letters/p-1.pdf", `attachment; filename="p-1.pdf"`, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u, public+"/presign/letters/p-1.pdf?") {
			t.Errorf("URL %q is not on %s", u, public)
		}
		code, h, body := get(t, u)
		if code != 200 || !bytes.Equal(body, pdf) {
			t.Fatalf("GET = %d %q, want the PDF", code, body)
		}
		if cd := h.Get("Content-Disposition"); cd != `attachment; filename="p-1.pdf"` {
			t.Errorf("Content-Disposition = %q", cd)
		}
		if ct := h.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("Content-Type = %q", ct)
		}
	})

	t.Run("expired url is refused", func(t *testing.T) {
		t.Parallel()
		u, err := p.PresignGet(ctx, "presign", "letters/p-1.pdf", "", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2500 * time.Millisecond)
		if code, _, body := get(t, u); code != http.StatusForbidden {
			t.Errorf("GET after expiry = %d %q, want 403", code, body)
		}
	})

	t.Run("tampered url is refused", func(t *testing.T) {
		t.Parallel()
		u, err := p.PresignGet(ctx, "", "letters/p-1.pdf", `attachment; filename="p-1.pdf"`, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		pu, _ := url.Parse(u)
		q := pu.Query()
		q.Set("response-content-disposition", `inline; filename="evil.html"`)
		pu.RawQuery = q.Encode()
		if code, _, _ := get(t, pu.String()); code != http.StatusForbidden {
			t.Errorf("GET with a changed disposition = %d, want 403", code)
		}
	})

	t.Run("open reads through the worker endpoint", func(t *testing.T) {
		t.Parallel()
		rc, size, err := p.Open(ctx, "", "letters/p-1.pdf")
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		body, _ := io.ReadAll(rc)
		if size != int64(len(pdf)) || !bytes.Equal(body, pdf) {
			t.Errorf("Open = %d bytes (size %d), want the %d-byte PDF", len(body), size, len(pdf))
		}
	})

	t.Run("open of a missing object", func(t *testing.T) {
		t.Parallel()
		_, _, err := p.Open(ctx, "", "letters/missing.pdf")
		if !errors.Is(err, queue.ErrObjectNotFound) {
			t.Errorf("Open missing = %v, want ErrObjectNotFound", err)
		}
	})

	for _, d := range []time.Duration{0, 500 * time.Millisecond, 8 * 24 * time.Hour} {
		t.Run("expiry out of range "+d.String(), func(t *testing.T) {
			t.Parallel()
			if _, err := p.PresignGet(ctx, "", "letters/p-1.pdf", "", d); err == nil {
				t.Errorf("PresignGet with expiry %v succeeded", d)
			}
		})
	}
}
