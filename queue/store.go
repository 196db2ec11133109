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
