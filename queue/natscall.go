package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// errNATSLost is the cause of a JetStream call cut short because the
// connection to NATS was lost while it waited for its reply.
var errNATSLost = errors.New("nats connection lost")

// connWatch follows the connection's status, so that a call waiting for
// a reply fails as soon as the connection is lost instead of waiting
// for its deadline: nats.go keeps a request made while it reconnects
// and the reply of a request in flight at a disconnect never comes.
type connWatch struct {
	nc   *nats.Conn
	mu   sync.Mutex
	lost chan struct{} // closed while the connection is down; a new one on each reconnect
}

func newConnWatch(nc *nats.Conn) *connWatch {
	return &connWatch{nc: nc, lost: make(chan struct{})}
}

// start follows the status changes until the returned func is called.
func (c *connWatch) start() (stop func()) {
	ch := c.nc.StatusChanged(nats.CONNECTED, nats.DISCONNECTED, nats.RECONNECTING, nats.CLOSED)
	c.sync()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range ch {
			c.sync()
		}
	}()
	return func() { c.nc.RemoveStatusListener(ch); <-done }
}

// sync sets lost from the connection's status now.
func (c *connWatch) sync() {
	c.mu.Lock()
	defer c.mu.Unlock()
	closed := false
	select {
	case <-c.lost:
		closed = true
	default:
	}
	switch up := c.nc.IsConnected(); {
	case up && closed:
		c.lost = make(chan struct{})
	case !up && !closed:
		close(c.lost)
	}
}

func (c *connWatch) lostCh() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lost
}

// natsCtx is the context of one JetStream call: parent, bounded by
// Config.NATSTimeout, and cancelled (cause errNATSLost) as soon as the
// connection is lost, or at once when it is down already.
func (w *Worker) natsCtx(parent context.Context) (context.Context, context.CancelFunc) {
	cctx, ccancel := context.WithCancelCause(parent)
	ctx, tcancel := context.WithTimeoutCause(cctx, w.cfg.NATSTimeout,
		fmt.Errorf("no reply from nats within %v", w.cfg.NATSTimeout))
	lost := w.conn.lostCh()
	select {
	case <-lost:
		ccancel(errNATSLost)
	default:
		if !w.nc.IsConnected() {
			ccancel(errNATSLost)
			break
		}
		go func() {
			select {
			case <-lost:
				ccancel(errNATSLost)
			case <-ctx.Done():
			}
		}()
	}
	return ctx, func() { tcancel(); ccancel(nil) }
}

// natsCall runs call, one JetStream request, with natsCtx. When it
// fails because the connection was lost, the reply did not come in
// time, or JetStream had no responder (a server restarting, a stream
// leader being elected), it waits for the connection and tries again,
// up to 5 times in all, as long as parent allows; other errors (the
// server's answers) are returned at once. what names the call in the
// error.
func (w *Worker) natsCall(parent context.Context, what string, call func(ctx context.Context) error) error {
	delay := 250 * time.Millisecond
	var err error
	for try := 1; ; try++ {
		ctx, cancel := w.natsCtx(parent)
		err = call(ctx)
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", err, context.Cause(ctx))
		}
		cancel()
		if err == nil || !retryableNATS(err) || parent.Err() != nil || try == 5 {
			break
		}
		w.m.natsRetries.Inc()
		if !w.waitConnected(parent, delay) {
			break
		}
		delay = min(2*delay, 2*time.Second)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// waitConnected waits at least d and until NATS is connected, at most
// Config.NATSTimeout; it returns false when ctx ends first.
func (w *Worker) waitConnected(ctx context.Context, d time.Duration) bool {
	sleep(ctx, d)
	deadline := time.Now().Add(w.cfg.NATSTimeout)
	for ctx.Err() == nil && !w.nc.IsConnected() && time.Now().Before(deadline) {
		sleep(ctx, 50*time.Millisecond)
	}
	return ctx.Err() == nil
}

// retryableNATS reports whether a JetStream call may work when tried
// again: it got no answer, rather than the server's refusal.
func retryableNATS(err error) bool {
	return errors.Is(err, errNATSLost) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrConnectionDraining)
}
