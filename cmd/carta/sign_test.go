package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSigningPEM writes a self-signed signing certificate and its key.
func writeSigningPEM(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "Comitė Ciudadano"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestSignFlags(t *testing.T) {
	t.Parallel()
	certFile, keyFile := writeSigningPEM(t)
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantName string // "" for no signer
		wantErr  string
	}{
		{name: "nothing configured signs nothing"},
		{name: "PEM files by flag", args: []string{"-sign-cert", certFile, "-sign-key", keyFile}, wantName: "Comitė Ciudadano"},
		{name: "PEM files and name by environment", env: map[string]string{"CARTA_SIGN_CERT": certFile, "CARTA_SIGN_KEY": keyFile, "CARTA_SIGN_NAME": "Mélanie Joly"}, wantName: "Mélanie Joly"},
		{name: "flag wins over environment", env: map[string]string{"CARTA_SIGN_CERT": certFile, "CARTA_SIGN_KEY": keyFile, "CARTA_SIGN_NAME": "env"}, args: []string{"-sign-name", "flag"}, wantName: "flag"},
		{name: "reason without a key", args: []string{"-sign-reason", "Joint letter"}, wantErr: "load signing key: -sign-reason (CARTA_SIGN_REASON) is set but no key is"},
		{name: "TSA URL without a key", env: map[string]string{"CARTA_SIGN_TSA_URL": "http://127.0.0.1:1/tsa"}, wantErr: "load signing key: -sign-tsa-url (CARTA_SIGN_TSA_URL) is set but no key is"},
		{name: "LTV by environment needs a TSA", env: map[string]string{"CARTA_SIGN_CERT": certFile, "CARTA_SIGN_KEY": keyFile, "CARTA_SIGN_LTV": "true"}, wantErr: "-sign-ltv (CARTA_SIGN_LTV) needs a timestamp authority (PAdES B-LT builds on B-T): set -sign-tsa-url (CARTA_SIGN_TSA_URL)"},
		{name: "bad TSA URL by flag", args: []string{"-sign-cert", certFile, "-sign-key", keyFile, "-sign-tsa-url", "tsa.example"}, wantErr: `load timestamp authority: -sign-tsa-url (CARTA_SIGN_TSA_URL): "tsa.example" is not an http:// or https:// URL`},
		{name: "missing key file names flag and variable", env: map[string]string{"CARTA_SIGN_CERT": certFile, "CARTA_SIGN_KEY": "/nonexistent/key.pem"}, wantErr: "load signing key: -sign-key (CARTA_SIGN_KEY): open /nonexistent/key.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("render", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			out := fs.String("o", "", "output")
			sf := addSignFlags(fs)
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			if err := applySignEnv(fs, lookup); err != nil {
				t.Fatalf("applySignEnv: %v", err)
			}
			if err := fs.Parse(tt.args); err != nil {
				t.Fatalf("parse: %v", err)
			}
			if *out != "" {
				t.Error("applySignEnv touched a flag other than the signing flags")
			}
			if u := fs.Lookup("sign-key").Usage; !strings.HasSuffix(u, "(env CARTA_SIGN_KEY)") {
				t.Errorf("-sign-key usage %q does not name its variable", u)
			}
			s, err := sf.signer()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("signer() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("signer(): %v", err)
			}
			switch {
			case tt.wantName == "" && s != nil:
				t.Error("signer() returned a signer with nothing configured")
			case tt.wantName != "" && (s == nil || s.Name() != tt.wantName):
				t.Errorf("signer() = %v, want one named %q", s, tt.wantName)
			}
		})
	}
}
