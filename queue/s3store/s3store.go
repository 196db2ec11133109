package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/carta-letters/carta/queue"
)

// Config says which bucket to use and how to reach it.
type Config struct {
	Bucket    string // bucket name (required)
	Endpoint  string // e.g. https://s3.example.net:9000 [AWS_ENDPOINT_URL_S3, else AWS]
	Region    string // [the SDK chain: AWS_REGION, shared config; "us-east-1" if none]
	PathStyle bool   // address the bucket as endpoint/bucket/key rather than bucket.endpoint/key
	// MaxAttempts is the SDK's attempts per request, retries included
	// [0: the SDK's default, 3].
	MaxAttempts int
	// HTTPClient replaces the SDK's HTTP client, e.g. to trust a test CA
	// (AWS_CA_BUNDLE then no longer applies). If its Timeout is zero, a
	// copy with Timeout RequestTimeout is used.
	HTTPClient *http.Client
	// RequestTimeout bounds each HTTP attempt, from dialling to the end
	// of the response body, so a server that accepts and never answers
	// fails the request instead of holding it [DefaultRequestTimeout 30s].
	RequestTimeout time.Duration
	// AccessKey and SecretKey, when both set, are static credentials used
	// instead of the standard chain (for embedded and test servers).
	AccessKey, SecretKey string
}

// DefaultRequestTimeout is the default of Config.RequestTimeout: ample
// for a PDF of a few MiB, short next to a job's time limit.
const DefaultRequestTimeout = 30 * time.Second

// Store is an S3 bucket. It is safe for concurrent use.
type Store struct {
	client *s3.Client
	bucket string
	// noIfNoneMatch is set once the server answered 501 to If-None-Match.
	noIfNoneMatch atomic.Bool
}

var _ queue.ObjectStore = (*Store)(nil)

// New returns a Store for c.Bucket.
func New(ctx context.Context, c Config) (*Store, error) {
	if c.Bucket == "" {
		return nil, errors.New("open s3 store: no bucket given")
	}
	if c.RequestTimeout < 0 {
		return nil, fmt.Errorf("open s3 store: request timeout %v: must not be negative", c.RequestTimeout)
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	var loadOpts []func(*config.LoadOptions) error
	if c.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(c.Region))
	}
	if c.AccessKey != "" && c.SecretKey != "" {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, "")))
	}
	if c.MaxAttempts > 0 {
		loadOpts = append(loadOpts, config.WithRetryMaxAttempts(c.MaxAttempts))
	}
	loadOpts = append(loadOpts,
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("open s3 store: load aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.PathStyle
		// No client-side retry quota: after a few failures in an outage
		// the SDK's default token bucket refuses attempts locally ("retry
		// quota exceeded") for a while after S3 is back. The worker
		// paces its own retries during an outage (queue's outage probe).
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.RateLimiter = ratelimit.None })
		// The SDK's client has no overall timeout: a server that accepts
		// a request and never answers would hold it until the caller's
		// context ends.
		switch {
		case c.HTTPClient == nil:
			// The SDK's own client, AWS_CA_BUNDLE applied, plus a timeout.
			if b, ok := o.HTTPClient.(*awshttp.BuildableClient); ok {
				o.HTTPClient = b.WithTimeout(c.RequestTimeout)
			}
		case c.HTTPClient.Timeout == 0:
			hc := *c.HTTPClient
			hc.Timeout = c.RequestTimeout
			o.HTTPClient = &hc
		default:
			o.HTTPClient = c.HTTPClient
		}
	}) // the checksum settings come from cfg (s3.NewFromConfig copies them)
	return &Store{client: client, bucket: c.Bucket}, nil
}

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.bucket }

// Client returns the underlying SDK client, for what Store does not
// cover (tests create buckets with it).
func (s *Store) Client() *s3.Client { return s.client }

// CreateBucket creates the bucket; one that already exists and is ours
// is not an error.
func (s *Store) CreateBucket(ctx context.Context) error {
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "BucketAlreadyOwnedByYou" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", s.bucket, err)
	}
	return nil
}

