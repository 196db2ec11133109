package s3store_test

import (
	"context"
	"errors"
	"net/http"
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
					"head": func(ctx context.Context) error { _, err := st.Head(ctx, "letters/f.pdf"); return err },
					"get":  func(ctx context.Context) error { _, _, err := st.Get(ctx, "letters/f.pdf"); return err },
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
