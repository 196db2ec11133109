package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SignerOutage is implemented by the errors of a Signer that mark an
// outage of a service the signer depends on (a timestamp authority, an
// OCSP responder, a CRL distribution point: unreachable, timing out,
// answering 5xx or 429), not a fault of the job or of the signer's
// configuration. *sign.UnavailableError (package renderer/sign)
// implements it. Outage names the service and tells the operator what to
// fix.
//
// A worker whose Signer returns an error wrapping a SignerOutage (found
// with errors.As) handles it as a storage outage: it stops pulling jobs,
// holds the job (its rendered PDFs in memory, heartbeats going, its
// delivery attempts not spent), probes the signer (SignerProber) with
// capped exponential backoff and signs the held jobs again once the
// service answers. Nothing unsigned is stored meanwhile.
type SignerOutage interface {
	error
	Outage() (service, fix string)
}

// SignerProber is a Signer that can check, cheaply, that the services it
// depends on answer; *sign.Signer implements it. Probe returns nil, or an
// error wrapping a SignerOutage while a service is down. A Signer that
// is not a SignerProber is taken to be back after each probe delay: the
// held jobs' own signing is then the probe.
type SignerProber interface {
	Probe(ctx context.Context) error
}

// signerOutage returns the SignerOutage err wraps, or nil.
func signerOutage(err error) SignerOutage {
	var so SignerOutage
	if errors.As(err, &so) {
		return so
	}
	return nil
}

// signerFix is what the operator should do about the signer outage err.
func signerFix(err error) string {
	if so := signerOutage(err); so != nil {
		if _, fix := so.Outage(); fix != "" {
			return fix
		}
	}
	return "check the services the signer depends on"
}

// signerService names the service of the signer outage err.
func signerService(err error) string {
	if so := signerOutage(err); so != nil {
		if s, _ := so.Outage(); s != "" {
			return s
		}
	}
	return "signing service"
}

// signerErr returns the signer outage in progress as an error for
// /readyz, or nil while the signer's services answer.
func (w *Worker) signerErr() error {
	w.sg.mu.Lock()
	defer w.sg.mu.Unlock()
	if !w.sg.down {
		return nil
	}
	return fmt.Errorf("%s unavailable for %v (%d jobs held, no new jobs pulled; fix: %s): %w",
		signerService(w.sg.err), time.Since(w.sg.since).Round(time.Second), w.sg.held, signerFix(w.sg.err), w.sg.err)
}

// signerDown records an outage of the signer's services (err wraps a
// SignerOutage). The first report of an outage logs it once, with what to
// fix, and starts the probe, which runs until the services answer or ctx
// is done.
func (w *Worker) signerDown(ctx context.Context, err error) {
	w.sg.mu.Lock()
	w.sg.err = err
	if w.sg.down {
		w.sg.mu.Unlock()
		return
	}
	w.sg.down, w.sg.since, w.sg.up = true, time.Now(), make(chan struct{})
	w.sg.mu.Unlock()
	w.m.signerUp.Set(0)
	w.m.signerOutages.Inc()
	w.log.Error("signing service outage: no new jobs pulled, jobs in flight held until it answers; their attempts are not spent, nothing unsigned is stored",
		"service", signerService(err), "err", err.Error(), "fix", signerFix(err))
	go w.probeSigner(ctx)
}

// signerBack ends the outage: held jobs are signed again and pulling
// resumes.
func (w *Worker) signerBack(probes int) {
	w.sg.mu.Lock()
	if !w.sg.down {
		w.sg.mu.Unlock()
		return
	}
	d, held, service := time.Since(w.sg.since), w.sg.held, signerService(w.sg.err)
	w.sg.down, w.sg.lastEnd = false, time.Now()
	close(w.sg.up)
	w.sg.mu.Unlock()
	w.m.signerUp.Set(1)
	w.log.Info("signing service back: resuming", "service", service, "outage", d.Round(time.Millisecond).String(),
		"probes", probes, "jobs_held", held)
}

// probeSigner probes the signer after ProbeBase (or where the last
// outage left off, when it ended less than 2×ProbeMax ago), then twice
// as long each time up to ProbeMax, until its services answer.
func (w *Worker) probeSigner(ctx context.Context) {
	w.sg.mu.Lock()
	delay := w.cfg.ProbeBase
	if !w.sg.lastEnd.IsZero() && time.Since(w.sg.lastEnd) < 2*w.cfg.ProbeMax {
		delay = min(max(w.cfg.ProbeBase, 2*w.sg.lastDelay), w.cfg.ProbeMax)
	}
	w.sg.mu.Unlock()
	for n := 1; ; n++ {
		w.sg.mu.Lock()
		w.sg.lastDelay = delay
		w.sg.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		p, ok := w.cfg.Signer.(SignerProber)
		if !ok {
			w.signerBack(n)
			return
		}
		pctx, cancel := context.WithTimeout(ctx, max(w.cfg.ProbeMax, 30*time.Second))
		err := p.Probe(pctx)
		cancel()
		if err == nil || signerOutage(err) == nil {
			if err != nil {
				w.log.Warn("probe signer: answered, but with an error; taken as up", "err", err.Error())
			}
			w.signerBack(n)
			return
		}
		w.sg.mu.Lock()
		w.sg.err = err
		w.sg.mu.Unlock()
		w.log.Debug("probe signer: still unavailable", "err", err.Error(), "next_in", min(2*delay, w.cfg.ProbeMax).String())
		delay = min(2*delay, w.cfg.ProbeMax)
	}
}

// waitSigner waits until the signer's services are up. It returns false
// when stop or ctx ends first.
func (w *Worker) waitSigner(ctx context.Context, stop <-chan struct{}) bool {
	w.sg.mu.Lock()
	up := w.sg.up
	w.sg.mu.Unlock()
	select {
	case <-up:
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// holdForSigner reports the signer outage err and holds job r until the
// signer's services answer again. It returns false when the worker shuts
// down first.
func (w *Worker) holdForSigner(ctx context.Context, r *run, err error) bool {
	w.signerDown(ctx, err)
	w.sg.mu.Lock()
	w.sg.held++
	w.sg.mu.Unlock()
	w.m.held.Inc()
	defer func() {
		w.sg.mu.Lock()
		w.sg.held--
		w.sg.mu.Unlock()
		w.m.held.Dec()
	}()
	r.log.Debug("job held during signing service outage", "err", err.Error())
	return w.waitSigner(ctx, w.stopping)
}
