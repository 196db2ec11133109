package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// outage tracks whether a service the worker depends on answers: the
// object store (w.st) or the services of its signer (w.sg, see
// signeroutage.go). While one does not, the worker pulls no new jobs,
// holds the jobs waiting for it (their PDFs in memory, heartbeats going,
// their delivery attempts not spent) and probes it with capped
// exponential backoff; when a probe succeeds, the held jobs go on and
// pulling resumes.
type outage struct {
	// Set by the worker when it creates the tracker.
	w        *Worker
	describe func(err error) (service, fix string) // for /readyz and logs
	attrs    func(err error) []any                 // log attributes naming the service
	// probe checks the service: ok false when it cannot be probed (it is
	// then taken to be back after each delay: the held jobs are the
	// probe); err nil or not stillDown(err) means it answers.
	probe              func(ctx context.Context) (err error, ok bool)
	stillDown          func(err error) bool
	probeTimeout       time.Duration
	downMsg, backMsg   string // logged once when an outage begins and ends
	heldMsg, probeName string
	upGauge            prometheus.Gauge
	outages            prometheus.Counter

	mu    sync.Mutex
	down  bool
	since time.Time
	err   error         // the last outage error
	up    chan struct{} // closed while the service is up; a new one per outage
	held  int           // jobs waiting for the service

	// The end of the last outage and the probe delay it had reached: an
	// outage that starts again soon after (the bucket answers HEAD but
	// writes still fail) goes on from that delay instead of probing
	// every ProbeBase.
	lastEnd   time.Time
	lastDelay time.Duration
}

// newOutage returns o, its service up.
func newOutage(o *outage) *outage {
	o.up = make(chan struct{})
	close(o.up)
	return o
}

// storageOutage is the tracker of the worker's object store.
func (w *Worker) storageOutage() *outage {
	return newOutage(&outage{
		w:        w,
		describe: func(err error) (string, string) { return "object store", outageFix(err) },
		attrs:    func(error) []any { return []any{"bucket", w.store.Bucket()} },
		probe: func(ctx context.Context) (error, bool) {
			bc, ok := w.store.(BucketChecker)
			if !ok {
				return nil, false
			}
			return bc.CheckBucket(ctx), true
		},
		stillDown:    func(err error) bool { return errors.Is(err, ErrStoreUnavailable) },
		probeTimeout: max(w.cfg.ProbeMax, 5*time.Second),
		downMsg:      "storage outage: no new jobs pulled, jobs in flight held until the store answers; their attempts are not spent",
		backMsg:      "storage back: resuming",
		heldMsg:      "job held during storage outage",
		probeName:    "probe storage",
		upGauge:      w.m.storageUp,
		outages:      w.m.storageOutages,
	})
}

// readyErr returns the outage in progress as an error for /readyz, or nil
// while the service answers.
func (o *outage) readyErr() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.down {
		return nil
	}
	service, fix := o.describe(o.err)
	return fmt.Errorf("%s unavailable for %v (%d jobs held, no new jobs pulled; fix: %s): %w",
		service, time.Since(o.since).Round(time.Second), o.held, fix, o.err)
}

// report records an outage of the service. The first report of an
// outage logs it once, with what to fix, and starts the probe, which
// runs until the service answers or ctx is done.
func (o *outage) report(ctx context.Context, err error) {
	o.mu.Lock()
	o.err = err
	if o.down {
		o.mu.Unlock()
		return
	}
	o.down, o.since, o.up = true, time.Now(), make(chan struct{})
	o.mu.Unlock()
	o.upGauge.Set(0)
	o.outages.Inc()
	_, fix := o.describe(err)
	o.w.log.Error(o.downMsg, append(o.attrs(err), "err", err.Error(), "fix", fix)...)
	go o.probeUntilUp(ctx)
}

