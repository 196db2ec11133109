package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/s3store"
)

// Test tokens.
const (
	submitSecret = "submit-7Kq2vX9pL4mN8rT1wZ5yB3cH6jD0fG"
	readSecret   = "read-Qm4Tz8Wp1Lx6Nv3Rk9Bj2Hs7Yc5Dg0Fa"
	bothSecret   = "both-Ew5Ru2Ix8Oa1Sd4Fg7Hj0Kl3Zc6Vb9Nm"
)

var testTokens = []api.Token{
	{Name: "billing", Roles: []api.Role{api.RoleSubmit}, Secret: submitSecret},
	{Name: "staff", Roles: []api.Role{api.RoleRead}, Secret: readSecret},
	{Name: "ops", Roles: []api.Role{api.RoleSubmit, api.RoleRead}, Secret: bothSecret},
}

// Credentials of the test S3 server; TestMain puts them in the
// environment, where the SDK's standard chain finds them.
const (
	s3AccessKey = "cartatestaccess"
	s3SecretKey = "cartatestsecret0123456789"
)

func TestMain(m *testing.M) {
	os.Setenv("AWS_ACCESS_KEY_ID", s3AccessKey)
	os.Setenv("AWS_SECRET_ACCESS_KEY", s3SecretKey)
	os.Setenv("AWS_REGION", "us-east-1")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Unsetenv("AWS_PROFILE")
	os.Unsetenv("AWS_ENDPOINT_URL")
	os.Unsetenv("AWS_ENDPOINT_URL_S3")
	code := m.Run()
	stopVersity()
	os.Exit(code)
}

func inCI() bool { return os.Getenv("CI") == "true" }

