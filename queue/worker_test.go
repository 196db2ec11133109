package queue_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
)

// These tests use the real nats-server with a fake renderer and an
// in-memory object store, to reach paths the real ones do not take.

func TestRendererPanicIsPermanentAndWorkerCarriesOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.Render = fakeRender(func(id string) {
		if id == "boom" {
			panic("index out of range")
		}
	})
	st := newMemStore()
	e.startWorker(st, cfg)

	e.submit(queuetest.Job("boom"), "boom")
	e.submit(queuetest.Job("fine"), "fine")
	r := e.waitResult("boom")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeInternal || r.Attempts != 1 {
		t.Errorf("panicking job: %+v, want failed internal on attempt 1", r)
	}
	if r := e.waitResult("fine"); r.Status != client.StatusDone {
		t.Errorf("next job: %+v, want done", r)
	}
	if dl := e.deadLetters("boom"); len(dl) != 1 {
		t.Errorf("%d dead letters for the panicking job, want 1", len(dl))
	}
	e.waitSettled()
}

func TestRenderTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.JobTimeout = 200 * time.Millisecond
	release := make(chan struct{})
	cfg.Render = fakeRender(func(id string) {
		if id == "slow" {
			<-release
		}
	})
	e.startWorker(newMemStore(), cfg)
	t.Cleanup(func() { close(release) }) // runs before the worker stops
	e.submit(queuetest.Job("slow"), "slow")
	r := e.waitResult("slow")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeRenderFailed || !strings.Contains(r.Error.Message, "timed out") {
		t.Errorf("result = %+v, want failed render_failed timed out", r)
	}
}

func TestTransientStoreErrorsRetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.Render = fakeRender(nil)
	st := newMemStore()
	st.failN.Store(2)
	w, _ := e.startWorker(st, cfg)
	e.submit(queuetest.Job("flaky"), "flaky")
	r := e.waitResult("flaky")
	if r.Status != client.StatusDone || r.Attempts != 3 {
		t.Errorf("result = %+v, want done on attempt 3", r)
	}
	if got := waitCounter(t, w, 2, "carta_jobs_total", "status", "retried"); got != 2 {
		t.Errorf("retried = %v, want 2", got)
	}
}

func TestDifferentObjectAlreadyStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.Render = fakeRender(nil)
	st := newMemStore()
	_ = st.PutIfAbsent(context.Background(), queue.Object{Key: "letters/taken.pdf", Body: []byte("someone else's"),
		Metadata: map[string]string{"carta-sha256": "0000"}})
	e.startWorker(st, cfg)
	e.submit(queuetest.Job("taken"), "taken")
	r := e.waitResult("taken")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeStorageFailed {
		t.Errorf("result = %+v, want failed storage_failed", r)
	}
	if m, _ := st.Head(context.Background(), "letters/taken.pdf"); m["carta-sha256"] != "0000" {
		t.Errorf("the existing object was replaced")
	}
}

func TestBadOutputKeyIsInvalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.Render = fakeRender(nil)
	st := newMemStore()
	e.startWorker(st, cfg)
	job := strings.Replace(string(queuetest.Job("key-1")), `"schema"`, `"output":{"key":"../etc/passwd"},"schema"`, 1)
	e.submit([]byte(job), "key-1")
	r := e.waitResult("key-1")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeInvalidJob || !hasField(r, "output.key") {
		t.Errorf("result = %+v, want failed invalid_job on output.key", r)
	}
	if st.len() != 0 {
		t.Errorf("%d objects stored, want none", st.len())
	}
}

func TestGarbageWithoutID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.Render = fakeRender(nil)
	e.startWorker(newMemStore(), cfg)
	sub, err := e.nc.SubscribeSync(queue.DefaultResultsSubject)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.js.Publish(context.Background(), queue.DefaultSubject, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(30 * time.Second)
	if err != nil {
		t.Fatalf("no failed event on %s: %v", queue.DefaultResultsSubject, err)
	}
	if !strings.Contains(string(m.Data), `"invalid_job"`) {
		t.Errorf("event = %s, want invalid_job", m.Data)
	}
	e.waitSettled()
}

func TestShutdownReturnsUnfinishedJobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.ShutdownTimeout = 300 * time.Millisecond
	var started atomic.Int64
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	cfg.Render = fakeRender(func(string) {
		if started.Add(1) == 1 {
			<-block // the first render never finishes in time
		}
	})
	_, stop := e.startWorker(newMemStore(), cfg)
	e.submit(queuetest.Job("long"), "long")
	for started.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	// The job went back at once (nak, not AckWait): a second worker
	// finishes it.
	cfg2 := testConfig(t)
	cfg2.Render = fakeRender(nil)
	e.startWorker(newMemStore(), cfg2)
	r := e.waitResult("long")
	if r.Status != client.StatusDone || r.Attempts != 2 {
		t.Errorf("result = %+v, want done on attempt 2", r)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.Render = fakeRender(nil)
	w, _ := e.startWorker(newMemStore(), cfg)
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	e.submit(queuetest.Job("m-1"), "m-1")
	e.waitResult("m-1")
	e.waitSettled()

	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %s", code, body)
	}
	// The job is counted, and leaves carta_jobs_in_flight, only after
	// its ack: poll rather than read once.
	missing, body := waitMetricsBody(t, srv.URL+"/metrics", []string{
		`carta_jobs_total{status="done"} 1`,
		`carta_render_duration_seconds_count 1`,
		`carta_upload_duration_seconds_count 1`,
		`carta_jobs_in_flight 0`,
		`carta_redeliveries_total 0`,
		`carta_dead_letters_total 0`,
	})
	for _, want := range missing {
		t.Errorf("/metrics lacks %q", want)
	}
	if len(missing) > 0 {
		t.Logf("/metrics:\n%s", body)
	}
	e.nats.Stop()
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with NATS down = %d, want 503", code)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with NATS down = %d, want 200", code)
	}
}

func TestHeartbeatsKeepALongJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.AckWait = 600 * time.Millisecond
	var renders atomic.Int64
	cfg.Render = fakeRender(func(string) {
		renders.Add(1)
		time.Sleep(2 * time.Second) // more than 3 AckWaits
	})
	e.startWorker(newMemStore(), cfg)
	e.submit(queuetest.Job("long-hb"), "long-hb")
	r := e.waitResult("long-hb")
	if r.Status != client.StatusDone || r.Attempts != 1 {
		t.Errorf("result = %+v, want done on attempt 1", r)
	}
	if info := e.waitSettled(); info.NumRedelivered != 0 || renders.Load() != 1 {
		t.Errorf("redelivered %d, rendered %d times; want 0 and 1", info.NumRedelivered, renders.Load())
	}
}
