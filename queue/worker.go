package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// errShutdown is the cause of the jobs context once the shutdown
// timeout has run out.
var errShutdown = errors.New("worker shut down before the job finished")

// Worker takes jobs from the shared consumer, renders them, stores the
// PDFs and reports results. Create it with New and start it with Run.
type Worker struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	store ObjectStore
	cfg   Config
	log   *slog.Logger
	m     *metrics

	// kv is the results bucket, set by Run before any job is pulled.
	kv jetstream.KeyValue
	// jobsKV is the jobs bucket, set with kv; keepCtx bounds the keepJob
	// calls (jobsbucket.go), which keeping counts; keepFailing is set
	// while they fail.
	jobsKV      jetstream.KeyValue
	keepCtx     context.Context
	keeping     sync.WaitGroup
	keepFailing atomic.Bool

	st       *outage       // whether the object store answers (outage.go)
	sg       *outage       // whether the signer's services answer (signeroutage.go)
	conn     *connWatch    // whether NATS is connected (natscall.go)
	stopping chan struct{} // closed when Run's context is done
	started  chan struct{} // closed once Run has set up and pulls

	// renderSlots holds one token per render running: at most
	// Config.Concurrency. A render keeps its token until the renderer
	// really returns, even after its job timed out.
	renderSlots chan struct{}
	rmu         sync.Mutex
	renders     map[*activeRender]struct{} // renders holding a token
}

// activeRender is one render holding a render slot.
type activeRender struct {
	id    string // job id, "" when the body has none usable
	start time.Time
}

