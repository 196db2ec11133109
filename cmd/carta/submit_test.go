package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
)

const (
	validJob   = `{"schema":"letter/v1","id":"%s","letterhead":{"name":"Comitė Ciudadano"},"letter":{"date":"2024-03-01","recipients":[{"name":"Mélanie Joly"}],"salutation":"Dear Minister Joly,","body":[{"text":"Hola, López Obrador."}],"closing":"Sincerely,"}}`
	invalidJob = `{"schema":"letter/v1","id":"%s","letterhead":{"name":"Comitė Ciudadano"},"letter":{"recipients":[],"salutation":"Dear,","body":[{"text":"Hi"}],"closing":"Bye"}}`
)

func jobJSON(format, id string) string { return strings.Replace(format, "%s", id, 1) }

// TestSubmitDownloads covers -o: it needs the embedded S3 server's
// credentials in the environment, so it cannot run in parallel with the
// other tests.
func TestSubmitDownloads(t *testing.T) {
	for _, kv := range queuetest.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", demoAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", demoSecretKey)
	st := startTestStack(t)
	dir := t.TempDir()
	valid1 := writeJobFile(t, dir, "valid1.json", jobJSON(validJob, "dl-valid-1"))
	valid2 := writeJobFile(t, dir, "valid2.json", jobJSON(validJob, "dl-valid-2"))
	invalid := writeJobFile(t, dir, "invalid.json", jobJSON(invalidJob, "dl-invalid"))
	conn := []string{"-nats-url", st.natsURL, "-s3-endpoint", st.s3URL, "-s3-path-style", "-timeout", "1m"}
	want := wantSHA256(t, []byte(jobJSON(validJob, "dl-valid-1")))

	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderr   []string
		files    map[string]string // path → sha256 ("" = must not exist)
		noStderr bool
	}{
		{
			name: "one job to a file", args: []string{valid1, "-o", filepath.Join(dir, "one.pdf")}, code: exitOK,
			stdout: []string{"dl-valid-1: submitted", "dl-valid-1: done", "saved to " + filepath.Join(dir, "one.pdf")},
			files:  map[string]string{filepath.Join(dir, "one.pdf"): want}, noStderr: true,
		},
		{
			name: "jobs to a folder, one invalid", args: []string{"-o", filepath.Join(dir, "many"), valid1, valid2, invalid}, code: exitInvalid,
			stdout: []string{"dl-valid-1: done", "dl-valid-2: done"},
			stderr: []string{"dl-invalid: failed after 1 attempt(s): invalid_job: letter.recipients: "},
			files: map[string]string{
				filepath.Join(dir, "many", "dl-valid-1.pdf"): want,
				filepath.Join(dir, "many", "dl-valid-2.pdf"): wantSHA256(t, []byte(jobJSON(validJob, "dl-valid-2"))),
				filepath.Join(dir, "many", "dl-invalid.pdf"): "",
			},
		},
		{
			name: "resubmitting a done job gives its result again", args: []string{"--wait", valid1}, code: exitOK,
			stdout: []string{"dl-valid-1: submitted before (duplicate id, not queued again)", "dl-valid-1: done, 1 pages"},
		},
	} {
		var stdout, stderr bytes.Buffer
		code := runSubmit(context.Background(), append(append([]string{}, conn...), tc.args...), &stdout, &stderr)
		if code != tc.code {
			t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.name, code, tc.code, &stdout, &stderr)
		}
		for _, s := range tc.stdout {
			if !strings.Contains(stdout.String(), s) {
				t.Errorf("%s: stdout lacks %q:\n%s", tc.name, s, &stdout)
			}
		}
		for _, s := range tc.stderr {
			if !strings.Contains(stderr.String(), s) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, s, &stderr)
			}
		}
		if tc.noStderr && stderr.Len() > 0 {
			t.Errorf("%s: stderr:\n%s", tc.name, &stderr)
		}
		for p, sum := range tc.files {
			if sum == "" {
				if _, err := os.Stat(p); !os.IsNotExist(err) {
					t.Errorf("%s: %s exists", tc.name, p)
				}
				continue
			}
			if got := fileSHA256(t, p); got != sum {
				t.Errorf("%s: %s sha256 %s, want %s", tc.name, p, got, sum)
			}
		}
	}
}

func TestSubmitCommand(t *testing.T) {
	t.Parallel()
	st := startTestStack(t)
	noQueue := startTestNATS(t)
	dir := t.TempDir()
	valid := writeJobFile(t, dir, "valid.json", jobJSON(validJob, "cmd-valid"))
	same := writeJobFile(t, dir, "same.json", jobJSON(validJob, "cmd-valid"))
	other := writeJobFile(t, dir, "other.json", strings.Replace(jobJSON(validJob, "cmd-valid"), "Hola", "Adiós", 1))
	invalid := writeJobFile(t, dir, "invalid.json", jobJSON(invalidJob, "cmd-invalid"))
	noID := writeJobFile(t, dir, "noid.json", `{"schema":"letter/v1"}`)

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"no job files", []string{}, exitInvalid, nil, []string{"usage: carta submit"}},
		{"a file without id submits nothing", []string{valid, noID}, exitInvalid, nil, []string{"noid.json: bad job id: id: required", "nothing submitted"}},
		{"a missing file submits nothing", []string{valid, filepath.Join(dir, "missing.json")}, exitInvalid, nil, []string{"missing.json", "nothing submitted"}},
		{"the same id twice is submitted once", []string{"-nats-url", st.natsURL, valid, same, other}, exitOK,
			[]string{"cmd-valid: submitted (stream CARTA_JOBS"}, []string{"other.json: id cmd-valid is also the id of " + valid + ", with other contents"}},
		{"wait reports the failure with its field", []string{"-nats-url", st.natsURL, "-wait", invalid}, exitInvalid,
			[]string{"cmd-invalid: submitted"}, []string{"cmd-invalid: failed after 1 attempt(s): invalid_job: letter.recipients"}},
		{"wait for a good job", []string{"-nats-url", st.natsURL, valid, "-wait"}, exitOK,
			[]string{"cmd-valid: done, 1 pages", "s3://carta/letters/cmd-valid.pdf"}, nil},
		{"no worker has created the queue", []string{"-nats-url", noQueue, valid}, exitFailure,
			nil, []string{"no queue stream listens on the jobs subject (is a worker running?)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runSubmit(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, &stdout, &stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, &stdout)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, &stderr)
				}
			}
			if n := strings.Count(stdout.String(), "submitted"); tc.name == "the same id twice is submitted once" && n != 1 {
				t.Errorf("%d submitted lines:\n%s", n, &stdout)
			}
		})
	}
}

