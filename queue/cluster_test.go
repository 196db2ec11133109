package queue_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
)

// runClusterWorker runs a worker with replicas 3 on its own connection
// to cluster c until the test ends.
func runClusterWorker(t *testing.T, c *queuetest.Cluster, store queue.ObjectStore, cfg queue.Config) *queue.Worker {
	t.Helper()
	nc := c.Connect(t)
	cfg.Replicas = 3
	w, err := queue.New(nc, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker Run = %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("worker did not stop within 60s")
		}
	})
	return w
}

// TestClusterStartup: two workers started together on a fresh 3-node
// cluster (replicas 3) are both ready within seconds, and not before
// they can pull, record results and reach their bucket.
func TestClusterStartup(t *testing.T) {
	t.Parallel()
	c := queuetest.StartCluster(t)
	v := queuetest.StartVersity(t)
	queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	start := time.Now()
	var workers []*queue.Worker
	for range 2 {
		workers = append(workers, runClusterWorker(t, c, queuetest.Store(t, v.Endpoint(), "letters", nil, false), testConfig(t)))
	}
	var mu sync.Mutex
	readyAfter := make([]time.Duration, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			waitFor(t, 120*time.Second, "worker ready", func() bool { return w.Ready(context.Background()) == nil })
			mu.Lock()
			readyAfter[i] = time.Since(start)
			mu.Unlock()
		})
	}
	wg.Wait()
	for i, d := range readyAfter {
		if d > 15*time.Second {
			t.Errorf("worker %d ready after %v, want within 15s", i, d)
		}
	}
	nc := c.Connect(t)
	cl, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range 10 {
		id := fmt.Sprintf("cluster-%d", i)
		if _, err := cl.Submit(ctx, queuetest.Job(id)); err != nil {
			t.Fatal(err)
		}
		if r, err := cl.Wait(ctx, id); err != nil || r.Status != client.StatusDone {
			t.Errorf("%s: %+v, %v", id, r, err)
		}
	}
	js, _ := jetstream.New(nc)
	s, err := js.Stream(ctx, queue.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(ctx); err != nil || info.Config.Replicas != 3 {
		t.Errorf("jobs stream replicas: %+v, %v", info, err)
	}
	t.Logf("two workers on a fresh 3-node cluster ready after %v and %v", readyAfter[0].Round(time.Millisecond), readyAfter[1].Round(time.Millisecond))
}

// TestClusterStreamLeaderKilled: 600 jobs through two workers on a
// 3-node cluster (replicas 3); the jobs stream's leader node is killed
// once a tenth are done, and started again 10 s later. Every job is
// done and stored once, none is dead-lettered, and none takes more than
// 30 s past the kill.
func TestClusterStreamLeaderKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips the cluster leader kill")
	}
	t.Parallel()
	const n = 600
	c := queuetest.StartCluster(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	nc := c.Connect(t)
	cl, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The queue first, then every job, then the workers: the kill comes
	// with most jobs still queued.
	if _, err := queue.Setup(ctx, js, queue.Config{Replicas: 3, AckWait: 15 * time.Second}); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, queue.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil || info.Cluster == nil {
		t.Fatalf("stream info: %+v, %v", info, err)
	}
	leader := c.NodeIndex(info.Cluster.Leader)
	if leader < 0 {
		t.Fatalf("leader %q is not a node of the cluster", info.Cluster.Leader)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("leader-%03d", i)
		if _, err := cl.Submit(ctx, queuetest.Job(ids[i])); err != nil {
			t.Fatal(err)
		}
	}
	var workers []*queue.Worker
	for range 2 {
		cfg := testConfig(t)
		cfg.AckWait = 15 * time.Second
		cfg.JobTimeout = 2 * time.Minute
		cfg.NATSTimeout = 5 * time.Second
		workers = append(workers, runClusterWorker(t, c, queuetest.Store(t, v.Endpoint(), "letters", nil, false), cfg))
	}
	for _, w := range workers {
		waitFor(t, 60*time.Second, "worker ready", func() bool { return w.Ready(context.Background()) == nil })
	}
	done := func() float64 {
		var s float64
		for _, w := range workers {
			s += counter(t, w, "carta_jobs_total", "status", "done")
		}
		return s
	}
	waitFor(t, 120*time.Second, "a tenth of the jobs done", func() bool { return done() >= n/10 })
	atKill := done()
	c.StopNode(leader)
	killed := time.Now()
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		time.Sleep(10 * time.Second)
		c.StartNode(leader)
	}()
	t.Cleanup(func() { <-restarted })

	var worst time.Duration
	worstID := ""
	for _, id := range ids {
		var r *client.Result
		var lastErr error
		deadline := time.Now().Add(60 * time.Second)
		for {
			r, err = cl.Lookup(ctx, id)
			if err == nil && r != nil {
				break
			}
			if err != nil {
				lastErr = err
			}
			if time.Now().After(deadline) {
				fresh := c.Connect(t)
				fjs, _ := jetstream.New(fresh)
				for _, name := range []string{"KV_" + queue.DefaultResultsBucket, queue.DefaultStream} {
					ictx, icancel := context.WithTimeout(context.Background(), 5*time.Second)
					s, err := fjs.Stream(ictx, name)
					if err == nil {
						i := s.CachedInfo()
						t.Logf("%s: %+v cluster %+v", name, i.State, i.Cluster)
					} else {
						t.Logf("%s: %v", name, err)
					}
					icancel()
				}
				t.Logf("done %v, client connected to %s (%v)", done(), nc.ConnectedServerName(), nc.Status())
				t.Fatalf("no result of %s after 60s (last error %v)", id, lastErr)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if r.Status != client.StatusDone {
			t.Errorf("%s: %+v, want done", id, r)
			continue
		}
		started := r.FinishedAt.Add(-time.Duration(r.TotalMS) * time.Millisecond)
		d := r.FinishedAt.Sub(killed)
		if started.After(killed) {
			d = time.Duration(r.TotalMS) * time.Millisecond
		}
		if d > worst {
			worst, worstID = d, id
		}
	}
	allDone := time.Since(killed)
	if worst > 30*time.Second {
		t.Errorf("job %s took %v past the kill, want at most 30s", worstID, worst)
	}
	keys, err := st.List(ctx, "")
	if err != nil || len(keys) != n {
		t.Errorf("%d objects (%v), want %d", len(keys), err, n)
	}
	dead, err := queue.ListDeadLetters(ctx, js, queue.Config{}, queue.DeadFilter{All: true})
	if err != nil || len(dead) != 0 {
		t.Errorf("%d dead letters (%v), want 0", len(dead), err)
	}
	t.Logf("%d jobs on a 3-node cluster, stream leader %s killed after %v were done (back 10 s later); all done %v after the kill; "+
		"longest job past the kill %v; 0 dead letters", n, info.Cluster.Leader, atKill, allDone.Round(10*time.Millisecond), worst.Round(time.Millisecond))
}
