package queue_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// TestUndatedJobDatedByAcceptance: a job without a date is dated with the
// day JetStream accepted it, which the result records (accepted_at), so
// a render with that acceptance date gives the stored bytes again.
func TestUndatedJobDatedByAcceptance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := newMemStore()
	e.startWorker(st, testConfig(t))
	var m map[string]any
	if err := json.Unmarshal(queuetest.Job("undated-1"), &m); err != nil {
		t.Fatal(err)
	}
	delete(m["letter"].(map[string]any), "date")
	data, _ := json.Marshal(m)
	before := time.Now().UTC().Add(-time.Minute)
	e.submit(data, "undated-1")
	r := e.waitResult("undated-1")
	if r.Status != client.StatusDone {
		t.Fatalf("result %+v", r)
	}
	if r.AcceptedAt.Before(before) || r.AcceptedAt.After(r.FinishedAt) {
		t.Fatalf("accepted_at %v, want between %v and %v", r.AcceptedAt, before, r.FinishedAt)
	}
	st.mu.Lock()
	stored := st.objects[r.Key].Body
	st.mu.Unlock()
	day := []byte("/CreationDate (D:" + r.AcceptedAt.Format("20060102"))
	if !bytes.Contains(stored, day) {
		t.Errorf("stored PDF does not carry the acceptance day %s", day)
	}
	j, err := job.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := renderer.RenderWith(j, renderer.Options{Accepted: r.AcceptedAt})
	if err != nil {
		t.Fatal(err)
	}
	if again.SHA256 != r.SHA256 {
		t.Errorf("a render with accepted_at gives sha256 %s, the worker stored %s", again.SHA256, r.SHA256)
	}
}
