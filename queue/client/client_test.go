package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
)

// startNATS runs an embedded JetStream server for one test.
func startNATS(t *testing.T) *nats.Conn {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(s.Shutdown)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// makeQueue creates the jobs stream and results bucket as the contract
// describes them (the worker normally does this).
func makeQueue(t *testing.T, nc *nats.Conn, maxMsgs int64) (jetstream.Stream, jetstream.KeyValue) {
	t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "CARTA_JOBS", Subjects: []string{"carta.jobs"},
		Retention: jetstream.WorkQueuePolicy, Discard: jetstream.DiscardNew,
		MaxMsgs: maxMsgs, MaxBytes: 1 << 20, MaxMsgSize: 64 << 10, Duplicates: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "carta_results"})
	if err != nil {
		t.Fatal(err)
	}
	return st, kv
}

func job(id string) []byte {
	return []byte(`{"schema":"letter/v1","id":"` + id + `","letterhead":{"name":"Comitė Ciudadano"}}`)
}

func TestSubmit(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	st, _ := makeQueue(t, nc, 2)
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("first submit stores the body unchanged with Nats-Msg-Id", func(t *testing.T) {
		ack, err := c.Publish(ctx, job("a-1"))
		if err != nil {
			t.Fatal(err)
		}
		if ack.ID != "a-1" || ack.Duplicate || ack.Stream != "CARTA_JOBS" {
			t.Fatalf("ack = %+v", ack)
		}
		m, err := st.GetMsg(ctx, ack.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) != string(job("a-1")) || m.Header.Get("Nats-Msg-Id") != "a-1" || m.Subject != "carta.jobs" {
			t.Fatalf("stored %q %q %v", m.Subject, m.Data, m.Header)
		}
	})
	t.Run("same id again is a duplicate, not a second job", func(t *testing.T) {
		ack, err := c.Publish(ctx, job("a-1"))
		if err != nil {
			t.Fatal(err)
		}
		if !ack.Duplicate {
			t.Fatalf("ack = %+v, want duplicate", ack)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != 1 {
			t.Fatalf("stream holds %d messages, want 1", info.State.Msgs)
		}
	})
	t.Run("full stream refuses with a clear error", func(t *testing.T) {
		if _, err := c.Submit(ctx, job("a-2")); err != nil {
			t.Fatal(err)
		}
		_, err := c.Submit(ctx, job("a-3"))
		if !errors.Is(err, client.ErrQueueFull) {
			t.Fatalf("err = %v, want ErrQueueFull", err)
		}
		if want := "submit job a-3: queue is full: maximum messages exceeded"; err.Error() != want {
			t.Fatalf("err = %q, want %q", err, want)
		}
	})
	t.Run("job over MaxMsgSize is too large", func(t *testing.T) {
		big := []byte(`{"id":"big","pad":"` + strings.Repeat("x", 70<<10) + `"}`)
		_, err := c.Submit(ctx, big)
		if !errors.Is(err, client.ErrJobTooLarge) {
			t.Fatalf("err = %v, want ErrJobTooLarge", err)
		}
	})
}

func TestSubmitWithoutStream(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.Submit(ctx, job("x"))
	if !errors.Is(err, client.ErrNoQueue) {
		t.Fatalf("err = %v, want ErrNoQueue", err)
	}
}

func TestJobID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, json, id string
		ok             bool
	}{
		{"plain id", `{"id":"nals-2023"}`, "nals-2023", true},
		{"dots inside", `{"id":"v1.2_x-y"}`, "v1.2_x-y", true},
		{"128 chars", `{"id":"` + strings.Repeat("a", 128) + `"}`, strings.Repeat("a", 128), true},
		{"129 chars", `{"id":"` + strings.Repeat("a", 129) + `"}`, "", false},
		{"missing", `{"schema":"letter/v1"}`, "", false},
		{"empty", `{"id":""}`, "", false},
		{"leading dot", `{"id":".a"}`, "", false},
		{"trailing dot", `{"id":"a."}`, "a.", true},
		{"double dot", `{"id":"a..b"}`, "a..b", true},
		{"space", `{"id":"a b"}`, "", false},
		{"wildcard", `{"id":"a*"}`, "", false},
		{"accent", `{"id":"café"}`, "", false},
		{"not an object", `["a"]`, "", false},
		{"not JSON", `id: a`, "", false},
		{"number id", `{"id":7}`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id, err := client.JobID([]byte(tc.json))
			if tc.ok != (err == nil) || id != tc.id {
				t.Fatalf("JobID = %q, %v; want %q ok=%v", id, err, tc.id, tc.ok)
			}
			if err != nil && !errors.Is(err, client.ErrBadID) {
				t.Fatalf("err %v is not ErrBadID", err)
			}
		})
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	_, kv := makeQueue(t, nc, 100)
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	done := client.Result{ID: "w-1", Status: client.StatusDone, Bucket: "letters", Key: "letters/w-1.pdf", SHA256: "ab", Bytes: 10, Pages: 2, Attempts: 1, FinishedAt: time.Date(2023, 1, 9, 12, 0, 0, 0, time.UTC), Recipients: []string{"Andrés Manuel López Obrador"}}

	t.Run("result recorded before Wait is found in the bucket", func(t *testing.T) {
		data, _ := json.Marshal(done)
		if _, err := kv.Put(context.Background(), "w-1", data); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		got, err := c.Wait(ctx, "w-1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, done) {
			t.Fatalf("got %+v, want %+v", got, done)
		}
	})
	t.Run("result published after Wait started is received", func(t *testing.T) {
		failed := client.Result{ID: "w-2", Status: client.StatusFailed, Error: &client.ResultError{Code: client.CodeInvalidJob, Message: "at least one recipient is required", Field: "letter.recipients"}}
		data, _ := json.Marshal(failed)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Publish repeatedly until Wait has subscribed and returned; the
		// first publishes may precede the subscription and be lost, which
		// is what the bucket lookup is for in real use.
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					_ = nc.Publish(c.ResultSubject("w-2"), data)
				}
			}
		}()
		got, err := c.Wait(ctx, "w-2")
		close(stop)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != client.StatusFailed || got.Err() == nil {
			t.Fatalf("got %+v, want failed", got)
		}
		if want := "invalid_job: letter.recipients: at least one recipient is required"; got.Err().Error() != want {
			t.Fatalf("Err() = %q, want %q", got.Err(), want)
		}
	})
	t.Run("id ending in a dot is looked up under its token", func(t *testing.T) {
		r := client.Result{ID: "w.", Status: client.StatusDone}
		data, _ := json.Marshal(r)
		if _, err := kv.Put(context.Background(), "w=2E", data); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		got, err := c.Wait(ctx, "w.")
		if err != nil || got.ID != "w." {
			t.Fatalf("Wait = %+v, %v", got, err)
		}
	})
	t.Run("no result before the deadline returns the context error", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := c.Wait(ctx, "never")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want deadline exceeded", err)
		}
	})
}

