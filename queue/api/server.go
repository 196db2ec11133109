package api

import (
	"context"
	_ "embed" // the OpenAPI file
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue/client"
)

// Defaults of Config; see each field.
const (
	DefaultAddr         = "127.0.0.1:8080"
	DefaultLinkExpiry   = 15 * time.Minute
	DefaultPageSize     = 50
	MaxPageSize         = 200
	DefaultCookieMaxAge = 12 * time.Hour

	DefaultSubmissionsBucket = "carta_submissions"
	DefaultJobsBucket        = client.DefaultJobsBucket // "carta_jobs", shared with the workers
)

// Timeouts of the http.Server that HTTPServer returns.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second // a whole request, body included
	WriteTimeout      = 2 * time.Minute  // a whole response, a streamed PDF included
	IdleTimeout       = 2 * time.Minute  // between requests on a kept-alive connection
	MaxHeaderBytes    = 64 << 10         // request line and headers
	formBodyLimit     = 4 << 10          // sign-in and sign-out forms
	shutdownTimeout   = 10 * time.Second
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 description of the API, as served at
// /v1/openapi.yaml.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// Objects reads stored PDFs. s3store.Presigner implements it.
type Objects interface {
	// PresignGet returns a URL that lets whoever holds it GET the object
	// at bucket/key until expiry, answered with the given
	// Content-Disposition (inline or attachment, with a file name).
	PresignGet(ctx context.Context, bucket, key, disposition string, expiry time.Duration) (string, error)
	// Open returns the body and size of the object at bucket/key.
	Open(ctx context.Context, bucket, key string) (io.ReadCloser, int64, error)
}

// Config configures a Server. The zero value of each field means its
// default, given in brackets.
type Config struct {
	NATS           *nats.Conn // connection to NATS, required; stays the caller's to close
	JobsSubject    string     // subject jobs are submitted on [client.DefaultJobsSubject "carta.jobs"]
	ResultsSubject string     // prefix of result subjects [client.DefaultResultsPrefix "carta.results"]
	ResultsBucket  string     // key-value bucket of results [client.DefaultResultsBucket "carta_results"]
	// SubmissionsBucket is the key-value bucket where the API records the
	// jobs it queued (see Submission), created when missing with the
	// results bucket's TTL [DefaultSubmissionsBucket "carta_submissions"].
	SubmissionsBucket string
	// JobsBucket is the key-value bucket of job JSON, from which the
	// detail page draws its preview of the first page. The API keeps
	// each job it queues there, and every worker keeps each job it
	// takes (queue.Config.JobsBucket: give both the same name), so jobs
	// submitted straight on NATS have a preview too. Created when
	// missing, with the results bucket's TTL [DefaultJobsBucket "carta_jobs"].
	JobsBucket string

	// Objects reads the PDFs; without it GET /v1/letters/{id}.pdf answers 503.
	Objects Objects
	// Stream makes GET /v1/letters/{id}.pdf send the PDF bytes through
	// Carta instead of redirecting to a presigned URL [false].
	Stream bool
	// LinkExpiry is how long a presigned download URL works [DefaultLinkExpiry 15m].
	LinkExpiry time.Duration

	// Tokens are the bearer tokens accepted (see Token).
	Tokens []Token
	// AllowAnonymous lets requests without a token in with both roles,
	// but only on loopback connections; New refuses it unless Addr is a
	// loopback address [false].
	AllowAnonymous bool
	// Addr is the address ListenAndServe listens on [DefaultAddr "127.0.0.1:8080"].
	Addr string
	// SecureCookie marks the sign-in cookie Secure even when the request
	// did not come over TLS (set it behind a TLS-terminating proxy)
	// [false; requests over TLS always get a Secure cookie].
	SecureCookie bool

	PageSize int          // letters per page when the request gives no limit [DefaultPageSize 50]
	Logger   *slog.Logger // request and watcher log [slog.Default()]
}

