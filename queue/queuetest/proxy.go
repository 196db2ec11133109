package queuetest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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

	holder
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
	p := &Proxy{holder: newHolder()}
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
		if _, gone := p.wait(r); gone {
			return // the client went away (it was killed): forward nothing
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

// IsPut matches object uploads.
func IsPut(r *http.Request) bool { return r.Method == http.MethodPut }
