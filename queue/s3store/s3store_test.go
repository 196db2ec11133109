package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/queue/s3store"
)

// TestStore runs the store suite against versitygw directly, over TLS
// through a proxy (the HTTPS code path production takes), and through a
// proxy that refuses If-None-Match with 501 (the fallback path).
func TestStore(t *testing.T) {
	t.Parallel()
	v := queuetest.StartVersity(t)
	tests := []struct {
		name       string
		endpoint   func(t *testing.T) (string, *http.Client, *queuetest.Proxy)
		conditonal bool // If-None-Match reaches the server
	}{
		{"plain http", func(t *testing.T) (string, *http.Client, *queuetest.Proxy) {
			return v.Endpoint(), nil, nil
		}, true},
		{"tls proxy", func(t *testing.T) (string, *http.Client, *queuetest.Proxy) {
			p := queuetest.StartProxy(t, v.Endpoint(), true)
			return p.URL(), p.Client(), p
		}, true},
		{"no if-none-match", func(t *testing.T) (string, *http.Client, *queuetest.Proxy) {
			p := queuetest.StartProxy(t, v.Endpoint(), false)
			p.NoIfNoneMatch.Store(true)
			return p.URL(), p.Client(), p
		}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			endpoint, client, proxy := tt.endpoint(t)
			st := queuetest.Store(t, endpoint, "suite-"+string(rune('a'+i)), client, true)
			if st.Bucket() == "" {
				t.Fatal("Bucket() is empty")
			}
			body := []byte("%PDF-1.7\nLópez Obrador\n%%EOF\n")
			meta := map[string]string{"carta-job-id": "j1", "carta-sha256": "abc", "carta-pages": "1", "carta-version": "test"}
			if err := st.PutIfAbsent(ctx, queue.Object{Key: "letters/j1.pdf", Body: body, ContentType: "application/pdf", Metadata: meta}); err != nil {
				t.Fatalf("first put: %v", err)
			}
			err := st.PutIfAbsent(ctx, queue.Object{Key: "letters/j1.pdf", Body: []byte("other"), ContentType: "application/pdf"})
			if !errors.Is(err, queue.ErrObjectExists) {
				t.Fatalf("second put: err = %v, want ErrObjectExists", err)
			}
			got, gotMeta, err := st.Get(ctx, "letters/j1.pdf")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, body) {
				t.Errorf("object = %q, want the first body %q", got, body)
			}
			for k, want := range meta {
				if gotMeta[k] != want {
					t.Errorf("metadata %s = %q, want %q (all: %v)", k, gotMeta[k], want, gotMeta)
				}
			}
			head, err := st.Head(ctx, "letters/j1.pdf")
			if err != nil || head["carta-sha256"] != "abc" {
				t.Errorf("Head = %v, %v; want carta-sha256 abc", head, err)
			}
			if _, err := st.Head(ctx, "letters/none.pdf"); !errors.Is(err, queue.ErrObjectNotFound) {
				t.Errorf("Head of a missing key: err = %v, want ErrObjectNotFound", err)
			}
			if _, _, err := st.Get(ctx, "letters/none.pdf"); !errors.Is(err, queue.ErrObjectNotFound) {
				t.Errorf("Get of a missing key: err = %v, want ErrObjectNotFound", err)
			}
			keys, err := st.List(ctx, "letters/")
			if err != nil || len(keys) != 1 || keys[0] != "letters/j1.pdf" {
				t.Errorf("List = %v, %v; want [letters/j1.pdf]", keys, err)
			}
			if proxy != nil && proxy.IfNoneMatchSeen.Load() == 0 {
				t.Errorf("no request carried If-None-Match")
			}
		})
	}
}

// TestStoreContentType checks the stored Content-Type through a raw GET.
func TestStoreContentType(t *testing.T) {
	t.Parallel()
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "ctype", nil, true)
	ctx := context.Background()
	if err := st.PutIfAbsent(ctx, queue.Object{Key: "a/b.pdf", Body: []byte("%PDF"), ContentType: "application/pdf"}); err != nil {
		t.Fatal(err)
	}
	out, err := st.Client().HeadObject(ctx, headInput("ctype", "a/b.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if ct := deref(out.ContentType); ct != "application/pdf" {
		t.Errorf("Content-Type = %q, want application/pdf", ct)
	}
}

