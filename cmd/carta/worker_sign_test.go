package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/queuetest"
	"github.com/carta-letters/carta/renderer/sign/signtest"
)

// TestWorkerSignFlagsRefused: a signing option without a key, or a key
// that cannot be loaded, stops "carta worker" before it connects, with
// exit status 2 and the reason.
func TestWorkerSignFlagsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"reason without a key", []string{"-sign-reason", "Joint letter"}, nil,
			"carta worker: load signing key: -sign-reason (CARTA_SIGN_REASON) is set but no key is"},
		{"missing key file from the environment", nil, []string{"CARTA_SIGN_CERT=/nonexistent/cert.pem", "CARTA_SIGN_KEY=/nonexistent/key.pem"},
			"carta worker: load signing certificate: -sign-cert (CARTA_SIGN_CERT): open /nonexistent/cert.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(cartaBin, append([]string{"worker", "-nats-url", "nats://127.0.0.1:1", "-http-addr", ""}, tt.args...)...)
			cmd.Env = append(os.Environ(), tt.env...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("worker did not exit: %s", out.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != exitInvalid || !strings.Contains(out.String(), tt.want) {
				t.Errorf("exit %d, output %q; want %d and %q", code, out.String(), exitInvalid, tt.want)
			}
		})
	}
}

// TestWorkerSignsLetters runs "carta worker" with a signing certificate
// on a job with per-recipient copies: every stored PDF is signed, pdfsig
// finds the signature valid, and the event names the signer.
func TestWorkerSignsLetters(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	certFile, keyFile := writeSigningPEM(t)
	c.worker(c.versity.Endpoint(), "-sign-cert", certFile, "-sign-key", keyFile, "-sign-reason", "Carta worker test")

	var m map[string]any
	if err := json.Unmarshal(queuetest.Job("signed-w1"), &m); err != nil {
		t.Fatal(err)
	}
	m["output"] = map[string]any{"copies": "per-recipient"}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	c.submit(data, "signed-w1")
	r := c.waitResult("signed-w1")
	if r.Status != client.StatusDone || r.SignedBy != "Comitė Ciudadano" || len(r.Copies) != 2 {
		t.Fatalf("result = %+v, want done, signed by Comitė Ciudadano, with 2 copies", r)
	}
	st := queuetest.Store(t, c.versity.Endpoint(), "letters", nil, false)
	for _, o := range []struct{ key, sha string }{{r.Key, r.SHA256}, {r.Copies[0].Key, r.Copies[0].SHA256}} {
		body, meta, err := st.Get(context.Background(), o.key)
		if err != nil {
			t.Fatalf("get %s: %v", o.key, err)
		}
		sum := sha256.Sum256(body)
		if got := hex.EncodeToString(sum[:]); got != o.sha || queue.MetadataValue(meta["carta-signed-by"]) != "Comitė Ciudadano" {
			t.Errorf("%s: sha256 %s (event %s), carta-signed-by %q", o.key, got, o.sha, meta["carta-signed-by"])
		}
		bin, err := exec.LookPath("pdfsig")
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("pdfsig (poppler-utils) is required in CI: %v", err)
			}
			t.Skip("pdfsig not installed")
		}
		path := filepath.Join(t.TempDir(), "signed.pdf")
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(bin, path).CombinedOutput()
		for _, w := range []string{"Signature Validation: Signature is Valid.", "Total document signed", "Signer Certificate Common Name: Comitė Ciudadano"} {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: pdfsig output lacks %q:\n%s", o.key, w, out)
			}
		}
	}
}