func (c Config) withDefaults() Config {
	if c.JobsSubject == "" {
		c.JobsSubject = client.DefaultJobsSubject
	}
	if c.ResultsSubject == "" {
		c.ResultsSubject = client.DefaultResultsPrefix
	}
	if c.ResultsBucket == "" {
		c.ResultsBucket = client.DefaultResultsBucket
	}
	if c.JobsBucket == "" {
		c.JobsBucket = DefaultJobsBucket
	}
	if c.SubmissionsBucket == "" {
		c.SubmissionsBucket = DefaultSubmissionsBucket
	}
	if c.LinkExpiry == 0 {
		c.LinkExpiry = DefaultLinkExpiry
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Server is the HTTP API and staff page. Create it with New; it keeps
// its letters index up to date until Close.
type Server struct {
	cfg     Config
	log     *slog.Logger
	auth    *authenticator
	client  *client.Client
	ix      *index
	limit   *limiter
	js      jetstream.JetStream
	subs    atomic.Pointer[jetstream.KeyValue] // the submissions bucket, once open
	jobs    atomic.Pointer[jetstream.KeyValue] // the jobs bucket, once open
	tmpl    *template.Template
	handler http.Handler

	cancel context.CancelFunc
	done   chan struct{}
}

// New checks cfg, starts the letters index (a watcher on the results
// bucket) and returns the server. Call Close to stop the watcher.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	switch {
	case cfg.NATS == nil:
		return nil, errors.New("create api server: no NATS connection")
	case cfg.LinkExpiry < time.Second || cfg.LinkExpiry > 7*24*time.Hour:
		return nil, fmt.Errorf("create api server: link expiry %v: must be between 1s and 7 days (the S3 limit)", cfg.LinkExpiry)
	case cfg.PageSize < 1 || cfg.PageSize > MaxPageSize:
		return nil, fmt.Errorf("create api server: page size %d: must be between 1 and %d", cfg.PageSize, MaxPageSize)
	case cfg.AllowAnonymous && !loopbackListenAddr(cfg.Addr):
		return nil, fmt.Errorf("create api server: anonymous access is only allowed on a loopback address, not %q", cfg.Addr)
	case len(cfg.Tokens) == 0 && !cfg.AllowAnonymous:
		return nil, errors.New("create api server: no tokens configured and anonymous access is off: nobody could use it")
	}
	auth, err := newAuthenticator(cfg.Tokens, cfg.AllowAnonymous)
	if err != nil {
		return nil, fmt.Errorf("create api server: %w", err)
	}
	cl, err := client.New(cfg.NATS, client.WithJobsSubject(cfg.JobsSubject),
		client.WithResultsPrefix(cfg.ResultsSubject), client.WithResultsBucket(cfg.ResultsBucket))
	if err != nil {
		return nil, fmt.Errorf("create api server: %w", err)
	}
	js, err := jetstream.New(cfg.NATS)
	if err != nil {
		return nil, fmt.Errorf("create api server: %w", err)
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("create api server: %w", err)
	}
	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger,
		auth:   auth,
		client: cl,
		ix:     newIndex(),
		limit:  newLimiter(),
		js:     js,
		tmpl:   tmpl,
		done:   make(chan struct{}),
	}
	s.handler = s.routes()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	var wg sync.WaitGroup
	wg.Go(func() { s.ix.watch(ctx, js, cfg.ResultsBucket, s.log) })
	wg.Go(func() { s.ix.watchSubs(ctx, s.openSubs, cfg.SubmissionsBucket, s.log) })
	go func() {
		defer close(s.done)
		wg.Wait()
	}()
	return s, nil
}

// openSubs opens the submissions bucket, creating it when missing.
func (s *Server) openSubs(ctx context.Context) (jetstream.KeyValue, error) {
	return s.openKV(ctx, &s.subs, s.cfg.SubmissionsBucket, "Carta jobs queued over HTTP, with the failed results of earlier submissions")
}

// openJobs opens the jobs bucket, creating it when missing.
func (s *Server) openJobs(ctx context.Context) (jetstream.KeyValue, error) {
	return s.openKV(ctx, &s.jobs, s.cfg.JobsBucket, "Carta job JSON by job id, for the staff page's previews")
}

func (s *Server) openKV(ctx context.Context, keep *atomic.Pointer[jetstream.KeyValue], bucket, desc string) (jetstream.KeyValue, error) {
	if p := keep.Load(); p != nil {
		return *p, nil
	}
	kv, err := s.js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		// Kept as long as the results are (the worker's -results-ttl),
		// so that no submission outlives its result and shows as queued.
		var ttl time.Duration
		if rkv, rerr := s.js.KeyValue(ctx, s.cfg.ResultsBucket); rerr == nil {
			if st, serr := rkv.Status(ctx); serr == nil {
				ttl = st.TTL()
			}
		}
		kv, err = s.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: bucket, Description: desc, History: 1, Storage: jetstream.FileStorage, TTL: ttl,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = s.js.KeyValue(ctx, bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", bucket, err)
	}
	keep.Store(&kv)
	return kv, nil
}

