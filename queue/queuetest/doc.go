// Package queuetest starts the real servers Carta's queue tests run
// against: an embedded nats-server with JetStream and a Versity Gateway
// (versitygw) S3 server, plus proxies to make S3 slow, go away or speak
// TLS (Proxy), to make it fail as real servers do, answering 503,
// resetting connections or hanging (FaultProxy), and to cut a client off
// from NATS (TCPProxy). It is for tests only.
//
// versitygw is looked up on PATH, then in $GOBIN and $(go env
// GOPATH)/bin; install it with
//
//	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
//
// Without it the tests that need it are skipped, except when CI=true,
// where they fail.
package queuetest
