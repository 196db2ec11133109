package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/s3embed"
	"github.com/carta-letters/carta/queue/s3store"
)

// Credentials of the embedded S3 server (Versity Gateway, package
// queue/s3embed), the only ones it accepts. It listens on loopback only.
const (
	demoAccessKey = "carta-demo"
	demoSecretKey = "carta-demo-secret"
	demoRegion    = "us-east-1"
)

// stackConfig says what "carta demo" and "carta bench" run in process.
type stackConfig struct {
	dataDir     string // JetStream store in dataDir/nats, objects in dataDir/s3
	natsAddr    string // listen address of the embedded nats-server
	s3Addr      string // listen address of the embedded S3 server
	metricsAddr string // listen address of the worker's /metrics; "" = none
	fallback    bool   // when an address is taken, listen on a free port instead
	bucket      string // S3 bucket of the letters

	natsURL    string    // an external NATS instead of the embedded one
	s3Endpoint string    // an external S3 instead of the embedded one (credentials from the AWS chain)
	pathStyle  bool      // path-style addressing for an external S3
	s3Log      io.Writer // the embedded S3 server's own messages; nil: discarded

	worker queue.Config // worker settings (Logger included)
}

// stack is a running NATS + S3 + worker.
type stack struct {
	natsURL, s3URL, metricsURL string
	bucket                     string
	nc                         *nats.Conn
	store                      *s3store.Store
	worker                     *queue.Worker
	client                     *client.Client

	ns         *server.Server
	s3         *s3embed.Server
	metrics    *http.Server
	stopWorker context.CancelFunc
	workerDone chan error
}

// startStack starts the servers that are not external, a worker, and a
// client. Call stop to end them all.
func startStack(ctx context.Context, c stackConfig) (_ *stack, err error) {
	st := &stack{bucket: c.bucket}
	defer func() {
		if err != nil {
			st.stop()
		}
	}()
	log := c.worker.Logger
	if log == nil {
		log = slog.Default()
	}

	st.natsURL = c.natsURL
	if st.natsURL == "" {
		host, port, err := listenAddr(c.natsAddr, c.fallback)
		if err != nil {
			return nil, fmt.Errorf("start nats-server: %w", err)
		}
		if port == 0 {
			port = -1 // nats-server's "any free port"
		}
		ns, err := server.NewServer(&server.Options{
			ServerName: "carta-demo", Host: host, Port: port,
			JetStream: true, StoreDir: filepath.Join(c.dataDir, "nats"),
			NoLog: true, NoSigs: true,
		})
		if err != nil {
			return nil, fmt.Errorf("start nats-server: %w", err)
		}
		go ns.Start()
		st.ns = ns
		if !ns.ReadyForConnections(30 * time.Second) {
			return nil, errors.New("start nats-server: not ready after 30s")
		}
		st.natsURL = ns.ClientURL()
	}

	st.s3URL = c.s3Endpoint
	if st.s3URL == "" {
		host, port, err := listenAddr(c.s3Addr, c.fallback)
		if err != nil {
			return nil, fmt.Errorf("start s3 server: %w", err)
		}
		srv, err := s3embed.Start(ctx, s3embed.Config{
			Dir: filepath.Join(c.dataDir, "s3"), Addr: net.JoinHostPort(host, strconv.Itoa(port)),
			AccessKey: demoAccessKey, SecretKey: demoSecretKey, Region: demoRegion, Log: c.s3Log,
		})
		if err != nil {
			return nil, err
		}
		st.s3 = srv
		st.s3URL = srv.URL()
	}

	st.nc, err = queue.Connect(queue.NATSOptions{URL: st.natsURL, Name: "carta-demo", Logger: log})
	if err != nil {
		return nil, err
	}
	sc := s3store.Config{Bucket: c.bucket, Endpoint: st.s3URL, PathStyle: true, Region: demoRegion, AccessKey: demoAccessKey, SecretKey: demoSecretKey}
	if c.s3Endpoint != "" {
		sc = s3store.Config{Bucket: c.bucket, Endpoint: c.s3Endpoint, PathStyle: c.pathStyle}
	}
	if st.store, err = s3store.New(ctx, sc); err != nil {
		return nil, err
	}
	if err := st.store.CreateBucket(ctx); err != nil {
		return nil, err
	}
	if st.worker, err = queue.New(st.nc, st.store, c.worker); err != nil {
		return nil, err
	}
	wc := st.worker.Config()
	if st.client, err = client.New(st.nc, client.WithJobsSubject(wc.Subject),
		client.WithResultsPrefix(wc.ResultsSubject), client.WithResultsBucket(wc.ResultsBucket)); err != nil {
		return nil, err
	}

	if c.metricsAddr != "" {
		host, port, err := listenAddr(c.metricsAddr, c.fallback)
		if err != nil {
			return nil, fmt.Errorf("start metrics server: %w", err)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("start metrics server: %w", err)
		}
		st.metrics = &http.Server{Handler: st.worker.Handler(), ReadHeaderTimeout: 10 * time.Second}
		st.metricsURL = "http://" + ln.Addr().String()
		go st.metrics.Serve(ln) //nolint:errcheck // ErrServerClosed on stop
	}

	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st.stopWorker = cancel
	st.workerDone = make(chan error, 1)
	go func() { st.workerDone <- st.worker.Run(wctx) }()

	// The worker creates the streams, consumer and bucket; wait for them
	// so the first submit finds the queue.
	deadline := time.Now().Add(30 * time.Second)
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		rerr := st.worker.Ready(rctx)
		rcancel()
		if rerr == nil {
			break
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("start worker: %w", rerr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return st, nil
}

// startLoadStack starts the stack of "carta bench" and "carta soak":
// c with the embedded servers (those not external) on free ports, keeping
// their data in dataDir or, when dataDir is "", in a new temporary folder
// (named tmpPrefix and a random suffix), and a worker logging warnings to
// stderr. stop ends the stack, then removes the temporary folder.
func startLoadStack(ctx context.Context, dataDir, tmpPrefix string, c stackConfig, stderr io.Writer) (st *stack, stop func(), err error) {
	removeDir := func() {}
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", tmpPrefix); err != nil {
			return nil, nil, fmt.Errorf("create data folder: %w", err)
		}
		tmp := dataDir
		removeDir = func() { os.RemoveAll(tmp) }
	}
	c.dataDir, c.natsAddr, c.s3Addr = dataDir, "127.0.0.1:0", "127.0.0.1:0"
	c.worker.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if st, err = startStack(ctx, c); err != nil {
		removeDir()
		return nil, nil, err
	}
	return st, func() { st.stop(); removeDir() }, nil
}

// stop ends the worker (letting jobs in flight finish), then the servers.
func (st *stack) stop() {
	if st.stopWorker != nil {
		st.stopWorker()
		<-st.workerDone
	}
	if st.metrics != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = st.metrics.Shutdown(ctx)
		cancel()
	}
	if st.nc != nil {
		st.nc.Close()
	}
	if st.s3 != nil {
		_ = st.s3.Close()
	}
	if st.ns != nil {
		st.ns.Shutdown()
		st.ns.WaitForShutdown()
	}
}

// listenAddr splits addr into host and port, checking the port is free.
// With fallback, a taken port is replaced by 0 (any free port).
func listenAddr(addr string, fallback bool) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	if port == 0 {
		return host, 0, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if fallback {
			return host, 0, nil
		}
		return "", 0, err
	}
	ln.Close()
	return host, port, nil
}
