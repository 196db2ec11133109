package s3embed_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/queue/s3embed"
	"github.com/carta-letters/carta/queue/s3store"
)

// server is one S3 server the integrity suite runs against: the embedded
// one (this package) or the versitygw binary.
type server struct {
	name     string
	endpoint string
	dir      string // the folder of its buckets
}

func servers(t *testing.T) []server {
	t.Helper()
	dir := t.TempDir()
	emb, err := s3embed.Start(context.Background(), s3embed.Config{
		Dir: dir, AccessKey: queuetest.AccessKey, SecretKey: queuetest.SecretKey, Region: queuetest.Region,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	v := queuetest.StartVersity(t)
	return []server{{"embedded", emb.URL(), dir}, {"versitygw binary", v.Endpoint(), v.Dir()}}
}

// apiCode is the S3 error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestIntegrity: what Carta relies on an S3 server to check, checked
// against the embedded server and the versitygw binary alike: SigV4
// signatures, the signed payload hash, x-amz-checksum-sha256 (kept and
// returned), If-None-Match: * and presigned URLs (expiry and tampering).
func TestIntegrity(t *testing.T) {
	t.Parallel()
	body := []byte("%PDF-1.7\n(Comitė Ciudadano, Andrés Manuel López Obrador) Tj\n%%EOF\n")
	sum := sha256.Sum256(body)
	sumB64 := base64.StdEncoding.EncodeToString(sum[:])
	other := sha256.Sum256([]byte("another letter"))
	for _, srv := range servers(t) {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := queuetest.Store(t, srv.endpoint, "carta", nil, true)
			c := st.Client()
			put := func(key string, mod func(*s3.PutObjectInput)) error {
				in := &s3.PutObjectInput{Bucket: aws.String("carta"), Key: aws.String(key), Body: bytes.NewReader(body), ContentType: aws.String("application/pdf")}
				if mod != nil {
					mod(in)
				}
				_, err := c.PutObject(ctx, in)
				return err
			}
			exists := func(key string) bool {
				_, err := st.Head(ctx, key)
				if err != nil && !errors.Is(err, queue.ErrObjectNotFound) {
					t.Fatalf("head %s: %v", key, err)
				}
				return err == nil
			}

			t.Run("signed put stored as a plain file with its checksum", func(t *testing.T) {
				if err := put("letters/a.pdf", func(in *s3.PutObjectInput) { in.ChecksumSHA256 = aws.String(sumB64) }); err != nil {
					t.Fatal(err)
				}
				head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("carta"), Key: aws.String("letters/a.pdf"), ChecksumMode: "ENABLED"})
				if err != nil || aws.ToString(head.ChecksumSHA256) != sumB64 {
					t.Fatalf("HeadObject checksum %q, %v; want %s", aws.ToString(head.ChecksumSHA256), err, sumB64)
				}
				onDisk, err := os.ReadFile(filepath.Join(srv.dir, "carta", "letters", "a.pdf"))
				if err != nil || !bytes.Equal(onDisk, body) {
					t.Fatalf("file on disk: %q, %v", onDisk, err)
				}
			})
			t.Run("x-amz-checksum-sha256 of another body refused", func(t *testing.T) {
				err := put("letters/b.pdf", func(in *s3.PutObjectInput) {
					in.ChecksumSHA256 = aws.String(base64.StdEncoding.EncodeToString(other[:]))
				})
				if err == nil || exists("letters/b.pdf") {
					t.Fatalf("put = %v (stored: %v); want a refusal and nothing stored", err, exists("letters/b.pdf"))
				}
			})
			t.Run("payload hash of another body refused", func(t *testing.T) {
				err := st.PutIfAbsent(ctx, queue.Object{Key: "letters/c.pdf", Body: body, ContentType: "application/pdf", SHA256: hex.EncodeToString(other[:])})
				if err == nil || errors.Is(err, queue.ErrObjectExists) || exists("letters/c.pdf") {
					t.Fatalf("PutIfAbsent = %v; want the server's refusal and nothing stored", err)
				}
			})
			t.Run("if-none-match star keeps the first object", func(t *testing.T) {
				star := func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }
				if err := put("letters/d.pdf", star); err != nil {
					t.Fatal(err)
				}
				err := put("letters/d.pdf", func(in *s3.PutObjectInput) {
					star(in)
					in.Body = strings.NewReader("a different letter")
				})
				if code := apiCode(err); code != "PreconditionFailed" {
					t.Fatalf("second put: %v (code %q), want PreconditionFailed", err, code)
				}
				got, _, err := st.Get(ctx, "letters/d.pdf")
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("object after the refused put: %q, %v", got, err)
				}
			})
			t.Run("wrong secret key refused", func(t *testing.T) {
				cfg := queuetest.StoreConfig(srv.endpoint, "carta")
				cfg.SecretKey = "not-the-secret-key"
				bad, err := s3store.New(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				_, err = bad.Head(ctx, "letters/a.pdf")
				if err == nil {
					t.Fatal("head with a wrong secret key succeeded")
				}
				err = bad.PutIfAbsent(ctx, queue.Object{Key: "letters/e.pdf", Body: body})
				// The server may answer 403 before it has read the body and
				// close the connection, so the client can see the closed
				// connection instead of the answer: then there is no code,
				// but the put must still have failed and stored nothing.
				if code := apiCode(err); err == nil || (code != "" && code != "SignatureDoesNotMatch") || exists("letters/e.pdf") {
					t.Fatalf("put with a wrong secret key: %v (code %q); want SignatureDoesNotMatch, nothing stored", err, code)
				}
			})
			t.Run("unknown access key is an error, not a missing object", func(t *testing.T) {
				cfg := queuetest.StoreConfig(srv.endpoint, "carta")
				cfg.AccessKey = "no-such-access-key"
				bad, err := s3store.New(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := bad.Get(ctx, "letters/a.pdf"); err == nil || errors.Is(err, queue.ErrObjectNotFound) {
					t.Fatalf("get with an unknown access key: %v; want the server's refusal", err)
				}
			})
			t.Run("unsigned request refused", func(t *testing.T) {
				resp, err := http.Get(srv.endpoint + "/carta/letters/a.pdf")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Fatalf("unsigned GET: %s, want 403", resp.Status)
				}
			})
			t.Run("presigned link works, then expires; tampered refused", func(t *testing.T) {
				p := s3store.PresignerFor(st)
				link, err := p.PresignGet(ctx, "carta", "letters/a.pdf", "a.pdf", 2*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				u, _ := url.Parse(link)
				signedAt, err := time.Parse("20060102T150405Z", u.Query().Get("X-Amz-Date"))
				if err != nil {
					t.Fatal(err)
				}
				get := func(link string) (int, []byte) {
					resp, err := http.Get(link)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					return resp.StatusCode, b
				}
				// A link made and used within its second of validity
				// (the signing time is whole seconds).
				long, err := p.PresignGet(ctx, "carta", "letters/a.pdf", "a.pdf", time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				if code, b := get(long); code != http.StatusOK || !bytes.Equal(b, body) {
					t.Fatalf("fresh link: %d %q", code, b)
				}
				q := u.Query()
				q.Set("X-Amz-Expires", "3600") // a longer life than was signed
				tu := *u
				tu.RawQuery = q.Encode()
				if code, _ := get(tu.String()); code != http.StatusForbidden {
					t.Fatalf("tampered link: %d, want 403", code)
				}
				time.Sleep(time.Until(signedAt.Add(4 * time.Second)))
				if code, _ := get(link); code != http.StatusForbidden {
					t.Fatalf("expired link: %d, want 403", code)
				}
			})
		})
	}
}

