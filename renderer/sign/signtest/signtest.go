// Package signtest runs a throwaway public-key infrastructure for tests
// of signed letters: a root CA, an intermediate CA and signing
// certificates it issued (one of them revoked), and a timestamp
// authority with its own root, served over HTTP on 127.0.0.1 by an RFC
// 3161 timestamp server (github.com/digitorus/timestamp), OCSP responders
// (golang.org/x/crypto/ocsp) and CRL distribution points. Everything is
// made when New runs; nothing is fixed or downloaded.
//
// The signer's leaf has an OCSP responder (run by the intermediate CA);
// the intermediate has a CRL distribution point (the root's CRL); the
// TSA's certificate has an OCSP responder (run by the TSA root). So a
// B-LT signature needs both kinds of revocation data.
package signtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"
)

// SignerName is the common name of the signing certificates.
const SignerName = "Comitė Ciudadano"

// SignerEmail is the e-mail address of the signing certificates.
const SignerEmail = "letters@comite.example"

// TSAPolicy is the policy OID the TSA uses when a request names none.
var TSAPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}

// Authority is the running PKI. Its files are PEM.
type Authority struct {
	Root, Inter, Leaf, Revoked, TSARoot, TSA *x509.Certificate

	CertFile, KeyFile               string // leaf, intermediate, root; leaf key
	RevokedCertFile, RevokedKeyFile string // the revoked leaf, intermediate, root; its key
	RootFile, TSARootFile           string // the two roots alone

	TSAURL string

	// TSAUsername and TSAPassword, when set before the first request,
	// make the TSA ask for HTTP basic authentication.
	TSAUsername, TSAPassword string

	// TSARequests counts timestamp requests, answered or not.
	TSARequests atomic.Int64
	// OCSPRequests and CRLRequests count the revocation requests.
	OCSPRequests, CRLRequests atomic.Int64

	tsaDown atomic.Bool
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]crypto.Signer              // CA (by its URL slug) -> key
	certs   map[string]*x509.Certificate          // CA -> certificate
	revoked map[string][]x509.RevocationListEntry // CA -> revoked serials
	tsaKey  crypto.Signer
}

// SetTSADown makes the TSA answer 503 Service Unavailable (down) or
// work again.
func (a *Authority) SetTSADown(down bool) { a.tsaDown.Store(down) }

