package queuetest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue/s3store"
)

// Credentials of the test S3 server.
const (
	AccessKey = "carta-test-access"
	SecretKey = "carta-test-secret-key"
	Region    = "us-east-1"
)

func itoa(i int) string { return strconv.Itoa(i) }

// VersityPath returns the path of the versitygw binary. Without one it
// skips the test, or fails it when CI=true.
func VersityPath(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(string(bytes.TrimSpace(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Versity is a running versitygw S3 server over a posix folder.
type Versity struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	mu   sync.Mutex
	cmd  *exec.Cmd
	log  *syncBuffer
}

// StartVersity starts versitygw on a free loopback port, serving a new
// temporary folder, waits until it answers, and stops it at the end of
// the test.
func StartVersity(t testing.TB) *Versity {
	t.Helper()
	v := &Versity{t: t, bin: VersityPath(t), dir: t.TempDir(), port: freePort(t), log: &syncBuffer{}}
	v.Start()
	t.Cleanup(func() {
		v.Stop()
		if t.Failed() {
			t.Logf("versitygw log (tail):\n%s", v.log.tail(4000))
		}
	})
	return v
}

// Start starts the server (again) on its port and folder.
func (v *Versity) Start() {
	v.t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	cmd := exec.Command(v.bin, "--port", "127.0.0.1:"+itoa(v.port), "posix", v.dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+AccessKey, "ROOT_SECRET_KEY="+SecretKey)
	cmd.Stdout, cmd.Stderr = v.log, v.log
	if err := cmd.Start(); err != nil {
		v.t.Fatalf("start versitygw: %v", err)
	}
	v.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(v.Endpoint() + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusForbidden {
				return
			}
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("start versitygw: no 403 on / after 20s (last error %v); log:\n%s", err, v.log.tail(2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 5s).
func (v *Versity) Stop() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cmd == nil {
		return
	}
	_ = v.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = v.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = v.cmd.Process.Kill()
		<-done
	}
	v.cmd = nil
}

// Dir is the folder the server keeps its buckets in (bucket b is the
// folder Dir/b, each object a file in it).
func (v *Versity) Dir() string { return v.dir }

// Endpoint is the server's http URL.
func (v *Versity) Endpoint() string { return "http://127.0.0.1:" + itoa(v.port) }

// Store returns an s3store.Store for bucket at endpoint (the server's own
// or a proxy's), with the test credentials, path-style addressing and one
// attempt per request. Pass create to create the bucket.
func Store(t testing.TB, endpoint, bucket string, client *http.Client, create bool) *s3store.Store {
	t.Helper()
	c := StoreConfig(endpoint, bucket)
	c.HTTPClient = client
	st, err := s3store.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if create {
		if err := st.CreateBucket(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// Env is the environment a subprocess needs to reach the test S3 server.
func Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey, "AWS_REGION=" + Region,
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		s.b.Reset()
		fmt.Fprintln(&s.b, "[earlier output dropped]")
	}
	return s.b.Write(p)
}

func (s *syncBuffer) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.b.Bytes()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