// PutIfAbsent stores o unless an object is already at o.Key, in which
// case it returns an error wrapping queue.ErrObjectExists. On a server
// without conditional writes (see the package doc) it also returns
// ErrObjectExists when, right after its PUT, the stored object's
// carta-sha256 metadata is not o's: a concurrent writer's PUT landed
// after it.
//
// The body's sha256 (o.SHA256, computed here when empty) is sent as the
// signed payload hash (x-amz-content-sha256), which the server checks
// against the body: a body damaged on the way is refused and nothing is
// stored. The PDF is hashed once, by the renderer, rather than three
// times (worker, request signing and a Content-MD5, as before).
func (s *Store) PutIfAbsent(ctx context.Context, o queue.Object) error {
	hash := o.SHA256
	if hash == "" {
		sum := sha256.Sum256(o.Body)
		hash = hex.EncodeToString(sum[:])
	}
	raw, err := hex.DecodeString(hash)
	if err != nil || len(raw) != sha256.Size {
		return fmt.Errorf("put object %s: sha256 %q is not 64 hex digits", o.Key, hash)
	}
	hash = hex.EncodeToString(raw) // lowercase, as SigV4 wants it
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(o.Key),
		Body:          bytes.NewReader(o.Body),
		ContentLength: aws.Int64(int64(len(o.Body))),
		Metadata:      o.Metadata,
		// The full-object checksum S3 checks and keeps with the object
		// (HeadObject with ChecksumMode ENABLED returns it), given as a
		// header: the SDK computes nothing and sends no aws-chunked body.
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    aws.String(base64.StdEncoding.EncodeToString(raw)),
	}
	put := func() (*s3.PutObjectOutput, error) { return s.client.PutObject(ctx, in, withPayloadHash(hash)) }
	if o.ContentType != "" {
		in.ContentType = aws.String(o.ContentType)
	}
	if !s.noIfNoneMatch.Load() {
		in.IfNoneMatch = aws.String("*")
		_, err := put()
		switch {
		case err == nil:
			return nil
		case status(err) == http.StatusPreconditionFailed:
			return fmt.Errorf("put object %s: %w", o.Key, queue.ErrObjectExists)
		case status(err) == http.StatusNotImplemented || code(err) == "NotImplemented":
			s.noIfNoneMatch.Store(true)
			in.IfNoneMatch = nil
			in.Body = bytes.NewReader(o.Body)
		default:
			return fmt.Errorf("put object %s: %w", o.Key, s.classify(ctx, err))
		}
	}
	// The server does not do conditional writes: look first.
	if _, err := s.Head(ctx, o.Key); err == nil {
		return fmt.Errorf("put object %s: %w", o.Key, queue.ErrObjectExists)
	} else if !errors.Is(err, queue.ErrObjectNotFound) {
		return fmt.Errorf("put object %s: %w", o.Key, err)
	}
	if _, err := put(); err != nil {
		return fmt.Errorf("put object %s: %w", o.Key, s.classify(ctx, err))
	}
	// Another writer may have passed its HEAD too and PUT after us. Check
	// what is stored now: when its carta-sha256 is not ours, report the
	// key as taken, so the caller reads and reports the stored object
	// rather than the one it sent.
	want, ok := o.Metadata[queue.MetaSHA256]
	if !ok {
		return nil
	}
	have, err := s.Head(ctx, o.Key)
	if err != nil {
		return fmt.Errorf("put object %s: check stored object: %w", o.Key, err)
	}
	if have[queue.MetaSHA256] != want {
		return fmt.Errorf("put object %s: a concurrent write replaced it (stored sha256 %q, sent %s): %w",
			o.Key, have[queue.MetaSHA256], want, queue.ErrObjectExists)
	}
	return nil
}

// Head returns the user metadata of the object at key, with lower-case
// names, or an error wrapping queue.ErrObjectNotFound.
func (s *Store) Head(ctx context.Context, key string) (map[string]string, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if status(err) == http.StatusNotFound {
			return nil, fmt.Errorf("head object %s: %w", key, queue.ErrObjectNotFound)
		}
		return nil, fmt.Errorf("head object %s: %w", key, s.classify(ctx, err))
	}
	return lower(out.Metadata), nil
}

// Get returns the object at key and its user metadata (lower-case
// names), or an error wrapping queue.ErrObjectNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, map[string]string, error) {
	out, err := s.getObject(ctx, s.bucket, key)
	if err != nil {
		return nil, nil, fmt.Errorf("get object %s: %w", key, s.classify(ctx, err))
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("get object %s: read body: %w", key, err)
	}
	return data, lower(out.Metadata), nil
}

// getObject is GetObject of bucket/key, a missing object reported as
// queue.ErrObjectNotFound. A 404 with another error code is not a
// missing object: Versity Gateway answers an unknown access key with 404
// XAdminUserNotFound, which must read as the configuration error it is.
func (s *Store) getObject(ctx context.Context, bucket, key string) (*s3.GetObjectOutput, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil && (code(err) == "NoSuchKey" || status(err) == http.StatusNotFound && code(err) == "") {
		return nil, queue.ErrObjectNotFound
	}
	return out, err
}

// List returns the keys under prefix, in order.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list objects %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

func lower(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// status is the HTTP status of a failed S3 request, or 0.
func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// code is the S3 error code of a failed request, or "".
func code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// withPayloadHash makes a request sign hash (lowercase hex sha256 of its
// body) as its payload hash instead of hashing the body again: the SDK's
// payload-hash step keeps a hash already set. Over HTTPS, where the SDK
// would otherwise send PutObject as UNSIGNED-PAYLOAD, the body is then
// signed too, so the server checks it on both code paths.
func withPayloadHash(hash string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("CartaPayloadHash",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					return next.HandleFinalize(v4.SetPayloadHash(ctx, hash), in)
				}), (*v4.ComputePayloadSHA256)(nil).ID(), middleware.Before)
		})
	}
}
