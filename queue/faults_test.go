package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/queue/s3store"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// The fault suite: real nats-server and versitygw, faults injected with
// in-process proxies, and each test ending with checkEndState.

// endState is what a fault test expects once the queue has settled.
type endState struct {
	// done are the valid jobs by id: each ends as exactly one object,
	// at letters/<id>.pdf, equal to a local render, recorded done, and
	// every event of the id is that same done result.
	done map[string][]byte
	// failed are the invalid jobs by id, with the code of their one
	// failure event.
	failed map[string]string
	// dead is the number of dead letters of each id; the dead-letter
	// stream holds these and nothing else.
	dead map[string]int
	// events, when set for an id, is its exact number of result events
	// (default: at least one for done, one for failed).
	events map[string]int
	// eventsMayBeLost allows done jobs without any result event: core
	// NATS events published while the test's own connection was down
	// (a server restart) are gone; the bucket keeps the result.
	eventsMayBeLost bool
}

// checkEndState waits until nothing is pending or unacknowledged and
// checks st, the results bucket, the events and the dead-letter stream
// against want.
func (e *env) checkEndState(st *s3store.Store, want endState) {
	e.t.Helper()
	t := e.t
	ctx := context.Background()
	info := e.waitSettled()
	if info.NumAckPending != 0 || info.NumPending != 0 {
		t.Errorf("consumer: %d pending, %d unacknowledged; want none", info.NumPending, info.NumAckPending)
	}
	jobs, err := e.js.Stream(ctx, queue.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if si, err := jobs.Info(ctx); err != nil || si.State.Msgs != 0 {
		t.Errorf("jobs stream still holds messages: %+v (%v)", si.State, err)
	}
	// Events are published before the ack; let the last ones arrive.
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	events := func(id string) []client.Result {
		e.mu.Lock()
		defer e.mu.Unlock()
		return slices.Clone(e.results[queue.ResultSubject(queue.DefaultResultsSubject, id)])
	}

	for _, id := range slices.Sorted(maps.Keys(want.done)) {
		_, local, err := renderer.RenderJSON(want.done[id])
		if err != nil {
			t.Fatalf("%s: render locally: %v", id, err)
		}
		key := "letters/" + id + ".pdf"
		body, meta, err := st.Get(ctx, key)
		switch {
		case err != nil:
			t.Errorf("%s: object: %v", id, err)
		case sha(body) != local.SHA256:
			t.Errorf("%s: object sha256 %s, local render %s", id, sha(body), local.SHA256)
		case meta["carta-sha256"] != local.SHA256 || meta["carta-job-id"] != id:
			t.Errorf("%s: object metadata %v", id, meta)
		}
		if rec := e.recorded(id); rec == nil || rec.Status != client.StatusDone || rec.SHA256 != local.SHA256 || rec.Key != key {
			t.Errorf("%s: recorded result %+v, want done with sha256 %s", id, rec, local.SHA256)
		}
		evs := events(id)
		if len(evs) == 0 && !want.eventsMayBeLost {
			t.Errorf("%s: no result event", id)
		}
		if n, ok := want.events[id]; ok && len(evs) != n {
			t.Errorf("%s: %d result events, want %d", id, len(evs), n)
		}
		for i, ev := range evs {
			if ev.Status != client.StatusDone || ev.SHA256 != local.SHA256 || ev.Key != key || ev.Pages != local.Pages {
				t.Errorf("%s: event %d = %+v, want done with sha256 %s", id, i, ev, local.SHA256)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(want.failed)) {
		evs := events(id)
		n := 1
		if w, ok := want.events[id]; ok {
			n = w
		}
		if len(evs) != n {
			t.Errorf("%s: %d result events, want %d: %+v", id, len(evs), n, evs)
		}
		for i, ev := range evs {
			if ev.Status != client.StatusFailed || ev.Error == nil || ev.Error.Code != want.failed[id] {
				t.Errorf("%s: event %d = %+v, want failed %s", id, i, ev, want.failed[id])
			}
		}
		if rec := e.recorded(id); rec == nil || rec.Status != client.StatusFailed || rec.Error == nil || rec.Error.Code != want.failed[id] {
			t.Errorf("%s: recorded result %+v, want failed %s", id, rec, want.failed[id])
		}
	}

	keys, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var wantKeys []string
	for id := range want.done {
		wantKeys = append(wantKeys, "letters/"+id+".pdf")
	}
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("objects in the bucket = %q, want exactly %q", keys, wantKeys)
	}

	dead, err := e.js.Stream(ctx, queue.DefaultDeadStream)
	if err != nil {
		t.Fatal(err)
	}
	di, err := dead.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for id, n := range want.dead {
		total += n
		if got := len(e.deadLetters(id)); got != n {
			t.Errorf("%s: %d dead letters, want %d", id, got, n)
		}
	}
	if di.State.Msgs != uint64(total) {
		t.Errorf("dead-letter stream holds %d letters, want %d", di.State.Msgs, total)
	}
}

// startWorkerOn runs a worker on the connection nc until the test ends,
// like startWorker.
func (e *env) startWorkerOn(nc *nats.Conn, store queue.ObjectStore, cfg queue.Config) (*queue.Worker, func()) {
	e.t.Helper()
	w, err := queue.New(nc, store, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("worker Run = %v", err)
				}
			case <-time.After(30 * time.Second):
				e.t.Errorf("worker did not stop within 30s")
			}
		})
	}
	e.t.Cleanup(stop)
	return w, stop
}

