package queuetest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// S3Mode is how a FaultProxy treats requests.
type S3Mode int32

// Modes of a FaultProxy.
const (
	// S3Up forwards every request to the S3 server.
	S3Up S3Mode = iota
	// S3Unavailable answers every request 503 with an S3 XML error,
	// alternately SlowDown and ServiceUnavailable, as S3 does when
	// overloaded.
	S3Unavailable
	// S3Reset resets every connection (TCP RST): new ones as soon as they
	// are accepted, kept-alive ones at their next request.
	S3Reset
	// S3Hang accepts connections and requests and never answers: only the
	// client's own timeout ends a request.
	S3Hang
)

func (m S3Mode) String() string {
	switch m {
	case S3Up:
		return "up"
	case S3Unavailable:
		return "503"
	case S3Reset:
		return "reset"
	case S3Hang:
		return "hang"
	}
	return fmt.Sprintf("S3Mode(%d)", int32(m))
}

// Exchange is one request a FaultProxy forwarded and the status the S3
// server answered.
type Exchange struct {
	Method, Path string
	Status       int
}

// FaultProxy is an HTTP proxy in front of an S3 server that can make the
// server unavailable in the ways real ones are (see S3Mode), hold
// requests, and records what the server answered.
type FaultProxy struct {
	srv     *httptest.Server
	mode    atomic.Int32
	faulted atomic.Int64
	n503    atomic.Int64

	mu        sync.Mutex
	exchanges []Exchange
	hung      []net.Conn
	stop      chan struct{}
	holder
}

// StartFaultProxy starts a FaultProxy to target (an http URL) in mode
// S3Up. It is closed at the end of the test.
func StartFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{holder: newHolder(), stop: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		p.mu.Lock()
		p.exchanges = append(p.exchanges, Exchange{resp.Request.Method, resp.Request.URL.Path, resp.StatusCode})
		p.mu.Unlock()
		return nil
	}
	rp.ErrorLog = nil
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.fault(w, r) {
			return
		}
		held, gone := p.wait(r)
		if gone {
			return // the client gave up: forward nothing
		}
		if held && p.fault(w, r) { // after a hold, a request meets the mode of that moment
			return
		}
		rp.ServeHTTP(w, r)
	})
	p.srv = httptest.NewUnstartedServer(h)
	p.srv.Listener = &faultListener{Listener: p.srv.Listener, p: p}
	p.srv.Start()
	t.Cleanup(p.Close)
	return p
}

// fault answers r as the mode says and reports whether it did.
func (p *FaultProxy) fault(w http.ResponseWriter, r *http.Request) bool {
	switch S3Mode(p.mode.Load()) {
	case S3Unavailable:
		p.faulted.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		code, msg := "SlowDown", "Please reduce your request rate."
		if p.n503.Add(1)%2 == 0 {
			code, msg = "ServiceUnavailable", "The service is unavailable. Please retry."
		}
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource><RequestId>carta-fault</RequestId></Error>`,
			code, msg, r.URL.Path)
		return true
	case S3Reset:
		p.faulted.Add(1)
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				reset(c)
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case S3Hang:
		p.faulted.Add(1)
		select {
		case <-r.Context().Done():
		case <-p.stop:
		}
		return true
	}
	return false
}

// faultListener resets or keeps silent the connections accepted in the
// reset and hang modes, before any HTTP is read.
type faultListener struct {
	net.Listener
	p *FaultProxy
}

func (l *faultListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		switch S3Mode(l.p.mode.Load()) {
		case S3Reset:
			l.p.faulted.Add(1)
			reset(c)
		case S3Hang:
			l.p.faulted.Add(1)
			l.p.mu.Lock()
			l.p.hung = append(l.p.hung, c)
			l.p.mu.Unlock()
		default:
			return c, nil
		}
	}
}

// URL is the proxy's URL.
func (p *FaultProxy) URL() string { return p.srv.URL }

// SetMode switches the proxy to m.
func (p *FaultProxy) SetMode(m S3Mode) { p.mode.Store(int32(m)) }

// Faulted counts the connections and requests refused, reset or left
// hanging so far.
func (p *FaultProxy) Faulted() int64 { return p.faulted.Load() }

// Exchanges returns the requests forwarded so far with the server's
// status codes, in the order the answers came.
func (p *FaultProxy) Exchanges() []Exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Exchange(nil), p.exchanges...)
}

// Close ends hung requests and connections and stops the proxy.
func (p *FaultProxy) Close() {
	p.mu.Lock()
	select {
	case <-p.stop:
		p.mu.Unlock()
		return
	default:
	}
	close(p.stop)
	hung := p.hung
	p.hung = nil
	p.mu.Unlock()
	p.Release()
	for _, c := range hung {
		_ = c.Close()
	}
	p.srv.Close()
}
