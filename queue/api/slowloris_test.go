package api_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/renderer/job"
)

// slack is how much later than its timeout the server may close a
// connection: the timeouts are enforced by deadlines, so this covers a
// busy machine, not a second timer.
const slack = 3 * time.Second

// trickle writes data to conn one byte per interval until it is all
// written, a write fails or stop is closed. It reports how many bytes
// it wrote on the returned channel.
func trickle(conn net.Conn, data []byte, interval time.Duration, stop <-chan struct{}) <-chan int {
	done := make(chan int, 1)
	go func() {
		n := 0
		defer func() { done <- n }()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for n < len(data) {
			if _, err := conn.Write(data[n : n+1]); err != nil {
				return
			}
			n++
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return done
}

// waitClosed reads from conn until the server closes it or limit has
// passed since start, and returns what the server sent. It fails the
// test if the connection is still open at the limit.
func waitClosed(t *testing.T, conn net.Conn, start time.Time, limit time.Duration) []byte {
	t.Helper()
	if err := conn.SetReadDeadline(start.Add(limit)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server still holds the connection %v after it opened (sent %q)", time.Since(start).Round(time.Millisecond), got)
	}
	return got // io.EOF or a reset: the server closed it
}

// TestSlowClients checks that clients that are slow on purpose (slow
// loris) or send too much cannot hold a connection or make the server
// read an oversized body, and that none of them queues a job.
func TestSlowClients(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	setupQueue(t, nc)
	// h serves through Server.Serve, with Carta's own timeouts.
	h := startAPI(t, nc, api.Config{})
	addr := strings.TrimPrefix(h.url, "http://")

	hs := h.srv.HTTPServer("127.0.0.1:0")
	timeouts := []struct {
		name      string
		got, want time.Duration
	}{
		{"ReadHeaderTimeout", hs.ReadHeaderTimeout, api.ReadHeaderTimeout},
		{"ReadTimeout", hs.ReadTimeout, api.ReadTimeout},
		{"WriteTimeout", hs.WriteTimeout, api.WriteTimeout},
		{"IdleTimeout", hs.IdleTimeout, api.IdleTimeout},
	}
	for _, to := range timeouts {
		if to.got != to.want || to.got <= 0 || to.got > 2*time.Minute {
			t.Errorf("HTTPServer %s = %v, want %v (set, and at most 2m)", to.name, to.got, to.want)
		}
	}
	if hs.MaxHeaderBytes != api.MaxHeaderBytes || hs.MaxHeaderBytes <= 0 {
		t.Errorf("HTTPServer MaxHeaderBytes = %d, want %d", hs.MaxHeaderBytes, api.MaxHeaderBytes)
	}

	// ReadTimeout (30 s) is too long for a unit test; the slow-body case
	// runs the same http.Server with it shortened.
	const shortReadTimeout = 2 * time.Second
	hs.ReadTimeout = shortReadTimeout
	hs.ErrorLog = nil
	hs.SetKeepAlivesEnabled(false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln) //nolint:errcheck // ErrServerClosed at cleanup
	t.Cleanup(func() { hs.Close() })
	shortAddr := ln.Addr().String()

	dial := func(t *testing.T, addr string) net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	header := func(contentLength int) string {
		return "POST /v1/jobs HTTP/1.1\r\nHost: carta.test\r\nAuthorization: Bearer " + submitSecret +
			"\r\nContent-Type: application/json\r\nContent-Length: " + fmt.Sprint(contentLength) + "\r\n\r\n"
	}

	t.Run("headers trickled one byte a second are cut at ReadHeaderTimeout", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, addr)
		start := time.Now()
		stop := make(chan struct{})
		// Never finishes the headers: "X-Pad: aaaa…" one byte a second.
		wrote := trickle(conn, []byte("POST /v1/jobs HTTP/1.1\r\nX-Pad: "+strings.Repeat("a", 600)), time.Second, stop)
		got := waitClosed(t, conn, start, api.ReadHeaderTimeout+slack)
		if len(got) != 0 && !strings.HasPrefix(string(got), "HTTP/1.1 4") {
			t.Errorf("server answered %q to unfinished headers", got)
		}
		closedAfter := time.Since(start)
		close(stop)
		n := <-wrote
		t.Logf("server closed the connection after %v, %d header bytes trickled", closedAfter.Round(100*time.Millisecond), n)
		if n < 3 {
			t.Errorf("only %d bytes trickled before the close at %v: the test did not exercise a slow client", n, closedAfter)
		}
	})

	t.Run("body trickled five bytes a second is cut at ReadTimeout", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, shortAddr)
		body := smallJob("slow-body")
		start := time.Now()
		if _, err := io.WriteString(conn, header(len(body))); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		defer close(stop)
		trickle(conn, []byte(body), 200*time.Millisecond, stop)
		got := waitClosed(t, conn, start, shortReadTimeout+slack)
		// The handler's read fails at the deadline; it may still answer
		// 400 before the connection closes, but must not queue the job.
		if len(got) != 0 && !strings.HasPrefix(string(got), "HTTP/1.1 400 ") {
			t.Errorf("server answered %q to a body cut short", firstLine(got))
		}
		t.Logf("server closed the connection after %v; it answered %q", time.Since(start).Round(100*time.Millisecond), firstLine(got))
	})

	t.Run("body over the cap is refused with 413 before it is all sent", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, addr)
		const total = 64 << 20
		if _, err := io.WriteString(conn, header(total)); err != nil {
			t.Fatal(err)
		}
		sent := make(chan int64, 1)
		go func() {
			var n int64
			defer func() { sent <- n }()
			prefix := smallJob("over-cap")
			chunk := []byte(prefix + strings.Repeat(" ", 32<<10-len(prefix)))
			for n < total {
				k, err := conn.Write(chunk)
				n += int64(k)
				if err != nil {
					return
				}
				chunk = []byte(strings.Repeat(" ", 32<<10))
			}
		}()
		if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("read response: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d, want 413", resp.StatusCode)
		}
		var n int64
		select {
		case n = <-sent:
		case <-time.After(10 * time.Second):
			t.Fatal("the server still reads the body 10s after its 413")
		}
		// The server answers from the declared length and reads none of
		// the body; what was sent sits in socket buffers. Far less than
		// the whole body may have gone.
		if n >= total/2 {
			t.Errorf("client sent %d of %d bytes before the server stopped it; cap is %d", n, total, job.MaxJobBytes)
		}
		t.Logf("client sent %d bytes (cap %d) before the connection was closed", n, job.MaxJobBytes)
	})

	t.Run("headers over MaxHeaderBytes are refused with 431", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, addr)
		go func() {
			w := bufio.NewWriter(conn)
			w.WriteString("POST /v1/jobs HTTP/1.1\r\nHost: carta.test\r\n") //nolint:errcheck
			line := "X-Pad: " + strings.Repeat("a", 1000) + "\r\n"
			for i := 0; i < 4*api.MaxHeaderBytes/len(line); i++ {
				if _, err := w.WriteString(line); err != nil {
					return
				}
			}
			w.Flush() //nolint:errcheck
		}()
		if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("read response: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status = %d, want 431", resp.StatusCode)
		}
	})

	t.Run("unauthenticated slow body is answered before the body", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, addr)
		if _, err := io.WriteString(conn, strings.Replace(header(1<<20), submitSecret, "wrong-secret-0123456789", 1)); err != nil {
			t.Fatal(err)
		}
		if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("read response: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", resp.StatusCode)
		}
	})

	t.Cleanup(func() {
		js, err := jetstream.New(nc)
		if err != nil {
			t.Error(err)
			return
		}
		stream, err := js.Stream(context.Background(), queue.DefaultStream)
		if err != nil {
			t.Error(err)
			return
		}
		info, err := stream.Info(context.Background())
		if err != nil {
			t.Error(err)
			return
		}
		if info.State.Msgs != 0 {
			t.Errorf("jobs stream has %d messages after slow and oversized clients, want 0", info.State.Msgs)
		}
	})
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}
