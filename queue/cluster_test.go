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
