package s3store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/queue/s3embed"
)

// damagingTransport flips one byte of the body of every PUT it sends, as
// a faulty network or proxy would, keeping its length.
type damagingTransport struct {
	next    http.RoundTripper
	on      bool // damage PUT bodies; off, pass every request through
	damaged atomic.Int64
	mu      sync.Mutex
	hashes  []string // x-amz-content-sha256 of every PUT
}

func (d *damagingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		d.mu.Lock()
		d.hashes = append(d.hashes, r.Header.Get("X-Amz-Content-Sha256"))
		d.mu.Unlock()
	}
	if !d.on || r.Method != http.MethodPut || r.Body == nil || r.ContentLength <= 0 {
		return d.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	body[len(body)/2] ^= 0x20
	d.damaged.Add(1)
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return d.next.RoundTrip(r2)
}

// TestStoreRefusesDamagedBody: the body's sha256 travels as the signed
// payload hash and the server checks the body against it, so a body
// damaged on the way, or one that is not what the caller hashed, is
// refused and nothing is stored; the error is a plain (transient) one.
// A stored object keeps the sha256 as its full-object checksum. Run
// against the Versity Gateway binary (directly and over TLS) and the
// embedded one of carta demo (package s3embed).
func TestStoreRefusesDamagedBody(t *testing.T) {
	t.Parallel()
	v := queuetest.StartVersity(t)
	embedded, err := s3embed.Start(context.Background(), s3embed.Config{
		Dir: t.TempDir(), AccessKey: queuetest.AccessKey, SecretKey: queuetest.SecretKey, Region: queuetest.Region,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { embedded.Close() })

	servers := []struct {
		name     string
		endpoint func(t *testing.T) (string, http.RoundTripper)
	}{
		{"versitygw", func(t *testing.T) (string, http.RoundTripper) { return v.Endpoint(), http.DefaultTransport }},
		{"versitygw over tls", func(t *testing.T) (string, http.RoundTripper) {
			p := queuetest.StartProxy(t, v.Endpoint(), true)
			return p.URL(), p.Client().Transport
		}},
		{"embedded", func(t *testing.T) (string, http.RoundTripper) { return embedded.URL(), http.DefaultTransport }},
	}
	body := []byte("%PDF-1.7\n(Andrés Manuel López Obrador) Tj\n%%EOF\n")
	sum := sha256.Sum256(body)
	good := hex.EncodeToString(sum[:])
	otherSum := sha256.Sum256([]byte("another letter"))
	cases := []struct {
		name   string
		hash   string // Object.SHA256
		damage bool   // the transport flips a byte of the body
		stored bool
	}{
		{"caller's hash, body intact", good, false, true},
		{"store's own hash, body intact", "", false, true},
		{"caller's hash, body damaged on the way", good, true, false},
		{"store's own hash, body damaged on the way", "", true, false},
		{"hash of another body", hex.EncodeToString(otherSum[:]), false, false},
	}
	for si, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			endpoint, next := srv.endpoint(t)
			bucket := "integrity-" + string(rune('a'+si))
			queuetest.Store(t, endpoint, bucket, &http.Client{Transport: next}, true)
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					dt := &damagingTransport{next: next, on: tc.damage}
					st := queuetest.Store(t, endpoint, bucket, &http.Client{Transport: dt}, false)
					ctx := context.Background()
					key := "letters/" + strings.ReplaceAll(tc.name, " ", "-") + "-" + string(rune('a'+i)) + ".pdf"
					err := st.PutIfAbsent(ctx, queue.Object{Key: key, Body: body, ContentType: "application/pdf", SHA256: tc.hash})
					if tc.damage && dt.damaged.Load() == 0 {
						t.Fatal("the transport damaged no request")
					}
					// The payload is signed on every path, HTTPS included,
					// with the hash given or the body's own.
					wantHash := tc.hash
					if wantHash == "" {
						wantHash = good
					}
					dt.mu.Lock()
					hashes := slices.Clone(dt.hashes)
					dt.mu.Unlock()
					for _, h := range hashes {
						if h != wantHash {
							t.Fatalf("a PUT carried x-amz-content-sha256 %q, want %s (all: %q)", h, wantHash, hashes)
						}
					}
					got, _, gerr := st.Get(ctx, key)
					if tc.stored {
						if err != nil {
							t.Fatalf("PutIfAbsent = %v, want nil", err)
						}
						if gerr != nil || !bytes.Equal(got, body) {
							t.Fatalf("stored object = %q, %v; want the body", got, gerr)
						}
						// The sha256 is kept as the object's full-object
						// checksum, for anyone to check a download by.
						head, err := st.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
						if want := base64.StdEncoding.EncodeToString(sum[:]); err != nil || aws.ToString(head.ChecksumSHA256) != want {
							t.Fatalf("HeadObject checksum = %q, %v; want %q", aws.ToString(head.ChecksumSHA256), err, want)
						}
						return
					}
					if err == nil || errors.Is(err, queue.ErrObjectExists) {
						t.Fatalf("PutIfAbsent = %v, want the server's refusal (a plain error)", err)
					}
					if !errors.Is(gerr, queue.ErrObjectNotFound) {
						t.Fatalf("after a refused put, Get = %d bytes, %v; want ErrObjectNotFound", len(got), gerr)
					}
				})
			}
		})
	}
}