// startTestNATS runs a bare JetStream nats-server with no stream in it.
func startTestNATS(t *testing.T) string {
	t.Helper()
	return queuetest.StartNATS(t).URL()
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		on   bool
		want string
	}{
		{"terminal shows counts", true, "\r\x1b[Kdone 2, failed 1, waiting 3"},
		{"not a terminal stays silent", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			p := &progress{w: &b, on: tc.on, done: 2, failed: 1, waiting: 3}
			p.draw()
			if b.String() != tc.want {
				t.Fatalf("draw = %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func TestOutPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, out string
		n         int
		want      string
	}{
		{"one job to a file", filepath.Join(dir, "x.pdf"), 1, filepath.Join(dir, "x.pdf")},
		{"one job to an existing folder", dir, 1, filepath.Join(dir, "a.pdf")},
		{"one job to a path ending in slash", "new/", 1, filepath.Join("new", "a.pdf")},
		{"many jobs to a folder", "new", 2, filepath.Join("new", "a.pdf")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := outPath(tc.out, "a", tc.n); got != tc.want {
				t.Fatalf("outPath = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSubmitWaitIgnoresOldFailure: a job that failed as invalid, fixed
// and resubmitted under the same id after the Duplicates window, is
// waited for anew: -wait reports the new result, not the old failure.
func TestSubmitWaitIgnoresOldFailure(t *testing.T) {
	t.Parallel()
	const window = 200 * time.Millisecond
	st, err := startStack(context.Background(), stackConfig{
		dataDir: t.TempDir(), natsAddr: "127.0.0.1:0", s3Addr: "127.0.0.1:0", bucket: "carta",
		worker: queue.Config{Concurrency: 1, Duplicates: window, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.stop)
	dir := t.TempDir()
	broken := writeJobFile(t, dir, "broken.json", jobJSON(invalidJob, "cmd-refixed"))
	fixed := writeJobFile(t, dir, "fixed.json", jobJSON(validJob, "cmd-refixed"))

	var stdout, stderr bytes.Buffer
	if code := runSubmit(context.Background(), []string{"-nats-url", st.natsURL, "-wait", broken}, &stdout, &stderr); code != exitInvalid {
		t.Fatalf("broken job: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInvalid, &stdout, &stderr)
	}
	time.Sleep(2 * window) // let the Duplicates window pass, so the fixed job is queued
	// runSubmit allows a minute of clock skew, longer than this test's
	// Duplicates window: submit with none (worker and client share a clock).
	nc, err := queue.Connect(queue.NATSOptions{URL: st.natsURL})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(fixed)
	if err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := submitAndWait(ctx, c, []submitJob{{path: fixed, id: "cmd-refixed", data: data}}, submitOptions{wait: true}, &stdout, &stderr)
	if code != exitOK || !strings.Contains(stdout.String(), "cmd-refixed: submitted (stream") || !strings.Contains(stdout.String(), "cmd-refixed: done, 1 pages") {
		t.Fatalf("fixed job: exit %d, want %d and done\nstdout:\n%s\nstderr:\n%s", code, exitOK, &stdout, &stderr)
	}
}

// TestSubmitWaitAcrossNATSRestart: "carta submit -wait" with 20 jobs
// while nats-server restarts (2 s down) and the jobs finish around the
// restart, some while submit is still reconnecting (their events lost):
// it reports every job done and exits 0.
func TestSubmitWaitAcrossNATSRestart(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	slow := queuetest.StartProxy(t, c.versity.Endpoint(), false)
	slow.Hold(queuetest.IsPut) // jobs in flight across the restart
	c.worker(slow.URL(), "-concurrency", "2", "-max-in-flight", "20")
	dir := t.TempDir()
	var files []string
	const n = 20
	for i := range n {
		id := fmt.Sprintf("restart-wait-%02d", i)
		files = append(files, writeJobFile(t, dir, id+".json", string(queuetest.Job(id))))
	}
	var stdout, stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- runSubmit(context.Background(), append([]string{"-nats-url", c.nats.URL(), "-wait", "-timeout", "2m"}, files...), &stdout, &stderr)
	}()
	waitHeld(t, slow)
	c.nats.Stop()
	slow.Release() // uploads finish while NATS is down
	time.Sleep(2 * time.Second)
	c.nats.Start()
	select {
	case got := <-code:
		if got != exitOK {
			t.Errorf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", got, &stdout, &stderr)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("submit -wait did not return within 3 minutes")
	}
	if got := strings.Count(stdout.String(), ": done,"); got != n {
		t.Errorf("%d jobs reported done, want %d\nstdout:\n%s\nstderr:\n%s", got, n, &stdout, &stderr)
	}
}
