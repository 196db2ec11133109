package queue

import (
	"context"
	"errors"
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

// signerOutageTracker is the tracker of the services of the worker's
// signer (outage.go).
func (w *Worker) signerOutageTracker() *outage {
	return newOutage(&outage{
		w:        w,
		describe: func(err error) (string, string) { return signerService(err), signerFix(err) },
		attrs:    func(err error) []any { return []any{"service", signerService(err)} },
		probe: func(ctx context.Context) (error, bool) {
			p, ok := w.cfg.Signer.(SignerProber)
			if !ok {
				return nil, false
			}
			return p.Probe(ctx), true
		},
		stillDown:    func(err error) bool { return signerOutage(err) != nil },
		probeTimeout: max(w.cfg.ProbeMax, 30*time.Second),
		downMsg:      "signing service outage: no new jobs pulled, jobs in flight held until it answers; their attempts are not spent, nothing unsigned is stored",
		backMsg:      "signing service back: resuming",
		heldMsg:      "job held during signing service outage",
		probeName:    "probe signer",
		upGauge:      w.m.signerUp,
		outages:      w.m.signerOutages,
	})
}
