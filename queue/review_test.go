package queue_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// TestLastDeliveryShutdownIsDeadLettered: every delivery of a job,
// including the last (MaxDeliver), is interrupted by a worker shutdown.
// The server delivers it once more and the next worker, without
// rendering, dead-letters it and reports it failed: it is not stuck in
// the jobs stream.
func TestLastDeliveryShutdownIsDeadLettered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t) // MaxDeliver 3
	cfg.ShutdownTimeout = 200 * time.Millisecond
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	for i := 1; i <= cfg.MaxDeliver; i++ {
		var started atomic.Int64
		c := cfg
		c.Render = fakeRender(func(string) { started.Add(1); <-block })
		_, stop := e.startWorker(newMemStore(), c)
		if i == 1 {
			e.submit(queuetest.Job("lost"), "lost")
		}
		for started.Load() == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	var renders atomic.Int64
	c := cfg
	c.Render = fakeRender(func(string) { renders.Add(1) })
	store := newMemStore()
	e.startWorker(store, c)

	r := e.waitResult("lost")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeInternal {
		t.Fatalf("result = %+v, want failed with code internal", r)
	}
	if r.Attempts != cfg.MaxDeliver+1 {
		t.Errorf("attempts = %d, want %d", r.Attempts, cfg.MaxDeliver+1)
	}
	if rec := e.recorded("lost"); rec == nil || rec.Status != client.StatusFailed {
		t.Errorf("recorded result = %+v, want failed", rec)
	}
	if n := len(e.deadLetters("lost")); n != 1 {
		t.Errorf("dead letters = %d, want 1", n)
	}
	if renders.Load() != 0 || store.len() != 0 {
		t.Errorf("delivery beyond MaxDeliver rendered %d times and stored %d objects, want none", renders.Load(), store.len())
	}
	e.waitSettled()
}

// TestLastDeliveryDeadLetterFailureIsRetried: on the last delivery of a
// failing job the dead-letter copy fails (the dead-letter stream is
// gone). The job is nak'ed, not left unsettled, and once the stream is
// back it is dead-lettered and reported failed, rendered only once.
func TestLastDeliveryDeadLetterFailureIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.MaxDeliver = 1
	var renders atomic.Int64
	cfg.Render = func([]byte) (*job.Job, *renderer.Result, error) {
		if renders.Add(1) == 1 {
			if err := e.js.DeleteStream(context.Background(), queue.DefaultDeadStream); err != nil {
				t.Errorf("delete dead-letter stream: %v", err)
			}
		}
		return nil, nil, errors.New("render letter: broken font")
	}
	w, _ := e.startWorker(newMemStore(), cfg)
	e.submit(queuetest.Job("dlq-down"), "dlq-down")
	for counter(t, w, "carta_jobs_total", "status", "retried") == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := queue.Setup(context.Background(), e.js, testConfig(t)); err != nil {
		t.Fatal(err)
	}
	r := e.waitResult("dlq-down")
	if r.Status != client.StatusFailed {
		t.Fatalf("result = %+v, want failed", r)
	}
	if n := len(e.deadLetters("dlq-down")); n != 1 {
		t.Errorf("dead letters = %d, want 1", n)
	}
	if renders.Load() != 1 {
		t.Errorf("renders = %d, want 1", renders.Load())
	}
	e.waitSettled()
}

// TestSetupLiftsConsumerMaxDeliver: a consumer made by an older worker,
// with the server enforcing MaxDeliver, is updated by Setup to unlimited
// deliveries (the worker enforces the limit).
func TestSetupLiftsConsumerMaxDeliver(t *testing.T) {
	t.Parallel()
	n := queuetest.StartNATS(t)
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := testConfig(t)
	if _, err := js.CreateOrUpdateStream(ctx, cfg.JobsStreamConfig()); err != nil {
		t.Fatal(err)
	}
	old := cfg.ConsumerConfig()
	old.MaxDeliver = 5
	if _, err := js.CreateOrUpdateConsumer(ctx, queue.DefaultStream, old); err != nil {
		t.Fatal(err)
	}
	res, err := queue.Setup(ctx, js, cfg)
	if err != nil {
		t.Fatalf("setup over an existing consumer: %v", err)
	}
	info, err := res.Consumer.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxDeliver != -1 {
		t.Errorf("consumer MaxDeliver = %d, want -1", info.Config.MaxDeliver)
	}
}

// TestDotsInIDsEndToEnd: ids the contract allows with ".." inside or a
// trailing "." get default keys such as "letters/a..b.pdf" and
// "letters/x..pdf"; they are stored and reported done.
func TestDotsInIDsEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	store := newMemStore()
	e.startWorker(store, testConfig(t))
	tests := []struct {
		id, key string
	}{
		{"a..b", "letters/a..b.pdf"},
		{"v1.2..final", "letters/v1.2..final.pdf"},
		{"x.", "letters/x..pdf"},
	}
	for _, tt := range tests {
		e.submit(queuetest.Job(tt.id), tt.id)
	}
	for _, tt := range tests {
		r := e.waitResult(tt.id)
		if r.Status != client.StatusDone || r.Key != tt.key {
			t.Errorf("%s: result status %s key %q error %+v, want done at %q", tt.id, r.Status, r.Key, r.Error, tt.key)
			continue
		}
		if _, err := store.Head(context.Background(), tt.key); err != nil {
			t.Errorf("%s: object %s: %v", tt.id, tt.key, err)
		}
	}
}
