package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/carta-letters/carta/cmd/carta/demo"
	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/renderer"
)

// demoStaffPage, when set, starts the staff page on the demo's stack and
// returns its URL and a stop function. It is the hook for the staff page
// (package queue/api): until it is wired, the demo says it is not there.
// It listens on addr (a free loopback port with fallback); its links to
// PDFs are presigned S3 URLs lasting linkExpiry.
var demoStaffPage func(ctx context.Context, st *stack, addr string, fallback bool, linkExpiry time.Duration, stderr io.Writer) (url string, stop func(), err error)

// demoFlags are the settings of "carta demo".
type demoFlags struct {
	data        string
	exit        bool
	natsAddr    string
	s3Addr      string
	httpAddr    string
	addr        string
	bucket      string
	concurrency positiveInt
	timeout     positiveDuration
	logLevel    string
	linkExpiry  positiveDuration
}

func defineDemoFlags(fs *flag.FlagSet) *demoFlags {
	f := &demoFlags{concurrency: positiveInt(runtime.NumCPU()), timeout: positiveDuration(2 * time.Minute), linkExpiry: positiveDuration(api.DefaultLinkExpiry)}
	fs.StringVar(&f.data, "data", "carta-demo-data", "folder of the demo's data: nats/ (JetStream), s3/ (objects), out/ (PDFs)")
	fs.BoolVar(&f.exit, "exit", false, "exit once the reference letter is stored and saved, instead of running until Ctrl-C")
	fs.StringVar(&f.natsAddr, "nats-addr", "127.0.0.1:4222", "listen address of the embedded nats-server (a free port if the default is taken)")
	fs.StringVar(&f.s3Addr, "s3-addr", "127.0.0.1:9000", "listen address of the embedded S3 server (a free port if the default is taken)")
	fs.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:9090", "listen address of the worker's /metrics, /healthz and /readyz (a free port if the default is taken)")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address of the staff page and API, a loopback address since the demo's page is open without a token (a free port if the default is taken)")
	fs.StringVar(&f.bucket, "s3-bucket", "carta", "S3 bucket for the PDFs")
	fs.Var(&f.concurrency, "concurrency", "jobs the worker processes at once; default: the number of CPUs")
	fs.Var(&f.timeout, "timeout", "longest wait for the reference letter")
	fs.StringVar(&f.logLevel, "log-level", "warn", "worker log level: debug, info, warn or error")
	fs.Var(&f.linkExpiry, "link-expiry", "how long the staff page's presigned download links work (1s to 168h)")
	return f
}

// runDemo implements "carta demo": everything from one binary on embedded
// defaults, then the reference letter through the whole pipeline.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "usage: carta demo [-exit] [-data DIR] [flags]\n\n"+
		"Starts an embedded nats-server (JetStream), an embedded S3 server (Versity Gateway, a child\n"+
		"process checking signatures) and a worker, all keeping their data in -data, and the staff\n"+
		"page; submits the reference letter, waits for it and saves the PDF.\n\nFlags:", stderr)
	f := defineDemoFlags(fs)
	if code, ok := parseFlags(fs, args, os.LookupEnv, true, stderr); !ok {
		return code
	}
	level, ok := parseLogLevel("demo", f.logLevel, stderr)
	if !ok {
		return exitInvalid
	}
	if !checkLinkExpiry("demo", time.Duration(f.linkExpiry), stderr) {
		return exitInvalid
	}
	if !loopbackAddr(f.addr) {
		fmt.Fprintf(stderr, "carta demo: -addr (%s) must be a loopback address such as 127.0.0.1:8080, since the demo's staff page is open without a token; not %q\n", envName("addr"), f.addr)
		return exitInvalid
	}
	// Explicitly chosen addresses must be free; the defaults fall back to
	// any free port.
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	fallback := !set["nats-addr"] && !set["s3-addr"] && !set["http-addr"]

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	st, err := startStack(ctx, stackConfig{
		dataDir: f.data, natsAddr: f.natsAddr, s3Addr: f.s3Addr, metricsAddr: f.httpAddr, fallback: fallback, bucket: f.bucket,
		worker: queue.Config{Concurrency: int(f.concurrency), Logger: log},
	})
	if err != nil {
		fmt.Fprintf(stderr, "carta demo: %v\n", err)
		return exitFailure
	}
	defer st.stop()

	staffURL := ""
	if demoStaffPage != nil {
		url, stop, err := demoStaffPage(ctx, st, f.addr, !set["addr"], time.Duration(f.linkExpiry), stderr)
		if err != nil {
			fmt.Fprintf(stderr, "carta demo: %v\n", err)
			return exitFailure
		}
		defer stop()
		staffURL = url
	}

	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	fmt.Fprintf(stdout, "Carta demo (carta %s), data in %s\n", renderer.Version, abs(f.data))
	fmt.Fprintf(stdout, "  NATS        %s  (JetStream, store %s)\n", st.natsURL, abs(filepath.Join(f.data, "nats")))
	fmt.Fprintf(stdout, "  S3          %s  bucket %s, path-style, access key %s (Versity Gateway; objects in %s)\n", st.s3URL, st.bucket, demoAccessKey, abs(filepath.Join(f.data, "s3", st.bucket)))
	fmt.Fprintf(stdout, "  metrics     %s/metrics  (and /healthz, /readyz)\n", st.metricsURL)
	if staffURL != "" {
		fmt.Fprintf(stdout, "  staff page  %s\n", staffURL)
	}

	wctx, cancel := context.WithTimeout(ctx, time.Duration(f.timeout))
	defer cancel()
	id, err := st.client.Submit(wctx, demo.ReferenceJob)
	if err != nil {
		fmt.Fprintf(stderr, "carta demo: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "Submitted the reference letter %s; waiting for the worker…\n", id)
	res, err := st.client.Wait(wctx, id)
	if err != nil {
		fmt.Fprintf(stderr, "carta demo: %v\n", err)
		return exitFailure
	}
	if err := res.Err(); err != nil {
		fmt.Fprintf(stderr, "carta demo: letter %s failed: %v\n", id, err)
		return exitFailure
	}
	outDir := filepath.Join(f.data, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "carta demo: save letter: %v\n", err)
		return exitFailure
	}
	out := filepath.Join(outDir, id+".pdf")
	store := func(context.Context, string) (objectGetter, error) { return st.store, nil }
	if err := download(wctx, res, out, submitOptions{getter: store}); err != nil {
		fmt.Fprintf(stderr, "carta demo: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "Letter %s: %d pages, %d bytes, sha256 %s, rendered in %d ms (attempt %d)\n", id, res.Pages, res.Bytes, res.SHA256, res.RenderMS, res.Attempts)
	fmt.Fprintf(stdout, "  stored at   s3://%s/%s\n", res.Bucket, res.Key)
	fmt.Fprintf(stdout, "  saved to    %s\n", abs(out))
	if f.exit {
		return exitOK
	}
	fmt.Fprintf(stdout, "\nSubmit more letters from another terminal:\n"+
		"  AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s carta submit -nats-url %s -s3-endpoint %s -s3-path-style -o out/ JOB.json\n"+
		"Press Ctrl-C to stop; the data stays in %s.\n", demoAccessKey, demoSecretKey, st.natsURL, st.s3URL, abs(f.data))
	<-ctx.Done()
	fmt.Fprintln(stdout, "Stopping…")
	return exitOK
}
