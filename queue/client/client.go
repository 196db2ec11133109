package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/renderer/job/ids"
)

// Defaults of the wire contract.
const (
	DefaultJobsSubject   = "carta.jobs"    // subject jobs are published on
	DefaultResultsPrefix = "carta.results" // result events go to <prefix>.<id>
	DefaultResultsBucket = "carta_results" // key-value bucket of recorded results
)

// Errors a submit can wrap; test with errors.Is.
var (
	// ErrQueueFull means the jobs stream reached its MaxMsgs or MaxBytes
	// limit and refused the job (DiscardNew). Retry later.
	ErrQueueFull = errors.New("queue is full")
	// ErrJobTooLarge means the job is bigger than the stream's MaxMsgSize
	// or the server's max_payload.
	ErrJobTooLarge = errors.New("job is too large for the queue")
	// ErrNoQueue means no JetStream stream listens on the jobs subject
	// (no worker has created it yet, or JetStream is off).
	ErrNoQueue = errors.New("no queue stream listens on the jobs subject")
	// ErrBadID means the job has no usable id.
	ErrBadID = errors.New("bad job id")
)

// ValidID reports whether id has the contract's syntax: 1 to 128 of
// A-Z a-z 0-9 . _ -, not starting with "." (package ids, which the
// validator uses too).
func ValidID(id string) bool { return ids.Valid(id) }

// Client submits jobs and waits for results. It is safe for concurrent use.
type Client struct {
	nc            *nats.Conn
	js            jetstream.JetStream
	jobsSubject   string
	resultsPrefix string
	bucket        string
	kv            atomic.Pointer[jetstream.KeyValue] // the results bucket, once looked up
}

// Option configures a Client.
type Option func(*Client)

// WithJobsSubject sets the subject jobs are published on
// (default DefaultJobsSubject).
func WithJobsSubject(s string) Option { return func(c *Client) { c.jobsSubject = s } }

// WithResultsPrefix sets the prefix of result subjects
// (default DefaultResultsPrefix; the event of job X is on <prefix>.X).
func WithResultsPrefix(p string) Option { return func(c *Client) { c.resultsPrefix = p } }

// WithResultsBucket sets the key-value bucket results are recorded in
// (default DefaultResultsBucket).
func WithResultsBucket(b string) Option { return func(c *Client) { c.bucket = b } }

// New returns a client on an open NATS connection. The connection stays
// the caller's to close.
func New(nc *nats.Conn, opts ...Option) (*Client, error) {
	if nc == nil {
		return nil, errors.New("create client: nil NATS connection")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	c := &Client{nc: nc, js: js, jobsSubject: DefaultJobsSubject, resultsPrefix: DefaultResultsPrefix, bucket: DefaultResultsBucket}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Ack is the queue's acknowledgement of a submitted job.
type Ack struct {
	ID        string // the job id
	Stream    string // the stream that stored it
	Sequence  uint64 // its sequence in the stream
	Duplicate bool   // true when the id was already submitted within the Duplicates window: nothing new was queued
}

// Submit publishes one job (its JSON bytes, unchanged) and returns its id
// once the stream has stored it. Submitting the same id again within the
// stream's Duplicates window is accepted without queueing a second copy,
// unless the id's recorded result is failed: then the job is a
// resubmission and is queued (see Publish).
func (c *Client) Submit(ctx context.Context, jobJSON []byte) (string, error) {
	ack, err := c.Publish(ctx, jobJSON)
	return ack.ID, err
}

// Publish is Submit returning the stream's acknowledgement.
//
// The message's Nats-Msg-Id, which the stream deduplicates on, is the
// job id; when the results bucket records a failed result for the id, it
// is MsgID(id, that result), so that a corrected job submitted again
// after a failure is queued instead of being dropped as a duplicate of
// the failed one, while two submissions after the same failure still
// count as one.
func (c *Client) Publish(ctx context.Context, jobJSON []byte) (Ack, error) {
	id, err := JobID(jobJSON)
	if err != nil {
		return Ack{}, fmt.Errorf("submit job: %w", err)
	}
	msgID := id
	if res, err := c.Lookup(ctx, id); err != nil {
		return Ack{ID: id}, fmt.Errorf("submit job %s: %w", id, err)
	} else if res != nil && res.Status == StatusFailed {
		msgID = MsgID(id, res)
	}
	msg := nats.NewMsg(c.jobsSubject)
	msg.Data = jobJSON
	pa, err := c.js.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID))
	if err != nil {
		return Ack{ID: id}, fmt.Errorf("submit job %s: %w", id, classify(err))
	}
	return Ack{ID: id, Stream: pa.Stream, Sequence: pa.Sequence, Duplicate: pa.Duplicate}, nil
}

