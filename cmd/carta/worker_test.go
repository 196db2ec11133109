package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/queue/s3store"
	"github.com/carta-letters/carta/renderer"
)

// cartaBin is the carta binary built once by TestMain for the tests that
// run "carta worker" as a real process.
var cartaBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "carta-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cartaBin = filepath.Join(dir, "carta")
	build := exec.Command("go", "build", "-o", cartaBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build carta:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestApplyEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
		check   func(t *testing.T, f *workerFlags)
	}{
		{"env sets flags", map[string]string{"CARTA_NATS_URL": "nats://a:4222", "CARTA_CONCURRENCY": "7", "CARTA_ACK_WAIT": "90s", "CARTA_S3_PATH_STYLE": "true", "CARTA_MAX_BYTES": "2GiB"}, nil, "",
			func(t *testing.T, f *workerFlags) {
				if f.nats.URL != "nats://a:4222" || f.concurrency != 7 || time.Duration(f.ackWait) != 90*time.Second || !f.s3.PathStyle || f.maxBytes != 2<<30 {
					t.Errorf("flags = %+v", f)
				}
			}},
		{"command line wins", map[string]string{"CARTA_STREAM": "FROM_ENV"}, []string{"-stream", "FROM_FLAG"}, "",
			func(t *testing.T, f *workerFlags) {
				if f.cfg.Stream != "FROM_FLAG" {
					t.Errorf("stream = %q, want FROM_FLAG", f.cfg.Stream)
				}
			}},
		{"bad integer", map[string]string{"CARTA_CONCURRENCY": "x"}, nil,
			`invalid value "x" for -concurrency (CARTA_CONCURRENCY): must be a positive integer`, nil},
		{"zero integer", map[string]string{"CARTA_MAX_DELIVER": "0"}, nil,
			`invalid value "0" for -max-deliver (CARTA_MAX_DELIVER): must be a positive integer`, nil},
		{"bad duration", map[string]string{"CARTA_JOB_TIMEOUT": "soon"}, nil,
			`invalid value "soon" for -job-timeout (CARTA_JOB_TIMEOUT): must be a positive duration`, nil},
		{"bad bool", map[string]string{"CARTA_S3_PATH_STYLE": "maybe"}, nil,
			`invalid value "maybe" for -s3-path-style (CARTA_S3_PATH_STYLE)`, nil},
		{"defaults: results kept forever, 30s s3 requests", nil, nil, "",
			func(t *testing.T, f *workerFlags) {
				if f.cfg.ResultsTTL != 0 || f.s3.RequestTimeout != s3store.DefaultRequestTimeout {
					t.Errorf("results ttl %v, s3 request timeout %v; want 0 and %v", f.cfg.ResultsTTL, f.s3.RequestTimeout, s3store.DefaultRequestTimeout)
				}
			}},
		{"results ttl and s3 request timeout from env", map[string]string{"CARTA_RESULTS_TTL": "720h", "CARTA_S3_REQUEST_TIMEOUT": "5s"}, nil, "",
			func(t *testing.T, f *workerFlags) {
				if f.cfg.ResultsTTL != 720*time.Hour || f.s3.RequestTimeout != 5*time.Second {
					t.Errorf("results ttl %v, s3 request timeout %v; want 720h and 5s", f.cfg.ResultsTTL, f.s3.RequestTimeout)
				}
			}},
		{"results ttl 0 from the command line overrides env", map[string]string{"CARTA_RESULTS_TTL": "720h"}, []string{"-results-ttl", "0"}, "",
			func(t *testing.T, f *workerFlags) {
				if f.cfg.ResultsTTL != 0 {
					t.Errorf("results ttl %v, want 0", f.cfg.ResultsTTL)
				}
			}},
		{"results ttl below a second", map[string]string{"CARTA_RESULTS_TTL": "500ms"}, nil,
			`invalid value "500ms" for -results-ttl (CARTA_RESULTS_TTL): must be 0 (keep forever) or a duration of at least 1s`, nil},
		{"negative results ttl", map[string]string{"CARTA_RESULTS_TTL": "-1h"}, nil,
			`invalid value "-1h" for -results-ttl (CARTA_RESULTS_TTL): must be 0`, nil},
		{"max in flight from env, default unset", map[string]string{"CARTA_MAX_IN_FLIGHT": "8"}, nil, "",
			func(t *testing.T, f *workerFlags) {
				if f.maxInFlight != 8 {
					t.Errorf("max in flight %d, want 8", f.maxInFlight)
				}
			}},
		{"zero max in flight", map[string]string{"CARTA_MAX_IN_FLIGHT": "0"}, nil,
			`invalid value "0" for -max-in-flight (CARTA_MAX_IN_FLIGHT): must be a positive integer`, nil},
		{"zero s3 request timeout", map[string]string{"CARTA_S3_REQUEST_TIMEOUT": "0s"}, nil,
			`invalid value "0s" for -s3-request-timeout (CARTA_S3_REQUEST_TIMEOUT): must be a positive duration`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("worker", flag.ContinueOnError)
			fs.SetOutput(&bytes.Buffer{})
			f := defineWorkerFlags(fs)
			err := applyEnv(fs, func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			tt.check(t, f)
		})
	}
}

