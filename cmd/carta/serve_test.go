package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue/queuetest"
)

// lockedBuffer is a bytes.Buffer safe to write from one goroutine while
// another reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func noEnv(string) (string, bool) { return "", false }

func TestServeRefusesBadSettings(t *testing.T) {
	t.Parallel()
	tokensFile := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokensFile, []byte("# staff\nstaff:reader:0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"no tokens", nil, nil, "no tokens: set CARTA_TOKENS"},
		{"short secret from env", nil, map[string]string{"CARTA_TOKENS": "a:read:short"}, "at least 32"},
		{"bad role in file", []string{"-tokens-file", tokensFile}, nil, `role "reader"`},
		{"missing tokens file", []string{"-tokens-file", "/nonexistent/tokens"}, nil, "no such file"},
		{"anonymous on all interfaces", []string{"-allow-anonymous", "-addr", "0.0.0.0:8080"}, nil, "needs a loopback -addr"},
		{"anonymous from env on a public address", []string{"-addr", ":8080"}, map[string]string{"CARTA_ALLOW_ANONYMOUS": "true"}, "needs a loopback -addr"},
		{"link expiry over a week", []string{"-tokens", "a:read:Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh", "-link-expiry", "200h"}, nil, "between 1s and 168h"},
		{"half a tls pair", []string{"-tokens", "a:read:Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh", "-tls-cert", "c.pem"}, nil, "both -tls-cert and -tls-key"},
		{"stray argument", []string{"extra"}, nil, `unexpected argument "extra"`},
		{"bad duration from env", nil, map[string]string{"CARTA_LINK_EXPIRY": "soon"}, "CARTA_LINK_EXPIRY"},
		{"zero s3 request timeout from env", nil, map[string]string{"CARTA_S3_REQUEST_TIMEOUT": "0s"}, "-s3-request-timeout (CARTA_S3_REQUEST_TIMEOUT): must be a positive duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr lockedBuffer
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			code := serve(context.Background(), tc.args, lookup, &stdout, &stderr)
			if code != exitInvalid {
				t.Errorf("exit %d, want %d", code, exitInvalid)
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.wantErr)
			}
			if strings.Contains(stderr.String(), "0123456789abcdef") {
				t.Errorf("stderr shows a secret: %q", stderr.String())
			}
		})
	}
}

func TestServeRuns(t *testing.T) {
	t.Parallel()
	n := queuetest.StartNATS(t)
	const secret = "serve-test-Qm4Tz8Wp1Lx6Nv3Rk9Bj2Hs7Yc5"
	env := map[string]string{"CARTA_TOKENS": "staff:read:" + secret, "CARTA_NATS_URL": n.URL()}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, []string{"-addr", "127.0.0.1:0", "-s3-endpoint", "http://127.0.0.1:9", "-s3-path-style"}, lookup, &stdout, &stderr)
	}()

	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+/)`)
	var base string
	for deadline := time.Now().Add(15 * time.Second); base == ""; {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d early; stderr:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	get := func(path, token string) int {
		req, _ := http.NewRequest("GET", base+strings.TrimPrefix(path, "/"), nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/healthz", ""); code != 200 {
		t.Errorf("GET /healthz = %d", code)
	}
	if code := get("/v1/letters", ""); code != 401 {
		t.Errorf("GET /v1/letters without token = %d, want 401", code)
	}
	// No worker has created the results bucket: the list is empty, not an error.
	if code := get("/v1/letters", secret); code != 200 {
		t.Errorf("GET /v1/letters = %d, want 200", code)
	}
	if code := get("/v1/openapi.yaml", ""); code != 200 {
		t.Errorf("GET /v1/openapi.yaml = %d", code)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exit %d after cancel, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if strings.Contains(stderr.String(), secret) {
		t.Error("the log shows a token secret")
	}
	if !strings.Contains(stderr.String(), `"staff"`) {
		t.Errorf("the log does not name the tokens: %s", stderr.String())
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool trusting the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "carta test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeHTTPS(t *testing.T) {
	t.Parallel()
	n := queuetest.StartNATS(t)
	certFile, keyFile, pool := selfSigned(t)
	const secret = "serve-tls-Ew5Ru2Ix8Oa1Sd4Fg7Hj0Kl3Zc6"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	args := []string{"-addr", "127.0.0.1:0", "-nats-url", n.URL(), "-tokens", "staff:read:" + secret, "-tls-cert", certFile, "-tls-key", keyFile}
	go func() { done <- serve(ctx, args, noEnv, &stdout, &stderr) }()
	re := regexp.MustCompile(`listening on (https://127\.0\.0\.1:\d+/)`)
	var base string
	for deadline := time.Now().Add(15 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("serve did not start over TLS; stdout %q stderr:\n%s", stdout.String(), stderr.String())
		}
	}
	c := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.PostForm(base+"login", url.Values{"token": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sc := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(sc, "Secure") || !strings.Contains(sc, "HttpOnly") {
		t.Errorf("POST /login over TLS = %d, Set-Cookie %q; want 303 and a Secure HttpOnly cookie", resp.StatusCode, sc)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("serve exit %d, want 0", code)
	}
}
