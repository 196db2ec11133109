package s3embed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"
	"github.com/versity/versitygw/s3api"
)

// Environment of the gateway process. childEnv marks a process started by
// Start; the others carry its settings (the keys stay out of its command
// line, which other users of the machine can read).
const (
	childEnv     = "CARTA_S3EMBED_CHILD"
	dirEnv       = "CARTA_S3EMBED_DIR"
	addrEnv      = "CARTA_S3EMBED_ADDR"
	regionEnv    = "CARTA_S3EMBED_REGION"
	accessKeyEnv = "CARTA_S3EMBED_ACCESS_KEY"
	secretKeyEnv = "CARTA_S3EMBED_SECRET_KEY"
)

// readyFD is the file descriptor on which the gateway process writes
// "ready" once it listens (the first of exec.Cmd.ExtraFiles). Its stdout
// and stderr carry the gateway's own messages.
const readyFD = 3

// DefaultRegion is the region of a server whose Config leaves it empty.
const DefaultRegion = "us-east-1"

// StartTimeout is how long Start waits for the gateway to listen.
const StartTimeout = 30 * time.Second

func init() {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
}

// Config says where and how the server runs.
type Config struct {
	// Dir is the folder of the buckets: bucket b is the folder Dir/b and
	// object key k the file Dir/b/k. It is created if missing. Required.
	Dir string
	// Addr is the listen address, host:port. Port 0 (or "" for the whole
	// address, which means 127.0.0.1:0) picks a free port.
	Addr string
	// AccessKey and SecretKey are the only credentials the server
	// accepts. Required.
	AccessKey, SecretKey string
	// Region is the region requests must be signed for; default
	// DefaultRegion.
	Region string
	// Log receives the gateway's own messages (errors, mostly); nil
	// discards them.
	Log io.Writer
}

// Server is a running Versity Gateway. Close stops it.
type Server struct {
	url     string
	addr    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	done    chan struct{} // closed when the process has exited
	waitErr error

	closeOnce sync.Once
}

// Start starts Versity Gateway with its posix backend over c.Dir in a
// process of its own (this same executable, run again) and returns once
// it accepts requests, or the error that stopped it. The process ends
// with Close, or with this one.
func Start(ctx context.Context, c Config) (*Server, error) {
	if c.Dir == "" || c.AccessKey == "" || c.SecretKey == "" {
		return nil, errors.New("start s3 server: Dir, AccessKey and SecretKey are required")
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("start s3 server: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start s3 server: %w", err)
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return nil, fmt.Errorf("start s3 server: listen address %q: %w", c.Addr, err)
	}
	// With port 0 a free port is chosen here and handed to the gateway;
	// should another process take it in between, try another one.
	tries := 1
	if port == "0" {
		tries = 3
	}
	for i := 0; ; i++ {
		addr := c.Addr
		if port == "0" {
			if addr, err = freeAddr(host); err != nil {
				return nil, fmt.Errorf("start s3 server: %w", err)
			}
		}
		s, err := start(ctx, c, dir, addr)
		if err == nil || i+1 >= tries {
			return s, err
		}
	}
}

func start(ctx context.Context, c Config, dir, addr string) (*Server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start s3 server: %w", err)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start s3 server: %w", err)
	}
	defer readyR.Close()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"=1", dirEnv+"="+dir, addrEnv+"="+addr, regionEnv+"="+c.Region,
		accessKeyEnv+"="+c.AccessKey, secretKeyEnv+"="+c.SecretKey)
	cmd.Dir = dir
	logw := c.Log
	if logw == nil {
		logw = io.Discard
	}
	tail := &tailBuffer{}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(logw, tail), io.MultiWriter(logw, tail)
	cmd.ExtraFiles = []*os.File{readyW}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		readyW.Close()
		return nil, fmt.Errorf("start s3 server: %w", err)
	}
	if err := cmd.Start(); err != nil {
		readyW.Close()
		return nil, fmt.Errorf("start s3 server: %w", err)
	}
	readyW.Close()
	s := &Server{url: "http://" + addr, addr: addr, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()

	ready := make(chan bool, 1)
	go func() {
		// The gateway writes "ready" and closes its end; a gateway that
		// fails closes it having written nothing.
		b, _ := io.ReadAll(io.LimitReader(readyR, 64))
		ready <- string(b) == "ready\n"
	}()
	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case ok := <-ready:
		if ok {
			return s, nil
		}
		<-s.done // the pipe closed: the process is exiting
	case <-s.done:
	case <-timer.C:
		s.Close()
		return nil, fmt.Errorf("start s3 server on %s: not listening after %v: %s", addr, StartTimeout, tail.String())
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("start s3 server: %w", ctx.Err())
	}
	return nil, fmt.Errorf("start s3 server on %s: %v: %s", addr, s.waitErr, strings.TrimSpace(tail.String()))
}

