package queue_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// testConfig is a worker configuration with short waits.
func testConfig(t *testing.T) queue.Config {
	return queue.Config{
		AckWait:         2 * time.Second,
		MaxDeliver:      3,
		Concurrency:     2,
		JobTimeout:      20 * time.Second,
		ShutdownTimeout: 5 * time.Second,
		RetryBase:       50 * time.Millisecond,
		RetryMax:        200 * time.Millisecond,
		PullWait:        200 * time.Millisecond,
		Logger:          slog.New(slog.NewJSONHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
}

// env is one test's NATS server, seen through a test client.
type env struct {
	t       *testing.T
	nats    *queuetest.NATS
	nc      *nats.Conn
	js      jetstream.JetStream
	mu      sync.Mutex
	results map[string][]client.Result // events received, by subject token
	notify  chan struct{}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, nats: queuetest.StartNATS(t), results: map[string][]client.Result{}, notify: make(chan struct{}, 1)}
	e.nc = e.nats.Connect(t)
	var err error
	if e.js, err = jetstream.New(e.nc); err != nil {
		t.Fatal(err)
	}
	handler := func(m *nats.Msg) {
		var r client.Result
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Errorf("result event on %s is not JSON: %v: %s", m.Subject, err, m.Data)
			return
		}
		e.mu.Lock()
		e.results[m.Subject] = append(e.results[m.Subject], r)
		e.mu.Unlock()
		select {
		case e.notify <- struct{}{}:
		default:
		}
	}
	for _, s := range []string{queue.DefaultResultsSubject + ".>", queue.DefaultResultsSubject} {
		if _, err := e.nc.Subscribe(s, handler); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := queue.Setup(context.Background(), e.js, testConfig(t)); err != nil {
		t.Fatal(err)
	}
	return e
}

// startWorker runs a worker on its own connection until the test ends.
// stop stops it and returns what Run returned.
func (e *env) startWorker(store queue.ObjectStore, cfg queue.Config) (w *queue.Worker, stop func() error) {
	e.t.Helper()
	nc := e.nats.Connect(e.t)
	w, err := queue.New(nc, store, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = errors.New("worker did not stop within 30s")
			}
			_ = nc.Drain()
		})
		return runErr
	}
	e.t.Cleanup(func() { _ = stop() })
	return w, stop
}

// submit publishes a job; msgID "" publishes without Nats-Msg-Id.
func (e *env) submit(data []byte, msgID string) *jetstream.PubAck {
	e.t.Helper()
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := e.js.Publish(ctx, queue.DefaultSubject, data, opts...)
	if err != nil {
		e.t.Fatalf("submit: %v", err)
	}
	return ack
}

// waitResults waits for n result events of id and returns them.
func (e *env) waitResults(id string, n int) []client.Result {
	e.t.Helper()
	subject := queue.ResultSubject(queue.DefaultResultsSubject, id)
	deadline := time.After(60 * time.Second)
	for {
		e.mu.Lock()
		got := append([]client.Result(nil), e.results[subject]...)
		e.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-e.notify:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			e.t.Fatalf("waited 60s for %d result(s) of %s, got %d", n, id, len(got))
		}
	}
}

func (e *env) waitResult(id string) client.Result { return e.waitResults(id, 1)[0] }

// recorded returns the result recorded in the bucket for id, or nil.
func (e *env) recorded(id string) *client.Result {
	e.t.Helper()
	kv, err := e.js.KeyValue(context.Background(), queue.DefaultResultsBucket)
	if err != nil {
		e.t.Fatal(err)
	}
	entry, err := kv.Get(context.Background(), queue.Token(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var r client.Result
	if err := json.Unmarshal(entry.Value(), &r); err != nil {
		e.t.Fatal(err)
	}
	return &r
}

// waitSettled waits until the consumer has nothing pending or unacked.
func (e *env) waitSettled() *jetstream.ConsumerInfo {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ci, err := e.js.Consumer(context.Background(), queue.DefaultStream, queue.DefaultConsumer)
		if err == nil {
			info, err := ci.Info(context.Background())
			if err == nil && info.NumPending == 0 && info.NumAckPending == 0 {
				return info
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("consumer not settled after 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deadLetters returns the dead letters of id.
func (e *env) deadLetters(id string) []*jetstream.RawStreamMsg {
	e.t.Helper()
	s, err := e.js.Stream(context.Background(), queue.DefaultDeadStream)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	info, err := s.Info(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(context.Background(), seq)
		if err != nil {
			continue
		}
		if m.Subject == queue.DefaultDeadSubject+"."+queue.Token(id) {
			out = append(out, m)
		}
	}
	return out
}

// counter reads a counter or gauge of a worker's registry.
func counter(t *testing.T, w *queue.Worker, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := w.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matchLabels(m, labels) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue()
				case m.Gauge != nil:
					return m.Gauge.GetValue()
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount())
				}
			}
		}
	}
	return 0
}

func matchLabels(m *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		ok := false
		for _, l := range m.GetLabel() {
			if l.GetName() == kv[i] && l.GetValue() == kv[i+1] {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// countingRender wraps the real renderer, counting calls.
func countingRender(n *atomic.Int64) queue.RenderFunc {
	return func(data []byte) (*job.Job, *renderer.Result, error) {
		n.Add(1)
		return renderer.RenderJSON(data)
	}
}

// fakeRender decodes and validates with the real job package and makes a
// tiny deterministic "PDF"; hook, if set, runs first with the job id.
func fakeRender(hook func(id string)) queue.RenderFunc {
	return func(data []byte) (*job.Job, *renderer.Result, error) {
		j, err := job.Decode(data)
		if err != nil {
			return nil, nil, err
		}
		if hook != nil {
			hook(j.ID)
		}
		pdf := []byte("%PDF-1.7\n% " + j.ID + "\n%%EOF\n")
		sum := sha256.Sum256(pdf)
		return j, &renderer.Result{PDF: pdf, Pages: 1, SHA256: hex.EncodeToString(sum[:])}, nil
	}
}

// memStore is an in-memory ObjectStore.
type memStore struct {
	mu      sync.Mutex
	objects map[string]queue.Object
	failN   atomic.Int64 // fail this many puts with a transient error
}

func newMemStore() *memStore { return &memStore{objects: map[string]queue.Object{}} }

func (m *memStore) Bucket() string { return "mem" }

func (m *memStore) PutIfAbsent(_ context.Context, o queue.Object) error {
	if m.failN.Add(-1) >= 0 {
		return errors.New("put object: 503 SlowDown")
	}
	// Like an S3 server, check the body against the hash sent with it.
	if sum := sha256.Sum256(o.Body); o.SHA256 != "" && o.SHA256 != hex.EncodeToString(sum[:]) {
		return fmt.Errorf("put object %s: 400 XAmzContentSHA256Mismatch: sha256 %s sent, body's %x", o.Key, o.SHA256, sum)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[o.Key]; ok {
		return queue.ErrObjectExists
	}
	m.objects[o.Key] = o
	return nil
}

func (m *memStore) Head(_ context.Context, key string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return nil, queue.ErrObjectNotFound
	}
	return o.Metadata, nil
}

func (m *memStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.objects)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hasField(r client.Result, field string) bool {
	if r.Error == nil {
		return false
	}
	if r.Error.Field == field {
		return true
	}
	for _, f := range r.Error.Fields {
		if strings.HasPrefix(f.Field, field) {
			return true
		}
	}
	return false
}
