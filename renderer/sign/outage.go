package sign

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
)

// UnavailableError marks a signing failure as an outage of a service the
// signer depends on rather than a fault of the letter or of the
// configuration: the timestamp authority, an OCSP responder or a CRL
// distribution point could not be reached, timed out, or answered HTTP
// 5xx, 408 or 429 (or OCSP "try later") on every attempt. A refused
// request (another 4xx, e.g. bad TSA credentials), a bad answer, a
// revoked or expired certificate are not outages: asking again gets the
// same answer.
//
// Its Outage method is what a worker (package queue) looks for, with
// errors.As, to hold the job without spending its delivery attempts
// until the service answers again (see Signer.Probe). Error returns the
// underlying error's text unchanged.
type UnavailableError struct {
	Service string // e.g. "timestamp authority http://tsa.example/"
	// Fix tells the operator what to check or change, naming the flag
	// and environment variable.
	Fix string
	Err error
}

func (e *UnavailableError) Error() string { return e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// Outage returns the service that is unavailable and what to fix.
func (e *UnavailableError) Outage() (service, fix string) { return e.Service, e.Fix }

// unavailableStatus reports whether an HTTP status is a service's outage
// rather than a refusal of the request.
func unavailableStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
}

// unavailable wraps err, from one request to the TSA, as an outage.
func (t *tsa) unavailable(err error) error {
	return &UnavailableError{Service: "timestamp authority " + t.url,
		Fix: fmt.Sprintf("check that the timestamp authority %s answers, or set %s to one that does", t.url, setting("sign-tsa-url")),
		Err: err}
}

// revocationUnavailable wraps err, from one request to an OCSP responder
// or CRL distribution point at url, as an outage.
func revocationUnavailable(kind, url string, err error) error {
	return &UnavailableError{Service: kind + " " + url,
		Fix: fmt.Sprintf("check that the %s %s named by the certificates answers, or start without %s", kind, url, setting("sign-ltv")),
		Err: err}
}

// Probe checks, cheaply, that the services the signer depends on answer:
// the timestamp authority (a timestamp request over a dummy digest) and,
// with LTV, the OCSP responders or CRL distribution points of the
// signer's chain. It returns nil when they do (or the signer needs none),
// and otherwise the error Sign would meet, wrapping an *UnavailableError
// when a service is down. A worker calls it to learn when an outage ends.
func (s *Signer) Probe(ctx context.Context) error {
	if s.tsa != nil {
		digest := sha256.Sum256([]byte("carta probe"))
		if _, err := s.tsa.stamp(ctx, digest[:]); err != nil {
			return fmt.Errorf("probe signer: %w", err)
		}
	}
	if s.ltv {
		if err := s.revocation(ctx, s.signerChain, &validation{}); err != nil {
			return fmt.Errorf("probe signer: %w", err)
		}
	}
	return nil
}
