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