// waitRecorded waits for the result of id in the results bucket.
func (e *env) waitRecorded(id string) *client.Result {
	e.t.Helper()
	var r client.Result
	waitFor(e.t, 60*time.Second, "the recorded result of "+id, func() bool {
		// Errors are expected while the server restarts: poll on.
		kv, err := e.js.KeyValue(context.Background(), queue.DefaultResultsBucket)
		if err != nil {
			return false
		}
		entry, err := kv.Get(context.Background(), queue.Token(id))
		return err == nil && json.Unmarshal(entry.Value(), &r) == nil
	})
	return &r
}

// faultStore is an s3store for the bucket at endpoint whose HTTP
// attempts time out after timeout.
func faultStore(t *testing.T, endpoint string, timeout time.Duration) *s3store.Store {
	t.Helper()
	c := queuetest.StoreConfig(endpoint, "letters")
	c.RequestTimeout = timeout
	st, err := s3store.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitFor polls cond until it holds, failing the test after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFaultS3Unavailable: S3 answers 503, resets connections or hangs for
// a while (3 s here; the probe delays are scaled down alike) with jobs
// in the queue. The worker holds its jobs and pulls no more; none fails
// or spends an attempt, and once S3 is back each ends as one object.
func TestFaultS3Unavailable(t *testing.T) {
	t.Parallel()
	const outage = 3 * time.Second
	for _, mode := range []queuetest.S3Mode{queuetest.S3Unavailable, queuetest.S3Reset, queuetest.S3Hang} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			v := queuetest.StartVersity(t)
			direct := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
			fp := queuetest.StartFaultProxy(t, v.Endpoint())
			cfg := testConfig(t)
			cfg.ProbeBase, cfg.ProbeMax = 100*time.Millisecond, 400*time.Millisecond
			// Longer than the outage: only the S3 client's own
			// timeout can end a request that hangs.
			cfg.JobTimeout = 30 * time.Second
			w, _ := e.startWorker(faultStore(t, fp.URL(), 500*time.Millisecond), cfg)

			jobs := map[string][]byte{}
			// One job before the outage, so kept-alive connections meet
			// the fault too.
			first := "s3-" + mode.String() + "-0"
			jobs[first] = queuetest.Job(first)
			e.submit(jobs[first], first)
			if r := e.waitResult(first); r.Status != client.StatusDone {
				t.Fatalf("before the outage: %+v", r)
			}

			fp.SetMode(mode)
			start := time.Now()
			var ids []string
			for i := 1; i <= 3; i++ {
				id := fmt.Sprintf("s3-%s-%d", mode, i)
				ids = append(ids, id)
				jobs[id] = queuetest.Job(id)
				e.submit(jobs[id], id)
			}
			waitFor(t, 30*time.Second, "a job held during the outage", func() bool {
				return counter(t, w, "carta_jobs_held") >= 1 && counter(t, w, "carta_storage_up") == 0
			})
			time.Sleep(time.Until(start.Add(outage)))
			for _, id := range ids {
				if rec := e.recorded(id); rec != nil {
					t.Errorf("%s finished during the outage: %+v", id, rec)
				}
			}
			if keys, err := direct.List(context.Background(), ""); err != nil || len(keys) != 1 {
				t.Errorf("objects during the outage: %q (%v), want only %s's", keys, err, first)
			}
			if fp.Faulted() == 0 {
				t.Fatal("the proxy refused nothing")
			}
			fp.SetMode(queuetest.S3Up)

			for _, id := range ids {
				if r := e.waitResult(id); r.Status != client.StatusDone || r.Attempts != 1 {
					t.Errorf("%s: %+v, want done on its first delivery (held through the outage)", id, r)
				}
			}
			e.checkEndState(direct, endState{done: jobs})
			if got := counter(t, w, "carta_jobs_total", "status", "retried"); got != 0 {
				t.Errorf("retried = %v, want 0: an outage spends no attempt", got)
			}
			t.Logf("%s: %d requests faulted, %v outages", mode, fp.Faulted(), counter(t, w, "carta_storage_outages_total"))
		})
	}
}

