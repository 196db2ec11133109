package main

import (
	"context"
	"encoding/json"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/renderer"
)

// TestWorkerKilledMidRender: a "carta worker" process is killed with
// SIGKILL while it renders a long letter (the kill comes as soon as the
// job is delivered, and before the worker has sent any upload). Another
// worker finishes the job after the AckWait: exactly one object, equal to
// a local render, recorded done, nothing pending, no dead letter.
func TestWorkerKilledMidRender(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	fp := queuetest.StartFaultProxy(t, c.versity.Endpoint())
	fp.Hold(queuetest.IsPut) // should the render win the race, its upload stays in flight

	const id = "kill-render"
	data := queuetest.LongJob(id, 150, 2000)
	t0 := time.Now()
	_, want, err := renderer.RenderJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the job: %d bytes, %d pages, rendered locally in %v", len(data), want.Pages, time.Since(t0).Round(time.Millisecond))

	a, _ := c.worker(fp.URL(), "-job-timeout", "60s")
	cons, err := c.js.Consumer(context.Background(), queue.DefaultStream, queue.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	c.submit(data, id)
	deadline := time.Now().Add(60 * time.Second)
	for {
		info, err := cons.Info(context.Background())
		if err == nil && info.NumAckPending == 1 {
			break // delivered to a: it is rendering
		}
		if time.Now().After(deadline) {
			t.Fatal("the job was not delivered within 60s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := a.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = a.Process.Wait()
	select {
	case <-fp.Held():
		t.Error("the worker had finished rendering and begun uploading before the kill: not killed mid-render")
	default:
	}

	b, _ := c.worker(c.versity.Endpoint())
	r := c.waitResult(id)
	if r.Status != client.StatusDone || r.Attempts != 2 || r.SHA256 != want.SHA256 || r.Pages != want.Pages {
		t.Errorf("result = %+v, want done on attempt 2 with sha256 %s", r, want.SHA256)
	}

	// The end state.
	st := queuetest.Store(t, c.versity.Endpoint(), "letters", nil, false)
	keys, err := st.List(context.Background(), "")
	if err != nil || len(keys) != 1 || keys[0] != "letters/"+id+".pdf" {
		t.Errorf("objects = %q (%v), want exactly letters/%s.pdf", keys, err, id)
	}
	body, meta, err := st.Get(context.Background(), "letters/"+id+".pdf")
	if err != nil || string(body) != string(want.PDF) || meta["carta-sha256"] != want.SHA256 {
		t.Errorf("stored object differs from a local render (err %v, metadata %v)", err, meta)
	}
	for _, x := range fp.Exchanges() {
		if x.Method == http.MethodPut {
			t.Errorf("the killed worker's upload reached S3: %+v", x)
		}
	}
	kv, err := c.js.KeyValue(context.Background(), queue.DefaultResultsBucket)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := kv.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var rec client.Result
	if err := json.Unmarshal(entry.Value(), &rec); err != nil || rec.Status != client.StatusDone || rec.SHA256 != want.SHA256 {
		t.Errorf("recorded result %s (%v), want done with sha256 %s", entry.Value(), err, want.SHA256)
	}
	deadline = time.Now().Add(30 * time.Second)
	for info := c.consumerInfo(); info.NumAckPending != 0 || info.NumPending != 0; info = c.consumerInfo() {
		if time.Now().After(deadline) {
			t.Fatalf("consumer: %d pending, %d unacknowledged after 30s; want none", info.NumPending, info.NumAckPending)
		}
		time.Sleep(50 * time.Millisecond)
	}
	dead, err := c.js.Stream(context.Background(), queue.DefaultDeadStream)
	if err != nil {
		t.Fatal(err)
	}
	if di, err := dead.Info(context.Background()); err != nil || di.State.Msgs != 0 {
		t.Errorf("dead-letter stream: %+v (%v), want empty", di.State, err)
	}
	c.mu.Lock()
	for _, ev := range c.results {
		if ev.ID == id && (ev.Status != client.StatusDone || ev.SHA256 != want.SHA256) {
			t.Errorf("event %+v, want done with sha256 %s", ev, want.SHA256)
		}
	}
	c.mu.Unlock()

	_ = b.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, b, 30*time.Second); code != 0 {
		t.Errorf("worker b exit code %d after SIGTERM, want 0", code)
	}
}

// TestKilledWorkersJobTakenOverWithinAckWait: with the default AckWait
// (15 s; heartbeats every 5 s), a job whose worker is killed mid-upload
// is finished by another worker well before a minute.
func TestKilledWorkersJobTakenOverWithinAckWait(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits for the default ack wait")
	}
	t.Parallel()
	c := newCluster(t)
	slow := queuetest.StartProxy(t, c.versity.Endpoint(), false)
	slow.Hold(queuetest.IsPut)
	ackWait := queue.DefaultAckWait.String()
	a, _ := c.worker(slow.URL(), "-ack-wait", ackWait)
	c.submit(queuetest.Job("takeover-1"), "takeover-1")
	waitHeld(t, slow)
	b, _ := c.worker(c.versity.Endpoint(), "-ack-wait", ackWait)
	time.Sleep(queue.DefaultAckWait / 2) // held a while, heartbeats going
	killed := time.Now()
	if err := a.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = a.Process.Wait()
	r := c.waitResult("takeover-1")
	took := time.Since(killed)
	if r.Status != client.StatusDone || r.Attempts != 2 {
		t.Errorf("result = %+v, want done on attempt 2", r)
	}
	if took > queue.DefaultAckWait+10*time.Second {
		t.Errorf("job finished %v after its worker was killed, want within the ack wait (%v) and some slack", took, queue.DefaultAckWait)
	}
	t.Logf("killed worker's job done by another %v after the kill (ack wait %v)", took.Round(10*time.Millisecond), queue.DefaultAckWait)
	_ = b.Process.Signal(syscall.SIGTERM)
	waitExit(t, b, 30*time.Second)
}

// TestWorkerCreatesBucket: "carta worker -s3-create-bucket" creates a
// missing bucket at start and stores letters in it.
func TestWorkerCreatesBucket(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.worker(c.versity.Endpoint(), "-s3-bucket", "fresh-bucket", "-s3-create-bucket")
	c.submit(queuetest.Job("create-bucket-1"), "create-bucket-1")
	r := c.waitResult("create-bucket-1")
	if r.Status != client.StatusDone || r.Bucket != "fresh-bucket" || r.Attempts != 1 {
		t.Errorf("result = %+v, want done in fresh-bucket on the first delivery", r)
	}
	st := queuetest.Store(t, c.versity.Endpoint(), "fresh-bucket", nil, false)
	if _, err := st.Head(context.Background(), r.Key); err != nil {
		t.Errorf("letter not in the created bucket: %v", err)
	}
}