// TestWorkerRefusesBadSettings: settings that only fail together stop
// "carta worker" before it connects, with exit status 2 and the reason.
func TestWorkerRefusesBadSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"max in flight below concurrency", []string{"-concurrency", "4", "-max-in-flight", "3"},
			"carta worker: invalid value 3 for -max-in-flight (CARTA_MAX_IN_FLIGHT): must be at least -concurrency (4)"},
		{"nats timeout not below the job timeout", []string{"-job-timeout", "10s", "-nats-timeout", "10s"},
			"carta worker: invalid value 10s for -nats-timeout (CARTA_NATS_TIMEOUT): must be below -job-timeout (10s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			args := append([]string{"-nats-url", "nats://127.0.0.1:1", "-http-addr", ""}, tt.args...)
			if code := runWorker(context.Background(), args, &stdout, &stderr); code != exitInvalid || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), exitInvalid, tt.want)
			}
		})
	}
}

func TestEveryWorkerFlagHasAnEnvVar(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	defineWorkerFlags(fs)
	if err := applyEnv(fs, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(f.Usage, "(env "+envName(f.Name)+")") {
			t.Errorf("-%s: usage %q does not name %s", f.Name, f.Usage, envName(f.Name))
		}
	})
	if got := envName("nats-tls-cert"); got != "CARTA_NATS_TLS_CERT" {
		t.Errorf("envName = %q", got)
	}
}

// cluster is the servers a worker-process test runs against.
type cluster struct {
	t       *testing.T
	nats    *queuetest.NATS
	versity *queuetest.Versity
	nc      *nats.Conn
	js      jetstream.JetStream
	mu      sync.Mutex
	results []client.Result
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t, nats: queuetest.StartNATS(t), versity: queuetest.StartVersity(t)}
	queuetest.Store(t, c.versity.Endpoint(), "letters", nil, true)
	c.nc = c.nats.Connect(t)
	var err error
	if c.js, err = jetstream.New(c.nc); err != nil {
		t.Fatal(err)
	}
	if _, err := c.nc.Subscribe(queue.DefaultResultsSubject+".>", func(m *nats.Msg) {
		var r client.Result
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Errorf("bad result event: %v", err)
			return
		}
		c.mu.Lock()
		c.results = append(c.results, r)
		c.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := queue.Setup(context.Background(), c.js, queue.Config{AckWait: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	return c
}

// worker starts "carta worker" against the cluster with S3 at endpoint.
func (c *cluster) worker(endpoint string, extra ...string) (*exec.Cmd, *bytes.Buffer) {
	c.t.Helper()
	args := append([]string{"worker",
		"-nats-url", c.nats.URL(), "-s3-endpoint", endpoint, "-s3-path-style", "-s3-bucket", "letters",
		"-ack-wait", "2s", "-concurrency", "1", "-http-addr", "", "-retry-base", "100ms", "-retry-max", "500ms",
	}, extra...)
	cmd := exec.Command(cartaBin, args...)
	cmd.Env = append(os.Environ(), queuetest.Env()...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_, _ = cmd.Process.Wait()
		}
		if c.t.Failed() {
			c.t.Logf("worker %d output:\n%s", cmd.Process.Pid, out.String())
		}
	})
	return cmd, &out
}

