package queuetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Cluster is a 3-node JetStream cluster of embedded nats-servers, each
// keeping its data in its own folder, so that a node can be stopped and
// started again.
type Cluster struct {
	t     testing.TB
	nodes []*clusterNode
}

type clusterNode struct {
	name            string
	dir             string
	port, routePort int
	routes          string
	srv             *server.Server
}

// StartCluster starts a 3-node JetStream cluster on loopback ports and
// shuts it down at the end of the test. It returns once every node
// accepts connections; JetStream may still be electing its meta leader
// (WaitJetStream waits for that).
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	var routes []string
	for i := range 3 {
		n := &clusterNode{name: fmt.Sprintf("carta-n%d", i+1), dir: t.TempDir(), port: freePort(t), routePort: freePort(t)}
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", n.routePort))
		c.nodes = append(c.nodes, n)
	}
	for _, n := range c.nodes {
		n.routes = strings.Join(routes, ",")
	}
	for i := range c.nodes {
		c.StartNode(i)
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.StopNode(i)
		}
	})
	return c
}

// StartNode starts node i (again) on its ports and folder.
func (c *Cluster) StartNode(i int) {
	c.t.Helper()
	n := c.nodes[i]
	opts := serverOptions(n.name, n.port, n.dir)
	opts.Cluster = server.ClusterOpts{Name: "carta-test", Host: "127.0.0.1", Port: n.routePort}
	opts.Routes = server.RoutesFromStr(n.routes)
	n.srv = startServer(c.t, opts, "nats-server "+n.name)
}

// StopNode shuts node i down.
func (c *Cluster) StopNode(i int) {
	stopServer(&c.nodes[i].srv)
}

// NodeIndex returns the index of the node named name (a server name as
// JetStream reports it, e.g. a stream's leader), or -1.
func (c *Cluster) NodeIndex(name string) int {
	for i, n := range c.nodes {
		if n.name == name {
			return i
		}
	}
	return -1
}

// URL is the client URL list of all three nodes.
func (c *Cluster) URL() string {
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", n.port))
	}
	return strings.Join(urls, ",")
}

// Connect opens a client connection to the cluster that reconnects
// forever and is closed at the end of the test.
func (c *Cluster) Connect(t testing.TB) *nats.Conn {
	t.Helper()
	return connect(t, c.URL(), "nats cluster")
}
