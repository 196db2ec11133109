package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/renderer"
)

// These tests run the real renderer against a real nats-server and a
// real S3 server (versitygw).

func TestHappyPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	e.startWorker(st, testConfig(t))

	data := queuetest.Job("happy-1")
	_, want, err := renderer.RenderJSON(data)
	if err != nil {
		t.Fatalf("render locally: %v", err)
	}
	e.submit(data, "happy-1")
	r := e.waitResult("happy-1")

	if r.Status != client.StatusDone || r.Error != nil {
		t.Fatalf("result = %+v, want done", r)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", r.ID, "happy-1"},
		{"bucket", r.Bucket, "letters"},
		{"key", r.Key, "letters/happy-1.pdf"},
		{"sha256", r.SHA256, want.SHA256},
		{"bytes", r.Bytes, int64(len(want.PDF))},
		{"pages", r.Pages, want.Pages},
		{"attempts", r.Attempts, 1},
		{"carta_version", r.CartaVersion, renderer.Version},
		{"title", r.Title, "Carta happy-1"},
		{"recipients", len(r.Recipients), 2},
		{"first recipient", r.Recipients[0], "Andrés Manuel López Obrador"},
		{"finished_at is UTC", r.FinishedAt.Location(), time.UTC},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if r.FinishedAt.IsZero() || r.TotalMS < r.RenderMS {
		t.Errorf("finished_at %v, total_ms %d, render_ms %d: inconsistent", r.FinishedAt, r.TotalMS, r.RenderMS)
	}
	body, meta, err := st.Get(context.Background(), "letters/happy-1.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), "%PDF-") {
		t.Errorf("stored object is not a PDF: %.20q", body)
	}
	if got := sha(body); got != want.SHA256 {
		t.Errorf("stored object sha256 = %s, local render %s", got, want.SHA256)
	}
	for k, v := range map[string]string{"carta-job-id": "happy-1", "carta-sha256": want.SHA256, "carta-version": renderer.Version} {
		if meta[k] != v {
			t.Errorf("object metadata %s = %q, want %q", k, meta[k], v)
		}
	}
	rec := e.recorded("happy-1")
	if rec == nil || rec.SHA256 != r.SHA256 || rec.Status != r.Status || !rec.FinishedAt.Equal(r.FinishedAt) {
		t.Errorf("recorded result %+v differs from the event %+v", rec, r)
	}
	e.waitSettled()
}

func TestInvalidJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	var renders atomic.Int64
	cfg := testConfig(t)
	cfg.Render = countingRender(&renders)
	w, _ := e.startWorker(st, cfg)

	e.submit(queuetest.InvalidJob("bad-1"), "bad-1")
	r := e.waitResult("bad-1")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeInvalidJob {
		t.Fatalf("result = %+v, want failed invalid_job", r)
	}
	if !hasField(r, "letter.recipients") {
		t.Errorf("error %+v does not name letter.recipients", r.Error)
	}
	if r.Attempts != 1 {
		t.Errorf("attempts = %d, want 1", r.Attempts)
	}
	if _, err := st.Head(context.Background(), "letters/bad-1.pdf"); !errors.Is(err, queue.ErrObjectNotFound) {
		t.Errorf("an object was stored for an invalid job (head err %v)", err)
	}
	info := e.waitSettled()
	if info.NumRedelivered != 0 {
		t.Errorf("invalid job redelivered %d times", info.NumRedelivered)
	}
	// Not redelivered later either: wait past AckWait.
	time.Sleep(cfg.AckWait + 500*time.Millisecond)
	if n := renders.Load(); n != 1 {
		t.Errorf("rendered %d times, want 1", n)
	}
	if got := len(e.waitResults("bad-1", 1)); got != 1 {
		t.Errorf("%d result events, want 1", got)
	}
	if rec := e.recorded("bad-1"); rec == nil || rec.Status != client.StatusFailed {
		t.Errorf("recorded = %+v, want the failed result", rec)
	}
	if dl := e.deadLetters("bad-1"); len(dl) != 0 {
		t.Errorf("invalid job dead-lettered: %d letters", len(dl))
	}
	if got := waitCounter(t, w, 1, "carta_jobs_total", "status", "failed"); got != 1 {
		t.Errorf("carta_jobs_total{status=failed} = %v, want 1", got)
	}
}

func TestDuplicateSubmit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	var renders atomic.Int64
	cfg := testConfig(t)
	cfg.Render = countingRender(&renders)
	e.startWorker(st, cfg)

	data := queuetest.Job("dup-1")
	if ack := e.submit(data, "dup-1"); ack.Duplicate {
		t.Fatal("first submit reported as duplicate")
	}
	if ack := e.submit(data, "dup-1"); !ack.Duplicate {
		t.Fatal("second submit with the same Nats-Msg-Id not reported as duplicate")
	}
	first := e.waitResult("dup-1")
	if first.Status != client.StatusDone {
		t.Fatalf("result = %+v, want done", first)
	}
	e.waitSettled()

	// Later, after the Duplicates window (simulated by leaving out
	// Nats-Msg-Id), the same job again: the recorded result comes back,
	// nothing is rendered.
	e.submit(data, "")
	got := e.waitResults("dup-1", 2)
	e.waitSettled()
	if got[1].SHA256 != first.SHA256 || !got[1].FinishedAt.Equal(first.FinishedAt) || got[1].Attempts != first.Attempts {
		t.Errorf("republished result %+v differs from the first %+v", got[1], first)
	}
	if n := renders.Load(); n != 1 {
		t.Errorf("rendered %d times, want 1", n)
	}
	keys, err := st.List(context.Background(), "")
	if err != nil || len(keys) != 1 {
		t.Errorf("objects = %v (%v), want exactly one", keys, err)
	}
}