// TestMissingBucket: every operation on a missing bucket fails, and not
// with the sentinel errors the worker treats specially.
func TestMissingBucket(t *testing.T) {
	t.Parallel()
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "no-such-bucket", nil, false)
	err := st.PutIfAbsent(context.Background(), queue.Object{Key: "x.pdf", Body: []byte("x")})
	if err == nil || errors.Is(err, queue.ErrObjectExists) {
		t.Fatalf("put into a missing bucket: err = %v, want a plain (transient) error", err)
	}
}

func TestNewNeedsBucket(t *testing.T) {
	t.Parallel()
	if _, err := s3store.New(context.Background(), s3store.Config{}); err == nil {
		t.Fatal("New without a bucket: no error")
	}
}

// racingTransport plays a concurrent writer on a server without
// conditional writes: right after the first PUT of key it sends, it PUTs
// other over it through rival, before PutIfAbsent can check.
type racingTransport struct {
	next  http.RoundTripper
	key   string
	rival *s3store.Store
	other queue.Object
	once  sync.Once
	err   error
}

func (rt *racingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rt.next.RoundTrip(r)
	if err == nil && r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/"+rt.key) && r.Header.Get("If-None-Match") == "" {
		rt.once.Do(func() {
			// The rival's If-None-Match goes straight to the server, so
			// it must not check: upload over the key without conditions.
			_, rt.err = rt.rival.Client().PutObject(r.Context(), &s3.PutObjectInput{
				Bucket: aws.String(rt.rival.Bucket()), Key: aws.String(rt.key),
				Body: bytes.NewReader(rt.other.Body), Metadata: rt.other.Metadata,
			})
		})
	}
	return resp, err
}

// TestFallbackConcurrentWrite: without If-None-Match, a writer whose PUT
// lands between our PUT and our check makes PutIfAbsent report the key
// as taken, and the stored object is the rival's, which the worker then
// reads and reports.
func TestFallbackConcurrentWrite(t *testing.T) {
	t.Parallel()
	v := queuetest.StartVersity(t)
	p := queuetest.StartProxy(t, v.Endpoint(), false)
	p.NoIfNoneMatch.Store(true)
	const key = "letters/race.pdf"
	rival := queuetest.Store(t, v.Endpoint(), "race", nil, true)
	other := queue.Object{Key: key, Body: []byte("%PDF-1.7\nsigned at 12:01\n%%EOF\n"),
		Metadata: map[string]string{"carta-job-id": "race", "carta-sha256": "bbb"}}
	rt := &racingTransport{next: p.Client().Transport, key: key, rival: rival, other: other}
	st := queuetest.Store(t, p.URL(), "race", &http.Client{Transport: rt}, false)
	ctx := context.Background()

	ours := queue.Object{Key: key, Body: []byte("%PDF-1.7\nsigned at 12:00\n%%EOF\n"), ContentType: "application/pdf",
		Metadata: map[string]string{"carta-job-id": "race", "carta-sha256": "aaa"}}
	err := st.PutIfAbsent(ctx, ours)
	if rt.err != nil {
		t.Fatalf("rival put: %v", rt.err)
	}
	if !errors.Is(err, queue.ErrObjectExists) {
		t.Fatalf("PutIfAbsent = %v, want ErrObjectExists (the rival's PUT replaced ours)", err)
	}
	head, err := st.Head(ctx, key)
	if err != nil || head["carta-sha256"] != "bbb" {
		t.Fatalf("Head = %v, %v; want the rival's carta-sha256 bbb", head, err)
	}

	// Without a rival, the fallback's check finds our own object.
	ours.Key = "letters/alone.pdf"
	if err := st.PutIfAbsent(ctx, ours); err != nil {
		t.Fatalf("PutIfAbsent without a rival = %v, want nil", err)
	}
	if p.IfNoneMatchSeen.Load() == 0 {
		t.Errorf("no request carried If-None-Match: the fallback was not taken")
	}
}
