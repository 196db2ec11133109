package queue_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// LongTestsEnv turns on the long fault tests (a 5-minute S3 outage):
// CARTA_LONG_TESTS=1 go test -run TestStorageOutageDuringRun ./queue
const longTestsEnv = "CARTA_LONG_TESTS"

// renderLog renders with the real renderer and counts renders per id.
type renderLog struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *renderLog) render(data []byte) (*job.Job, *renderer.Result, error) {
	j, res, err := renderer.RenderJSON(data)
	if j != nil {
		l.mu.Lock()
		l.n[j.ID]++
		l.mu.Unlock()
	}
	return j, res, err
}

func (l *renderLog) twice() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for id, n := range l.n {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s×%d", id, n))
		}
	}
	return out
}

// TestStorageOutageDuringRun: 500 jobs, two workers, and the real S3
// server (versitygw) stopped for 30 s once a fifth of them are done. The
// workers hold their jobs and pull no more while it is down; once it is
// back every job is done, none is dead-lettered, failed or rendered
// twice, with MaxDeliver 3. The 5-minute outage runs only with
// CARTA_LONG_TESTS=1; -short skips both.
func TestStorageOutageDuringRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips the 30 s storage outage")
	}
	t.Parallel()
	for _, tc := range []struct {
		name   string
		outage time.Duration
		long   bool
	}{
		{"30s", 30 * time.Second, false},
		{"5m", 5 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.long && os.Getenv(longTestsEnv) == "" {
				t.Skipf("a %v outage: set %s=1 to run it", tc.outage, longTestsEnv)
			}
			t.Parallel()
			const n = 500
			e := newEnv(t)
			v := queuetest.StartVersity(t)
			st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
			rl := &renderLog{n: map[string]int{}}
			var workers []*queue.Worker
			for range 2 {
				cfg := testConfig(t)
				cfg.Render = rl.render
				cfg.ProbeBase, cfg.ProbeMax = 250*time.Millisecond, 2*time.Second
				cfg.JobTimeout = 60 * time.Second
				w, _ := e.startWorker(queuetest.Store(t, v.Endpoint(), "letters", nil, false), cfg)
				workers = append(workers, w)
			}
			jobs := map[string][]byte{}
			for i := range n {
				id := fmt.Sprintf("outage-%s-%03d", tc.name, i)
				jobs[id] = queuetest.Job(id)
				e.submit(jobs[id], id)
			}
			done := func() float64 {
				var s float64
				for _, w := range workers {
					s += counter(t, w, "carta_jobs_total", "status", "done")
				}
				return s
			}
			waitFor(t, 120*time.Second, "a fifth of the jobs done", func() bool { return done() >= n/5 })
			v.Stop()
			stopped := time.Now()
			atStop := done()
			waitFor(t, 60*time.Second, "both workers to see the outage", func() bool {
				for _, w := range workers {
					if counter(t, w, "carta_storage_up") != 0 {
						return false
					}
				}
				return true
			})
			for _, w := range workers {
				if err := w.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "object store unavailable") {
					t.Errorf("Ready during the outage = %v", err)
				}
			}
			time.Sleep(time.Until(stopped.Add(tc.outage)))
			duringOutage := done() - atStop
			v.Start()
			restarted := time.Now()
			waitFor(t, 300*time.Second, "every job done", func() bool { return done() >= n })
			allDone := time.Since(restarted)

			e.checkEndState(st, endState{done: jobs, eventsMayBeLost: false})
			if twice := rl.twice(); len(twice) > 0 {
				t.Errorf("rendered more than once: %v", twice)
			}
			var retried, held, outages float64
			for _, w := range workers {
				retried += counter(t, w, "carta_jobs_total", "status", "retried")
				held += counter(t, w, "carta_jobs_held")
				outages += counter(t, w, "carta_storage_outages_total")
				if got := waitCounter(t, w, 1, "carta_storage_up"); got != 1 {
					t.Errorf("carta_storage_up = %v after the outage", got)
				}
			}
			if retried != 0 {
				t.Errorf("%v jobs retried: an outage must spend no attempt", retried)
			}
			t.Logf("%d jobs, S3 stopped %v after %v were done; %v finished during the outage (stored before it began); "+
				"all done %v after S3 restarted; %d renders; 0 dead letters; %v outages seen by 2 workers",
				n, tc.outage, atStop, duringOutage, allDone.Round(10*time.Millisecond), len(rl.n), outages)
		})
	}
}

