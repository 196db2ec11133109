package s3store

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Limits of PresignGet's expiry, S3's own.
const (
	MinPresignExpiry = time.Second
	MaxPresignExpiry = 7 * 24 * time.Hour
)

// PresignConfig configures a Presigner.
type PresignConfig struct {
	// Config reaches the S3 server from Carta (the worker's settings);
	// Open reads objects through it. Config.Bucket is the default
	// bucket, used when a call names none.
	Config
	// PublicEndpoint is the endpoint written into presigned URLs, the
	// one browsers reach, e.g. https://files.example.org; it can differ
	// from Config.Endpoint (an internal name such as http://minio:9000)
	// and is signed for as it is [Config.Endpoint].
	PublicEndpoint string
	// PublicPathStyle addresses the bucket as PublicEndpoint/bucket/key
	// in presigned URLs [Config.PathStyle].
	PublicPathStyle *bool
}

// Presigner makes presigned download URLs and reads objects. It is safe
// for concurrent use.
type Presigner struct {
	store   *Store
	presign *s3.PresignClient
}

// NewPresigner returns a Presigner for c.
func NewPresigner(ctx context.Context, c PresignConfig) (*Presigner, error) {
	store, err := New(ctx, c.Config)
	if err != nil {
		return nil, fmt.Errorf("create presigner: %w", err)
	}
	public := store
	if c.PublicEndpoint != "" || c.PublicPathStyle != nil {
		pc := c.Config
		if c.PublicEndpoint != "" {
			pc.Endpoint = c.PublicEndpoint
		}
		if c.PublicPathStyle != nil {
			pc.PathStyle = *c.PublicPathStyle
		}
		if public, err = New(ctx, pc); err != nil {
			return nil, fmt.Errorf("create presigner: public endpoint: %w", err)
		}
	}
	return &Presigner{store: store, presign: s3.NewPresignClient(public.client)}, nil
}

// PresignerFor returns a Presigner that signs URLs for st's own endpoint
// and reads through it: for when Carta and browsers reach S3 at the same
// address (the demo's embedded server).
func PresignerFor(st *Store) *Presigner {
	return &Presigner{store: st, presign: s3.NewPresignClient(st.client)}
}

// PresignGet returns a URL on the public endpoint that lets whoever holds
// it GET the object at bucket/key (bucket "" means the configured one)
// until expiry, between MinPresignExpiry and MaxPresignExpiry. When
// disposition is not "", the response comes as application/pdf with
// that Content-Disposition (`attachment; filename="x.pdf"`, or inline).
// Signing is local: no request is sent.
func (p *Presigner) PresignGet(ctx context.Context, bucket, key, disposition string, expiry time.Duration) (string, error) {
	if expiry < MinPresignExpiry || expiry > MaxPresignExpiry {
		return "", fmt.Errorf("presign get %s: expiry %v: must be between %v and %v", key, expiry, MinPresignExpiry, MaxPresignExpiry)
	}
	if bucket == "" {
		bucket = p.store.bucket
	}
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if disposition != "" {
		in.ResponseContentDisposition = aws.String(disposition)
		in.ResponseContentType = aws.String("application/pdf")
	}
	req, err := p.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(expiry))
	if err != nil {
		return "", fmt.Errorf("presign get %s: %w", key, err)
	}
	return req.URL, nil
}

// Open returns the body and size of the object at bucket/key (bucket ""
// means the configured one), read through Config's endpoint, or an
// error wrapping queue.ErrObjectNotFound. The caller closes the body.
func (p *Presigner) Open(ctx context.Context, bucket, key string) (io.ReadCloser, int64, error) {
	if bucket == "" {
		bucket = p.store.bucket
	}
	out, err := p.store.getObject(ctx, bucket, key)
	if err != nil {
		return nil, 0, fmt.Errorf("open object %s: %w", key, err)
	}
	size := int64(-1)
	if out.ContentLength != nil {
		size = *out.ContentLength
	}
	return out.Body, size, nil
}
