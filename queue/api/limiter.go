package api

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Limits on failed authentication. Each failed sign-in or unrecognised
// bearer token adds one to the count of the client's address (an IPv6
// address counts by its /64), and the count drains by one every
// FailureDrain. Each failure is answered after FailureDelay times the
// count (at most MaxFailureDelay); while the count is at FailureLimit,
// every sign-in and bearer request from the address is answered 429
// with Retry-After, right or wrong, until it drains. Valid session
// cookies are not affected: they cannot be guessed.
const (
	FailureLimit    = 20
	FailureDrain    = 6 * time.Second
	FailureDelay    = 100 * time.Millisecond
	MaxFailureDelay = 2 * time.Second
	maxLimiterKeys  = 100_000
)

// limiter counts failed authentications per client address.
type limiter struct {
	mu   sync.Mutex
	byIP map[netip.Prefix]*bucket
	now  func() time.Time
}

type bucket struct {
	count float64
	at    time.Time
}

func newLimiter() *limiter {
	return &limiter{byIP: map[netip.Prefix]*bucket{}, now: time.Now}
}

// clientAddr is the client's IP address as text ("" if unknown). A
// proxy's forwarding headers are not trusted.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func clientPrefix(r *http.Request) netip.Prefix {
	a, err := netip.ParseAddr(clientAddr(r))
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// drained returns b's count at now.
func drained(b *bucket, now time.Time) float64 {
	c := b.count - float64(now.Sub(b.at))/float64(FailureDrain)
	return max(c, 0)
}

// allow reports whether r's address may try to authenticate now, and if
// not how long until it may.
func (l *limiter) allow(r *http.Request) (time.Duration, bool) {
	key := clientPrefix(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.byIP[key]
	if !ok {
		return 0, true
	}
	c := drained(b, l.now())
	if c <= FailureLimit-1 {
		return 0, true
	}
	return time.Duration((c - (FailureLimit - 1)) * float64(FailureDrain)), false
}

// fail counts a failure of r's address and returns the count and how
// long to delay the answer.
func (l *limiter) fail(r *http.Request) (int, time.Duration) {
	key := clientPrefix(r)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.byIP[key]
	if !ok {
		if len(l.byIP) >= maxLimiterKeys {
			for k, v := range l.byIP {
				if drained(v, now) == 0 {
					delete(l.byIP, k)
				}
			}
		}
		b = &bucket{}
		l.byIP[key] = b
	}
	b.count = min(drained(b, now)+1, FailureLimit)
	b.at = now
	n := int(b.count + 0.5)
	return n, min(time.Duration(n)*FailureDelay, MaxFailureDelay)
}