// TestMissingBucket: a worker whose bucket does not exist starts, says
// why it is not ready, and pulls no job until the bucket is created;
// then every job is done on its first delivery. With CreateBucket the
// worker creates the bucket itself.
func TestMissingBucket(t *testing.T) {
	t.Parallel()
	t.Run("appears later", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		v := queuetest.StartVersity(t)
		st := queuetest.Store(t, v.Endpoint(), "letters", nil, false)
		cfg := testConfig(t)
		cfg.ProbeBase, cfg.ProbeMax = 100*time.Millisecond, 500*time.Millisecond
		w, _ := e.startWorker(st, cfg)
		for _, id := range []string{"nb-1", "nb-2", "nb-3"} {
			e.submit(queuetest.Job(id), id)
		}
		waitFor(t, 30*time.Second, "the outage to be reported", func() bool { return counter(t, w, "carta_storage_up") == 0 })
		err := w.Ready(context.Background())
		if err == nil || !strings.Contains(err.Error(), "-s3-create-bucket") {
			t.Errorf("Ready = %v, want the missing bucket and the flag to fix it", err)
		}
		time.Sleep(time.Second)
		if got := counter(t, w, "carta_jobs_total", "status", "done") + counter(t, w, "carta_jobs_total", "status", "retried"); got != 0 {
			t.Errorf("%v jobs handled without a bucket", got)
		}
		if err := st.CreateBucket(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"nb-1", "nb-2", "nb-3"} {
			if r := e.waitResult(id); r.Status != client.StatusDone || r.Attempts != 1 {
				t.Errorf("%s: %+v, want done on its first delivery", id, r)
			}
		}
		waitFor(t, 30*time.Second, "the worker to be ready", func() bool { return w.Ready(context.Background()) == nil })
	})
	t.Run("created at start", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		v := queuetest.StartVersity(t)
		st := queuetest.Store(t, v.Endpoint(), "letters", nil, false)
		cfg := testConfig(t)
		cfg.CreateBucket = true
		w, _ := e.startWorker(st, cfg)
		e.submit(queuetest.Job("cb-1"), "cb-1")
		if r := e.waitResult("cb-1"); r.Status != client.StatusDone || r.Attempts != 1 {
			t.Errorf("cb-1: %+v, want done on its first delivery", r)
		}
		if got := counter(t, w, "carta_storage_outages_total"); got != 0 {
			t.Errorf("%v outages with the bucket created at start", got)
		}
		waitFor(t, 30*time.Second, "the worker to be ready", func() bool { return w.Ready(context.Background()) == nil })
	})
}

// TestTrailingDataFailureReachesTheID: a job whose id is readable but is
// followed by trailing data, published without Nats-Msg-Id, fails as
// invalid_job under its id (recorded and published on its subject), so
// a submitter waiting on the id sees why.
func TestTrailingDataFailureReachesTheID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := testConfig(t)
	cfg.Render = fakeRender(nil)
	e.startWorker(newMemStore(), cfg)
	data := append(queuetest.Job("trailing-1"), []byte(` {"more":1}`)...)
	e.submit(data, "")
	r := e.waitResult("trailing-1")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeInvalidJob || r.ID != "trailing-1" {
		t.Fatalf("result = %+v, want failed invalid_job for trailing-1", r)
	}
	if rec := e.recorded("trailing-1"); rec == nil || rec.Status != client.StatusFailed {
		t.Errorf("recorded = %+v, want the failed result", rec)
	}
}

// flappyStore answers its bucket check but refuses the first writes
// with an outage (S3 whose HEAD works while PUTs get 503).
type flappyStore struct {
	*memStore
	outages atomic.Int64
}

func (f *flappyStore) CheckBucket(context.Context) error { return nil }

func (f *flappyStore) PutIfAbsent(ctx context.Context, o queue.Object) error {
	if f.outages.Add(-1) >= 0 {
		return fmt.Errorf("put object %s: %w", o.Key, &queue.UnavailableError{Fix: "wait", Err: errors.New("503 SlowDown")})
	}
	return f.memStore.PutIfAbsent(ctx, o)
}

// TestOutageWhileBucketAnswers: writes fail with an outage while the
// bucket check passes, so each probe ends the outage and the next write
// starts another. The job is still held, not retried: it is done on its
// first delivery, and the probes back off instead of spinning.
func TestOutageWhileBucketAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := &flappyStore{memStore: newMemStore()}
	st.outages.Store(6)
	cfg := testConfig(t)
	cfg.Render = fakeRender(nil)
	cfg.ProbeBase, cfg.ProbeMax = 20*time.Millisecond, 400*time.Millisecond
	w, _ := e.startWorker(st, cfg)
	start := time.Now()
	e.submit(queuetest.Job("flap-1"), "flap-1")
	if r := e.waitResult("flap-1"); r.Status != client.StatusDone || r.Attempts != 1 {
		t.Errorf("result = %+v, want done on its first delivery", r)
	}
	if got := counter(t, w, "carta_jobs_total", "status", "retried"); got != 0 {
		t.Errorf("retried = %v, want 0", got)
	}
	// Delays 20, 40, 80, 160, 320, 400 ms: the later outages start from
	// where the earlier ones left off.
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("done after %v: the probe delay did not grow across outages", d)
	}
	if got := counter(t, w, "carta_storage_outages_total"); got != 6 {
		t.Errorf("outages = %v, want 6", got)
	}
}