// TestS3OutageThenRecovery: S3 stops while a job is queued. The job is
// rendered once and held, the worker reports the outage (carta_storage_up
// 0, Ready failing) and pulls nothing else; when S3 is back the job is
// stored on its first delivery and the worker is ready again.
func TestS3OutageThenRecovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	cfg := testConfig(t)
	cfg.ProbeBase, cfg.ProbeMax = 50*time.Millisecond, 200*time.Millisecond
	cfg.MaxInFlight = 4
	var renders atomic.Int64
	cfg.Render = countingRender(&renders)
	w, _ := e.startWorker(st, cfg)
	waitFor(t, 30*time.Second, "the worker to be ready", func() bool { return w.Ready(context.Background()) == nil })

	v.Stop()
	e.submit(queuetest.Job("outage-1"), "outage-1")
	waitFor(t, 30*time.Second, "the job to be held", func() bool { return counter(t, w, "carta_jobs_held") == 1 })
	if got := counter(t, w, "carta_storage_up"); got != 0 {
		t.Errorf("carta_storage_up = %v during the outage, want 0", got)
	}
	if err := w.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "object store unavailable") {
		t.Errorf("Ready during the outage = %v, want the outage", err)
	}
	// Pull requests already waiting when the outage began may still
	// bring a job each (MaxInFlight in all); no new pull is made.
	ids := []string{"outage-1"}
	for i := 2; i <= 10; i++ {
		id := fmt.Sprintf("outage-%d", i)
		ids = append(ids, id)
		e.submit(queuetest.Job(id), id)
	}
	time.Sleep(2 * time.Second)
	if n, most := renders.Load(), int64(cfg.MaxInFlight); n > most {
		t.Errorf("%d renders during the outage, want at most %d (no new pull)", n, most)
	}
	v.Start()
	for _, id := range ids {
		r := e.waitResult(id)
		if r.Status != client.StatusDone || r.Attempts != 1 {
			t.Errorf("%s: result = %+v, want done on attempt 1", id, r)
		}
		body, _, err := st.Get(context.Background(), r.Key)
		if err != nil || sha(body) != r.SHA256 {
			t.Errorf("%s: stored object: err %v, sha256 %s, want %s", id, err, sha(body), r.SHA256)
		}
	}
	if n := renders.Load(); n != int64(len(ids)) {
		t.Errorf("rendered %d times, want %d", n, len(ids))
	}
	for _, m := range []struct {
		name string
		want float64
	}{{"carta_redeliveries_total", 0}, {"carta_storage_up", 1}, {"carta_storage_outages_total", 1}, {"carta_jobs_held", 0}} {
		if got := waitCounter(t, w, m.want, m.name); got != m.want {
			t.Errorf("%s = %v, want %v", m.name, got, m.want)
		}
	}
	if got := counter(t, w, "carta_jobs_total", "status", "retried"); got != 0 {
		t.Errorf("retried = %v, want 0: an outage is not the job's fault", got)
	}
	waitFor(t, 30*time.Second, "the worker to be ready again", func() bool { return w.Ready(context.Background()) == nil })
}

func TestNATSRestartMidStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	slow := queuetest.StartProxy(t, v.Endpoint(), false)
	slow.Hold(queuetest.IsPut) // keep jobs in flight across the restart
	e.startWorker(queuetest.Store(t, slow.URL(), "letters", nil, false), testConfig(t))

	const n = 20
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "restart-" + string(rune('a'+i))
		e.submit(queuetest.Job(ids[i]), ids[i])
	}
	select {
	case <-slow.Held():
	case <-time.After(30 * time.Second):
		t.Fatal("no upload started")
	}
	e.nats.Stop()
	slow.Release() // uploads finish while NATS is down
	time.Sleep(300 * time.Millisecond)
	e.nats.Start()

	deadline := time.Now().Add(60 * time.Second)
	for _, id := range ids {
		for {
			if r := e.recorded(id); r != nil {
				if r.Status != client.StatusDone {
					t.Errorf("%s: %+v, want done", id, r)
				}
				body, _, err := st.Get(context.Background(), r.Key)
				if err != nil || sha(body) != r.SHA256 {
					t.Errorf("%s: object err %v, sha256 %s, recorded %s", id, err, sha(body), r.SHA256)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no result 60s after the restart", id)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	keys, err := st.List(context.Background(), "letters/")
	if err != nil || len(keys) != n {
		t.Errorf("%d objects (%v), want %d", len(keys), err, n)
	}
	e.waitSettled()
}

func TestPoisonJobDeadLetters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A store failing every write of this job with an error of its own
	// (not a storage outage, which would hold the job instead).
	st := newMemStore()
	st.failN.Store(1 << 30)
	cfg := testConfig(t)
	cfg.Render = fakeRender(nil)
	w, _ := e.startWorker(st, cfg)

	data := queuetest.Job("poison-1")
	e.submit(data, "poison-1")
	r := e.waitResult("poison-1")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeStorageFailed {
		t.Fatalf("result = %+v, want failed storage_failed", r)
	}
	if r.Attempts != cfg.MaxDeliver {
		t.Errorf("attempts = %d, want %d", r.Attempts, cfg.MaxDeliver)
	}
	dl := e.deadLetters("poison-1")
	if len(dl) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dl))
	}
	if string(dl[0].Data) != string(data) {
		t.Errorf("dead letter body differs from the job")
	}
	if dl[0].Header.Get(queue.HeaderError) == "" || dl[0].Header.Get(queue.HeaderAttempts) != "3" {
		t.Errorf("dead letter headers = %v", dl[0].Header)
	}
	e.waitSettled()
	if got := counter(t, w, "carta_dead_letters_total"); got != 1 {
		t.Errorf("carta_dead_letters_total = %v, want 1", got)
	}
}
