package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// storage tracks whether the object store answers. While it does not
// (a storage outage), the worker pulls no new jobs, holds the jobs it
// has (their PDFs in memory, heartbeats going) and probes the store with
// capped exponential backoff; when a probe succeeds, the held jobs store
// their PDFs and pulling resumes.
type storage struct {
	mu    sync.Mutex
	down  bool
	since time.Time
	err   error         // the last outage error
	up    chan struct{} // closed while the store is up; a new one per outage
	held  int           // jobs waiting for the store

	// The end of the last outage and the probe delay it had reached: an
	// outage that starts again soon after (the bucket answers HEAD but
	// writes still fail) goes on from that delay instead of probing
	// every ProbeBase.
	lastEnd   time.Time
	lastDelay time.Duration
}

func newStorage() *storage {
	s := &storage{up: make(chan struct{})}
	close(s.up)
	return s
}

// upCh returns a channel closed while the store is up.
func (w *Worker) storageUpCh() <-chan struct{} {
	w.st.mu.Lock()
	defer w.st.mu.Unlock()
	return w.st.up
}

// storageErr returns the outage in progress as an error for /readyz, or
// nil while the store answers.
func (w *Worker) storageErr() error {
	w.st.mu.Lock()
	defer w.st.mu.Unlock()
	if !w.st.down {
		return nil
	}
	return fmt.Errorf("object store unavailable for %v (%d jobs held, no new jobs pulled; fix: %s): %w",
		time.Since(w.st.since).Round(time.Second), w.st.held, outageFix(w.st.err), w.st.err)
}

// storageDown records an outage of the store (err wraps an
// *UnavailableError). The first report of an outage logs it once, with
// what to fix, and starts the probe, which runs until the store answers
// or ctx is done.
func (w *Worker) storageDown(ctx context.Context, err error) {
	w.st.mu.Lock()
	w.st.err = err
	if w.st.down {
		w.st.mu.Unlock()
		return
	}
	w.st.down, w.st.since, w.st.up = true, time.Now(), make(chan struct{})
	w.st.mu.Unlock()
	w.m.storageUp.Set(0)
	w.m.storageOutages.Inc()
	fix := outageFix(err)
	w.log.Error("storage outage: no new jobs pulled, jobs in flight held until the store answers; their attempts are not spent",
		"bucket", w.store.Bucket(), "err", err.Error(), "fix", fix)
	go w.probeStorage(ctx)
}

// storageBack ends the outage: held jobs store their PDFs and pulling
// resumes.
func (w *Worker) storageBack(probes int) {
	w.st.mu.Lock()
	if !w.st.down {
		w.st.mu.Unlock()
		return
	}
	d := time.Since(w.st.since)
	held := w.st.held
	w.st.down, w.st.lastEnd = false, time.Now()
	close(w.st.up)
	w.st.mu.Unlock()
	w.m.storageUp.Set(1)
	w.log.Info("storage back: resuming", "bucket", w.store.Bucket(), "outage", d.Round(time.Millisecond).String(),
		"probes", probes, "jobs_held", held)
}

// firstProbeDelay is the delay before the first probe of an outage:
// ProbeBase, or where the last outage left off when it ended less than
// 2×ProbeMax ago.
func (w *Worker) firstProbeDelay() time.Duration {
	w.st.mu.Lock()
	defer w.st.mu.Unlock()
	if !w.st.lastEnd.IsZero() && time.Since(w.st.lastEnd) < 2*w.cfg.ProbeMax {
		return min(max(w.cfg.ProbeBase, 2*w.st.lastDelay), w.cfg.ProbeMax)
	}
	return w.cfg.ProbeBase
}

// probeStorage probes the store after ProbeBase, then twice as long each
// time up to ProbeMax, until it answers. A store that cannot be probed
// (no BucketChecker) is taken to be back after each delay: the held jobs'
// own writes are then the probe.
func (w *Worker) probeStorage(ctx context.Context) {
	delay := w.firstProbeDelay()
	for n := 1; ; n++ {
		w.st.mu.Lock()
		w.st.lastDelay = delay
		w.st.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		bc, ok := w.store.(BucketChecker)
		if !ok {
			w.storageBack(n)
			return
		}
		pctx, cancel := context.WithTimeout(ctx, max(w.cfg.ProbeMax, 5*time.Second))
		err := bc.CheckBucket(pctx)
		cancel()
		if err == nil || !errors.Is(err, ErrStoreUnavailable) {
			if err != nil {
				w.log.Warn("probe storage: unexpected answer, taken as up", "err", err.Error())
			}
			w.storageBack(n)
			return
		}
		w.st.mu.Lock()
		w.st.err = err
		w.st.mu.Unlock()
		w.log.Debug("probe storage: still unavailable", "err", err.Error(), "next_in", min(2*delay, w.cfg.ProbeMax).String())
		delay = min(2*delay, w.cfg.ProbeMax)
	}
}

// waitStorage waits until the store is up. It returns false when stop or
// ctx ends first.
func (w *Worker) waitStorage(ctx context.Context, stop <-chan struct{}) bool {
	up := w.storageUpCh()
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

// holdForStorage reports the outage err and holds job r until the store
// answers again. It returns false when the worker shuts down first.
func (w *Worker) holdForStorage(ctx context.Context, r *run, err error) bool {
	w.storageDown(ctx, err)
	w.st.mu.Lock()
	w.st.held++
	w.st.mu.Unlock()
	w.m.held.Inc()
	defer func() {
		w.st.mu.Lock()
		w.st.held--
		w.st.mu.Unlock()
		w.m.held.Dec()
	}()
	r.log.Debug("job held during storage outage", "err", err.Error())
	return w.waitStorage(ctx, w.stopping)
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
		w.storageDown(ctx, err)
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
