package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/queue/s3store"
)

// serveFlags are the settings of "carta serve".
type serveFlags struct {
	nats           queue.NATSOptions
	subject        string
	resultsSubject string
	resultsBucket  string
	jobsBucket     string
	addr           string
	tokens         string
	tokensFile     string
	allowAnonymous bool
	secureCookie   bool
	tlsCert        string
	tlsKey         string
	s3             s3store.Config
	s3Public       string
	linkExpiry     positiveDuration
	stream         bool
	pageSize       positiveInt
	logLevel       string
}

func defineServeFlags(fs *flag.FlagSet) *serveFlags {
	f := &serveFlags{linkExpiry: positiveDuration(api.DefaultLinkExpiry), pageSize: api.DefaultPageSize}
	host, _ := os.Hostname()
	defineNATSFlags(fs, &f.nats, "carta-serve@"+host)
	defineQueueNameFlags(fs, &f.subject, &f.resultsSubject, &f.resultsBucket)
	fs.StringVar(&f.jobsBucket, "jobs-bucket", api.DefaultJobsBucket, "JetStream key-value bucket of the jobs' JSON, for the previews (the same as carta worker -jobs-bucket)")
	fs.StringVar(&f.addr, "addr", api.DefaultAddr, "listen address of the API and staff page")
	fs.StringVar(&f.tokens, "tokens", "", `bearer tokens "name:roles:secret,…", roles submit, read or submit+read; prefer the environment variable or -tokens-file, since flags show in ps`)
	fs.StringVar(&f.tokensFile, "tokens-file", "", "file of bearer tokens, one name:roles:secret per line, # comments")
	fs.BoolVar(&f.allowAnonymous, "allow-anonymous", false, "let requests without a token in with both roles; only on a loopback -addr, and only from loopback clients")
	fs.BoolVar(&f.secureCookie, "secure-cookie", false, "mark the sign-in cookie Secure behind a TLS-terminating proxy (automatic with -tls-cert)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate to serve HTTPS with")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM key of -tls-cert")
	defineS3Flags(fs, &f.s3, s3FlagHelp{
		bucket:         "S3 bucket of the PDFs (results name their bucket; this is the fallback)",
		endpoint:       "S3 endpoint Carta reaches",
		requestTimeout: "time limit of one S3 request, from dialling to the end of the response (with -stream-downloads, of sending a PDF)",
	})
	fs.StringVar(&f.s3Public, "s3-public-endpoint", "", "S3 endpoint written into download links, the one browsers reach (default: -s3-endpoint)")
	fs.Var(&f.linkExpiry, "link-expiry", "how long a presigned download link works (1s to 168h)")
	fs.BoolVar(&f.stream, "stream-downloads", false, "send PDFs through Carta instead of redirecting to presigned S3 links")
	fs.Var(&f.pageSize, "page-size", "letters per page when a request gives no limit (at most 200)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return f
}

// runServe implements "carta serve".
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return serve(ctx, args, os.LookupEnv, stdout, stderr)
}

