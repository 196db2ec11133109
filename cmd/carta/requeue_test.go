package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/queuetest"
)

// TestRequeueCommand: "carta requeue" lists without -confirm and changes
// nothing; with -confirm it moves the chosen dead letters back to the
// jobs stream with their original bodies (under a new message id, so the
// duplicates window keeps none out) and removes them from the
// dead-letter stream; others stay.
func TestRequeueCommand(t *testing.T) {
	t.Parallel()
	srv := queuetest.StartNATS(t)
	nc := srv.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := queue.Setup(ctx, js, queue.Config{}); err != nil {
		t.Fatal(err)
	}
	// The original submissions: their ids are inside the duplicates window.
	bodies := map[string][]byte{"rq-a": queuetest.Job("rq-a"), "rq-b": queuetest.Job("rq-b")}
	for id, b := range bodies {
		if _, err := js.Publish(ctx, queue.DefaultSubject, b, jetstream.WithMsgID(id)); err != nil {
			t.Fatal(err)
		}
		// Taken off the jobs stream by a worker, as it does before
		// dead-lettering: here the consumer takes and terminates it.
	}
	cons, err := js.Consumer(ctx, queue.DefaultStream, queue.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.Term(); err != nil {
			t.Fatal(err)
		}
	}
	for id, b := range bodies {
		m := nats.NewMsg(queue.DefaultDeadSubject + "." + id)
		m.Data = b
		m.Header.Set(queue.HeaderJobID, id)
		m.Header.Set(queue.HeaderError, "storage_failed: store letter: it went wrong")
		m.Header.Set(queue.HeaderAttempts, "5")
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	jobsMsgs := func() uint64 {
		s, err := js.Stream(ctx, queue.DefaultStream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	waitJobs := func(want uint64) {
		deadline := time.Now().Add(10 * time.Second)
		for jobsMsgs() != want && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if got := jobsMsgs(); got != want {
			t.Fatalf("jobs stream holds %d, want %d", got, want)
		}
	}
	waitJobs(0)
	requeue := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"requeue", "-nats-url", srv.URL()}, args...), &out, &errOut)
		return code, out.String() + errOut.String()
	}

	if code, out := requeue(); code != exitInvalid || !strings.Contains(out, "-id") {
		t.Errorf("no selection: exit %d, %s", code, out)
	}
	code, out := requeue("-id", "rq-a")
	if code != exitOK || !strings.Contains(out, "rq-a") || strings.Contains(out, "rq-b") || !strings.Contains(out, "would be requeued") {
		t.Errorf("dry run: exit %d:\n%s", code, out)
	}
	if jobsMsgs() != 0 {
		t.Error("the dry run queued a job")
	}
	if code, out = requeue("-id", "rq-a", "-confirm"); code != exitOK || !strings.Contains(out, "requeued 1 dead letter") {
		t.Errorf("requeue -confirm: exit %d:\n%s", code, out)
	}
	waitJobs(1)
	s, err := js.Stream(ctx, queue.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Data, bodies["rq-a"]) || m.Header.Get("Nats-Msg-Id") == "rq-a" || m.Header.Get(queue.HeaderRequeuedFrom) == "" {
		t.Errorf("requeued message: headers %v, body equal %v", m.Header, bytes.Equal(m.Data, bodies["rq-a"]))
	}
	left, err := queue.ListDeadLetters(ctx, js, queue.Config{}, queue.DeadFilter{All: true})
	if err != nil || len(left) != 1 || left[0].ID != "rq-b" {
		t.Errorf("dead letters left: %+v (%v), want rq-b only", left, err)
	}
	if code, out = requeue("-all", "-since", "1h", "-confirm"); code != exitOK || !strings.Contains(out, "requeued 1 dead letter") {
		t.Errorf("requeue -all -confirm: exit %d:\n%s", code, out)
	}
	waitJobs(2)
}
