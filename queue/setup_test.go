package queue_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
)

func TestResultsBucketConfigTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ttl  time.Duration
	}{
		{"default keeps results forever", 0},
		{"a month", 30 * 24 * time.Hour},
		{"the smallest allowed", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kc := queue.Config{ResultsTTL: tt.ttl}.ResultsBucketConfig()
			if kc.TTL != tt.ttl {
				t.Errorf("bucket TTL = %v, want %v", kc.TTL, tt.ttl)
			}
			if kc.Bucket != queue.DefaultResultsBucket || kc.History != 1 {
				t.Errorf("bucket %q history %d, want %q and 1", kc.Bucket, kc.History, queue.DefaultResultsBucket)
			}
		})
	}
}

// TestSetupAppliesResultsTTL runs Setup against nats-server as workers
// would over a deployment's life: the TTL the server reports for the
// bucket follows Config.ResultsTTL, whether the bucket is new or not.
func TestSetupAppliesResultsTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // Setup already ran once, without a TTL
	steps := []struct {
		name string
		ttl  time.Duration
	}{
		{"existing bucket without ttl gets one", 90 * 24 * time.Hour},
		{"ttl lowered", 7 * 24 * time.Hour},
		{"ttl removed keeps results forever", 0},
	}
	ctx := context.Background()
	for _, st := range steps { // in order: each step updates the last one's bucket
		cfg := testConfig(t)
		cfg.ResultsTTL = st.ttl
		res, err := queue.Setup(ctx, e.js, cfg)
		if err != nil {
			t.Fatalf("%s: setup: %v", st.name, err)
		}
		status, err := res.Results.Status(ctx)
		if err != nil {
			t.Fatalf("%s: bucket status: %v", st.name, err)
		}
		if status.TTL() != st.ttl {
			t.Errorf("%s: bucket TTL = %v, want %v", st.name, status.TTL(), st.ttl)
		}
		// What a fresh handle on the bucket (another process) sees.
		kv, err := e.js.KeyValue(ctx, queue.DefaultResultsBucket)
		if err != nil {
			t.Fatal(err)
		}
		if s2, err := kv.Status(ctx); err != nil || s2.TTL() != st.ttl {
			t.Errorf("%s: bucket as looked up: TTL %v (%v), want %v", st.name, ttlOf(s2), err, st.ttl)
		}
	}
}

func ttlOf(s jetstream.KeyValueStatus) time.Duration {
	if s == nil {
		return -1
	}
	return s.TTL()
}

func TestNewRefusesBadResultsTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nc := e.nats.Connect(t)
	tests := []struct {
		name    string
		ttl     time.Duration
		wantErr string
	}{
		{"negative", -time.Hour, "results ttl -1h0m0s: must be 0 (keep forever) or at least 1s"},
		{"below a second", 500 * time.Millisecond, "results ttl 500ms: must be 0"},
		{"zero", 0, ""},
		{"one second", time.Second, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.ResultsTTL = tt.ttl
			_, err := queue.New(nc, newMemStore(), cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("New: %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("New: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