func (c *cluster) submit(data []byte, id string) {
	c.t.Helper()
	if _, err := c.js.Publish(context.Background(), queue.DefaultSubject, data, jetstream.WithMsgID(id)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) waitResult(id string) client.Result {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, r := range c.results {
			if r.ID == id {
				c.mu.Unlock()
				return r
			}
		}
		c.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no result for %s after 60s", id)
	return client.Result{}
}

func (c *cluster) consumerInfo() *jetstream.ConsumerInfo {
	c.t.Helper()
	cons, err := c.js.Consumer(context.Background(), queue.DefaultStream, queue.DefaultConsumer)
	if err != nil {
		c.t.Fatal(err)
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	return info
}

func waitHeld(t *testing.T, p *queuetest.Proxy) {
	t.Helper()
	select {
	case <-p.Held():
	case <-time.After(60 * time.Second):
		t.Fatal("the worker never uploaded")
	}
}

func waitExit(t *testing.T, cmd *exec.Cmd, within time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("worker did not exit within %v", within)
		return -1
	}
}

// TestWorkerKilledMidJob: a worker killed with SIGKILL while uploading
// leaves its job to be redelivered after AckWait and finished by another
// worker, with exactly one object.
func TestWorkerKilledMidJob(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	slow := queuetest.StartProxy(t, c.versity.Endpoint(), false)
	slow.Hold(queuetest.IsPut) // the network to S3 stalls

	a, _ := c.worker(slow.URL())
	data := queuetest.Job("kill-1")
	c.submit(data, "kill-1")
	waitHeld(t, slow)
	if err := a.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = a.Process.Wait()

	b, _ := c.worker(c.versity.Endpoint())
	r := c.waitResult("kill-1")
	if r.Status != client.StatusDone || r.Attempts < 2 {
		t.Errorf("result = %+v, want done after more than one attempt", r)
	}
	_, want, err := renderer.RenderJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.SHA256 != want.SHA256 {
		t.Errorf("sha256 = %s, local render %s", r.SHA256, want.SHA256)
	}
	st := queuetest.Store(t, c.versity.Endpoint(), "letters", nil, false)
	keys, err := st.List(context.Background(), "")
	if err != nil || len(keys) != 1 {
		t.Errorf("objects = %v (%v), want exactly one", keys, err)
	}
	body, _, err := st.Get(context.Background(), "letters/kill-1.pdf")
	if err != nil || string(body) != string(want.PDF) {
		t.Errorf("stored object differs from a local render (err %v)", err)
	}
	_ = b.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, b, 30*time.Second); code != 0 {
		t.Errorf("worker b exit code %d after SIGTERM, want 0", code)
	}
}

// TestWorkerSIGTERMDrains: on SIGTERM the worker finishes the job in
// flight, pulls nothing more, and exits 0.
func TestWorkerSIGTERMDrains(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	slow := queuetest.StartProxy(t, c.versity.Endpoint(), false)
	slow.Hold(queuetest.IsPut)

	// -max-in-flight 1: by default a worker holds 2 × -concurrency jobs,
	// pulling the next while one uploads; with one, it holds only the job
	// it works on.
	w, out := c.worker(slow.URL(), "-shutdown-timeout", "30s", "-max-in-flight", "1")
	c.submit(queuetest.Job("term-1"), "term-1")
	waitHeld(t, slow)
	// A second job waits in the stream: the only in-flight slot is busy,
	// so the worker must not have pulled it.
	c.submit(queuetest.Job("term-2"), "term-2")
	if err := w.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the signal is handled while the upload is stalled
	slow.Release()
	if code := waitExit(t, w, 30*time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	r := c.waitResult("term-1")
	if r.Status != client.StatusDone || r.Attempts != 1 {
		t.Errorf("in-flight job result = %+v, want done on the first attempt", r)
	}
	info := c.consumerInfo()
	if info.NumPending != 1 || info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Errorf("consumer after shutdown: pending %d, ack pending %d, redelivered %d; want 1, 0, 0 (term-2 untouched)",
			info.NumPending, info.NumAckPending, info.NumRedelivered)
	}
	if !strings.Contains(out.String(), `"job_id":"term-1"`) {
		t.Errorf("logs do not carry job_id:\n%s", out.String())
	}
}