// TestFaultNATSCutOffWorker: worker A loses NATS (blackholed or severed
// by a TCP proxy) for longer than the AckWait while its job's upload is
// in flight; worker B gets the job redelivered and finishes it. When A's
// upload then goes through, S3 refuses to replace B's object (412), A
// reconnects and carries on with new work, and the job ends as exactly
// one object.
func TestFaultNATSCutOffWorker(t *testing.T) {
	t.Parallel()
	for _, cut := range []string{"blackhole", "sever"} {
		t.Run(cut, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			v := queuetest.StartVersity(t)
			direct := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
			fp := queuetest.StartFaultProxy(t, v.Endpoint())
			fp.Hold(queuetest.IsPut)
			tp := queuetest.StartTCPProxy(t, strings.TrimPrefix(e.nats.URL(), "nats://"))

			cfg := testConfig(t)
			cfg.AckWait = time.Second
			cfg.Concurrency = 1
			cfg.MaxDeliver = 5
			cfg.JobTimeout = 20 * time.Second
			// A connects as production workers do, through the proxy.
			ncA, err := queue.Connect(queue.NATSOptions{URL: "nats://" + tp.Addr(), Name: "worker-a", Logger: cfg.Logger})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(ncA.Close)
			wA, _ := e.startWorkerOn(ncA, faultStore(t, fp.URL(), 15*time.Second), cfg)

			id := "cut-" + cut
			data := queuetest.Job(id)
			e.submit(data, id)
			select {
			case <-fp.Held():
			case <-time.After(30 * time.Second):
				t.Fatal("worker A never uploaded")
			}
			switch cut {
			case "blackhole":
				tp.Blackhole()
			case "sever":
				tp.Sever()
			}

			// B starts only now, so it can get the job only by
			// redelivery, after the AckWait A's heartbeats no longer
			// extend.
			_, stopB := e.startWorker(direct, cfg)
			r := e.waitResult(id)
			if r.Status != client.StatusDone || r.Attempts < 2 {
				t.Fatalf("result = %+v, want done by B on a redelivery", r)
			}

			// A's upload now reaches S3, still cut off from NATS.
			fp.Release()
			waitFor(t, 30*time.Second, "A's late upload", func() bool {
				for _, x := range fp.Exchanges() {
					if x.Method == http.MethodPut {
						return true
					}
				}
				return false
			})
			for _, x := range fp.Exchanges() {
				if x.Method == http.MethodPut && x.Status != http.StatusPreconditionFailed {
					t.Errorf("A's late upload: %s %s answered %d, want 412 (If-None-Match refused it)", x.Method, x.Path, x.Status)
				}
			}
			time.Sleep(500 * time.Millisecond) // A meets NATS gone
			tp.Restore()

			// With B gone, only A can take the next job: it came back.
			if err := stopB(); err != nil {
				t.Fatal(err)
			}
			next := id + "-next"
			e.submit(queuetest.Job(next), next)
			if r := e.waitResult(next); r.Status != client.StatusDone {
				t.Errorf("A after reconnecting: %+v, want done", r)
			}
			e.checkEndState(direct, endState{done: map[string][]byte{id: data, next: queuetest.Job(next)}})
			t.Logf("worker A: done %v, retried %v, republished %v",
				counter(t, wA, "carta_jobs_total", "status", "done"),
				counter(t, wA, "carta_jobs_total", "status", "retried"),
				counter(t, wA, "carta_jobs_total", "status", "republished"))
		})
	}
}