// serve is runServe with the environment given as lookup, for tests.
func serve(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "usage: carta serve [flags]\n\n"+
		"Serves the HTTP API (POST /v1/jobs, GET /v1/jobs/{id}, GET /v1/letters, GET /v1/letters/{id}.pdf;\n"+
		"described at /v1/openapi.yaml) and the staff page at /. Every request needs a bearer token\n"+
		"(role submit for services, read for staff) unless -allow-anonymous is set on a loopback address.\n"+
		"S3 credentials come from the AWS standard chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, roles, ...).\n\nFlags:", stderr)
	f := defineServeFlags(fs)
	if code, ok := parseFlags(fs, args, lookup, true, stderr); !ok {
		return code
	}
	level, ok := parseLogLevel("serve", f.logLevel, stderr)
	if !ok {
		return exitInvalid
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	tokens, err := api.ParseTokens(f.tokens)
	if err != nil {
		fmt.Fprintf(stderr, "carta serve: -tokens (%s): %v\n", envName("tokens"), err)
		return exitInvalid
	}
	if f.tokensFile != "" {
		more, err := api.LoadTokensFile(f.tokensFile)
		if err != nil {
			fmt.Fprintf(stderr, "carta serve: -tokens-file (%s): %v\n", envName("tokens-file"), err)
			return exitInvalid
		}
		tokens = append(tokens, more...)
	}
	if len(tokens) == 0 && !f.allowAnonymous {
		fmt.Fprintf(stderr, "carta serve: no tokens: set %s=\"name:submit+read:SECRET\" (a secret of at least %d characters, e.g. from `openssl rand -hex 24`) or -tokens-file\n", envName("tokens"), api.MinSecretLen)
		return exitInvalid
	}
	if f.allowAnonymous && !loopbackAddr(f.addr) {
		fmt.Fprintf(stderr, "carta serve: -allow-anonymous needs a loopback -addr (127.0.0.1:PORT or [::1]:PORT), not %q\n", f.addr)
		return exitInvalid
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		fmt.Fprintln(stderr, "carta serve: give both -tls-cert and -tls-key, or neither")
		return exitInvalid
	}
	if !checkLinkExpiry("serve", time.Duration(f.linkExpiry), stderr) {
		return exitInvalid
	}
	if int(f.pageSize) > api.MaxPageSize {
		fmt.Fprintf(stderr, "carta serve: invalid value %d for -page-size (%s): must be at most %d\n", f.pageSize, envName("page-size"), api.MaxPageSize)
		return exitInvalid
	}

	var tlsConf *tls.Config
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			log.Error("start api server: load tls certificate", "err", err.Error())
			return exitFailure
		}
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}

	f.nats.Logger = log
	nc, err := queue.Connect(f.nats)
	if err != nil {
		log.Error("start api server", "err", err.Error())
		return exitFailure
	}
	defer drainNATS(nc)
	objects, err := s3store.NewPresigner(ctx, s3store.PresignConfig{Config: f.s3, PublicEndpoint: f.s3Public})
	if err != nil {
		log.Error("start api server", "err", err.Error())
		return exitFailure
	}
	srv, err := api.New(api.Config{
		NATS:           nc,
		JobsSubject:    f.subject,
		ResultsSubject: f.resultsSubject,
		ResultsBucket:  f.resultsBucket,
		JobsBucket:     f.jobsBucket,
		Objects:        objects,
		Stream:         f.stream,
		LinkExpiry:     time.Duration(f.linkExpiry),
		Tokens:         tokens,
		AllowAnonymous: f.allowAnonymous,
		Addr:           f.addr,
		SecureCookie:   f.secureCookie || tlsConf != nil,
		PageSize:       int(f.pageSize),
		Logger:         log,
	})
	if err != nil {
		fmt.Fprintf(stderr, "carta serve: %v\n", err)
		return exitInvalid
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		log.Error("start api server", "err", err.Error())
		return exitFailure
	}
	scheme := "http"
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String() + "/"
	names := make([]string, len(tokens))
	for i, t := range tokens {
		names[i] = t.Name
	}
	log.Info("serving the API and staff page", "url", url, "tokens", names, "anonymous", f.allowAnonymous,
		"downloads", map[bool]string{true: "streamed", false: "presigned"}[f.stream])
	fmt.Fprintf(stdout, "carta serve: listening on %s\n", url)
	if err := srv.Serve(ctx, ln); err != nil {
		log.Error("api server", "err", err.Error())
		return exitFailure
	}
	return exitOK
}

// loopbackAddr reports whether a listen address can only be reached from
// this machine.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// drainNATS drains nc, waiting up to 5 s for it to close.
func drainNATS(nc *nats.Conn) {
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		nc.Close()
	}
}

func init() { demoStaffPage = startDemoStaffPage }

// startDemoStaffPage starts the API and staff page for "carta demo" on
// addr (-addr, 127.0.0.1:8080 by default; with fallback, a free port if
// that is taken), which must be a loopback address, with anonymous access
// (only loopback clients can reach it) and, as in production, downloads
// redirected to presigned links of the demo's S3 server lasting
// linkExpiry. Tokens from CARTA_TOKENS or CARTA_TOKENS_FILE work too.
func startDemoStaffPage(ctx context.Context, st *stack, addr string, fallback bool, linkExpiry time.Duration, stderr io.Writer) (string, func(), error) {
	if !loopbackAddr(addr) {
		return "", nil, fmt.Errorf("start staff page: -addr (%s) must be a loopback address such as 127.0.0.1:8080, since the demo's page is open without a token; not %q", envName("addr"), addr)
	}
	var tokens []api.Token
	if s := os.Getenv(envName("tokens")); s != "" {
		t, err := api.ParseTokens(s)
		if err != nil {
			return "", nil, fmt.Errorf("start staff page: %s: %w", envName("tokens"), err)
		}
		tokens = t
	}
	if p := os.Getenv(envName("tokens-file")); p != "" {
		t, err := api.LoadTokensFile(p)
		if err != nil {
			return "", nil, fmt.Errorf("start staff page: %w", err)
		}
		tokens = append(tokens, t...)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil && fallback {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return "", nil, fmt.Errorf("start staff page: -addr (%s): %w", envName("addr"), err)
	}
	srv, err := api.New(api.Config{
		NATS:           st.nc,
		Objects:        s3store.PresignerFor(st.store),
		LinkExpiry:     linkExpiry,
		Tokens:         tokens,
		AllowAnonymous: true,
		Addr:           ln.Addr().String(),
		Logger:         slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		ln.Close()
		return "", nil, fmt.Errorf("start staff page: %w", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(sctx, ln); err != nil {
			fmt.Fprintf(stderr, "carta demo: staff page: %v\n", err)
		}
	}()
	stop := func() {
		cancel()
		<-done
		srv.Close()
	}
	return "http://" + ln.Addr().String() + "/", stop, nil
}