// New makes the PKI in a temporary directory of t and starts its
// servers, stopped when t ends.
func New(t testing.TB) *Authority {
	t.Helper()
	a := &Authority{keys: map[string]crypto.Signer{}, certs: map[string]*x509.Certificate{}, revoked: map[string][]x509.RevocationListEntry{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	a.TSAURL = a.srv.URL + "/tsa"
	now := time.Now()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("signtest: %v", err)
		}
	}
	newKey := func() crypto.Signer {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		return k
	}
	serial := int64(1)
	issue := func(tmpl *x509.Certificate, parent *x509.Certificate, parentKey, key crypto.Signer) *x509.Certificate {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.AddDate(1, 0, 0)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
		must(err)
		c, err := x509.ParseCertificate(der)
		must(err)
		return c
	}
	ca := func(name, slug, parent string, crl bool) *x509.Certificate {
		key := newKey()
		tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: name, Organization: []string{"Carta tests"}},
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		if crl {
			tmpl.CRLDistributionPoints = []string{a.srv.URL + "/crl/" + parent}
		}
		c := issue(tmpl, a.certs[parent], a.keys[parent], key)
		a.keys[slug], a.certs[slug] = key, c
		return c
	}
	a.Root = ca("Carta Test Root CA", "root", "", false)
	a.Inter = ca("Carta Test Signing CA", "inter", "root", true)
	a.TSARoot = ca("Carta Test TSA Root", "tsaroot", "", false)

	leaf := func() (*x509.Certificate, crypto.Signer) {
		key := newKey()
		return issue(&x509.Certificate{
			Subject:        pkix.Name{CommonName: SignerName, Organization: []string{"Comitė Ciudadano"}, Country: []string{"MX"}},
			EmailAddresses: []string{SignerEmail},
			KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
			OCSPServer:     []string{a.srv.URL + "/ocsp/inter"},
		}, a.Inter, a.keys["inter"], key), key
	}
	var leafKey, revokedKey crypto.Signer
	a.Leaf, leafKey = leaf()
	a.Revoked, revokedKey = leaf()
	a.revoked["inter"] = []x509.RevocationListEntry{{SerialNumber: a.Revoked.SerialNumber, RevocationTime: now.Add(-time.Minute)}}

	// RFC 3161 wants the timeStamping key usage alone and critical.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	must(err)
	a.tsaKey = newKey()
	a.TSA = issue(&x509.Certificate{
		Subject:         pkix.Name{CommonName: "Carta Test TSA", Organization: []string{"Carta tests"}},
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
		OCSPServer:      []string{a.srv.URL + "/ocsp/tsaroot"},
	}, a.TSARoot, a.keys["tsaroot"], a.tsaKey)

	write := func(name string, blocks ...*pem.Block) string {
		var data []byte
		for _, b := range blocks {
			data = append(data, pem.EncodeToMemory(b)...)
		}
		p := filepath.Join(dir, name)
		must(os.WriteFile(p, data, 0o600))
		return p
	}
	certBlock := func(c *x509.Certificate) *pem.Block { return &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw} }
	keyBlock := func(k crypto.Signer) *pem.Block {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		must(err)
		return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	a.CertFile = write("cert.pem", certBlock(a.Leaf), certBlock(a.Inter), certBlock(a.Root))
	a.KeyFile = write("key.pem", keyBlock(leafKey))
	a.RevokedCertFile = write("revoked.pem", certBlock(a.Revoked), certBlock(a.Inter), certBlock(a.Root))
	a.RevokedKeyFile = write("revoked-key.pem", keyBlock(revokedKey))
	a.RootFile = write("root.pem", certBlock(a.Root))
	a.TSARootFile = write("tsa-root.pem", certBlock(a.TSARoot))
	return a
}

func (a *Authority) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	path := r.URL.Path
	switch {
	case path == "/tsa" && r.Method == http.MethodPost:
		a.TSARequests.Add(1)
		if a.tsaDown.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		if a.TSAUsername != "" {
			if u, p, ok := r.BasicAuth(); !ok || u != a.TSAUsername || p != a.TSAPassword {
				w.Header().Set("WWW-Authenticate", `Basic realm="tsa"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		policy := req.TSAPolicyOID
		if policy == nil {
			policy = TSAPolicy
		}
		ts := &timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: time.Now(),
			Nonce: req.Nonce, Policy: policy, AddTSACertificate: req.Certificates, Accuracy: time.Second}
		resp, err := ts.CreateResponseWithOpts(a.TSA, a.tsaKey, crypto.SHA256)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	case len(path) > len("/ocsp/") && path[:len("/ocsp/")] == "/ocsp/" && r.Method == http.MethodPost:
		a.OCSPRequests.Add(1)
		name := path[len("/ocsp/"):]
		ca, key := a.certs[name], a.keys[name]
		req, err := ocsp.ParseRequest(body)
		if ca == nil || err != nil {
			w.Write(ocsp.MalformedRequestErrorResponse)
			return
		}
		tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: time.Now().Add(-time.Minute),
			NextUpdate: time.Now().Add(time.Hour), IssuerHash: req.HashAlgorithm}
		for _, e := range a.revoked[name] {
			if e.SerialNumber.Cmp(req.SerialNumber) == 0 {
				tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, e.RevocationTime, ocsp.KeyCompromise
			}
		}
		resp, err := ocsp.CreateResponse(ca, ca, tmpl, key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(resp)
	case len(path) > len("/crl/") && path[:len("/crl/")] == "/crl/" && r.Method == http.MethodGet:
		a.CRLRequests.Add(1)
		name := path[len("/crl/"):]
		ca, key := a.certs[name], a.keys[name]
		if ca == nil {
			http.NotFound(w, r)
			return
		}
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
			ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
			RevokedCertificateEntries: a.revoked[name]}, ca, key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Write(der)
	default:
		http.NotFound(w, r)
	}
}