// Close stops the letters index. The server answers no more listings
// after it; it does not close the NATS connection.
func (s *Server) Close() error {
	s.cancel()
	<-s.done
	return nil
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler { return s.handler }

// Ready reports whether the letters index has read the whole results
// bucket and NATS is connected.
func (s *Server) Ready() bool { return s.ix.isSynced() && s.cfg.NATS.IsConnected() }

// HTTPServer returns an http.Server for Handler with Carta's timeouts
// (ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout,
// MaxHeaderBytes) on addr.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Serve answers requests on ln until ctx is done, then shuts down
// gracefully (in-flight requests get up to 10 s). It returns nil after
// a shutdown caused by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.HTTPServer(ln.Addr().String())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			s.log.Warn("shut down http server", "err", err)
		}
	}()
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped
		return nil
	}
	return fmt.Errorf("serve http: %w", err)
}

// ListenAndServe listens on Config.Addr and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/jobs", s.needAPI(canSubmit, s.postJob))
	mux.Handle("GET /v1/jobs/{id}", s.needAPI(canSubmit|canRead, s.getJob))
	mux.Handle("GET /v1/letters", s.needAPI(canRead, s.listLetters))
	mux.Handle("GET /v1/letters/{file}", s.needAPI(canRead, s.getPDF))
	mux.Handle("GET /v1/letters/{id}/copies/{file}", s.needAPI(canRead, s.getCopy))
	mux.HandleFunc("GET /v1/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(openAPI) //nolint:errcheck // the client went away
	})
	mux.Handle("GET /{$}", s.needPage(s.lettersPage))
	mux.Handle("GET /letters/{id}", s.needPage(s.letterPage))
	mux.Handle("POST /letters/{id}/resubmit", s.needPage(s.resubmitPage))
	mux.Handle("GET /letters/{id}/preview.png", s.needPage(s.previewPNG))
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) { s.renderLogin(w, r, http.StatusOK, "") })
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /static/carta.css", serveCSS)
	mux.HandleFunc("GET /favicon.ico", serveFavicon)
	mux.HandleFunc("GET /static/favicon.svg", serveFavicon)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") }) //nolint:errcheck
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "not ready: letters index loading or NATS disconnected", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n") //nolint:errcheck
	})
	// Every other method on a known path: 405 with Allow. (A method-less
	// pattern is less specific than the same path with a method, so these
	// only answer what the routes above do not.)
	for path, allow := range map[string]string{
		"/v1/jobs": "POST", "/v1/jobs/{id}": "GET, HEAD", "/v1/letters": "GET, HEAD",
		"/v1/letters/{file}": "GET, HEAD", "/v1/letters/{id}/copies/{file}": "GET, HEAD",
		"/v1/openapi.yaml": "GET, HEAD", "/{$}": "GET, HEAD", "/letters/{id}": "GET, HEAD",
		"/letters/{id}/resubmit": "POST", "/letters/{id}/preview.png": "GET, HEAD", "/login": "GET, HEAD, POST", "/logout": "POST",
		"/static/carta.css": "GET, HEAD", "/favicon.ico": "GET, HEAD", "/static/favicon.svg": "GET, HEAD",
		"/healthz": "GET, HEAD", "/readyz": "GET, HEAD",
	} {
		api := strings.HasPrefix(path, "/v1/")
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Allow", allow)
			if api {
				writeError(w, http.StatusMethodNotAllowed, "method not allowed; this route takes "+allow, nil)
				return
			}
			http.Error(w, "method not allowed; this page takes "+allow, http.StatusMethodNotAllowed)
		})
	}
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route; see /v1/openapi.yaml", nil)
	})
	var h http.Handler = mux
	h = http.NewCrossOriginProtection().Handler(h)
	h = securityHeaders(h)
	return s.logRequests(h)
}

// securityHeaders sets headers every response carries, and HSTS on
// requests that came over TLS.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		if r.TLS != nil {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}

// logInfo is filled in by handlers for the request log line.
type logInfo struct{ principal string }

type logInfoKey struct{}

func setLogPrincipal(r *http.Request, name string) {
	if li, ok := r.Context().Value(logInfoKey{}).(*logInfo); ok {
		li.principal = name
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request: method, path, status, bytes,
// duration, the token's name and the client's address. Query strings, headers and bodies are
// not logged (they may carry secrets or letters).
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		li := &logInfo{}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), logInfoKey{}, li)))
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			return
		}
		s.log.Info("http request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.bytes, "ms", time.Since(start).Milliseconds(), "principal", li.principal, "client", clientAddr(r))
	})
}

// apiError is the body of every API error.
type apiError struct {
	Error  string              `json:"error"`
	Fields []client.FieldError `json:"fields,omitempty"`
}

func writeError(w http.ResponseWriter, status int, msg string, fields []client.FieldError) {
	writeJSON(w, status, apiError{Error: msg, Fields: fields})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck // the client went away
}
