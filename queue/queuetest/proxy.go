package queuetest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy is an HTTP or HTTPS reverse proxy in front of an S3 server. It
// can hold requests (to make a worker slow at a known point, honestly:
// the network is slow, not the worker) and answer 501 to conditional
// writes (to test the fallback for servers without If-None-Match).
type Proxy struct {
	srv *httptest.Server
	// NoIfNoneMatch makes the proxy answer 501 NotImplemented to any
	// request with an If-None-Match header, as servers without
	// conditional writes do.
	NoIfNoneMatch atomic.Bool
	// IfNoneMatchSeen counts requests that carried If-None-Match.
	IfNoneMatchSeen atomic.Int64

	mu      sync.Mutex
	hold    func(*http.Request) bool
	release chan struct{}
	held    chan *http.Request
}

// StartProxy starts a proxy to target (an http URL); with useTLS it
// serves HTTPS with a test certificate (see Client). It is closed at the
// end of the test.
func StartProxy(t testing.TB, target string, useTLS bool) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{held: make(chan *http.Request, 100)}
	rp := httputil.NewSingleHostReverseProxy(u)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			p.IfNoneMatchSeen.Add(1)
			if p.NoIfNoneMatch.Load() {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusNotImplemented)
				_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented.</Message></Error>`))
				return
			}
		}
		p.mu.Lock()
		hold, release := p.hold, p.release
		p.mu.Unlock()
		if hold != nil && hold(r) {
			select {
			case p.held <- r:
			default:
			}
			select {
			case <-release:
			case <-r.Context().Done():
				// The client went away (it was killed): forward nothing.
				return
			}
		}
		rp.ServeHTTP(w, r)
	})
	if useTLS {
		p.srv = httptest.NewTLSServer(h)
	} else {
		p.srv = httptest.NewServer(h)
	}
	t.Cleanup(func() { p.Release(); p.srv.Close() })
	return p
}

// URL is the proxy's URL.
func (p *Proxy) URL() string { return p.srv.URL }

// Client is an HTTP client that trusts the proxy's TLS certificate.
func (p *Proxy) Client() *http.Client { return p.srv.Client() }

// Server is the underlying test server.
func (p *Proxy) Server() *httptest.Server { return p.srv }

// Hold makes requests for which match is true wait until Release (or
// until their client goes away). Held requests are sent on Held.
func (p *Proxy) Hold(match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold, p.release = match, make(chan struct{})
}

// Held receives each request as it starts being held.
func (p *Proxy) Held() <-chan *http.Request { return p.held }

// Release lets held requests through and stops holding.
func (p *Proxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.release != nil {
		close(p.release)
	}
	p.hold, p.release = nil, nil
}

// IsPut matches object uploads.
func IsPut(r *http.Request) bool { return r.Method == http.MethodPut }
