package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/renderer/job"
	"github.com/carta-letters/carta/renderer/job/jobtest"
)

// invalidCorpus is the malformed-job corpus (see jobtest) with two
// generated jobs too large to keep in testdata: one over the job limit
// that still fits a NATS message, and one that does not.
func invalidCorpus(t *testing.T) []jobtest.Case {
	t.Helper()
	j := queuetest.Job("too-big")
	return append(jobtest.Corpus(t),
		jobtest.Case{Name: "generated-over-job-limit", Data: jobtest.Padded(j, job.MaxJobBytes+4096), Message: fmt.Sprintf("the limit is %d", job.MaxJobBytes)},
		jobtest.Case{Name: "generated-over-nats-payload", Data: jobtest.Padded(j, 2<<20)})
}

// TestFaultMalformedCorpus publishes every malformed job of the corpus to
// one worker with the real renderer and S3, one after another so each
// event can be told apart (most share the id "test-1"). Each yields
// exactly one failed result, invalid_job, naming the expected field, on
// its first delivery; no object is stored, nothing is dead-lettered or
// left pending. A job too large for a NATS message is refused at publish.
func TestFaultMalformedCorpus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := queuetest.StartVersity(t)
	st := queuetest.Store(t, v.Endpoint(), "letters", nil, true)
	w, _ := e.startWorker(st, testConfig(t))

	events := make(chan *nats.Msg, 4096)
	for _, s := range []string{queue.DefaultResultsSubject + ".>", queue.DefaultResultsSubject} {
		sub, err := e.nc.ChanSubscribe(s, events)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}

	published := 0
	for i, c := range invalidCorpus(t) {
		ok := t.Run(c.Name, func(t *testing.T) {
			msgID := fmt.Sprintf("corpus-%03d", i)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := e.js.Publish(ctx, queue.DefaultSubject, c.Data, jetstream.WithMsgID(msgID))
			if len(c.Data) >= int(w.Config().MaxMsgSize) {
				if err == nil {
					t.Fatalf("a %d-byte job was accepted for publishing", len(c.Data))
				}
				if !errors.Is(err, nats.ErrMaxPayload) {
					t.Errorf("publish of a %d-byte job: %v, want %v", len(c.Data), err, nats.ErrMaxPayload)
				}
				return
			}
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			published++

			var m *nats.Msg
			select {
			case m = <-events:
			case <-time.After(30 * time.Second):
				t.Fatal("no result event after 30s")
			}
			e.waitSettled()
			var r client.Result
			if err := json.Unmarshal(m.Data, &r); err != nil {
				t.Fatalf("event on %s is not JSON: %v", m.Subject, err)
			}
			wantSubject := queue.DefaultResultsSubject
			if r.ID != "" {
				wantSubject = queue.ResultSubject(queue.DefaultResultsSubject, r.ID)
			}
			if m.Subject != wantSubject {
				t.Errorf("event of %q on %s, want %s", r.ID, m.Subject, wantSubject)
			}
			if r.Status != client.StatusFailed || r.Error == nil || r.Error.Code != client.CodeInvalidJob || r.Attempts != 1 {
				t.Fatalf("result = %+v, want failed invalid_job on attempt 1", r)
			}
			found := false
			for _, p := range r.Error.Fields {
				found = found || p.Field == c.Field && strings.Contains(p.Message, c.Message)
			}
			if !found {
				t.Errorf("error names no problem %q containing %q: field %q, fields %+v", c.Field, c.Message, r.Error.Field, r.Error.Fields)
			}
			if len(r.Error.Fields) == 0 || r.Error.Field != r.Error.Fields[0].Field {
				t.Errorf("error field %q is not the first of %+v", r.Error.Field, r.Error.Fields)
			}
			if r.ID != "" {
				if rec := e.recorded(r.ID); rec == nil || rec.Status != client.StatusFailed || rec.Error == nil || rec.Error.Code != client.CodeInvalidJob {
					t.Errorf("recorded result %+v, want failed invalid_job", rec)
				}
			}
			if err := e.nc.Flush(); err != nil {
				t.Fatal(err)
			}
			select {
			case m := <-events:
				t.Errorf("a second event: %s %s", m.Subject, m.Data)
			case <-time.After(50 * time.Millisecond):
			}
		})
		if !ok {
			// Keep the next case in step: drop what this one left.
			e.waitSettled()
			time.Sleep(200 * time.Millisecond)
			for len(events) > 0 {
				<-events
			}
		}
	}

	// The end state: one failure per job published, nothing else.
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(events); n != 0 {
		t.Errorf("%d result events beyond one per job", n)
	}
	if got := waitCounter(t, w, float64(published), "carta_jobs_total", "status", "failed"); got != float64(published) {
		t.Errorf("carta_jobs_total{status=failed} = %v, want %d", got, published)
	}
	for _, s := range []string{"done", "retried", "republished", "abandoned"} {
		if got := counter(t, w, "carta_jobs_total", "status", s); got != 0 {
			t.Errorf("carta_jobs_total{status=%s} = %v, want 0", s, got)
		}
	}
	e.checkEndState(st, endState{})
	t.Logf("%d malformed jobs through the worker, 1 refused at publish", published)
}
