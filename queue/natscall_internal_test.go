package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestNATSCallFailsAtOnceOnLostConnection: a JetStream call waiting for
// its reply when the connection drops ends at once (cause errNATSLost),
// not at its NATSTimeout; a call made while the connection is down ends
// before it starts; a call made after the reconnect works again.
func TestNATSCallFailsAtOnceOnLostConnection(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t)
	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	// A responder that never answers: the request waits for its reply.
	if _, err := nc.Subscribe("never.answers", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	w := &Worker{nc: nc, conn: newConnWatch(nc), m: newMetrics(), cfg: Config{NATSTimeout: time.Minute}.withDefaults()}
	stop := w.conn.start()
	defer stop()

	errc := make(chan error, 1)
	go func() {
		ctx, cancel := w.natsCtx(context.Background())
		defer cancel()
		_, err := nc.RequestWithContext(ctx, "never.answers", nil)
		if err != nil {
			err = errors.Join(err, context.Cause(ctx))
		}
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond) // the request is in flight
	cut := time.Now()
	srv.Shutdown()
	select {
	case err := <-errc:
		if !errors.Is(err, errNATSLost) {
			t.Errorf("call ended with %v, want the lost connection", err)
		}
		if d := time.Since(cut); d > 5*time.Second {
			t.Errorf("call ended %v after the disconnect", d)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("call still waiting 30s after the disconnect (its NATSTimeout is 1m)")
	}

	ctx, cancel := w.natsCtx(context.Background())
	select {
	case <-ctx.Done():
		if !errors.Is(context.Cause(ctx), errNATSLost) {
			t.Errorf("cause %v, want the lost connection", context.Cause(ctx))
		}
	default:
		t.Error("a call context made while disconnected is not done")
	}
	cancel()
}
