package sign

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/sign/signtest"
)

// TestSignOutageClassified: a TSA that is down (HTTP 503) or cannot be
// reached is an *UnavailableError, for Sign and Probe, naming the TSA
// and the flag to fix; a refused request (HTTP 401) and a revoked
// certificate are not; Probe answers nil once the TSA is back.
func TestSignOutageClassified(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	letter := testLetter(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + l.Addr().String() + "/tsa"
	l.Close()
	locked := signtest.New(t) // a TSA that wants credentials
	locked.TSAUsername, locked.TSAPassword = "carta", "s3cret"

	tests := []struct {
		name    string
		setup   func(cfg *Config)
		down    bool
		outage  bool
		service string
	}{
		{name: "TSA 503", down: true, outage: true, service: "timestamp authority " + a.TSAURL},
		{name: "TSA unreachable", setup: func(cfg *Config) { cfg.TSAURL = closedURL }, outage: true, service: "timestamp authority " + closedURL},
		{name: "TSA refuses the request", setup: func(cfg *Config) { cfg.TSAURL = locked.TSAURL }},
		{name: "revoked certificate", setup: func(cfg *Config) {
			cfg.CertFile, cfg.KeyFile, cfg.LTV = a.RevokedCertFile, a.RevokedKeyFile, true
		}},
	}
	for _, tc := range tests {
		cfg := signtestConfig(a, false)
		if tc.setup != nil {
			tc.setup(&cfg)
		}
		s, err := Load(cfg)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		a.SetTSADown(tc.down)
		for _, call := range []struct {
			what string
			err  error
		}{{"Sign", signErr(s, letter)}, {"Probe", s.Probe(context.Background())}} {
			var ue *UnavailableError
			got := errors.As(call.err, &ue)
			if call.err == nil || got != tc.outage {
				t.Errorf("%s: %s = %v; outage %v, want %v", tc.name, call.what, call.err, got, tc.outage)
				continue
			}
			if !tc.outage {
				continue
			}
			if svc, fix := ue.Outage(); svc != tc.service || !strings.Contains(fix, "-sign-tsa-url (CARTA_SIGN_TSA_URL)") {
				t.Errorf("%s: %s: Outage() = %q, %q; want %q and a fix naming -sign-tsa-url", tc.name, call.what, svc, fix, tc.service)
			}
		}
		a.SetTSADown(false)
	}

	s, err := Load(signtestConfig(a, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(context.Background()); err != nil {
		t.Errorf("Probe with the TSA, OCSP and CRL up = %v, want nil", err)
	}
}

func signErr(s *Signer, pdf []byte) error {
	out, err := s.Sign(pdf)
	if err == nil && out == nil {
		return errors.New("no PDF and no error")
	}
	return err
}
