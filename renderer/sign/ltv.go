package sign

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/carta-letters/carta/renderer/internal/pdffile"
)

// validation is what a DSS holds: certificates and revocation data (DER).
type validation struct {
	certs []*x509.Certificate
	ocsps [][]byte
	crls  [][]byte
}

// addCert adds c unless it is there already.
func (v *validation) addCert(c *x509.Certificate) {
	for _, have := range v.certs {
		if have.Equal(c) {
			return
		}
	}
	v.certs = append(v.certs, c)
}

// buildChain orders leaf's chain from pool: leaf, its issuer, and so on
// up to a self-signed root. It fails when an issuer is missing.
func buildChain(leaf *x509.Certificate, pool []*x509.Certificate, fix string) ([]*x509.Certificate, error) {
	chain := []*x509.Certificate{leaf}
	for c := leaf; !bytes.Equal(c.RawIssuer, c.RawSubject) || c.CheckSignatureFrom(c) != nil; {
		var issuer *x509.Certificate
		for _, p := range pool {
			if bytes.Equal(p.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(p) == nil {
				issuer = p
				break
			}
		}
		if issuer == nil {
			return nil, fmt.Errorf("the chain of %s is incomplete: the certificate of its issuer %s is missing: add it (up to the root) to %s",
				describeCert(leaf), describeName(c.Issuer), fix)
		}
		if len(chain) > 10 {
			return nil, fmt.Errorf("the chain of %s is longer than 10 certificates", describeCert(leaf))
		}
		chain = append(chain, issuer)
		c = issuer
	}
	return chain, nil
}

// errRevoked marks a certificate that its CA revoked.
var errRevoked = errors.New("certificate revoked")

// revocation fetches the revocation status of every certificate of chain
// but the root (the last) and adds it, with the certificates, to v: an
// OCSP response from the certificate's OCSP responder, else a CRL from
// its distribution points. A revoked certificate is an error wrapping
// errRevoked.
func (s *Signer) revocation(ctx context.Context, chain []*x509.Certificate, v *validation) error {
	for _, c := range chain {
		v.addCert(c)
	}
	for i, c := range chain[:len(chain)-1] {
		issuer := chain[i+1]
		var errs []error
		done := false
		for _, url := range c.OCSPServer {
			resp, err := s.fetchOCSP(ctx, url, c, issuer)
			if err != nil {
				errs = append(errs, fmt.Errorf("OCSP %s: %w", url, err))
				continue
			}
			switch resp.Status {
			case ocsp.Revoked:
				return fmt.Errorf("%w: %s was revoked on %s (OCSP %s)", errRevoked, describeCert(c), day(resp.RevokedAt), url)
			case ocsp.Good:
				v.ocsps = append(v.ocsps, resp.Raw)
				if resp.Certificate != nil {
					v.addCert(resp.Certificate)
				}
				done = true
			default:
				errs = append(errs, fmt.Errorf("OCSP %s: status unknown", url))
			}
			if done {
				break
			}
		}
		for _, url := range c.CRLDistributionPoints {
			if done {
				break
			}
			der, rl, err := s.fetchCRL(ctx, url, issuer)
			if err != nil {
				errs = append(errs, fmt.Errorf("CRL %s: %w", url, err))
				continue
			}
			for _, e := range rl.RevokedCertificateEntries {
				if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
					return fmt.Errorf("%w: %s was revoked on %s (CRL %s)", errRevoked, describeCert(c), day(e.RevocationTime), url)
				}
			}
			v.crls = append(v.crls, der)
			done = true
		}
		if !done {
			if len(errs) == 0 {
				return fmt.Errorf("fetch revocation data: %s names no OCSP responder and no CRL distribution point: -sign-ltv needs one", describeCert(c))
			}
			return fmt.Errorf("fetch revocation data of %s: %w", describeCert(c), errors.Join(errs...))
		}
	}
	return nil
}