// New returns a worker that uses the NATS connection nc (which stays the
// caller's to drain and close) and stores PDFs in store.
func New(nc *nats.Conn, store ObjectStore, cfg Config) (*Worker, error) {
	if nc == nil || store == nil {
		return nil, errors.New("create worker: need a NATS connection and an object store")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("create worker: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("create worker: %w", err)
	}
	w := &Worker{nc: nc, js: js, store: store, cfg: cfg, log: cfg.Logger, m: newMetrics(),
		conn: newConnWatch(nc), stopping: make(chan struct{}), started: make(chan struct{}),
		renderSlots: make(chan struct{}, cfg.Concurrency), renders: map[*activeRender]struct{}{}}
	w.st, w.sg = w.storageOutage(), w.signerOutageTracker()
	return w, nil
}

// Config returns the worker's configuration, defaults filled in.
func (w *Worker) Config() Config { return w.cfg }

// Run sets up the streams, consumer and bucket (retrying while NATS is
// unreachable) and processes jobs until ctx is done: up to
// Config.MaxInFlight at once, of which at most Config.Concurrency render
// while the others wait for a render slot or store and report their
// PDFs. It then stops pulling, waits up to Config.ShutdownTimeout for
// the jobs in flight, naks the ones still running so another worker gets
// them at once, waits up to Config.NATSTimeout for the job JSON still
// being written to the jobs bucket, and returns nil. It returns an error only when it could
// not start.
func (w *Worker) Run(ctx context.Context) error {
	stopWatch := w.conn.start()
	defer stopWatch()
	res, err := w.setup(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	jobsCtx, abort := context.WithCancelCause(context.WithoutCancel(ctx))
	defer abort(nil)
	keepCtx, stopKeep := context.WithCancel(context.WithoutCancel(ctx))
	w.keepCtx = keepCtx
	go func() { <-ctx.Done(); close(w.stopping) }()
	w.checkBucketAtStart(ctx)
	close(w.started)
	w.log.Info("worker started", "stream", w.cfg.Stream, "consumer", w.cfg.Consumer,
		"concurrency", w.cfg.Concurrency, "max_in_flight", w.cfg.MaxInFlight, "bucket", w.store.Bucket())
	var wg sync.WaitGroup
	for range w.cfg.MaxInFlight {
		wg.Go(func() { w.slot(ctx, jobsCtx, res.Consumer) })
	}
	<-ctx.Done()
	w.log.Info("worker stopping: no new jobs, waiting for jobs in flight", "timeout", w.cfg.ShutdownTimeout.String())
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	timer := time.NewTimer(w.cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		w.log.Warn("shutdown timeout: returning unfinished jobs for redelivery")
		abort(errShutdown)
		<-done
	}
	w.waitKeeping(stopKeep)
	w.log.Info("worker stopped")
	return nil
}

// setup runs Setup until it works or ctx is done.
func (w *Worker) setup(ctx context.Context) (*Resources, error) {
	delay := 250 * time.Millisecond
	for {
		// Setup retries its calls itself; this limit only makes a
		// warning appear while JetStream stays unreachable.
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		res, err := Setup(sctx, w.js, w.cfg)
		cancel()
		if err == nil {
			w.kv, w.jobsKV = res.Results, res.JobsKV
			return res, nil
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode != jetstream.JSErrCodeJetStreamNotEnabled && apiErr.ErrorCode != 0 {
			// The server refused the configuration: waiting will not help.
			return nil, fmt.Errorf("start worker: %w", err)
		}
		w.log.Warn("set up jetstream: will retry", "err", err, "in", delay.String())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// slot is one in-flight slot: it pulls one message at a time, only when
// it is free to process it, until ctx is done.
func (w *Worker) slot(ctx, jobsCtx context.Context, cons jetstream.Consumer) {
	failures := 0
	for ctx.Err() == nil {
		// No new jobs during a storage outage (outage.go).
		if !w.st.wait(ctx, nil) {
			return
		}
		// Nor during a signing service outage (signeroutage.go).
		if !w.sg.wait(ctx, nil) {
			return
		}
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(w.cfg.PullWait))
		if err != nil {
			failures++
			w.log.Warn("pull job", "err", err)
			sleep(ctx, time.Duration(min(failures, 20))*250*time.Millisecond)
			continue
		}
		for msg := range batch.Messages() {
			if ctx.Err() != nil {
				// Arrived after shutdown began: hand it straight back.
				_ = msg.Nak()
				w.m.jobs.WithLabelValues(statusAbandoned).Inc()
				continue
			}
			w.handle(jobsCtx, msg)
		}
		if err := batch.Error(); err != nil {
			failures++
			w.log.Warn("pull job", "err", err)
			sleep(ctx, time.Duration(min(failures, 20))*250*time.Millisecond)
			continue
		}
		failures = 0
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// acquireRender waits for a free render slot. It returns false, holding
// none, when ctx is done first.
func (w *Worker) acquireRender(ctx context.Context) bool {
	select {
	case w.renderSlots <- struct{}{}:
		return true
	default:
	}
	select {
	case w.renderSlots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// startRender records that the render of job id holds the slot taken by
// acquireRender; endRender frees that slot.
func (w *Worker) startRender(id string) *activeRender {
	a := &activeRender{id: id, start: time.Now()}
	w.rmu.Lock()
	w.renders[a] = struct{}{}
	w.rmu.Unlock()
	return a
}

func (w *Worker) endRender(a *activeRender) {
	w.rmu.Lock()
	delete(w.renders, a)
	w.rmu.Unlock()
	<-w.renderSlots
}

// Healthy reports whether the worker can still make progress. It
// returns an error naming the job when a render has held its render
// slot for more than twice Config.JobTimeout: the job itself failed
// when its limit ran out, but the renderer never returned, so the slot
// is lost until the process restarts. /healthz answers 503 with that
// error, so that an orchestrator restarts a wedged worker.
func (w *Worker) Healthy() error {
	limit := 2 * w.cfg.JobTimeout
	now := time.Now()
	w.rmu.Lock()
	defer w.rmu.Unlock()
	var oldest *activeRender
	stuck := 0
	for a := range w.renders {
		if now.Sub(a.start) > limit {
			stuck++
			if oldest == nil || a.start.Before(oldest.start) {
				oldest = a
			}
		}
	}
	if oldest == nil {
		return nil
	}
	id := oldest.id
	if id == "" {
		id = "(no id)"
	}
	return fmt.Errorf("check health: %d of %d render slots stuck: the render of job %s has run for %v, more than twice its %v time limit",
		stuck, w.cfg.Concurrency, id, now.Sub(oldest.start).Round(time.Millisecond), w.cfg.JobTimeout)
}