// MsgID is the Nats-Msg-Id of a job: its id, or for a resubmission after
// the failed result failed, "ID~after~" and the failure's FinishedAt in
// Unix nanoseconds and its attempts ("x~after~1767225600000000000.1").
func MsgID(id string, failed *Result) string {
	if failed == nil {
		return id
	}
	return fmt.Sprintf("%s~after~%d.%d", id, failed.FinishedAt.UnixNano(), failed.Attempts)
}

// classify maps publish errors to the package's sentinel errors, keeping
// the server's words.
func classify(err error) error {
	var apiErr *jetstream.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum,
		errors.Is(err, nats.ErrMaxPayload):
		return fmt.Errorf("%w: %w", ErrJobTooLarge, err)
	case errors.As(err, &apiErr) && (strings.Contains(apiErr.Description, "maximum messages") ||
		strings.Contains(apiErr.Description, "maximum bytes") ||
		strings.Contains(apiErr.Description, "insufficient resources")):
		return fmt.Errorf("%w: %s", ErrQueueFull, apiErr.Description)
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("%w (is a worker running?): %w", ErrNoQueue, err)
	}
	return err
}

// JobID reads the id of a job from its JSON and checks it against the
// contract's syntax (1–128 of A-Z a-z 0-9 . _ -, not starting with ".").
func JobID(jobJSON []byte) (string, error) {
	if id, ok := fastID(jobJSON); ok && ValidID(id) {
		return id, nil
	}
	var head struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal(jobJSON, &head); err != nil {
		return "", fmt.Errorf("%w: job is not a JSON object: %w", ErrBadID, err)
	}
	if head.ID == nil || *head.ID == "" {
		return "", fmt.Errorf("%w: id: required", ErrBadID)
	}
	id := *head.ID
	if !ValidID(id) {
		return "", fmt.Errorf("%w: id: %q must be 1 to 128 of A-Z a-z 0-9 . _ - and not start with \".\"", ErrBadID, id)
	}
	return id, nil
}

// Token returns the form of job id used as subject token and key-value
// key: the id itself, unless it ends with "." or contains "..", which NATS
// cannot carry; then every "." is written "=2E". queue.Token is this
// function.
func Token(id string) string {
	if strings.HasSuffix(id, ".") || strings.Contains(id, "..") {
		return strings.ReplaceAll(id, ".", "=2E")
	}
	return id
}

// IDOfToken undoes Token: it returns the job id of a subject token or
// key-value key.
func IDOfToken(token string) string { return strings.ReplaceAll(token, "=2E", ".") }

// ResultSubject returns the subject the result event of job id is
// published on: <results prefix>.<Token(id)>.
func (c *Client) ResultSubject(id string) string { return ResultSubject(c.resultsPrefix, id) }

// ResultSubject is the subject of the result event of job id under
// prefix (DefaultResultsPrefix unless configured): <prefix>.<Token(id)>.
func ResultSubject(prefix, id string) string { return prefix + "." + Token(id) }

// Wait blocks until job id has a result and returns it, or returns the
// context's error. A failed job is a Result with Status StatusFailed and
// a nil error from Wait; use Result.Err.
//
// Wait subscribes to the result subject before it looks the id up in the
// results bucket, so it never misses a result published in between, and it
// returns at once for a job that finished long ago. Result events are
// core NATS messages, lost while the connection is down; the worker
// records every result in the bucket before publishing it, so Wait looks
// the id up again after every reconnect (and every LookupInterval), and
// a lookup that fails (the server restarting) is tried again each second
// until ctx ends. It accepts any result, however old; use WaitSince
// after resubmitting an id that failed before.
func (c *Client) Wait(ctx context.Context, id string) (*Result, error) {
	return c.WaitSince(ctx, id, time.Time{})
}

// LookupTimeout bounds each Lookup.
const LookupTimeout = 10 * time.Second