// need skips the test outside CI and fails it in CI.
func need(t *testing.T, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// startNATS runs an embedded nats-server with JetStream for one test.
func startNATS(t *testing.T) *nats.Conn {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("start nats-server: not ready after 10s")
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatalf("connect nats: %v", err)
	}
	t.Cleanup(func() {
		nc.Close()
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return nc
}

// setupQueue creates the jobs stream and the results bucket as a worker
// would.
func setupQueue(t *testing.T, nc *nats.Conn) jetstream.KeyValue {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := queue.Config{}
	if _, err := js.CreateOrUpdateStream(ctx, c.JobsStreamConfig()); err != nil {
		t.Fatalf("create jobs stream: %v", err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, c.ResultsBucketConfig())
	if err != nil {
		t.Fatalf("create results bucket: %v", err)
	}
	return kv
}

// putResult records a result as the worker does.
func putResult(t *testing.T, kv jetstream.KeyValue, r client.Result) {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(context.Background(), queue.Token(r.ID), data); err != nil {
		t.Fatalf("record result %s: %v", r.ID, err)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// harness is a running API server.
type harness struct {
	srv   *api.Server
	url   string // http://127.0.0.1:PORT
	nc    *nats.Conn
	kv    jetstream.KeyValue
	store *s3store.Store // nil without S3
}

// startAPI starts the API on a loopback listener. cfg.NATS is filled in.
func startAPI(t *testing.T, nc *nats.Conn, cfg api.Config) *harness {
	t.Helper()
	cfg.NATS = nc
	if cfg.Tokens == nil {
		cfg.Tokens = testTokens
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatalf("create api server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	})
	return &harness{srv: srv, url: "http://" + ln.Addr().String(), nc: nc}
}

// waitReady waits until the server's index has loaded.
func (h *harness) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !h.srv.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("api server not ready after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitListed waits until GET /v1/letters (the index) lists the ids with
// a result.
func (h *harness) waitListed(t *testing.T, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var l api.LetterList
		resp := h.do(t, "GET", "/v1/letters?limit=200", readSecret, nil)
		decodeBody(t, resp, &l)
		have := map[string]bool{}
		for _, x := range l.Letters {
			have[x.ID] = x.Status != api.StatusQueued
		}
		all := true
		for _, id := range ids {
			all = all && have[id]
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("letters %v not listed after 10s", ids)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var noRedirect = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// do sends a request with a bearer token ("" for none) and returns the
// response, without following redirects.
func (h *harness) do(t *testing.T, method, path, secret string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func decodeBody(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s body %q: %v", resp.Request.URL.Path, data, err)
	}
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// newJar returns a cookie jar for a browser-like client.
func newJar(t *testing.T) http.CookieJar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

// smallJob is a minimal valid job with the given id.
func smallJob(id string) string {
	return fmt.Sprintf(`{"schema":"letter/v1","id":%q,"letterhead":{"name":"Comitė Ciudadano"},
"letter":{"recipients":[{"name":"Mélanie Joly","title":"Minister of Foreign Affairs"}],
"salutation":"Dear Minister Joly:","body":[{"text":"We write about the summit."}],"closing":"Sincerely,"}}`, id)
}

// referenceJob returns the bytes of the reference job nals-2023.json.
func referenceJob(t *testing.T) []byte {
	t.Helper()
	for _, p := range []string{
		"../../renderer/job/testdata/nals-2023.json",
		"../../../shared/jobs/nals-2023.json",
		"/work/shared/jobs/nals-2023.json",
	} {
		if data, err := os.ReadFile(p); err == nil {
			return data
		}
	}
	t.Fatal("reference job nals-2023.json not found")
	return nil
}

// ---- Versity Gateway ----

type versity struct {
	endpoint string // http://127.0.0.1:PORT
	cmd      *exec.Cmd
	err      error
}

var (
	versityOnce sync.Once
	versityRun  *versity
)

func versitygwPath() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(os.Getenv("GOPATH"), "bin"), filepath.Join(os.Getenv("HOME"), "go", "bin")} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// startVersity starts one Versity Gateway for the whole test binary (or
// skips the test outside CI when it is not installed) and returns its
// endpoint.
func startVersity(t *testing.T) string {
	t.Helper()
	versityOnce.Do(func() {
		v := &versity{}
		versityRun = v
		bin := versitygwPath()
		if bin == "" {
			v.err = fmt.Errorf("versitygw not installed (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
			return
		}
		dir, err := os.MkdirTemp("", "carta-api-versity-")
		if err != nil {
			v.err = err
			return
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			v.err = err
			return
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(bin, "--port", addr, "posix", dir)
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s3AccessKey, "ROOT_SECRET_KEY="+s3SecretKey)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			v.err = fmt.Errorf("start versitygw: %w", err)
			return
		}
		v.cmd = cmd
		v.endpoint = "http://" + addr
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Get(v.endpoint + "/")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusForbidden {
					return
				}
			}
			if time.Now().After(deadline) {
				v.err = fmt.Errorf("versitygw on %s not ready after 20s", addr)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	if versityRun.err != nil {
		need(t, "S3 server: %v", versityRun.err)
	}
	return versityRun.endpoint
}

func stopVersity() {
	if versityRun != nil && versityRun.cmd != nil {
		versityRun.cmd.Process.Kill()
		versityRun.cmd.Wait()
	}
}

var bucketSeq struct {
	sync.Mutex
	n int
}

// newBucket creates a fresh bucket on the test S3 server and returns a
// store for it.
func newBucket(t *testing.T, endpoint string) *s3store.Store {
	t.Helper()
	bucketSeq.Lock()
	bucketSeq.n++
	name := fmt.Sprintf("carta-api-%d-%d", time.Now().UnixNano()%1e9, bucketSeq.n)
	bucketSeq.Unlock()
	st, err := s3store.New(context.Background(), s3store.Config{Bucket: name, Endpoint: endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// storePDF stores pdf as the worker would and records a done result.
func storePDF(t *testing.T, st *s3store.Store, kv jetstream.KeyValue, id, title string, recipients []string, pdf []byte, pages int) client.Result {
	t.Helper()
	key := "letters/" + id + ".pdf"
	err := st.PutIfAbsent(context.Background(), queue.Object{
		Key: key, Body: pdf, ContentType: "application/pdf",
		Metadata: map[string]string{"carta-job-id": id, "carta-sha256": sha(pdf), "carta-pages": fmt.Sprint(pages), "carta-version": "test"},
	})
	if err != nil {
		t.Fatalf("store pdf: %v", err)
	}
	res := client.Result{
		ID: id, Status: client.StatusDone, Bucket: st.Bucket(), Key: key, SHA256: sha(pdf),
		Bytes: int64(len(pdf)), Pages: pages, Attempts: 1, CartaVersion: "test",
		Title: title, Recipients: recipients, FinishedAt: time.Now().UTC().Truncate(time.Second),
	}
	putResult(t, kv, res)
	return res
}

// presigner returns an api.Objects for the bucket of st, presigning for
// public (the worker's endpoint when "").
func presigner(t *testing.T, endpoint, public string) *s3store.Presigner {
	t.Helper()
	p, err := s3store.NewPresigner(context.Background(), s3store.PresignConfig{
		Config:         s3store.Config{Bucket: "unused", Endpoint: endpoint, PathStyle: true},
		PublicEndpoint: public,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runWorker starts a real worker on nc and st with cfg, running until
// the test ends (its error, if any, fails the test).
func runWorker(t *testing.T, nc *nats.Conn, st queue.ObjectStore, cfg queue.Config) *queue.Worker {
	t.Helper()
	w, err := queue.New(nc, st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	return w
}
