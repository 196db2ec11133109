package queuetest

import (
	"net"
	"sync"
	"testing"
)

// TCPProxy is an in-process TCP proxy between one client (a worker's NATS
// connection, say) and a server, that a test can cut off in two ways:
//
//   - Blackhole: nothing passes in either direction, on the open
//     connections and on new ones, but nothing is closed either; bytes
//     already sent wait in the proxy and go through, in order, once
//     Restore is called, as after a network partition heals.
//   - Sever: every open connection is reset (TCP RST) and every new one
//     is accepted and reset at once, as when a host goes away.
type TCPProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	mode   tcpMode
	open   chan struct{} // closed while data may pass
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

type tcpMode int

const (
	tcpPass tcpMode = iota
	tcpBlackhole
	tcpSever
)

// StartTCPProxy listens on a free loopback port and forwards every
// connection to target (host:port). It is closed at the end of the test.
func StartTCPProxy(t testing.TB, target string) *TCPProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start tcp proxy: %v", err)
	}
	p := &TCPProxy{ln: ln, target: target, open: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	close(p.open)
	p.wg.Go(p.accept)
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *TCPProxy) Addr() string { return p.ln.Addr().String() }

// Blackhole stops all traffic without closing anything.
func (p *TCPProxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == tcpPass {
		p.open = make(chan struct{})
	}
	p.mode = tcpBlackhole
}

// Sever resets every connection and every new one until Restore.
func (p *TCPProxy) Sever() {
	p.mu.Lock()
	if p.mode == tcpPass {
		p.open = make(chan struct{})
	}
	p.mode = tcpSever
	conns := p.conns
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	for c := range conns {
		reset(c)
	}
}

// Restore lets traffic through again.
func (p *TCPProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode != tcpPass {
		close(p.open)
	}
	p.mode = tcpPass
}

// Close stops the proxy and closes every connection.
func (p *TCPProxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	if p.mode != tcpPass {
		close(p.open)
		p.mode = tcpPass
	}
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	_ = p.ln.Close()
	for c := range conns {
		_ = c.Close()
	}
	p.wg.Wait()
}

func (p *TCPProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode, closed := p.mode, p.closed
		p.mu.Unlock()
		if closed || mode == tcpSever {
			reset(c)
			continue
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// serve pipes c to a new connection to the target.
func (p *TCPProxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		reset(c)
		return
	}
	if !p.track(c, up) {
		reset(c)
		reset(up)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(up, c) })
	wg.Go(func() { p.pipe(c, up) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *TCPProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.mode == tcpSever {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

// pipe copies src to dst, waiting at the gate before each write; when
// either side fails both are closed.
func (p *TCPProxy) pipe(dst, src net.Conn) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			open := p.open
			p.mu.Unlock()
			<-open
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// reset closes c with a TCP RST rather than a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
