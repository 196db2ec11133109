package s3store_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/queue/s3store"
)

// TestStoreFaults: against an S3 server that answers 503, resets
// connections or never answers, every call fails on its own (the caller's
// context has no deadline that could end it) with an error the worker
// takes as transient (neither ErrObjectExists nor ErrObjectNotFound).
func TestStoreFaults(t *testing.T) {
	t.Parallel()
	clients := []struct {
		name   string
		client *http.Client
	}{
		{"sdk client", nil},
		{"given client without timeout", &http.Client{}},
	}
	for _, mode := range []queuetest.S3Mode{queuetest.S3Unavailable, queuetest.S3Reset, queuetest.S3Hang} {
		for _, c := range clients {
			t.Run(mode.String()+" "+c.name, func(t *testing.T) {
				t.Parallel()
				p := queuetest.StartFaultProxy(t, "http://127.0.0.1:1")
				p.SetMode(mode)
				cfg := queuetest.StoreConfig(p.URL(), "letters")
				cfg.RequestTimeout = 300 * time.Millisecond
				cfg.HTTPClient = c.client
				st, err := s3store.New(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				calls := map[string]func(context.Context) error{
					"put": func(ctx context.Context) error {
						return st.PutIfAbsent(ctx, queue.Object{Key: "letters/f.pdf", Body: []byte("%PDF-1.7\n%%EOF\n"), ContentType: "application/pdf"})
					},
					"head":         func(ctx context.Context) error { _, err := st.Head(ctx, "letters/f.pdf"); return err },
					"get":          func(ctx context.Context) error { _, _, err := st.Get(ctx, "letters/f.pdf"); return err },
					"check bucket": st.CheckBucket,
				}
				for name, call := range calls {
					// A deadline far beyond the request timeout, only so a
					// missing timeout fails the test instead of hanging it.
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					err := call(ctx)
					ctxErr := ctx.Err()
					cancel()
					switch {
					case err == nil:
						t.Errorf("%s succeeded against a failing server", name)
					case ctxErr != nil:
						t.Errorf("%s ended only with the caller's deadline: %v", name, err)
					case errors.Is(err, queue.ErrObjectExists) || errors.Is(err, queue.ErrObjectNotFound):
						t.Errorf("%s: %v: taken as permanent", name, err)
					case !errors.Is(err, queue.ErrStoreUnavailable):
						t.Errorf("%s: %v: not reported as a storage outage", name, err)
					}
				}
				if p.Faulted() == 0 {
					t.Error("the proxy saw no request")
				}
			})
		}
	}
}

// TestStoreRequestTimeoutNegative: a negative timeout is refused.
func TestStoreRequestTimeoutNegative(t *testing.T) {
	t.Parallel()
	cfg := queuetest.StoreConfig("http://127.0.0.1:1", "letters")
	cfg.RequestTimeout = -time.Second
	if _, err := s3store.New(context.Background(), cfg); err == nil {
		t.Error("New accepted a negative request timeout")
	}
}

// TestStoreOutageClasses: against the real server, a missing bucket is a
// storage outage that names the flag to fix it (for PUT and for
// CheckBucket), wrong credentials are an outage, and an object that
// exists or not is no outage.
func TestStoreOutageClasses(t *testing.T) {
	t.Parallel()
	v := queuetest.StartVersity(t)
	ctx := context.Background()
	missing := queuetest.Store(t, v.Endpoint(), "nobucket", nil, false)
	put := func(st *s3store.Store) error {
		return st.PutIfAbsent(ctx, queue.Object{Key: "letters/f.pdf", Body: []byte("%PDF-1.7\n%%EOF\n"), ContentType: "application/pdf"})
	}
	for name, err := range map[string]error{"put": put(missing), "check bucket": missing.CheckBucket(ctx)} {
		var ue *queue.UnavailableError
		if !errors.As(err, &ue) || !strings.Contains(ue.Fix, "-s3-create-bucket") {
			t.Errorf("missing bucket, %s: %v, want an outage naming -s3-create-bucket", name, err)
		}
	}
	cfg := queuetest.StoreConfig(v.Endpoint(), "letters")
	cfg.SecretKey = "wrong-secret"
	wrong, err := s3store.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := wrong.CheckBucket(ctx); !errors.Is(err, queue.ErrStoreUnavailable) || !strings.Contains(err.Error(), "403") {
		t.Errorf("wrong credentials: %v, want an outage (403)", err)
	}
	ok := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	if err := ok.CheckBucket(ctx); err != nil {
		t.Errorf("CheckBucket: %v", err)
	}
	if err := put(ok); err != nil {
		t.Fatal(err)
	}
	if err := put(ok); !errors.Is(err, queue.ErrObjectExists) || errors.Is(err, queue.ErrStoreUnavailable) {
		t.Errorf("second put: %v, want ErrObjectExists only", err)
	}
	if _, err := ok.Head(ctx, "letters/none.pdf"); !errors.Is(err, queue.ErrObjectNotFound) || errors.Is(err, queue.ErrStoreUnavailable) {
		t.Errorf("head of a missing object: %v, want ErrObjectNotFound only", err)
	}
}
