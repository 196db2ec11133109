package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
// LTV: while the TSA is down the job is retried and nothing is stored nor
// reported; once it is back the letter is stored with a B-LTA signature,
// and the event and the object metadata say so.
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
	if r.Status != client.StatusDone || r.SignedBy != signtest.SignerName || r.SignatureLevel != "B-LTA" || r.Attempts < 2 {
		t.Fatalf("result = %+v, want done, signed by %s at level B-LTA after at least 2 attempts", r, signtest.SignerName)
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

// TestWorkerTSAOutageFails: a TSA that stays down past -max-deliver
// deliveries fails the job with a result that says so; nothing is stored.
func TestWorkerTSAOutageFails(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	a.SetTSADown(true)
	c := newCluster(t)
	c.worker(c.versity.Endpoint(), "-sign-cert", a.CertFile, "-sign-key", a.KeyFile, "-sign-tsa-url", a.TSAURL, "-max-deliver", "2")
	c.submit(queuetest.Job("tsa-down-2"), "tsa-down-2")
	r := c.waitResult("tsa-down-2")
	want := "sign pdf: timestamp signature: -sign-tsa-url (CARTA_SIGN_TSA_URL) " + a.TSAURL + ": 3 attempts: HTTP 503 Service Unavailable"
	if r.Status != client.StatusFailed || r.Error == nil || !strings.Contains(r.Error.Message, want) || r.Attempts != 2 {
		t.Fatalf("result = %+v (error %+v), want failed after 2 attempts with %q", r, r.Error, want)
	}
	st := queuetest.Store(t, c.versity.Endpoint(), "letters", nil, false)
	if _, _, err := st.Get(context.Background(), "letters/tsa-down-2.pdf"); err == nil {
		t.Error("a letter was stored although the TSA never answered")
	}
}