// URL is the server's endpoint, http://HOST:PORT (path-style addressing).
func (s *Server) URL() string { return s.url }

// Addr is the server's listen address, HOST:PORT.
func (s *Server) Addr() string { return s.addr }

// Close stops the server (SIGTERM, then SIGKILL after 10 s) and waits for
// its process to end.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		_ = s.stdin.Close()
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return nil
}

// freeAddr returns host with a port that was free a moment ago.
func freeAddr(host string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// runChild runs the gateway in the process Start started, until its
// standard input closes (Close, or the parent's end) or SIGTERM, and
// returns the exit code. It ignores SIGINT: Ctrl-C in a terminal reaches
// the whole process group, and the parent, finishing its jobs in flight,
// still needs the server; the parent stops it last.
func runChild() int {
	signal.Ignore(os.Interrupt)
	ready := os.NewFile(readyFD, "ready")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := serve(ctx, ready); err != nil {
		fmt.Fprintf(os.Stderr, "s3 server: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, ready *os.File) error {
	dir := os.Getenv(dirEnv)
	// One gateway per folder: this process holds an exclusive lock on it
	// for its lifetime (released when it exits), which is what makes
	// ForceNoObjLockFile below safe.
	lock, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer lock.Close()
	locked := true
	switch err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); {
	case errors.Is(err, syscall.EWOULDBLOCK):
		return fmt.Errorf("lock %s: another s3 server serves this folder: %w", dir, err)
	case err != nil:
		// A file system without flock (some network mounts): keep the
		// gateway's own lock files instead.
		locked = false
	}
	var ms meta.MetadataStorer = meta.XattrMeta{}
	opts := posix.PosixOpts{
		// Conditional writes (If-None-Match: *) are serialised inside
		// this process only, rather than also with a lock file per
		// object shard (an open, flock and close per PUT): no other
		// gateway writes to this folder (see the lock above).
		ForceNoObjLockFile: locked,
		// The ETag is the object's checksum, "SHA256-<base64>" for a
		// PUT with x-amz-checksum-sha256 (CRC64NVME, computed, for one
		// without), instead of an MD5 computed only for it: S3 does not
		// promise an MD5 ETag either (multipart, SSE-KMS). Content-MD5
		// is still checked when a request sends one.
		DataIntegrityEtag: true,
	}
	if err := (meta.XattrMeta{}).Test(dir); err != nil {
		// No user extended attributes on this file system: keep the
		// metadata in a sidecar folder beside the buckets' folder.
		side := dir + ".meta"
		if err := os.MkdirAll(side, 0o755); err != nil {
			return err
		}
		sc, err := meta.NewSideCar(side)
		if err != nil {
			return fmt.Errorf("metadata sidecar %s: %w", side, err)
		}
		ms, opts.SideCarDir = sc, side
	}
	be, err := posix.New(dir, ms, opts)
	if err != nil {
		return err
	}
	var once sync.Once
	onListen := func() {
		once.Do(func() {
			_, _ = ready.WriteString("ready\n")
			ready.Close()
		})
	}
	return embedgw.RunVersityGW(ctx, be, &embedgw.Config{
		RootUserAccess:    os.Getenv(accessKeyEnv),
		RootUserSecret:    os.Getenv(secretKeyEnv),
		Region:            os.Getenv(regionEnv),
		Ports:             []string{os.Getenv(addrEnv)},
		MaxConnections:    250000,
		MaxRequests:       100000,
		MultipartMaxParts: 10000,
		KeepAlive:         true,
		Quiet:             true,
		S3Options:         []s3api.Option{s3api.WithOnListen(onListen)},
	})
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// Pid is the process id of the gateway, for measuring its CPU time and
// memory (carta bench reads them from /proc).
func (s *Server) Pid() int { return s.cmd.Process.Pid }
