package queue

import (
	"context"
	"errors"
)

// Errors an ObjectStore returns; test with errors.Is.
var (
	// ErrObjectExists means PutIfAbsent found an object already at the key.
	ErrObjectExists = errors.New("object already exists")
	// ErrObjectNotFound means there is no object at the key.
	ErrObjectNotFound = errors.New("object not found")
)

// Object is a PDF to store.
type Object struct {
	Key         string            // object key
	Body        []byte            // contents
	ContentType string            // e.g. application/pdf
	Metadata    map[string]string // user metadata, lower-case keys
	// SHA256 is the lowercase hex sha256 of Body when the caller has it
	// (the renderer computes it for every PDF), so that the store need
	// not hash the body again; "" lets the store compute it. A store
	// sends it for the server to check the body against: a wrong value
	// fails the write and stores nothing.
	SHA256 string
}

// ObjectStore is where a worker stores PDFs. queue/s3store implements it
// for S3. Every error other than ErrObjectExists and ErrObjectNotFound
// is taken as transient.
type ObjectStore interface {
	// Bucket names the bucket objects go to, for result events.
	Bucket() string
	// PutIfAbsent stores o unless an object is already at o.Key; then it
	// stores nothing and returns an error wrapping ErrObjectExists.
	PutIfAbsent(ctx context.Context, o Object) error
	// Head returns the user metadata of the object at key, or an error
	// wrapping ErrObjectNotFound.
	Head(ctx context.Context, key string) (map[string]string, error)
}

// UnavailableError marks an error of an ObjectStore as an outage of the
// store as a whole rather than a fault of the one object or job: the
// server unreachable, answering 5xx, throttling, refusing the
// credentials, or the bucket missing. A worker that meets one stops
// pulling jobs, keeps the jobs it holds, probes the store (BucketChecker)
// with capped exponential backoff and carries on once it answers; the
// jobs' delivery attempts are not spent (see the package doc, Storage
// outages). Test for it with errors.As, or errors.Is with
// ErrStoreUnavailable.
type UnavailableError struct {
	// Fix tells the operator what to check or do, e.g. "create bucket
	// letters, or start the worker with -s3-create-bucket".
	Fix string
	Err error // the store's error
}

func (e *UnavailableError) Error() string { return "object store unavailable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrStoreUnavailable) hold for every
// *UnavailableError.
func (e *UnavailableError) Is(target error) bool { return target == ErrStoreUnavailable }

// ErrStoreUnavailable matches every *UnavailableError with errors.Is.
var ErrStoreUnavailable = errors.New("object store unavailable")

// BucketChecker is an ObjectStore that can check, cheaply, that its
// bucket is there and reachable with its credentials (S3: HeadBucket).
// The worker calls it at start, for /readyz, and to probe the store
// during an outage. CheckBucket returns nil, or an error that wraps an
// *UnavailableError when the store or bucket cannot be used.
type BucketChecker interface {
	CheckBucket(ctx context.Context) error
}