// TestFaultDuplicatePublishes: one job published many times at once with
// the same Nats-Msg-Id is stored once; published again after it is done
// (inside the Duplicates window, and outside it, i.e. without the id)
// nothing is rendered again; and copies that slip past deduplication
// while the job is still running still make one object.
func TestFaultDuplicatePublishes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	var renders atomic.Int64
	cfg := testConfig(t)
	cfg.Render = countingRender(&renders)
	// Two workers of two slots each share the consumer.
	e.startWorker(st, cfg)
	e.startWorker(st, cfg)

	publish := func(data []byte, msgID string, n int) []*jetstream.PubAck {
		acks := make([]*jetstream.PubAck, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var opts []jetstream.PublishOpt
				if msgID != "" {
					opts = append(opts, jetstream.WithMsgID(msgID))
				}
				ack, err := e.js.Publish(context.Background(), queue.DefaultSubject, data, opts...)
				if err != nil {
					t.Errorf("publish: %v", err)
					return
				}
				acks[i] = ack
			})
		}
		wg.Wait()
		return acks
	}
	fresh := func(acks []*jetstream.PubAck) (n int) {
		for _, a := range acks {
			if a != nil && !a.Duplicate {
				n++
			}
		}
		return n
	}

	const id = "dup-many"
	data := queuetest.Job(id)
	acks := publish(data, id, 40)
	if n := fresh(acks); n != 1 {
		t.Errorf("%d of 40 concurrent publishes with one Nats-Msg-Id were stored, want 1", n)
	}
	for _, a := range acks {
		if a != nil && a.Sequence != acks[0].Sequence {
			t.Errorf("duplicate acks name sequences %d and %d", a.Sequence, acks[0].Sequence)
			break
		}
	}
	e.waitResult(id)
	e.waitSettled()

	// After done, inside the window: refused as duplicates.
	if n := fresh(publish(data, id, 10)); n != 0 {
		t.Errorf("%d publishes after done were stored, want 0", n)
	}
	// After done, outside the window (no id): stored, the recorded
	// result is published again, nothing rendered.
	if n := fresh(publish(data, "", 5)); n != 5 {
		t.Errorf("%d of 5 publishes without id stored", n)
	}
	e.waitResults(id, 6)
	e.waitSettled()
	if n := renders.Load(); n != 1 {
		t.Errorf("rendered %d times, want 1", n)
	}

	// Copies with different ids (a publisher retrying after the window)
	// while the job has not finished: both workers may render it, and
	// it is still stored once.
	const raced = "dup-race"
	racedData := queuetest.Job(raced)
	if n := fresh(publish(racedData, "", 6)); n != 6 {
		t.Errorf("%d of 6 raced publishes stored", n)
	}
	e.waitResults(raced, 6)
	e.checkEndState(st, endState{
		done:   map[string][]byte{id: data, raced: racedData},
		events: map[string]int{id: 6, raced: 6},
	})
	t.Logf("renders: %d (1 for %s, the rest for %s's racing copies)", renders.Load(), id, raced)
}

