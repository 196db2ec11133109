package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/digitorus/timestamp"
)

// tsa asks an RFC 3161 timestamp authority for timestamp tokens.
type tsa struct {
	url                string
	username, password string
	policy             asn1.ObjectIdentifier // nil: the TSA's default
	roots              *x509.CertPool        // nil: the chain is not verified
	rootCerts          []*x509.Certificate   // the certificates of roots
	client             *http.Client
	attempts           int
	backoff            time.Duration
}

// newTSA checks the TSA settings of cfg.
func newTSA(cfg Config) (*tsa, error) {
	t := &tsa{url: cfg.TSAURL, username: cfg.TSAUsername, attempts: cfg.Attempts, backoff: cfg.Backoff,
		client: &http.Client{Timeout: cfg.HTTPTimeout}}
	if !strings.HasPrefix(t.url, "http://") && !strings.HasPrefix(t.url, "https://") {
		return nil, fmt.Errorf("load timestamp authority: %s: %q is not an http:// or https:// URL", setting("sign-tsa-url"), t.url)
	}
	if cfg.TSAPasswordFile != "" {
		data, err := os.ReadFile(cfg.TSAPasswordFile)
		if err != nil {
			return nil, fmt.Errorf("load timestamp authority: %s: %w", setting("sign-tsa-password-file"), err)
		}
		t.password, _, _ = strings.Cut(string(data), "\n")
		t.password = strings.TrimSuffix(t.password, "\r")
		if t.username == "" {
			return nil, fmt.Errorf("load timestamp authority: %s is set but %s is not", setting("sign-tsa-password-file"), setting("sign-tsa-username"))
		}
	}
	if cfg.TSAPolicy != "" {
		for _, part := range strings.Split(cfg.TSAPolicy, ".") {
			n, err := strconv.Atoi(part)
			if err != nil || n < 0 || strconv.Itoa(n) != part {
				t.policy = nil
				break
			}
			t.policy = append(t.policy, n)
		}
		if len(t.policy) < 2 {
			return nil, fmt.Errorf("load timestamp authority: %s: %q is not an object identifier (e.g. 1.3.6.1.4.1.601.10.3.1)", setting("sign-tsa-policy"), cfg.TSAPolicy)
		}
	}
	if cfg.TSACAFile != "" {
		certs, err := readPEMCerts(cfg.TSACAFile)
		if err != nil {
			return nil, fmt.Errorf("load timestamp authority: %s: %w", setting("sign-tsa-ca"), err)
		}
		t.roots, t.rootCerts = x509.NewCertPool(), certs
		for _, c := range certs {
			t.roots.AddCert(c)
		}
	}
	return t, nil
}

// readPEMCerts reads the certificates of a PEM file.
func readPEMCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no PEM CERTIFICATE block in %s", path)
	}
	return certs, nil
}

// stamp returns a timestamp token over sha256(sigValue), trying the TSA
// up to t.attempts times with doubling pauses. The token is checked: its
// signature, its message imprint and nonce, and, with -sign-tsa-ca, its
// chain up to that CA. Errors say the TSA could not be reached or what is
// wrong with its answer, e.g.
//
//	timestamp signature: -sign-tsa-url (CARTA_SIGN_TSA_URL) http://tsa.example/: 3 attempts: Post "http://tsa.example/": connection refused
func (t *tsa) stamp(ctx context.Context, sigValue []byte) (*timestamp.Timestamp, error) {
	digest := sha256.Sum256(sigValue)
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	req, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Certificates: true,
		TSAPolicyOID: t.policy, Nonce: nonce}).Marshal()
	if err != nil {
		return nil, fmt.Errorf("timestamp signature: encode request: %w", err)
	}
	var body []byte
	err = retry(ctx, t.attempts, t.backoff, func() (bool, error) {
		body, err = t.post(ctx, req)
		var he *httpError
		if errors.As(err, &he) && he.code >= 400 && he.code < 500 && he.code != http.StatusRequestTimeout && he.code != http.StatusTooManyRequests {
			return false, err // asking again gets the same answer
		}
		return true, err
	})
	if err != nil {
		return nil, fmt.Errorf("timestamp signature: %s %s: %w", setting("sign-tsa-url"), t.url, err)
	}
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		return nil, fmt.Errorf("timestamp signature: %s %s: bad answer: %w", setting("sign-tsa-url"), t.url, err)
	}
	switch {
	case ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, digest[:]):
		return nil, fmt.Errorf("timestamp signature: %s %s: the token is not over the signature (message imprint differs)", setting("sign-tsa-url"), t.url)
	case ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0:
		return nil, fmt.Errorf("timestamp signature: %s %s: the token does not answer this request (nonce differs)", setting("sign-tsa-url"), t.url)
	case len(ts.Certificates) == 0:
		return nil, fmt.Errorf("timestamp signature: %s %s: the token holds no certificate", setting("sign-tsa-url"), t.url)
	}
	if t.roots != nil {
		inter := x509.NewCertPool()
		for _, c := range ts.Certificates[1:] {
			inter.AddCert(c)
		}
		tsaCert := tsaSigner(ts)
		if _, err := tsaCert.Verify(x509.VerifyOptions{Roots: t.roots, Intermediates: inter, CurrentTime: ts.Time,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
			return nil, fmt.Errorf("timestamp signature: %s %s: the TSA's certificate %s is not trusted by %s: %w",
				setting("sign-tsa-url"), t.url, describeCert(tsaCert), setting("sign-tsa-ca"), err)
		}
	}
	return ts, nil
}

// tsaSigner is the certificate that signed ts: the one with the
// timeStamping extended key usage, else the first.
func tsaSigner(ts *timestamp.Timestamp) *x509.Certificate {
	for _, c := range ts.Certificates {
		for _, u := range c.ExtKeyUsage {
			if u == x509.ExtKeyUsageTimeStamping {
				return c
			}
		}
	}
	return ts.Certificates[0]
}

// post sends one timestamp request.
func (t *tsa) post(ctx context.Context, req []byte) ([]byte, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	hr.Header.Set("Accept", "application/timestamp-reply")
	if t.username != "" {
		hr.SetBasicAuth(t.username, t.password)
	}
	resp, err := t.client.Do(hr)
	if err != nil {
		return nil, t.unavailable(err) // unreachable or timed out
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, t.unavailable(fmt.Errorf("read answer: %w", err))
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, &httpError{resp.StatusCode, fmt.Sprintf("HTTP %s: check %s and %s", resp.Status, setting("sign-tsa-username"), setting("sign-tsa-password-file"))}
	case unavailableStatus(resp.StatusCode):
		return nil, t.unavailable(&httpError{resp.StatusCode, "HTTP " + resp.Status})
	case resp.StatusCode != http.StatusOK:
		return nil, &httpError{resp.StatusCode, "HTTP " + resp.Status}
	}
	return body, nil
}

// httpError is an HTTP answer other than 200 OK.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

// retry runs f up to attempts times, pausing backoff, then twice that,
// and so on, between attempts; it stops early when f succeeds or says
// its error is not worth retrying.
func retry(ctx context.Context, attempts int, backoff time.Duration, f func() (again bool, err error)) error {
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%d attempts: %w (then %w)", i, err, ctx.Err())
			case <-time.After(backoff << (i - 1)):
			}
		}
		var again bool
		if again, err = f(); err == nil || !again {
			return err
		}
	}
	if attempts > 1 {
		return fmt.Errorf("%d attempts: %w", attempts, err)
	}
	return err
}
