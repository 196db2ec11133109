package queue

import (
	"context"
	"fmt"

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

// Resources are the JetStream objects a worker uses.
type Resources struct {
	Jobs     jetstream.Stream
	Dead     jetstream.Stream
	Consumer jetstream.Consumer
	Results  jetstream.KeyValue
}

// Setup creates, or updates to c, the jobs stream, the dead-letter
// stream, the workers' consumer and the results bucket. Every worker
// calls it at start; it is safe to call from many at once. Since it
// updates, the last worker to start sets the bucket's TTL: give every
// worker the same ResultsTTL. Lowering it (or setting it on a bucket
// that had none) drops the results older than the new TTL at once.
func Setup(ctx context.Context, js jetstream.JetStream, c Config) (*Resources, error) {
	c = c.withDefaults()
	var r Resources
	var err error
	if r.Jobs, err = js.CreateOrUpdateStream(ctx, c.JobsStreamConfig()); err != nil {
		return nil, fmt.Errorf("set up stream %s: %w", c.Stream, err)
	}
	if r.Dead, err = js.CreateOrUpdateStream(ctx, c.DeadStreamConfig()); err != nil {
		return nil, fmt.Errorf("set up stream %s: %w", c.DeadStream, err)
	}
	if r.Consumer, err = js.CreateOrUpdateConsumer(ctx, c.Stream, c.ConsumerConfig()); err != nil {
		return nil, fmt.Errorf("set up consumer %s: %w", c.Consumer, err)
	}
	if r.Results, err = js.CreateOrUpdateKeyValue(ctx, c.ResultsBucketConfig()); err != nil {
		return nil, fmt.Errorf("set up bucket %s: %w", c.ResultsBucket, err)
	}
	return &r, nil
}
