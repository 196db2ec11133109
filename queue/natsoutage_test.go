package queue_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
)

// TestNATSStoppedDuringRun: 1,000 jobs, two workers, and nats-server
// stopped for 10 s once a fifth are done, then restarted on the same
// store. Every job ends done and stored once, none is dead-lettered, and
// no job takes more than 30 s past the restart: a JetStream call whose
// reply was lost fails at once and is tried again after the reconnect,
// instead of holding its job for the job's time limit (2 minutes here).
func TestNATSStoppedDuringRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips the 10 s NATS outage")
	}
	t.Parallel()
	const n = 1000
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	rl := &renderLog{n: map[string]int{}}
	var workers []*queue.Worker
	for range 2 {
		cfg := testConfig(t)
		cfg.Render = rl.render
		cfg.AckWait = 15 * time.Second
		cfg.JobTimeout = 2 * time.Minute
		cfg.NATSTimeout = 5 * time.Second
		w, _ := e.startWorker(queuetest.Store(t, v.Endpoint(), "letters", nil, false), cfg)
		workers = append(workers, w)
	}
	jobs := map[string][]byte{}
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("natsdown-%04d", i)
		jobs[ids[i]] = queuetest.Job(ids[i])
		e.submit(jobs[ids[i]], ids[i])
	}
	done := func() float64 {
		var s float64
		for _, w := range workers {
			s += counter(t, w, "carta_jobs_total", "status", "done")
		}
		return s
	}
	waitFor(t, 120*time.Second, "a fifth of the jobs done", func() bool { return done() >= n/5 })
	e.nats.Stop()
	atStop := done()
	time.Sleep(10 * time.Second)
	e.nats.Start()
	restarted := time.Now()

	var worst time.Duration
	worstID := ""
	for _, id := range ids {
		r := e.waitRecorded(id)
		if r.Status != client.StatusDone {
			t.Errorf("%s: %+v, want done", id, r)
			continue
		}
		// Time this job took after the restart: from the restart, or
		// from its delivery when that came later.
		started := r.FinishedAt.Add(-time.Duration(r.TotalMS) * time.Millisecond)
		d := r.FinishedAt.Sub(restarted)
		if started.After(restarted) {
			d = time.Duration(r.TotalMS) * time.Millisecond
		}
		if d > worst {
			worst, worstID = d, id
		}
	}
	allDone := time.Since(restarted)
	if worst > 30*time.Second {
		t.Errorf("job %s took %v past the restart, want at most 30s", worstID, worst)
	}
	e.checkEndState(st, endState{done: jobs, eventsMayBeLost: true})
	renders := 0
	for _, k := range rl.n {
		renders += k
	}
	var retries float64
	for _, w := range workers {
		retries += counter(t, w, "carta_nats_retries_total")
	}
	t.Logf("%d jobs, nats-server stopped 10s after %v were done; all recorded %v after the restart; "+
		"longest job past the restart %v (%s); %d renders (%d rendered twice); %v JetStream calls retried; 0 dead letters",
		n, atStop, allDone.Round(10*time.Millisecond), worst.Round(time.Millisecond), worstID, renders, len(rl.twice()), retries)
}
