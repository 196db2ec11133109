package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// JobsStreamConfig is the jobs stream of the contract: work-queue
// retention, DiscardNew with explicit limits, and the Duplicates window.
func (c Config) JobsStreamConfig() jetstream.StreamConfig {
	c = c.withDefaults()
	return jetstream.StreamConfig{
		Name:        c.Stream,
		Description: "Carta letter jobs",
		Subjects:    []string{c.Subject},
		Retention:   jetstream.WorkQueuePolicy,
		Discard:     jetstream.DiscardNew,
		MaxMsgs:     c.MaxMsgs,
		MaxBytes:    c.MaxBytes,
		MaxMsgSize:  c.MaxMsgSize,
		Duplicates:  c.Duplicates,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
	}
}

// DeadStreamConfig is the dead-letter stream: it keeps every dead letter
// (DiscardNew with the same limits as the jobs stream, so a full one
// refuses instead of dropping old letters).
func (c Config) DeadStreamConfig() jetstream.StreamConfig {
	c = c.withDefaults()
	return jetstream.StreamConfig{
		Name:        c.DeadStream,
		Description: "Carta letter jobs that failed for good",
		Subjects:    []string{c.DeadSubject + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxMsgs:     c.MaxMsgs,
		MaxBytes:    c.MaxBytes,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
	}
}

// ConsumerConfig is the shared durable pull consumer of the workers. Its
// MaxDeliver is -1 (unlimited): the worker enforces Config.MaxDeliver
// itself, so that a job whose last delivery never finished (worker
// killed, shut down, dead-letter copy failed) is delivered once more and
// then dead-lettered, instead of being left in the stream for good.
func (c Config) ConsumerConfig() jetstream.ConsumerConfig {
	c = c.withDefaults()
	return jetstream.ConsumerConfig{
		Durable:       c.Consumer,
		Description:   "Carta workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.AckWait,
		MaxDeliver:    -1,
		FilterSubject: c.Subject,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// ResultsBucketConfig is the key-value bucket of results: one entry per
// job id, kept for c.ResultsTTL (forever when it is 0).
func (c Config) ResultsBucketConfig() jetstream.KeyValueConfig {
	c = c.withDefaults()
	return jetstream.KeyValueConfig{
		Bucket:      c.ResultsBucket,
		Description: "Carta job results by job id",
		History:     1,
		TTL:         c.ResultsTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
	}
}

// JobsBucketConfig is the key-value bucket of job JSON (Config.JobsBucket):
// one entry per job id, kept as long as the results (c.ResultsTTL), so
// that no preview outlives its letter's listing. The HTTP API creates
// the same bucket with the results bucket's TTL when no worker has.
func (c Config) JobsBucketConfig() jetstream.KeyValueConfig {
	c = c.withDefaults()
	return jetstream.KeyValueConfig{
		Bucket:      c.JobsBucket,
		Description: "Carta job JSON by job id, for the staff page's previews",
		History:     1,
		TTL:         c.ResultsTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
	}
}

// Resources are the JetStream objects a worker uses.
type Resources struct {
	Jobs     jetstream.Stream
	Dead     jetstream.Stream
	Consumer jetstream.Consumer
	Results  jetstream.KeyValue
	JobsKV   jetstream.KeyValue // the jobs bucket (Config.JobsBucket)
}

// setupCallTimeout bounds the first try of each JetStream call of Setup;
// each try that times out doubles it, up to 5 s. On a fresh cluster the
// first calls go unanswered while the meta leader is elected, and a
// node that has not yet learnt the leader drops them too: a short limit
// and another try beat one long wait.
const setupCallTimeout = time.Second

// Setup creates, or updates to c, the jobs stream, the dead-letter
// stream, the workers' consumer, the results bucket and the jobs bucket.
// Every worker calls it at start; it is safe to call from many at once.
// Since it updates, the last worker to start sets the buckets' TTL: give
// every worker the same ResultsTTL. Lowering it (or setting it on a bucket
// that had none) drops the results older than the new TTL at once.
//
// Each object is looked up first, then updated, or created when missing;
// a create that loses the race with another worker's is followed by the
// update. (nats.go's CreateOrUpdate tries an update first, and on a fresh
// 3-node cluster an update racing another worker's create went
// unanswered, costing each step its whole time limit.) Each call has its
// own short time limit (1 s, doubling after each time-out up to 5 s) and
// is tried again, until ctx ends.
func Setup(ctx context.Context, js jetstream.JetStream, c Config) (*Resources, error) {
	c = c.withDefaults()
	var r Resources
	var err error
	if r.Jobs, err = ensureStream(ctx, js, c.JobsStreamConfig()); err != nil {
		return nil, err
	}
	if r.Dead, err = ensureStream(ctx, js, c.DeadStreamConfig()); err != nil {
		return nil, err
	}
	if r.Consumer, err = ensure(ctx, "consumer "+c.Consumer,
		func(ctx context.Context) (jetstream.Consumer, error) { return js.Consumer(ctx, c.Stream, c.Consumer) },
		func(ctx context.Context) (jetstream.Consumer, error) {
			return js.CreateConsumer(ctx, c.Stream, c.ConsumerConfig())
		},
		func(ctx context.Context) (jetstream.Consumer, error) {
			return js.UpdateConsumer(ctx, c.Stream, c.ConsumerConfig())
		},
	); err != nil {
		return nil, err
	}
	if r.Results, err = ensure(ctx, "bucket "+c.ResultsBucket,
		func(ctx context.Context) (jetstream.KeyValue, error) { return js.KeyValue(ctx, c.ResultsBucket) },
		func(ctx context.Context) (jetstream.KeyValue, error) {
			return js.CreateKeyValue(ctx, c.ResultsBucketConfig())
		},
		func(ctx context.Context) (jetstream.KeyValue, error) {
			return js.UpdateKeyValue(ctx, c.ResultsBucketConfig())
		},
	); err != nil {
		return nil, err
	}
	if r.JobsKV, err = ensure(ctx, "bucket "+c.JobsBucket,
		func(ctx context.Context) (jetstream.KeyValue, error) { return js.KeyValue(ctx, c.JobsBucket) },
		func(ctx context.Context) (jetstream.KeyValue, error) {
			return js.CreateKeyValue(ctx, c.JobsBucketConfig())
		},
		func(ctx context.Context) (jetstream.KeyValue, error) {
			return js.UpdateKeyValue(ctx, c.JobsBucketConfig())
		},
	); err != nil {
		return nil, err
	}
	return &r, nil
}

// ensureStream looks the stream cfg.Name up and updates it to cfg, or
// creates it, with ensure.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return ensure(ctx, "stream "+cfg.Name,
		func(ctx context.Context) (jetstream.Stream, error) { return js.Stream(ctx, cfg.Name) },
		func(ctx context.Context) (jetstream.Stream, error) { return js.CreateStream(ctx, cfg) },
		func(ctx context.Context) (jetstream.Stream, error) { return js.UpdateStream(ctx, cfg) },
	)
}

// ensure looks an object up, updates it when found or creates it when
// not, each call under setupCallTimeout, trying again after a time-out
// or a lost create race until ctx ends. A refusal by the server (a bad
// configuration) is returned at once.
func ensure[T any](ctx context.Context, what string, get, create, update func(context.Context) (T, error)) (T, error) {
	limit := setupCallTimeout
	call := func(f func(context.Context) (T, error)) (T, error) {
		cctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		v, err := f(cctx)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			limit = min(2*limit, 5*time.Second)
		}
		return v, err
	}
	delay := 100 * time.Millisecond
	var zero T
	for {
		_, err := call(get)
		var v T
		switch {
		case err == nil:
			v, err = call(update)
		case errors.Is(err, jetstream.ErrStreamNotFound), errors.Is(err, jetstream.ErrConsumerNotFound),
			errors.Is(err, jetstream.ErrBucketNotFound):
			v, err = call(create)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) || errors.Is(err, jetstream.ErrConsumerExists) ||
				errors.Is(err, jetstream.ErrBucketExists) {
				// Another worker created it: look it up and update it.
				sleep(ctx, 50*time.Millisecond)
				continue
			}
		}
		if err == nil {
			return v, nil
		}
		if !setupRetryable(err) || ctx.Err() != nil {
			return zero, fmt.Errorf("set up %s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return zero, fmt.Errorf("set up %s: %w", what, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// setupRetryable reports whether a Setup call may work when tried again:
// it timed out or found no responder, or JetStream is not ready yet.
func setupRetryable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == jetstream.JSErrCodeJetStreamNotEnabled || apiErr.ErrorCode == 0 ||
			apiErr.Code == 503 || apiErr.Code == 408
	}
	return true
}
