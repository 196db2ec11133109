package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
)

// TestRequeueDeadLetter: a job dead-lettered after its last attempt (a
// fault of its own store writes) is requeued once the fault is gone: it
// is queued again with its original body despite the duplicates window,
// rendered, stored and recorded done, and leaves the dead-letter stream.
// Requeueing the same dead letter twice queues it once.
func TestRequeueDeadLetter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := newMemStore()
	cfg := testConfig(t)
	st.failN.Store(int64(cfg.MaxDeliver)) // every attempt of the first run fails
	cfg.Render = fakeRender(nil)
	e.startWorker(st, cfg)
	data := queuetest.Job("rq-1")
	e.submit(data, "rq-1")
	if r := e.waitResult("rq-1"); r.Status != client.StatusFailed {
		t.Fatalf("first run: %+v, want failed", r)
	}
	e.waitSettled()
	ctx := context.Background()
	dead, err := queue.ListDeadLetters(ctx, e.js, cfg, queue.DeadFilter{IDs: []string{"rq-1"}})
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters of rq-1: %+v (%v), want 1", dead, err)
	}
	d := dead[0]
	if string(d.Data) != string(data) || d.Attempts != cfg.MaxDeliver || d.Error == "" || d.ID != "rq-1" {
		t.Errorf("dead letter %+v", d)
	}
	if other, _ := queue.ListDeadLetters(ctx, e.js, cfg, queue.DeadFilter{IDs: []string{"other"}}); len(other) != 0 {
		t.Errorf("filter by another id found %d", len(other))
	}
	if later, _ := queue.ListDeadLetters(ctx, e.js, cfg, queue.DeadFilter{All: true, Since: time.Now().Add(time.Hour)}); len(later) != 0 {
		t.Errorf("filter by a later time found %d", len(later))
	}
	if all, _ := queue.ListDeadLetters(ctx, e.js, cfg, queue.DeadFilter{All: true, Since: time.Now().Add(-time.Hour)}); len(all) != 1 {
		t.Errorf("filter by the last hour found %d, want 1", len(all))
	}

	if err := queue.Requeue(ctx, e.js, cfg, d); err != nil {
		t.Fatal(err)
	}
	if err := queue.Requeue(ctx, e.js, cfg, d); err != nil { // again: a no-op
		t.Fatal(err)
	}
	rs := e.waitResults("rq-1", 2)
	if r := rs[1]; r.Status != client.StatusDone || r.Attempts != 1 {
		t.Errorf("after requeue: %+v, want done on the first attempt", r)
	}
	e.waitSettled()
	if rec := e.recorded("rq-1"); rec == nil || rec.Status != client.StatusDone {
		t.Errorf("recorded %+v, want done", rec)
	}
	if left, _ := queue.ListDeadLetters(ctx, e.js, cfg, queue.DeadFilter{All: true}); len(left) != 0 {
		t.Errorf("%d dead letters left, want 0", len(left))
	}
	time.Sleep(300 * time.Millisecond)
	e.mu.Lock()
	n := len(e.results[queue.ResultSubject(queue.DefaultResultsSubject, "rq-1")])
	e.mu.Unlock()
	if n != 2 || st.len() != 1 {
		t.Errorf("%d events and %d objects, want 2 and 1 (requeued once)", n, st.len())
	}
}