// back ends the outage: held jobs go on and pulling resumes.
func (o *outage) back(probes int) {
	o.mu.Lock()
	if !o.down {
		o.mu.Unlock()
		return
	}
	d, held, attrs := time.Since(o.since), o.held, o.attrs(o.err)
	o.down, o.lastEnd = false, time.Now()
	close(o.up)
	o.mu.Unlock()
	o.upGauge.Set(1)
	o.w.log.Info(o.backMsg, append(attrs, "outage", d.Round(time.Millisecond).String(), "probes", probes, "jobs_held", held)...)
}

// firstProbeDelay is the delay before the first probe of an outage:
// ProbeBase, or where the last outage left off when it ended less than
// 2×ProbeMax ago.
func (o *outage) firstProbeDelay() time.Duration {
	cfg := &o.w.cfg
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.lastEnd.IsZero() && time.Since(o.lastEnd) < 2*cfg.ProbeMax {
		return min(max(cfg.ProbeBase, 2*o.lastDelay), cfg.ProbeMax)
	}
	return cfg.ProbeBase
}

// probeUntilUp probes the service after the first delay, then twice as
// long each time up to ProbeMax, until it answers.
func (o *outage) probeUntilUp(ctx context.Context) {
	delay := o.firstProbeDelay()
	for n := 1; ; n++ {
		o.mu.Lock()
		o.lastDelay = delay
		o.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, o.probeTimeout)
		err, ok := o.probe(pctx)
		cancel()
		if !ok || err == nil || !o.stillDown(err) {
			if err != nil {
				o.w.log.Warn(o.probeName+": unexpected answer, taken as up", "err", err.Error())
			}
			o.back(n)
			return
		}
		o.mu.Lock()
		o.err = err
		o.mu.Unlock()
		next := min(2*delay, o.w.cfg.ProbeMax)
		o.w.log.Debug(o.probeName+": still unavailable", "err", err.Error(), "next_in", next.String())
		delay = next
	}
}

// wait waits until the service is up. It returns false when stop or ctx
// ends first.
func (o *outage) wait(ctx context.Context, stop <-chan struct{}) bool {
	o.mu.Lock()
	up := o.up
	o.mu.Unlock()
	select {
	case <-up:
		return true
	default:
	}
	select {
	case <-up:
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// hold reports the outage err and holds job r until the service answers
// again. It returns false when the worker shuts down first.
func (o *outage) hold(ctx context.Context, r *run, err error) bool {
	o.report(ctx, err)
	o.mu.Lock()
	o.held++
	o.mu.Unlock()
	o.w.m.held.Inc()
	defer func() {
		o.mu.Lock()
		o.held--
		o.mu.Unlock()
		o.w.m.held.Dec()
	}()
	r.log.Debug(o.heldMsg, "err", err.Error())
	return o.wait(ctx, o.w.stopping)
}

// checkBucketAtStart checks the store's bucket before any job is pulled
// and creates it when Config.CreateBucket says so. A bucket that cannot
// be reached starts the worker in a storage outage: it pulls nothing
// until the bucket answers.
func (w *Worker) checkBucketAtStart(ctx context.Context) {
	bc, ok := w.store.(BucketChecker)
	if !ok {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := bc.CheckBucket(cctx)
	if err != nil && w.cfg.CreateBucket {
		if bcr, ok := w.store.(BucketCreator); ok {
			if cerr := bcr.CreateBucket(cctx); cerr == nil {
				w.log.Info("created bucket", "bucket", w.store.Bucket())
				err = bc.CheckBucket(cctx)
			} else {
				w.log.Warn("create bucket", "bucket", w.store.Bucket(), "err", cerr.Error())
			}
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrStoreUnavailable):
		w.st.report(ctx, err)
	default:
		w.log.Warn("check bucket at start", "bucket", w.store.Bucket(), "err", err.Error())
	}
}

// BucketCreator is an ObjectStore that can create its bucket; an
// existing bucket of the same owner is not an error. Config.CreateBucket
// uses it.
type BucketCreator interface {
	CreateBucket(ctx context.Context) error
}

// outageFix is what the operator should do about the outage err.
func outageFix(err error) string {
	var ue *UnavailableError
	if errors.As(err, &ue) && ue.Fix != "" {
		return ue.Fix
	}
	return "check the object store"
}