// TestWorkerTSAOutage runs "carta worker" with a timestamp authority and
// LTV: while the TSA is down the job is held (its delivery not spent) and
// nothing is stored nor reported; once it is back the letter is stored
// with a B-LTA signature, and the event and the object metadata say so.
func TestWorkerTSAOutage(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	a.SetTSADown(true)
	c := newCluster(t)
	c.worker(c.versity.Endpoint(), "-sign-cert", a.CertFile, "-sign-key", a.KeyFile,
		"-sign-tsa-url", a.TSAURL, "-sign-tsa-ca", a.TSARootFile, "-sign-ltv", "-sign-lta", "-max-deliver", "100")
	c.submit(queuetest.Job("tsa-down-1"), "tsa-down-1")

	// At least two deliveries (three TSA attempts each) find the TSA down.
	deadline := time.Now().Add(90 * time.Second)
	for a.TSARequests.Load() < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("the worker asked the TSA %d times in 90 s", a.TSARequests.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.mu.Lock()
	n := len(c.results)
	c.mu.Unlock()
	if n != 0 {
		t.Fatalf("a result was published while the TSA was down: %+v", c.results)
	}
	st := queuetest.Store(t, c.versity.Endpoint(), "letters", nil, false)
	if _, _, err := st.Get(context.Background(), "letters/tsa-down-1.pdf"); err == nil {
		t.Fatal("a letter was stored while the TSA was down")
	}

	a.SetTSADown(false)
	r := c.waitResult("tsa-down-1")
	if r.Status != client.StatusDone || r.SignedBy != signtest.SignerName || r.SignatureLevel != "B-LTA" || r.Attempts != 1 {
		t.Fatalf("result = %+v, want done, signed by %s at level B-LTA at the first delivery", r, signtest.SignerName)
	}
	body, meta, err := st.Get(context.Background(), r.Key)
	if err != nil {
		t.Fatal(err)
	}
	if meta["carta-signature-level"] != "B-LTA" {
		t.Errorf("carta-signature-level = %q, want B-LTA", meta["carta-signature-level"])
	}
	for _, w := range []string{"/Type /DSS", "/SubFilter /ETSI.CAdES.detached", "/SubFilter /ETSI.RFC3161"} {
		if !bytes.Contains(body, []byte(w)) {
			t.Errorf("the stored letter lacks %s", w)
		}
	}
}

// TestWorkerTSAOutageHeld: a TSA that stays down for longer than
// -max-deliver deliveries would take is an outage, not the job's fault:
// the job is held, not dead-lettered, its delivery not spent, nothing is
// stored, /readyz answers 503 naming the TSA and the flag to fix, the
// metrics say so; once the TSA answers, the worker resumes by itself and
// stores a B-T letter.
func TestWorkerTSAOutageHeld(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	a.SetTSADown(true)
	c := newCluster(t)
	addr := freeAddr(t)
	c.worker(c.versity.Endpoint(), "-sign-cert", a.CertFile, "-sign-key", a.KeyFile, "-sign-tsa-url", a.TSAURL,
		"-max-deliver", "2", "-storage-probe-max", "1s", "-http-addr", addr)
	c.submit(queuetest.Job("tsa-down-2"), "tsa-down-2")

	// Two deliveries of three TSA attempts each would be 6 requests: the
	// outage lasts well beyond what -max-deliver 2 allowed before.
	deadline := time.Now().Add(120 * time.Second)
	for a.TSARequests.Load() < 15 {
		if time.Now().After(deadline) {
			t.Fatalf("the worker asked the TSA %d times in 120 s", a.TSARequests.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, body := httpGet(t, "http://"+addr+"/readyz")
	for _, w := range []string{"timestamp authority " + a.TSAURL + " unavailable", "1 jobs held", "-sign-tsa-url (CARTA_SIGN_TSA_URL)", "HTTP 503 Service Unavailable"} {
		if code != http.StatusServiceUnavailable || !strings.Contains(body, w) {
			t.Errorf("/readyz = %d %q, want 503 with %q", code, body, w)
		}
	}
	_, metrics := httpGet(t, "http://"+addr+"/metrics")
	for _, w := range []string{"carta_signer_up 0", "carta_signer_outages_total 1", "carta_jobs_held 1", `carta_jobs_total{status="retried"} 0`} {
		if !strings.Contains(metrics, w+"\n") {
			t.Errorf("/metrics lacks %q", w)
		}
	}
	c.mu.Lock()
	n := len(c.results)
	c.mu.Unlock()
	if n != 0 {
		t.Fatalf("a result was published while the TSA was down: %+v", c.results)
	}
	if info := c.consumerInfo(); info.NumRedelivered != 0 || info.NumAckPending != 1 {
		t.Errorf("consumer: %d redelivered, %d pending, want 0 and 1 (the job held at its first delivery)", info.NumRedelivered, info.NumAckPending)
	}
	dead, err := c.js.Stream(context.Background(), queue.DefaultDeadStream)
	if err != nil {
		t.Fatal(err)
	}
	if di, err := dead.Info(context.Background()); err != nil || di.State.Msgs != 0 {
		t.Fatalf("dead-letter stream: %+v, %v; want empty", di, err)
	}
	st := queuetest.Store(t, c.versity.Endpoint(), "letters", nil, false)
	if _, _, err := st.Get(context.Background(), "letters/tsa-down-2.pdf"); err == nil {
		t.Fatal("a letter was stored while the TSA was down")
	}

	a.SetTSADown(false)
	r := c.waitResult("tsa-down-2")
	if r.Status != client.StatusDone || r.SignatureLevel != "B-T" || r.Attempts != 1 {
		t.Fatalf("result = %+v (error %+v), want done at level B-T at the first delivery", r, r.Error)
	}
	pdf, meta, err := st.Get(context.Background(), r.Key)
	if err != nil {
		t.Fatal(err)
	}
	if meta["carta-signature-level"] != "B-T" || !bytes.Contains(pdf, []byte("/SubFilter /ETSI.CAdES.detached")) {
		t.Errorf("stored letter: level %q, CAdES signature %v; want B-T and true", meta["carta-signature-level"], bytes.Contains(pdf, []byte("/SubFilter /ETSI.CAdES.detached")))
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if code, _ := httpGet(t, "http://"+addr+"/readyz"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz not ready 30 s after the TSA came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWorkerTSARefusedFails: a TSA that refuses the request (wrong
// credentials: HTTP 401) is a configuration fault, not an outage: the
// job is retried and fails after -max-deliver deliveries with a result
// that names the flags to check; nothing is stored.
func TestWorkerTSARefusedFails(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	a.TSAUsername, a.TSAPassword = "carta", "right"
	pw := filepath.Join(t.TempDir(), "tsa-password")
	if err := os.WriteFile(pw, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCluster(t)
	c.worker(c.versity.Endpoint(), "-sign-cert", a.CertFile, "-sign-key", a.KeyFile, "-sign-tsa-url", a.TSAURL,
		"-sign-tsa-username", "carta", "-sign-tsa-password-file", pw, "-max-deliver", "2")
	c.submit(queuetest.Job("tsa-refused"), "tsa-refused")
	r := c.waitResult("tsa-refused")
	want := "sign pdf: timestamp signature: -sign-tsa-url (CARTA_SIGN_TSA_URL) " + a.TSAURL + ": HTTP 401 Unauthorized: check -sign-tsa-username"
	if r.Status != client.StatusFailed || r.Error == nil || !strings.Contains(r.Error.Message, want) || r.Attempts != 2 {
		t.Fatalf("result = %+v (error %+v), want failed after 2 attempts with %q", r, r.Error, want)
	}
	st := queuetest.Store(t, c.versity.Endpoint(), "letters", nil, false)
	if _, _, err := st.Get(context.Background(), "letters/tsa-refused.pdf"); err == nil {
		t.Error("a letter was stored although the TSA refused the request")
	}
}

// freeAddr is a free 127.0.0.1 address for the worker's -http-addr.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// httpGet returns the status and body of GET url, waiting up to 30 s for
// the worker to listen.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			return resp.StatusCode, string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
