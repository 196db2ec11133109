package queue_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
)

// jobsEntry waits until the jobs bucket holds want under id's key and
// returns the entry (with its revision), failing after 30 s.
func (e *env) jobsEntry(bucket, id string, want []byte) jetstream.KeyValueEntry {
	e.t.Helper()
	kv, err := e.js.KeyValue(context.Background(), bucket)
	if err != nil {
		e.t.Fatalf("open jobs bucket %s: %v", bucket, err)
	}
	var last []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		en, err := kv.Get(context.Background(), client.JobKey(id))
		if err == nil && bytes.Equal(en.Value(), want) {
			return en
		}
		if err == nil {
			last = en.Value()
		}
	}
	e.t.Fatalf("jobs bucket %s, key %s: holds %.80q after 30s, want %.80q", bucket, client.JobKey(id), last, want)
	return nil
}

// TestJobsBucket: the worker keeps the JSON of every job it takes,
// valid or not, submitted straight on NATS, in the jobs bucket under the
// key the HTTP API reads; the same bytes are not written again, a
// corrected resubmission replaces them, and a done job's JSON is not
// replaced by a later body under its id (the preview stays the letter's).
func TestJobsBucket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.JobsBucket = "jobs_json"
	cfg.ResultsTTL = time.Hour
	e.startWorker(newMemStore(), cfg)
	ctx := context.Background()
	cl, err := client.New(e.nc)
	if err != nil {
		t.Fatal(err)
	}

	// The bucket: created by the worker's Setup with the results' TTL.
	var kv jetstream.KeyValue
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if kv, err = e.js.KeyValue(ctx, "jobs_json"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("jobs bucket not created: %v", err)
	}
	if st, err := kv.Status(ctx); err != nil || st.TTL() != time.Hour || st.History() != 1 {
		t.Errorf("jobs bucket status = %+v (%v), want TTL 1h, history 1", st, err)
	}

	// Every write to the two keys, counted as it happens.
	writes := func(id string) func() int {
		w, err := kv.Watch(ctx, client.JobKey(id), jetstream.UpdatesOnly())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Stop() })
		n := 0
		return func() int {
			for {
				select {
				case en := <-w.Updates():
					if en != nil {
						n++
					}
				case <-time.After(500 * time.Millisecond):
					return n
				}
			}
		}
	}
	validWrites, invalidWrites := writes("kept-valid"), writes("kept-invalid")

	// Valid, through queue/client.
	valid := queuetest.Job("kept-valid")
	if _, err := cl.Submit(ctx, valid); err != nil {
		t.Fatal(err)
	}
	if r := e.waitResult("kept-valid"); r.Status != client.StatusDone {
		t.Fatalf("kept-valid = %+v, want done", r)
	}
	doneRev := e.jobsEntry("jobs_json", "kept-valid", valid).Revision()

	// A different body under the done id is not laid out (the recorded
	// result is published again), so it must not replace the JSON.
	other := bytes.Replace(valid, []byte("Carta kept-valid"), []byte("Another letter"), 1)
	e.submit(other, "kept-valid-again")
	e.waitResults("kept-valid", 2)

	// Invalid, raw on NATS, twice with the same bytes (another message
	// id, so not dropped as a duplicate): written once.
	invalid := queuetest.InvalidJob("kept-invalid")
	e.submit(invalid, "")
	if r := e.waitResult("kept-invalid"); r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeInvalidJob {
		t.Fatalf("kept-invalid = %+v, want failed invalid_job", r)
	}
	first := e.jobsEntry("jobs_json", "kept-invalid", invalid)
	e.submit(invalid, "")
	e.waitResults("kept-invalid", 2)

	// Corrected under the same id: replaces the failed job's JSON.
	fixed := queuetest.Job("kept-invalid")
	e.submit(fixed, "")
	if rs := e.waitResults("kept-invalid", 3); rs[2].Status != client.StatusDone {
		t.Fatalf("corrected kept-invalid = %+v, want done", rs[2])
	}
	e.jobsEntry("jobs_json", "kept-invalid", fixed)
	e.waitSettled()

	en, err := kv.Get(ctx, client.JobKey("kept-valid"))
	if err != nil || en.Revision() != doneRev || !bytes.Equal(en.Value(), valid) {
		t.Errorf("kept-valid after a later body: revision %d (%v), want %d with the letter's own JSON", en.Revision(), err, doneRev)
	}
	if n := validWrites(); n != 1 {
		t.Errorf("kept-valid written %d times, want once", n)
	}
	// The identical second delivery wrote nothing: two writes, the
	// invalid job's and the corrected one's.
	if n := invalidWrites(); n != 2 {
		t.Errorf("kept-invalid written %d times (first at revision %d), want 2: the same bytes again must not be written", n, first.Revision())
	}
}

// TestJobsBucketGone: with the jobs bucket gone, a job is still done
// (it only lacks its preview) and the worker logs the failure at warn.
func TestJobsBucketGone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if err := e.js.DeleteKeyValue(ctx, client.DefaultJobsBucket); err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	cfg := testConfig(t)
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	w, _ := e.startWorker(newMemStore(), cfg)
	// The worker's Setup created the bucket again: take it away after.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if w.Ready(ctx) == nil || time.Now().After(deadline) {
			break
		}
	}
	if err := e.js.DeleteKeyValue(ctx, client.DefaultJobsBucket); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"gone-1", "gone-2"} {
		e.submit(queuetest.Job(id), id)
		if r := e.waitResult(id); r.Status != client.StatusDone {
			t.Fatalf("%s = %+v, want done without the jobs bucket", id, r)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logs.String(), "keep job JSON for its preview: failed"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no warning about the jobs bucket after 30s; log:\n%s", logs.String())
		}
	}
	if n := strings.Count(logs.String(), `"level":"WARN","msg":"keep job JSON`); n != 1 {
		t.Errorf("%d warnings about the jobs bucket for two jobs, want 1", n)
	}
}

// syncBuf is a bytes.Buffer safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNewRefusesJobsBucketOfResults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.JobsBucket = "carta_results"
	_, err := queue.New(e.nc, newMemStore(), cfg)
	if want := `jobs bucket "carta_results": must not be the results bucket`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("New: %v, want an error containing %q", err, want)
	}
}