// TestWaitSince covers an id resubmitted after it failed: the old
// failure recorded under the id must not answer the new submission.
func TestWaitSince(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	_, kv := makeQueue(t, nc, 100)
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	submitted := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	before, after := submitted.Add(-time.Hour), submitted.Add(time.Second)
	oldFailure := func(id string) client.Result {
		return client.Result{ID: id, Status: client.StatusFailed, Attempts: 1, FinishedAt: before,
			Error: &client.ResultError{Code: client.CodeInvalidJob, Message: "at least one recipient is required", Field: "letter.recipients"}}
	}
	record := func(t *testing.T, r client.Result) []byte {
		t.Helper()
		data, _ := json.Marshal(r)
		if _, err := kv.Put(context.Background(), r.ID, data); err != nil {
			t.Fatal(err)
		}
		return data
	}

	t.Run("old recorded failure is ignored and the new result returned", func(t *testing.T) {
		stale := record(t, oldFailure("s-1"))
		fresh := client.Result{ID: "s-1", Status: client.StatusDone, Key: "letters/s-1.pdf", SHA256: "cd", Pages: 1, Attempts: 1, FinishedAt: after}
		freshData, _ := json.Marshal(fresh)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// A late copy of the old event comes before each new one; the
		// new result is published (not recorded) so only the event can
		// answer.
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					_ = nc.Publish(c.ResultSubject("s-1"), stale)
					_ = nc.Publish(c.ResultSubject("s-1"), freshData)
				}
			}
		}()
		got, err := c.WaitSince(ctx, "s-1", submitted)
		close(stop)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, fresh) {
			t.Fatalf("got %+v, want %+v", got, fresh)
		}
	})
	t.Run("new failure recorded after since is returned at once", func(t *testing.T) {
		r := oldFailure("s-2")
		r.FinishedAt = after
		record(t, r)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		got, err := c.WaitSince(ctx, "s-2", submitted)
		if err != nil || got.Status != client.StatusFailed || !got.FinishedAt.Equal(after) {
			t.Fatalf("WaitSince = %+v, %v; want the new failure", got, err)
		}
	})
	t.Run("done record older than since is returned at once", func(t *testing.T) {
		done := client.Result{ID: "s-3", Status: client.StatusDone, Key: "letters/s-3.pdf", SHA256: "ef", Pages: 2, Attempts: 1, FinishedAt: before}
		record(t, done)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		got, err := c.WaitSince(ctx, "s-3", submitted)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, done) {
			t.Fatalf("got %+v, want %+v", got, done)
		}
	})
	t.Run("old failure alone times out", func(t *testing.T) {
		record(t, oldFailure("s-4"))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		got, err := c.WaitSince(ctx, "s-4", submitted)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitSince = %+v, %v; want deadline exceeded", got, err)
		}
	})
	t.Run("Wait still returns an old failure", func(t *testing.T) {
		old := oldFailure("s-5")
		record(t, old)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		got, err := c.Wait(ctx, "s-5")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, old) {
			t.Fatalf("got %+v, want %+v", got, old)
		}
	})
}

