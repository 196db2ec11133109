package queue_test

import (
	"context"
	"errors"
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

func TestS3OutageThenRecovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	cfg := testConfig(t)
	cfg.MaxDeliver = 50
	w, _ := e.startWorker(st, cfg)

	v.Stop()
	e.submit(queuetest.Job("outage-1"), "outage-1")
	deadline := time.Now().Add(30 * time.Second)
	for counter(t, w, "carta_jobs_total", "status", "retried") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no retries while S3 was down")
		}
		time.Sleep(50 * time.Millisecond)
	}
	v.Start()
	r := e.waitResult("outage-1")
	if r.Status != client.StatusDone {
		t.Fatalf("result = %+v, want done", r)
	}
	if r.Attempts < 2 {
		t.Errorf("attempts = %d, want > 1", r.Attempts)
	}
	body, _, err := st.Get(context.Background(), r.Key)
	if err != nil || sha(body) != r.SHA256 {
		t.Errorf("stored object: err %v, sha256 %s, want %s", err, sha(body), r.SHA256)
	}
	if got := counter(t, w, "carta_redeliveries_total"); got < 1 {
		t.Errorf("carta_redeliveries_total = %v, want >= 1", got)
	}
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
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "missing-bucket", nil, false) // always fails
	cfg := testConfig(t)
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
