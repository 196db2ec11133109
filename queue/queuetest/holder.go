package queuetest

import (
	"net/http"
	"sync"
)

// holder is the request-holding part of Proxy and FaultProxy: Hold makes
// matching requests wait until Release, and each is sent on Held as it
// starts waiting.
type holder struct {
	mu      sync.Mutex
	hold    func(*http.Request) bool
	release chan struct{}
	held    chan *http.Request
}

func newHolder() holder { return holder{held: make(chan *http.Request, 100)} }

// Hold makes requests for which match is true wait until Release (or
// until their client goes away). Held requests are sent on Held.
func (h *holder) Hold(match func(*http.Request) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hold, h.release = match, make(chan struct{})
}

// Held receives each request as it starts being held.
func (h *holder) Held() <-chan *http.Request { return h.held }

// Release lets held requests through and stops holding.
func (h *holder) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.release != nil {
		close(h.release)
	}
	h.hold, h.release = nil, nil
}

// wait holds r if it matches, until Release. It reports whether r was
// held, and gone when the client went away meanwhile (it was killed):
// then nothing is to be forwarded.
func (h *holder) wait(r *http.Request) (held, gone bool) {
	h.mu.Lock()
	hold, release := h.hold, h.release
	h.mu.Unlock()
	if hold == nil || !hold(r) {
		return false, false
	}
	select {
	case h.held <- r:
	default:
	}
	select {
	case <-release:
		return true, false
	case <-r.Context().Done():
		return true, true
	}
}
