package s3store

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/carta-letters/carta/queue"
)

// CheckBucket checks that the bucket exists and that the credentials may
// use it (HeadBucket). It returns nil, or an error wrapping a
// *queue.UnavailableError that says what to fix.
func (s *Store) CheckBucket(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err == nil {
		return nil
	}
	if status(err) == http.StatusNotFound {
		// HEAD has no body, so no NoSuchBucket code: 404 is the answer.
		return fmt.Errorf("check bucket %s: %w", s.bucket, &queue.UnavailableError{Fix: s.missingBucketFix(), Err: err})
	}
	return fmt.Errorf("check bucket %s: %w", s.bucket, s.classify(ctx, err))
}

func (s *Store) missingBucketFix() string {
	return fmt.Sprintf("bucket %s does not exist: create it, or start the worker with -s3-create-bucket (CARTA_S3_CREATE_BUCKET=true)", s.bucket)
}

// classify wraps err in a *queue.UnavailableError when it is an outage of
// S3 rather than a fault of one request: no answer at all (connection
// refused or reset, DNS, TLS, timeouts), 5xx, throttling (429, SlowDown),
// credentials refused, or the bucket missing. Other errors (a 4xx about
// the one object or request, the caller's own cancellation or
// deadline) are returned
// as they are.
func (s *Store) classify(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	var ue *queue.UnavailableError
	if errors.As(err, &ue) {
		return err
	}
	st, c := status(err), code(err)
	var fix string
	switch {
	case c == "NoSuchBucket":
		fix = s.missingBucketFix()
	case st == http.StatusTooManyRequests || c == "SlowDown" || c == "Throttling" || c == "ThrottlingException" ||
		c == "RequestLimitExceeded" || c == "TooManyRequestsException":
		fix = "S3 is throttling requests: wait, or raise the server's request limits"
	case st >= 500 || c == "InternalError" || c == "ServiceUnavailable" || c == "RequestTimeout":
		fix = fmt.Sprintf("S3 answers %d %s: check the S3 server and its disks", st, c)
	case c == "InvalidAccessKeyId" || c == "SignatureDoesNotMatch" || c == "ExpiredToken" || c == "InvalidToken" ||
		c == "AccessDenied" || st == http.StatusForbidden:
		fix = fmt.Sprintf("S3 refuses the credentials (%s): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the role, and the bucket's policy", c)
	case st == 0 && c == "":
		// No HTTP answer: the server is unreachable or timed out, or the
		// SDK gave up before sending.
		if ctx.Err() != nil {
			// The caller's deadline or cancellation, not the request
			// timeout: not an outage by itself.
			return err
		}
		fix = "S3 does not answer: check that the server runs and that -s3-endpoint (CARTA_S3_ENDPOINT or AWS_ENDPOINT_URL_S3) points to it"
	default:
		return err
	}
	return &queue.UnavailableError{Fix: fix, Err: err}
}
