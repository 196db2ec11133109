package queue_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
)

// TestHealthzFailsWhileARenderIsWedged: a renderer that never returns
// fails its job at the time limit, keeps its render slot, and once it has
// held it for twice the limit /healthz answers 503 naming the job; when
// the renderer finally returns, /healthz is 200 again.
func TestHealthzFailsWhileARenderIsWedged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.JobTimeout = 200 * time.Millisecond
	release := make(chan struct{})
	var once sync.Once
	unwedge := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unwedge)
	cfg.Render = fakeRender(func(id string) {
		if id == "wedged" {
			<-release
		}
	})
	w, _ := e.startWorker(newMemStore(), cfg)
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	get := func() (int, string) {
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(); code != http.StatusOK {
		t.Fatalf("/healthz before any job = %d %s, want 200", code, body)
	}

	e.submit(queuetest.Job("wedged"), "wedged")
	r := e.waitResult("wedged")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeRenderFailed {
		t.Errorf("wedged job: %+v, want failed render_failed", r)
	}
	var code int
	var body string
	waitFor(t, 30*time.Second, "/healthz to fail", func() bool {
		code, body = get()
		return code != http.StatusOK
	})
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "wedged") || !strings.Contains(body, "stuck") {
		t.Errorf("/healthz with a wedged render = %d %q, want 503 naming the job", code, body)
	}
	// The other render slot still works.
	e.submit(queuetest.Job("beside"), "beside")
	if r := e.waitResult("beside"); r.Status != client.StatusDone {
		t.Errorf("job beside the wedged render: %+v, want done", r)
	}

	unwedge()
	waitFor(t, 30*time.Second, "/healthz to recover", func() bool {
		code, body = get()
		return code == http.StatusOK
	})
}

// TestWaitingForARenderSlotIsNotTimedOut: with one render slot and four
// jobs in flight, the last job waits three renders for its slot, longer
// than its time limit and than AckWait; it neither times out nor is
// redelivered, and renders never overlap.
func TestWaitingForARenderSlotIsNotTimedOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.Concurrency = 1
	cfg.MaxInFlight = 4
	cfg.JobTimeout = time.Second
	cfg.AckWait = 600 * time.Millisecond
	var running, most atomic.Int64
	cfg.Render = fakeRender(func(string) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(400 * time.Millisecond)
	})
	w, _ := e.startWorker(newMemStore(), cfg)
	if got := w.Config().MaxInFlight; got != 4 {
		t.Errorf("MaxInFlight = %d, want 4", got)
	}
	ids := []string{"q-1", "q-2", "q-3", "q-4"}
	for _, id := range ids {
		e.submit(queuetest.Job(id), id)
	}
	for _, id := range ids {
		if r := e.waitResult(id); r.Status != client.StatusDone || r.Attempts != 1 {
			t.Errorf("%s: %+v, want done on attempt 1", id, r)
		}
	}
	if info := e.waitSettled(); info.NumRedelivered != 0 {
		t.Errorf("%d redelivered, want 0", info.NumRedelivered)
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d renders at once, want at most Concurrency = 1", m)
	}
}

func TestMaxInFlightDefaultsAndBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nc := e.nats.Connect(t)
	for _, tc := range []struct {
		name                     string
		concurrency, maxInFlight int
		want                     int // 0: refused
	}{
		{"default is twice the concurrency", 3, 0, 6},
		{"equal to the concurrency", 2, 2, 2},
		{"below the concurrency is refused", 4, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Concurrency, cfg.MaxInFlight = tc.concurrency, tc.maxInFlight
			w, err := queue.New(nc, newMemStore(), cfg)
			switch {
			case tc.want == 0 && err == nil:
				t.Errorf("New accepted max in flight %d with concurrency %d", tc.maxInFlight, tc.concurrency)
			case tc.want == 0:
				if !strings.Contains(err.Error(), fmt.Sprintf("max in flight %d", tc.maxInFlight)) {
					t.Errorf("error = %v, want it to name max in flight", err)
				}
			case err != nil:
				t.Fatal(err)
			case w.Config().MaxInFlight != tc.want:
				t.Errorf("MaxInFlight = %d, want %d", w.Config().MaxInFlight, tc.want)
			}
		})
	}
}
