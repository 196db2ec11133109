package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/s3store"
)

// workerFlags are the settings of "carta worker".
type workerFlags struct {
	nats            queue.NATSOptions
	cfg             queue.Config
	maxDeliver      positiveInt
	concurrency     positiveInt
	maxInFlight     positiveInt // 0: unset, queue's default (2 × concurrency)
	replicas        positiveInt
	ackWait         positiveDuration
	jobTimeout      positiveDuration
	shutdownTimeout positiveDuration
	duplicates      positiveDuration
	retryBase       positiveDuration
	retryMax        positiveDuration
	natsTimeout     positiveDuration
	probeMax        positiveDuration
	maxMsgs         positiveInt
	maxBytes        byteSize
	maxMsgSize      byteSize
	s3              s3store.Config // RequestTimeout set by -s3-request-timeout
	httpAddr        string
	logLevel        string
	sign            *signFlags
}

func defineWorkerFlags(fs *flag.FlagSet) *workerFlags {
	f := &workerFlags{
		maxDeliver:      queue.DefaultMaxDeliver,
		concurrency:     positiveInt(runtime.NumCPU()),
		replicas:        1,
		ackWait:         positiveDuration(queue.DefaultAckWait),
		jobTimeout:      positiveDuration(queue.DefaultJobTimeout),
		shutdownTimeout: positiveDuration(queue.DefaultShutdownTimeout),
		duplicates:      positiveDuration(queue.DefaultDuplicates),
		retryBase:       positiveDuration(queue.DefaultRetryBase),
		retryMax:        positiveDuration(queue.DefaultRetryMax),
		natsTimeout:     positiveDuration(queue.DefaultNATSTimeout),
		probeMax:        positiveDuration(queue.DefaultProbeMax),
		maxMsgs:         queue.DefaultMaxMsgs,
		maxBytes:        queue.DefaultMaxBytes,
		maxMsgSize:      queue.DefaultMaxMsgSize,
	}
	host, _ := os.Hostname()
	defineNATSFlags(fs, &f.nats, "carta-worker@"+host)
	defineQueueNameFlags(fs, &f.cfg.Subject, &f.cfg.ResultsSubject, &f.cfg.ResultsBucket)
	fs.StringVar(&f.cfg.Stream, "stream", queue.DefaultStream, "JetStream stream of jobs")
	fs.StringVar(&f.cfg.JobsBucket, "jobs-bucket", queue.DefaultJobsBucket, "JetStream key-value bucket where each job's JSON is kept for the staff page's preview (the same as carta serve -jobs-bucket)")
	fs.StringVar(&f.cfg.Consumer, "consumer", queue.DefaultConsumer, "durable pull consumer shared by all workers")
	fs.StringVar(&f.cfg.DeadStream, "dead-stream", queue.DefaultDeadStream, "JetStream stream of dead letters")
	fs.StringVar(&f.cfg.DeadSubject, "dead-subject", queue.DefaultDeadSubject, "dead letters are published on <this>.<id>")
	fs.Var(&f.duplicates, "duplicates-window", "how long the jobs stream drops a repeated Nats-Msg-Id; as long as publishers retry")
	fs.Var(&f.maxMsgs, "max-msgs", "jobs the stream holds before refusing new ones")
	fs.Var(&f.maxBytes, "max-bytes", "bytes the stream holds before refusing new jobs (KiB, MiB, GiB suffixes)")
	fs.Var(&f.maxMsgSize, "max-msg-size", "largest job accepted (at most the server's max_payload)")
	fs.Var(&f.replicas, "replicas", "replicas of the streams and the results bucket")
	fs.Var(&f.maxDeliver, "max-deliver", "deliveries of a job before it goes to the dead-letter stream")
	fs.Var(&f.ackWait, "ack-wait", "time before an unacknowledged job is redelivered (heartbeats extend it while a job runs)")
	fs.Var(&f.concurrency, "concurrency", "jobs rendered at once; default: the number of CPUs")
	fs.Var(&f.maxInFlight, "max-in-flight", "jobs held at once (rendering, waiting for a render slot, or storing), so uploads overlap renders; at least -concurrency; default: 2 × -concurrency")
	fs.Var(&f.jobTimeout, "job-timeout", "time limit of one job, render and upload")
	fs.Var(&f.shutdownTimeout, "shutdown-timeout", "on SIGTERM, how long to let jobs in flight finish before returning them")
	fs.Var(&f.retryBase, "retry-base", "delay before retrying a transiently failed job; doubles each time")
	fs.Var(&f.retryMax, "retry-max", "longest retry delay")
	fs.Var(&f.natsTimeout, "nats-timeout", "time limit of each JetStream call for a job (results bucket, dead letters, acks); below -job-timeout. A call cut by a lost connection fails at once and is retried after the reconnect")
	fs.Var(&f.probeMax, "storage-probe-max", "during a storage or signing service outage, longest delay between two probes of the bucket or of the signer's TSA/OCSP/CRL (they start at 500ms and double)")
	fs.BoolVar(&f.cfg.CreateBucket, "s3-create-bucket", false, "create the S3 bucket at start when it is missing (otherwise the worker waits for it, not ready)")
	fs.Var((*ttlDuration)(&f.cfg.ResultsTTL), "results-ttl", "how long the results bucket keeps each result; 0 keeps them forever. With a TTL, older letters leave the staff list and a job resubmitted under an old id is rendered again (its stored PDF is kept)")
	defineS3Flags(fs, &f.s3, s3FlagHelp{
		bucket:         "S3 bucket for the PDFs",
		endpoint:       "S3 endpoint URL",
		requestTimeout: "time limit of one S3 request, from dialling to the end of the response",
	})
	fs.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:9090", "address of /metrics, /healthz and /readyz; empty to turn off. Each worker on one host needs its own (e.g. 127.0.0.1:9091, or 127.0.0.1:0 for any free port)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.sign = addSignFlags(fs)
	return f
}