// TestRestartKeepsObjects: objects and their metadata outlive the server
// (the demo's data folder is reused across runs).
func TestRestartKeepsObjects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := s3embed.Config{Dir: dir, AccessKey: queuetest.AccessKey, SecretKey: queuetest.SecretKey}
	md := map[string]string{"carta-job-id": "nals-2023", "carta-pages": "5"}
	for i, step := range []string{"first run stores", "second run reads"} {
		srv, err := s3embed.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		st := queuetest.Store(t, srv.URL(), "carta", nil, i == 0)
		if i == 0 {
			if err := st.PutIfAbsent(context.Background(), queue.Object{Key: "letters/x.pdf", Body: []byte("%PDF-1.7"), Metadata: md}); err != nil {
				t.Fatalf("%s: %v", step, err)
			}
		}
		got, gotMD, err := st.Get(context.Background(), "letters/x.pdf")
		if err != nil || string(got) != "%PDF-1.7" || gotMD["carta-job-id"] != "nals-2023" || gotMD["carta-pages"] != "5" {
			t.Fatalf("%s: %q %v %v", step, got, gotMD, err)
		}
		srv.Close()
	}
}

func TestStartRefuses(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	taken := ln.Addr().String()
	for _, tc := range []struct {
		name string
		c    s3embed.Config
		want string
	}{
		{"no keys", s3embed.Config{Dir: t.TempDir()}, "AccessKey and SecretKey are required"},
		{"address in use", s3embed.Config{Dir: t.TempDir(), Addr: taken, AccessKey: "a", SecretKey: "secret-key"}, "start s3 server on " + taken},
		{"bad address", s3embed.Config{Dir: t.TempDir(), Addr: "localhost", AccessKey: "a", SecretKey: "secret-key"}, `listen address "localhost"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, err := s3embed.Start(context.Background(), tc.c)
			if err == nil {
				srv.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
		})
	}
}

// TestOneServerPerFolder: a second server on a folder another one serves
// is refused (the gateway serialises conditional writes in its own
// process only), and starts once the first has stopped.
func TestOneServerPerFolder(t *testing.T) {
	t.Parallel()
	cfg := s3embed.Config{Dir: t.TempDir(), AccessKey: "a", SecretKey: "secret-key"}
	first, err := s3embed.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s3embed.Start(context.Background(), cfg)
	if err == nil {
		second.Close()
		first.Close()
		t.Fatal("second server started on the same folder")
	}
	if !strings.Contains(err.Error(), "another s3 server serves this folder") {
		t.Errorf("error %q, want it to say another server serves the folder", err)
	}
	first.Close()
	again, err := s3embed.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	again.Close()
}

// BenchmarkStart: from Start to a server answering, and Close.
func BenchmarkStart(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		srv, err := s3embed.Start(context.Background(), s3embed.Config{Dir: dir, AccessKey: "a", SecretKey: "secret-key"})
		if err != nil {
			b.Fatal(err)
		}
		srv.Close()
	}
}
