package queuetest

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// NATS is an embedded nats-server with JetStream keeping its data in a
// folder, so it can be restarted with its streams intact.
type NATS struct {
	t    testing.TB
	dir  string
	port int
	srv  *server.Server
}

// StartNATS starts a JetStream nats-server on a random loopback port with
// its store in a new temporary folder, and shuts it down at the end of
// the test.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	n := &NATS{t: t, dir: t.TempDir(), port: -1}
	n.Start()
	t.Cleanup(n.Stop)
	return n
}

// Start starts the server (again), on the same port and store.
func (n *NATS) Start() {
	n.t.Helper()
	n.srv = startServer(n.t, serverOptions("carta-test", n.port, n.dir), "nats-server")
	n.port = n.srv.Addr().(*net.TCPAddr).Port
}

// Stop shuts the server down; Start brings it back.
func (n *NATS) Stop() {
	stopServer(&n.srv)
}

// Restart stops the server and starts it again on the same port and
// store.
func (n *NATS) Restart() {
	n.t.Helper()
	n.Stop()
	n.Start()
}

// URL is the client URL of the server.
func (n *NATS) URL() string { return "nats://127.0.0.1:" + itoa(n.port) }

// Connect opens a client connection that reconnects forever and is
// closed at the end of the test.
func (n *NATS) Connect(t testing.TB) *nats.Conn {
	t.Helper()
	return connect(t, n.URL(), "nats")
}

// serverOptions are the options of a quiet JetStream nats-server named
// name on a loopback port (-1: a random one) keeping its data in dir.
func serverOptions(name string, port int, dir string) *server.Options {
	return &server.Options{
		ServerName: name,
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
	}
}

// startServer starts a nats-server with opts and waits until it accepts
// connections; what names it in the failure.
func startServer(t testing.TB, opts *server.Options, what string) *server.Server {
	t.Helper()
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatalf("start %s: not ready after 10s", what)
	}
	return srv
}

// stopServer shuts *srv down, if it runs, and clears it.
func stopServer(srv **server.Server) {
	if *srv != nil {
		(*srv).Shutdown()
		(*srv).WaitForShutdown()
		*srv = nil
	}
}

// connect opens a client connection to url that reconnects forever and
// is closed at the end of the test; what names the server in the
// failure.
func connect(t testing.TB, url, what string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatalf("connect %s: %v", what, err)
	}
	t.Cleanup(nc.Close)
	return nc
}