func TestTokenMatchesWorker(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"nals-2023", "v1.2", "a.", "a..b", "x_y-z", "a.b..c."} {
		if got, want := client.Token(id), queue.Token(id); got != want {
			t.Errorf("Token(%q) = %q, queue.Token = %q", id, got, want)
		}
	}
}

func TestWaitWithoutBucket(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Lookup(context.Background(), "x")
	if got != nil || err != nil {
		t.Fatalf("Lookup = %v, %v; want nil, nil", got, err)
	}
}

// TestResultJSON pins the event's field names to the wire contract.
func TestResultJSON(t *testing.T) {
	t.Parallel()
	r := client.Result{Status: client.StatusFailed, Error: &client.ResultError{Fields: []client.FieldError{{}}}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"attempts", "bucket", "bytes", "carta_version", "error", "finished_at", "id", "key", "pages", "recipients", "render_ms", "sha256", "status", "title", "total_ms"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	var e map[string]json.RawMessage
	if err := json.Unmarshal(m["error"], &e); err != nil {
		t.Fatal(err)
	}
	if _, ok := e["code"]; !ok {
		t.Fatalf("error lacks code: %s", m["error"])
	}
	if string(e["fields"]) != `[{"field":"","message":""}]` {
		t.Fatalf("error.fields = %s", e["fields"])
	}
	var back client.Result
	ts := `{"id":"x","status":"done","finished_at":"2023-01-09T12:00:00Z"}`
	if err := json.Unmarshal([]byte(ts), &back); err != nil || !back.FinishedAt.Equal(time.Date(2023, 1, 9, 12, 0, 0, 0, time.UTC)) || back.Err() != nil {
		t.Fatalf("decode %s = %+v, %v", ts, back, err)
	}
}

func TestIDOfTokenUndoesToken(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"nals-2023", "v1.2_x", "a.", "a..b", "..x"[1:]} {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			if got := client.IDOfToken(client.Token(id)); got != id {
				t.Fatalf("IDOfToken(Token(%q)) = %q (token %q)", id, got, client.Token(id))
			}
		})
	}
}