// runWorker implements "carta worker".
func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("worker", "usage: carta worker [flags]\n\nTakes letter jobs from NATS JetStream, renders them and stores the PDFs in S3.\nS3 credentials come from the AWS standard chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, roles, ...).\nWith -sign-p12, or -sign-cert and -sign-key, every PDF is signed (PAdES B-B; B-T with -sign-tsa-url; B-LT with -sign-ltv too; B-LTA with -sign-lta too) before it is stored.\n\nFlags:", stderr)
	f := defineWorkerFlags(fs)
	if code, ok := parseFlags(fs, args, os.LookupEnv, true, stderr); !ok {
		return code
	}
	level, ok := parseLogLevel("worker", f.logLevel, stderr)
	if !ok {
		return exitInvalid
	}
	signer, err := f.sign.signer()
	if err != nil {
		fmt.Fprintf(stderr, "carta worker: %v\n", err)
		return exitInvalid
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	cfg := f.cfg
	cfg.MaxDeliver, cfg.Concurrency, cfg.Replicas = int(f.maxDeliver), int(f.concurrency), int(f.replicas)
	cfg.MaxInFlight = int(f.maxInFlight)
	if cfg.MaxInFlight != 0 && cfg.MaxInFlight < cfg.Concurrency {
		fmt.Fprintf(stderr, "carta worker: invalid value %d for -max-in-flight (%s): must be at least -concurrency (%d)\n", cfg.MaxInFlight, envName("max-in-flight"), cfg.Concurrency)
		return exitInvalid
	}
	cfg.AckWait, cfg.JobTimeout = time.Duration(f.ackWait), time.Duration(f.jobTimeout)
	cfg.ShutdownTimeout, cfg.Duplicates = time.Duration(f.shutdownTimeout), time.Duration(f.duplicates)
	cfg.RetryBase, cfg.RetryMax = time.Duration(f.retryBase), time.Duration(f.retryMax)
	cfg.NATSTimeout, cfg.ProbeMax = time.Duration(f.natsTimeout), time.Duration(f.probeMax)
	if cfg.NATSTimeout >= cfg.JobTimeout {
		fmt.Fprintf(stderr, "carta worker: invalid value %v for -nats-timeout (%s): must be below -job-timeout (%v)\n", cfg.NATSTimeout, envName("nats-timeout"), cfg.JobTimeout)
		return exitInvalid
	}
	cfg.MaxMsgs, cfg.MaxBytes = int64(f.maxMsgs), int64(f.maxBytes)
	if f.maxMsgSize > 1<<31-1 {
		fmt.Fprintf(stderr, "carta worker: invalid value %d for -max-msg-size (%s): must be below 2 GiB\n", f.maxMsgSize, envName("max-msg-size"))
		return exitInvalid
	}
	cfg.MaxMsgSize = int32(f.maxMsgSize)
	cfg.Logger = log
	if signer != nil { // a nil *sign.Signer in the interface would not be nil
		cfg.Signer = signer
		log.Info("signing letters", "signer", signer.Name(), "level", "PAdES "+signer.Level())
	}

	f.nats.Logger = log
	nc, err := queue.Connect(f.nats)
	if err != nil {
		log.Error("start worker", "err", err.Error())
		return exitFailure
	}
	defer nc.Close()
	store, err := s3store.New(ctx, f.s3)
	if err != nil {
		log.Error("start worker", "err", err.Error())
		return exitFailure
	}
	w, err := queue.New(nc, store, cfg)
	if err != nil {
		log.Error("start worker", "err", err.Error())
		return exitFailure
	}

	if f.httpAddr != "" {
		ln, err := net.Listen("tcp", f.httpAddr)
		if err != nil {
			log.Error("start worker: listen for metrics", "err", err.Error(),
				"fix", "give each worker on this host its own -http-addr (CARTA_HTTP_ADDR), e.g. 127.0.0.1:9091, 127.0.0.1:0 for any free port, or empty to turn it off")
			return exitFailure
		}
		srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("serve metrics", "err", err.Error())
			}
		}()
		log.Info("serving /metrics, /healthz and /readyz", "addr", ln.Addr().String())
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
	}

	if err := w.Run(ctx); err != nil {
		log.Error("worker", "err", err.Error())
		return exitFailure
	}
	// Drain: deliver what is buffered, flush publishes, then close.
	drainNATS(nc)
	return exitOK
}

// ttlDuration is a duration flag that is 0 (no TTL: keep forever) or at
// least a second.
type ttlDuration time.Duration

func (d *ttlDuration) String() string { return time.Duration(*d).String() }

func (d *ttlDuration) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v != 0 && v < time.Second {
		return errors.New("must be 0 (keep forever) or a duration of at least 1s such as 720h")
	}
	*d = ttlDuration(v)
	return nil
}
