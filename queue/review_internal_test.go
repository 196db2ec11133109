package queue

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue/client"
)

func TestCheckKeyDotSegments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"id with two dots inside", "letters/a..b.pdf", true},
		{"id with two dots before the last part", "letters/v1.2..final.pdf", true},
		{"id ending with a dot", "letters/x..pdf", true},
		{"dot-dot segment", "letters/../x.pdf", false},
		{"dot segment", "letters/./x.pdf", false},
		{"leading dot-dot segment", "../x.pdf", false},
		{"trailing dot-dot segment", "letters/..", false},
		{"whole key dot-dot", "..", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := checkKey(tt.key); (got == "") != tt.ok {
				t.Errorf("checkKey(%q) = %q, want ok %v", tt.key, got, tt.ok)
			}
		})
	}
}

func TestRedactURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"user and password", "nats://carta:hunter2@nats.example:4222", "nats://REDACTED@nats.example:4222"},
		{"token", "nats://hunter2@nats.example:4222", "nats://REDACTED@nats.example:4222"},
		{"no user info", "nats://nats.example:4222", "nats://nats.example:4222"},
		{"list", "nats://a:hunter2@n1:4222, nats://n2:4222", "nats://REDACTED@n1:4222,nats://n2:4222"},
		{"unparseable port", "nats://carta:hunter2@nats.example:port", "nats://REDACTED@nats.example:port"},
		{"unparseable percent", "nats://carta:hun%zzter2@nats.example", "nats://REDACTED@nats.example"},
		{"no scheme", "carta:hunter2@nats.example:4222", "REDACTED@nats.example:4222"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := redactURLs(tt.in); got != tt.want {
				t.Errorf("redactURLs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestConnectErrorHidesPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
	}{
		{"bad port", "nats://carta:hunter2@127.0.0.1:notaport"},
		{"bad escape in password", "nats://carta:hunter2%zz@127.0.0.1:4222"},
		{"bad second url of a list", "nats://127.0.0.1:1,nats://carta:hunter2@127.0.0.1:notaport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			nc, err := Connect(NATSOptions{URL: tt.url, Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				nc.Close()
				t.Fatalf("Connect(%q) worked, want an error", tt.url)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "connect nats ") {
				t.Errorf("error = %q, want it to start with \"connect nats \"", err)
			}
			if errors.Unwrap(err) == nil {
				t.Errorf("error %v wraps nothing", err)
			}
		})
	}
}

// raceKV is a results bucket where another delivery records a done
// result right after this one's first read.
type raceKV struct {
	jetstream.KeyValue
	done  []byte
	fired bool
}

func (k *raceKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	e, err := k.KeyValue.Get(ctx, key)
	if !k.fired {
		k.fired = true
		if _, perr := k.KeyValue.Put(ctx, key, k.done); perr != nil {
			return nil, perr
		}
	}
	return e, err
}

// TestReportFailedNeverReplacesDone records a failed result while another
// delivery records "done" between the read and the write: the bucket
// keeps "done" and the done result is what is published.
func TestReportFailedNeverReplacesDone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before *client.Result // recorded before report runs, or nil
	}{
		{"no result yet", nil},
		{"an earlier failed result", &client.Result{ID: "race", Status: client.StatusFailed,
			Error: &client.ResultError{Code: client.CodeInternal, Message: "earlier"}}},
	}
	srv := startJetStream(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			nc := connect(t, srv)
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			bucket := "race_" + string(rune('a'+i))
			kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 1})
			if err != nil {
				t.Fatal(err)
			}
			if tt.before != nil {
				b, _ := json.Marshal(tt.before)
				if _, err := kv.Put(ctx, "race", b); err != nil {
					t.Fatal(err)
				}
			}
			done, _ := json.Marshal(client.Result{ID: "race", Status: client.StatusDone, Key: "letters/race.pdf"})
			subject := "res_" + bucket
			sub, err := nc.SubscribeSync(subject + ".race")
			if err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			w := &Worker{nc: nc, conn: newConnWatch(nc), m: newMetrics(), kv: &raceKV{KeyValue: kv, done: done},
				cfg: Config{ResultsSubject: subject}.withDefaults()}
			failed := &client.Result{ID: "race", Status: client.StatusFailed,
				Error: &client.ResultError{Code: client.CodeStorageFailed, Message: "late failure"}}
			if err := w.report(ctx, &run{id: "race"}, failed); err != nil {
				t.Fatalf("report: %v", err)
			}
			e, err := kv.Get(ctx, "race")
			if err != nil {
				t.Fatal(err)
			}
			if !isDone(e.Value()) {
				t.Errorf("bucket holds %s, want the done result", e.Value())
			}
			m, err := sub.NextMsg(10 * time.Second)
			if err != nil {
				t.Fatalf("no result published: %v", err)
			}
			if !isDone(m.Data) {
				t.Errorf("published %s, want the done result", m.Data)
			}
		})
	}
}

// TestReportFailedReplacesFailed: a failed result still replaces an
// earlier failed one (a resubmitted job).
func TestReportFailedReplacesFailed(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t)
	nc := connect(t, srv)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "refail", History: 1})
	if err != nil {
		t.Fatal(err)
	}
	w := &Worker{nc: nc, conn: newConnWatch(nc), m: newMetrics(), kv: kv, cfg: Config{}.withDefaults()}
	for _, msg := range []string{"first", "second"} {
		out := &client.Result{ID: "j", Status: client.StatusFailed, Error: &client.ResultError{Code: client.CodeInternal, Message: msg}}
		if err := w.report(ctx, &run{id: "j"}, out); err != nil {
			t.Fatalf("report %s: %v", msg, err)
		}
	}
	e, err := kv.Get(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	var got client.Result
	if err := json.Unmarshal(e.Value(), &got); err != nil || got.Error == nil || got.Error.Message != "second" {
		t.Errorf("bucket holds %s (%v), want the second failed result", e.Value(), err)
	}
}

// startJetStream starts an embedded JetStream nats-server for this
// package's internal tests (package queuetest imports queue, so they
// cannot use it).
func startJetStream(t *testing.T) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("start nats-server: not ready after 10s")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv
}

func connect(t *testing.T, srv *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatalf("connect nats: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}