// TestFaultRendererPanicAndRunaway: a job that makes the renderer panic
// and one that makes it run away (spinning until the test ends) each get
// a failed result and a dead letter on their first delivery; the worker
// carries on with the good jobs behind them while the runaway render
// still spins.
func TestFaultRendererPanicAndRunaway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	cfg := testConfig(t)
	cfg.Concurrency = 2
	cfg.JobTimeout = time.Second
	stop := make(chan struct{})
	var spinning atomic.Bool
	cfg.Render = func(data []byte) (*job.Job, *renderer.Result, error) {
		var head struct{ ID string }
		_ = json.Unmarshal(data, &head)
		switch head.ID {
		case "panic-1":
			var s []int
			_ = s[len(data)] // a real runtime panic: index out of range
		case "runaway-1":
			spinning.Store(true)
			defer spinning.Store(false)
			for x := uint64(1); ; x = x*6364136223846793005 + 1 {
				if x%1024 == 0 {
					select {
					case <-stop:
						return nil, nil, errors.New("stopped")
					default:
					}
				}
			}
		}
		return renderer.RenderJSON(data)
	}
	w, _ := e.startWorker(st, cfg)
	var once sync.Once
	release := func() { once.Do(func() { close(stop) }) }
	t.Cleanup(release)

	good := map[string][]byte{}
	e.submit(queuetest.Job("runaway-1"), "runaway-1")
	waitFor(t, 30*time.Second, "the runaway render", spinning.Load)
	e.submit(queuetest.Job("panic-1"), "panic-1")
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("after-%d", i)
		good[id] = queuetest.Job(id)
		e.submit(good[id], id)
	}

	r := e.waitResult("runaway-1")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeRenderFailed ||
		!strings.Contains(r.Error.Message, "timed out after 1s") || r.Attempts != 1 {
		t.Errorf("runaway job: %+v, want failed render_failed timed out on attempt 1", r)
	}
	r = e.waitResult("panic-1")
	if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeInternal ||
		!strings.Contains(r.Error.Message, "index out of range") || r.Attempts != 1 {
		t.Errorf("panicking job: %+v, want failed internal on attempt 1", r)
	}
	for id := range good {
		if r := e.waitResult(id); r.Status != client.StatusDone {
			t.Errorf("%s: %+v, want done", id, r)
		}
	}
	if !spinning.Load() {
		t.Fatal("the runaway render stopped by itself; the test proves nothing")
	}
	if got := waitCounter(t, w, 3, "carta_jobs_total", "status", "done"); got != 3 { // counted after the ack
		t.Errorf("carta_jobs_total{status=done} = %v while the runaway spins, want 3", got)
	}
	release()
	waitFor(t, 10*time.Second, "the runaway render to stop", func() bool { return !spinning.Load() })

	// The slot the runaway held is free again: two jobs at once go
	// through.
	for i := 4; i <= 5; i++ {
		id := fmt.Sprintf("after-%d", i)
		good[id] = queuetest.Job(id)
		e.submit(good[id], id)
	}
	for i := 4; i <= 5; i++ {
		e.waitResult(fmt.Sprintf("after-%d", i))
	}
	e.checkEndState(st, endState{
		done:   good,
		failed: map[string]string{"runaway-1": client.CodeRenderFailed, "panic-1": client.CodeInternal},
		dead:   map[string]int{"runaway-1": 1, "panic-1": 1},
	})
	if dl := e.deadLetters("panic-1"); len(dl) == 1 && string(dl[0].Data) != string(queuetest.Job("panic-1")) {
		t.Errorf("dead letter body differs from the job")
	}
}

// TestFaultNATSRestartFileStore: nats-server is restarted twice: once
// with uploads in flight (they finish while it is down), once with jobs
// waiting in its file store. Nothing is lost or doubled.
func TestFaultNATSRestartFileStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	direct := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	fp := queuetest.StartFaultProxy(t, v.Endpoint())
	fp.Hold(queuetest.IsPut)
	e.startWorker(faultStore(t, fp.URL(), 10*time.Second), testConfig(t))

	jobs := map[string][]byte{}
	submit := func(prefix string, n int) {
		for i := range n {
			id := fmt.Sprintf("%s-%02d", prefix, i)
			jobs[id] = queuetest.Job(id)
			e.submit(jobs[id], id)
		}
	}
	submit("inflight", 8)
	select {
	case <-fp.Held():
	case <-time.After(30 * time.Second):
		t.Fatal("no upload started")
	}
	e.nats.Stop()
	fp.Release() // uploads finish while NATS is down
	time.Sleep(300 * time.Millisecond)
	e.nats.Start()
	for id := range jobs {
		e.waitRecorded(id)
	}

	// Jobs waiting in the file store survive a restart.
	fp.Hold(queuetest.IsPut)
	submit("waiting", 8)
	select {
	case <-fp.Held():
	case <-time.After(30 * time.Second):
		t.Fatal("no upload started")
	}
	e.nats.Restart()
	fp.Release()
	for id := range jobs {
		e.waitRecorded(id)
	}
	e.checkEndState(direct, endState{done: jobs, eventsMayBeLost: true})
}