// TestLookupKeepsBucketHandle: Lookup finds results before and after the
// bucket exists, and again after it is deleted and made anew, though it
// keeps the bucket's handle between calls.
func TestLookupKeepsBucketHandle(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if res, err := c.Lookup(ctx, "k-1"); res != nil || err != nil {
		t.Fatalf("before the bucket exists: %+v, %v; want nil, nil", res, err)
	}
	_, kv := makeQueue(t, nc, 10)
	put := func(kv jetstream.KeyValue) {
		data, _ := json.Marshal(client.Result{ID: "k-1", Status: client.StatusDone})
		if _, err := kv.Put(ctx, "k-1", data); err != nil {
			t.Fatal(err)
		}
	}
	put(kv)
	for i := range 2 { // the second call uses the kept handle
		if res, err := c.Lookup(ctx, "k-1"); err != nil || res == nil || res.Status != client.StatusDone {
			t.Fatalf("call %d: %+v, %v; want the done result", i+1, res, err)
		}
	}
	js, _ := jetstream.New(nc)
	if err := js.DeleteKeyValue(ctx, "carta_results"); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Lookup(ctx, "k-1"); res != nil || err != nil {
		t.Fatalf("after the bucket was deleted: %+v, %v; want nil, nil", res, err)
	}
	kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "carta_results"})
	if err != nil {
		t.Fatal(err)
	}
	put(kv)
	if res, err := c.Lookup(ctx, "k-1"); err != nil || res == nil {
		t.Fatalf("after the bucket was made anew: %+v, %v; want the result", res, err)
	}
}

// TestWaitAcrossReconnect: the waiting client's connection is cut and
// nats-server restarted; while the client is away every job is recorded
// done and its event published (and lost for the client). Once it is
// back, every Wait returns the done result.
func TestWaitAcrossReconnect(t *testing.T) {
	t.Parallel()
	srv := queuetest.StartNATS(t)
	writer := srv.Connect(t)
	_, _ = makeQueue(t, writer, 100)
	proxy := queuetest.StartTCPProxy(t, strings.TrimPrefix(srv.URL(), "nats://"))
	wnc, err := nats.Connect("nats://"+proxy.Addr(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wnc.Close)
	c, err := client.New(wnc)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	type answer struct {
		id  string
		res *client.Result
		err error
	}
	answers := make(chan answer, n)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range n {
		id := "rc-" + string(rune('a'+i))
		go func() {
			res, err := c.Wait(ctx, id)
			answers <- answer{id, res, err}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for wnc.NumSubscriptions() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d waiters subscribed", wnc.NumSubscriptions(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the first lookups finish

	proxy.Sever()
	srv.Restart()
	js, err := jetstream.New(writer)
	if err != nil {
		t.Fatal(err)
	}
	var kv jetstream.KeyValue
	for kv == nil {
		if kv, err = js.KeyValue(ctx, "carta_results"); err != nil {
			if ctx.Err() != nil {
				t.Fatal(err)
			}
			kv = nil
			time.Sleep(50 * time.Millisecond)
		}
	}
	for i := range n {
		id := "rc-" + string(rune('a'+i))
		b, _ := json.Marshal(client.Result{ID: id, Status: client.StatusDone, Key: "letters/" + id + ".pdf"})
		for {
			if _, err := kv.Put(ctx, id, b); err == nil {
				break
			} else if ctx.Err() != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := writer.Publish("carta.results."+id, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := writer.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-answers:
		t.Fatalf("a Wait returned while its connection was cut: %+v", a)
	case <-time.After(300 * time.Millisecond):
	}
	proxy.Restore()
	for range n {
		a := <-answers
		if a.err != nil || a.res == nil || a.res.Status != client.StatusDone || a.res.ID != a.id {
			t.Errorf("%s: %+v, %v; want done", a.id, a.res, a.err)
		}
	}
}