// LookupInterval is how often Wait and WaitSince look the result up in
// the bucket while no event comes, besides after every reconnect.
const LookupInterval = 30 * time.Second

// WaitSince is Wait ignoring failed results decided before since: a
// recorded or published failed result whose FinishedAt is before since
// is taken to be that of an earlier submission of the same id, and
// WaitSince keeps waiting for a newer one. A done result is accepted
// whatever its FinishedAt, since the worker never renders a done id again
// (it republishes the recorded result instead). The zero since accepts
// every result, as Wait does.
//
// FinishedAt is the worker's clock and since the caller's, so callers
// should pass their submission time minus an allowance for clock skew
// (carta submit uses one minute).
func (c *Client) WaitSince(ctx context.Context, id string, since time.Time) (*Result, error) {
	// Told of every reconnect, so as to look the id up again: an event
	// published while the connection was down is lost.
	reconnected := c.nc.StatusChanged(nats.CONNECTED)
	defer c.nc.RemoveStatusListener(reconnected)
	msgs := make(chan *nats.Msg, 16)
	sub, err := c.nc.ChanSubscribe(c.ResultSubject(id), msgs)
	if err != nil {
		return nil, fmt.Errorf("wait for job %s: subscribe: %w", id, err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // best effort
	// Make sure the server has the subscription before looking in the bucket.
	if err := c.nc.FlushWithContext(ctx); err != nil {
		return nil, fmt.Errorf("wait for job %s: subscribe: %w", id, err)
	}
	retry := time.NewTimer(LookupInterval)
	defer retry.Stop()
	var lastErr error
	lookup := func() (*Result, bool) {
		res, err := c.Lookup(ctx, id)
		if err != nil {
			// The server may still be starting: try again shortly.
			lastErr = err
			retry.Reset(time.Second)
			return nil, false
		}
		lastErr = nil
		retry.Reset(LookupInterval)
		return res, res != nil && current(res, since)
	}
	if res, ok := lookup(); ok {
		return res, nil
	}
	for {
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return nil, fmt.Errorf("wait for job %s: %w (last lookup: %w)", id, ctx.Err(), lastErr)
			}
			return nil, fmt.Errorf("wait for job %s: %w", id, ctx.Err())
		case msg := <-msgs:
			res, err := decodeResult(msg.Data)
			if err != nil {
				return nil, fmt.Errorf("wait for job %s: %w", id, err)
			}
			if current(res, since) {
				return res, nil
			}
		case <-reconnected:
			if res, ok := lookup(); ok {
				return res, nil
			}
		case <-retry.C:
			if res, ok := lookup(); ok {
				return res, nil
			}
		}
	}
}

// current reports whether res answers a submission made at since: it is
// done, or it was decided at or after since.
func current(res *Result, since time.Time) bool {
	return res.Status == StatusDone || !res.FinishedAt.Before(since)
}

// Lookup returns the recorded result of job id, or nil and no error when
// there is none yet (including when the bucket does not exist yet).
//
// Each request to the server is bounded by LookupTimeout (or ctx, when
// sooner): the reply to a request in flight when its server went away
// never comes, and Lookup must not wait for it until ctx ends.
func (c *Client) Lookup(ctx context.Context, id string) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, LookupTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		kv, cached, err := c.results(ctx)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("look up result: bucket %s: %w", c.bucket, err)
		}
		e, err := kv.Get(ctx, Token(id))
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			return nil, nil
		case err != nil && cached && attempt == 0:
			// The bucket may have gone since its handle was kept: look
			// it up again.
			c.kv.Store(nil)
			continue
		case err != nil:
			return nil, fmt.Errorf("look up result: %w", err)
		}
		return decodeResult(e.Value())
	}
}

// results returns the handle of the results bucket, looked up once (a
// round trip to the server) and then kept; cached says it was kept.
func (c *Client) results(ctx context.Context) (kv jetstream.KeyValue, cached bool, err error) {
	if p := c.kv.Load(); p != nil {
		return *p, true, nil
	}
	kv, err = c.js.KeyValue(ctx, c.bucket)
	if err != nil {
		return nil, false, err
	}
	c.kv.Store(&kv)
	return kv, false, nil
}

func decodeResult(data []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode result event: %w", err)
	}
	return &r, nil
}