// fetchOCSP asks the OCSP responder at url for the status of c and checks
// the answer's signature.
func (s *Signer) fetchOCSP(ctx context.Context, url string, c, issuer *x509.Certificate) (*ocsp.Response, error) {
	req, err := ocsp.CreateRequest(c, issuer, nil)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	var resp *ocsp.Response
	err = retry(ctx, s.attempts, s.backoff, func() (bool, error) {
		body, err := s.httpDo(ctx, "OCSP responder", http.MethodPost, url, "application/ocsp-request", req)
		if err != nil {
			return true, err
		}
		resp, err = ocsp.ParseResponseForCert(body, c, issuer)
		var re ocsp.ResponseError
		if errors.As(err, &re) && re.Status == ocsp.TryLater {
			return true, revocationUnavailable("OCSP responder", url, err)
		}
		return false, err
	})
	if err != nil {
		return nil, err
	}
	if !resp.NextUpdate.IsZero() && s.now().After(resp.NextUpdate) {
		return nil, fmt.Errorf("the answer is stale (next update %s)", resp.NextUpdate.UTC().Format(time.RFC3339))
	}
	return resp, nil
}

// fetchCRL downloads the CRL at url (DER or PEM) and checks its signature
// and that it is current.
func (s *Signer) fetchCRL(ctx context.Context, url string, issuer *x509.Certificate) ([]byte, *x509.RevocationList, error) {
	var der []byte
	err := retry(ctx, s.attempts, s.backoff, func() (bool, error) {
		body, err := s.httpDo(ctx, "CRL distribution point", http.MethodGet, url, "", nil)
		der = body
		return true, err
	})
	if err != nil {
		return nil, nil, err
	}
	if b, _ := pem.Decode(der); b != nil && b.Type == "X509 CRL" {
		der = b.Bytes
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse: %w", err)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return nil, nil, fmt.Errorf("not signed by %s: %w", describeCert(issuer), err)
	}
	if !rl.NextUpdate.IsZero() && s.now().After(rl.NextUpdate) {
		return nil, nil, fmt.Errorf("the CRL is stale (next update %s)", rl.NextUpdate.UTC().Format(time.RFC3339))
	}
	return der, rl, nil
}

// httpDo makes one HTTP request with the signer's timeout and returns
// the body of a 200 answer. A service that cannot be reached, times out
// or answers 5xx, 408 or 429 is an *UnavailableError naming kind (e.g.
// "OCSP responder") and url.
func (s *Signer) httpDo(ctx context.Context, kind, method, url, contentType string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.httpTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, revocationUnavailable(kind, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, revocationUnavailable(kind, url, fmt.Errorf("read answer: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("HTTP %s", resp.Status)
		if unavailableStatus(resp.StatusCode) {
			return nil, revocationUnavailable(kind, url, err)
		}
		return nil, err
	}
	return data, nil
}

// appendDSS appends to the signed pdf an incremental update adding a
// Document Security Store (ISO 32000-2, 12.8.4.3; ETSI EN 319 142-1,
// 5.4.2): one stream per certificate, OCSP response and CRL, the /DSS
// dictionary listing them and the catalog with /DSS added. Nothing else
// is written, so the signature's byte ranges and every signed object stay
// as they were.
func appendDSS(pdf []byte, v *validation) ([]byte, error) {
	tr, err := readTrailer(pdf)
	if err != nil {
		return nil, err
	}
	catalog, entries, err := readDictObject(tr, tr.root, "catalog")
	if err != nil {
		return nil, err
	}
	if _, ok := entries.get("DSS"); ok {
		return nil, errors.New("the PDF already has a /DSS")
	}
	u := tr.file.UpdateCopy(16 << 10)
	stream := func(data []byte) int {
		n := u.New()
		u.Stream(n, "", data)
		return n
	}
	list := func(key string, items [][]byte) string {
		if len(items) == 0 {
			return ""
		}
		s := " /" + key + " ["
		for i, data := range items {
			if i > 0 {
				s += " "
			}
			s += fmt.Sprintf("%d 0 R", stream(data))
		}
		return s + "]"
	}
	raw := make([][]byte, len(v.certs))
	for i, c := range v.certs {
		raw[i] = c.Raw
	}
	dss := "<</Type /DSS" + list("Certs", raw) + list("OCSPs", v.ocsps) + list("CRLs", v.crls) + ">>"
	dssNum := u.New()
	u.Object(dssNum, []byte(dss))
	var d bytes.Buffer
	d.WriteString("<<")
	d.Write(bytes.TrimSpace(catalog[2 : len(catalog)-2]))
	fmt.Fprintf(&d, "\n/DSS %d 0 R\n>>", dssNum)
	u.Object(tr.root.num, d.Bytes())
	return u.Finish(pdffile.Trailer{})
}
