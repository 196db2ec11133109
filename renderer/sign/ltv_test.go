package sign

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/renderer/sign/signtest"
	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"
)

// signtestNSS returns an NSS database trusting the roots of a.
func signtestNSS(t *testing.T, a *signtest.Authority) string {
	t.Helper()
	certutil := needTool(t, "certutil")
	db := "sql:" + t.TempDir()
	for _, args := range [][]string{
		{"-N", "-d", db, "--empty-password"},
		{"-A", "-d", db, "-n", "carta-test-root", "-t", "CT,C,C", "-i", a.RootFile},
		{"-A", "-d", db, "-n", "carta-test-tsa-root", "-t", "CT,C,C", "-i", a.TSARootFile},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	return db
}

// signatureCMS returns the CMS of the (only) signature of signed and the
// end of the signature's update (the end of its byte range).
func signatureCMS(t *testing.T, signed []byte) ([]byte, int) {
	t.Helper()
	m := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+)\s*\]`).FindSubmatch(signed)
	if m == nil {
		t.Fatal("no /ByteRange")
	}
	a, _ := strconv.Atoi(string(m[1]))
	b, _ := strconv.Atoi(string(m[2]))
	c, _ := strconv.Atoi(string(m[3]))
	// The CMS is followed by zero padding, which asn1.Unmarshal leaves.
	der, err := hex.DecodeString(string(signed[a+1 : b-1]))
	if err != nil {
		t.Fatalf("decode /Contents: %v", err)
	}
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(der, &raw); err != nil {
		t.Fatalf("parse /Contents: %v", err)
	}
	return raw.FullBytes, b + c
}

// timestampToken returns the signature timestamp token of cms and the
// signature value it must cover.
func timestampToken(t *testing.T, cms []byte) (token, sigValue []byte) {
	t.Helper()
	p7, err := pkcs7.Parse(cms)
	if err != nil {
		t.Fatalf("parse CMS: %v", err)
	}
	if len(p7.Signers) != 1 {
		t.Fatalf("%d signers", len(p7.Signers))
	}
	si := p7.Signers[0]
	for _, a := range si.AuthenticatedAttributes {
		if a.Type.Equal(oidSigningTime) {
			t.Error("the CMS has a signing-time attribute; PAdES forbids it")
		}
	}
	for _, a := range si.UnauthenticatedAttributes {
		if a.Type.Equal(oidTimeStampToken) {
			if token != nil {
				t.Error("two timestamp tokens")
			}
			token = a.Value.Bytes
		}
	}
	if token == nil {
		t.Fatal("the CMS has no signature-time-stamp attribute")
	}
	return token, si.EncryptedDigest
}

func signtestConfig(a *signtest.Authority, ltv bool) Config {
	return Config{CertFile: a.CertFile, KeyFile: a.KeyFile, TSAURL: a.TSAURL, TSACAFile: a.TSARootFile, LTV: ltv,
		Attempts: 2, Backoff: 10 * time.Millisecond, HTTPTimeout: 30 * time.Second}
}

// TestSignTimestamped: with a TSA, the signature carries a timestamp
// token over its signature value that openssl verifies against the TSA's
// CA, and pdfsig finds the signature valid and the document wholly
// signed.
func TestSignTimestamped(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	s, err := Load(signtestConfig(a, false))
	if err != nil {
		t.Fatal(err)
	}
	if s.Level() != LevelBT {
		t.Errorf("Level() = %s, want %s", s.Level(), LevelBT)
	}
	letter := testLetter(t)
	signed, err := s.Sign(letter)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(signed, letter) {
		t.Fatal("signed PDF does not start with the letter")
	}
	checkCMS(t, signed, a.Leaf)
	qpdfCheck(t, signed)
	cms, _ := signatureCMS(t, signed)
	token, sigValue := timestampToken(t, cms)
	imprint := sha256.Sum256(sigValue)
	ts, err := timestamp.Parse(token)
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	if !bytes.Equal(ts.HashedMessage, imprint[:]) || !ts.Policy.Equal(signtest.TSAPolicy) {
		t.Errorf("token imprint %x policy %v, want sha256 of the signature value %x, policy %v", ts.HashedMessage, ts.Policy, imprint, signtest.TSAPolicy)
	}
	if d := time.Since(ts.Time); d < 0 || d > 10*time.Minute {
		t.Errorf("token time %s is not now", ts.Time)
	}

	openssl := needTool(t, "openssl")
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token.der")
	if err := os.WriteFile(tokFile, token, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "ts", "-verify", "-in", tokFile, "-token_in", "-digest", hex.EncodeToString(imprint[:]), "-CAfile", a.TSARootFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Errorf("openssl ts -verify: %v\n%s", err, out)
	}
	// And a wrong imprint fails: the check can fail.
	other := sha256.Sum256([]byte("another signature"))
	if out, err := exec.Command(openssl, "ts", "-verify", "-in", tokFile, "-token_in", "-digest", hex.EncodeToString(other[:]), "-CAfile", a.TSARootFile).CombinedOutput(); err == nil {
		t.Errorf("openssl ts -verify accepted a wrong imprint:\n%s", out)
	}

	got := pdfsig(t, signed, signtestNSS(t, a))
	for _, w := range []string{"Signature Validation: Signature is Valid.", "Total document signed", "Certificate Validation: Certificate is Trusted.",
		"Signer Certificate Common Name: " + signtest.SignerName} {
		if !strings.Contains(got, w) {
			t.Errorf("pdfsig output lacks %q:\n%s", w, got)
		}
	}
}

// TestSignLTV: a B-LT signature: pdfsig finds it valid; the DSS update
// after the signature adds only the DSS and its streams and changes only
// the catalog (by /DSS); the DSS holds every certificate of the signer's
// and the TSA's chains and good revocation data for each one but the
// roots, an OCSP response for the leaves and the root's CRL for the
// intermediate CA.
func TestSignLTV(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	s, err := Load(signtestConfig(a, true))
	if err != nil {
		t.Fatal(err)
	}
	if s.Level() != LevelBLT {
		t.Errorf("Level() = %s, want %s", s.Level(), LevelBLT)
	}
	signed, err := s.Sign(testLetter(t))
	if err != nil {
		t.Fatal(err)
	}
	qpdfCheck(t, signed)
	cms, sigEnd := signatureCMS(t, signed)
	timestampToken(t, cms)
	before := signed[:sigEnd]

	// Objects of the last update: the catalog, the DSS and its streams.
	trBefore, err := readTrailer(before)
	if err != nil {
		t.Fatal(err)
	}
	trAfter, err := readTrailer(signed)
	if err != nil {
		t.Fatal(err)
	}
	if trAfter.offset < sigEnd {
		t.Fatal("no update after the signature")
	}
	changed := xrefObjects(t, signed, trAfter.offset)
	_, oldCat, err := readDictObject(trBefore, trBefore.root, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	_, newCat, err := readDictObject(trAfter, trAfter.root, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	dssVal, ok := newCat.get("DSS")
	if !ok {
		t.Fatal("catalog has no /DSS")
	}
	if len(newCat) != len(oldCat)+1 {
		t.Errorf("catalog entries %d, want the %d of before and /DSS", len(newCat), len(oldCat))
	}
	for _, e := range oldCat {
		if v, _ := newCat.get(e.key); !bytes.Equal(v, e.val) {
			t.Errorf("catalog /%s changed from %s to %s", e.key, e.val, v)
		}
	}
	dssRef, err := parseRef(dssVal)
	if err != nil {
		t.Fatal(err)
	}
	_, dss, err := readDictObject(trAfter, dssRef, "DSS")
	if err != nil {
		t.Fatal(err)
	}
	want := []int{trAfter.root.num, dssRef.num}
	streams := map[string][][]byte{}
	for _, key := range []string{"Certs", "OCSPs", "CRLs"} {
		v, _ := dss.get(key)
		toks := fields(bytes.Trim(v, "[]"), -1)
		for i := 0; i+2 < len(toks); i += 3 {
			r, err := parseRef(bytes.Join(toks[i:i+3], []byte(" ")))
			if err != nil {
				t.Fatalf("/DSS /%s: %v", key, err)
			}
			if r.num < trBefore.size {
				t.Errorf("/DSS /%s points to object %d of the signed part", key, r.num)
			}
			want = append(want, r.num)
			streams[key] = append(streams[key], streamData(t, signed, trAfter, r))
		}
	}
	slices.Sort(want)
	if !slices.Equal(changed, want) {
		t.Errorf("the DSS update writes objects %v, want the catalog, the DSS and its streams %v", changed, want)
	}

	var certs []*x509.Certificate
	for _, der := range streams["Certs"] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("DSS certificate: %v", err)
		}
		certs = append(certs, c)
	}
	for _, c := range []*x509.Certificate{a.Leaf, a.Inter, a.Root, a.TSA, a.TSARoot} {
		if !slices.ContainsFunc(certs, c.Equal) {
			t.Errorf("the DSS lacks the certificate %s", c.Subject.CommonName)
		}
	}
	goodOCSP := func(c, issuer *x509.Certificate) bool {
		for _, der := range streams["OCSPs"] {
			if r, err := ocsp.ParseResponseForCert(der, c, issuer); err == nil && r.Status == ocsp.Good {
				return true
			}
		}
		return false
	}
	if !goodOCSP(a.Leaf, a.Inter) || !goodOCSP(a.TSA, a.TSARoot) {
		t.Errorf("the DSS lacks a good OCSP response for the signer (%v) or the TSA (%v)", goodOCSP(a.Leaf, a.Inter), goodOCSP(a.TSA, a.TSARoot))
	}
	crlOK := false
	for _, der := range streams["CRLs"] {
		rl, err := x509.ParseRevocationList(der)
		if err == nil && rl.CheckSignatureFrom(a.Root) == nil && !slices.ContainsFunc(rl.RevokedCertificateEntries, func(e x509.RevocationListEntry) bool {
			return e.SerialNumber.Cmp(a.Inter.SerialNumber) == 0
		}) {
			crlOK = true
		}
	}
	if !crlOK {
		t.Error("the DSS lacks the root's CRL not revoking the intermediate CA")
	}

	checkDSSWithOpenSSL(t, a, streams)

	got := pdfsig(t, signed, signtestNSS(t, a))
	for _, w := range []string{"Signature Validation: Signature is Valid.", "Not total document signed", "Certificate Validation: Certificate is Trusted."} {
		if !strings.Contains(got, w) {
			t.Errorf("pdfsig output lacks %q:\n%s", w, got)
		}
	}
	// The part up to the signature is wholly signed.
	if got := pdfsig(t, before, signtestNSS(t, a)); !strings.Contains(got, "Total document signed") || !strings.Contains(got, "Signature is Valid") {
		t.Errorf("pdfsig of the file without the DSS update:\n%s", got)
	}
}

// checkDSSWithOpenSSL checks the revocation data of a DSS with openssl:
// each OCSP response verifies and says "good" for the signer's or the
// TSA's certificate, and the CRL verifies against the root.
func checkDSSWithOpenSSL(t *testing.T, a *signtest.Authority, streams map[string][][]byte) {
	t.Helper()
	openssl := needTool(t, "openssl")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pemOf := func(c *x509.Certificate) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	leaf, inter, tsaCert, tsaRoot := write("leaf.pem", pemOf(a.Leaf)), write("inter.pem", pemOf(a.Inter)), write("tsa.pem", pemOf(a.TSA)), a.TSARootFile
	roots := write("roots.pem", append(pemOf(a.Root), pemOf(a.TSARoot)...))
	good := map[string]bool{}
	for i, der := range streams["OCSPs"] {
		resp := write(fmt.Sprintf("ocsp%d.der", i), der)
		for _, c := range []struct{ name, cert, issuer string }{{"signer", leaf, inter}, {"TSA", tsaCert, tsaRoot}} {
			out, err := exec.Command(openssl, "ocsp", "-respin", resp, "-issuer", c.issuer, "-cert", c.cert, "-CAfile", roots, "-verify_other", inter).CombinedOutput()
			if err == nil && strings.Contains(string(out), "Response verify OK") && strings.Contains(string(out), c.cert+": good") {
				good[c.name] = true
			}
		}
	}
	if !good["signer"] || !good["TSA"] {
		t.Errorf("openssl ocsp found good, verified responses for %v, want the signer and the TSA", good)
	}
	for i, der := range streams["CRLs"] {
		crl := write(fmt.Sprintf("crl%d.der", i), der)
		out, err := exec.Command(openssl, "crl", "-inform", "DER", "-in", crl, "-CAfile", roots, "-noout").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "verify OK") {
			t.Errorf("openssl crl: %v\n%s", err, out)
		}
	}
}

// xrefObjects lists the objects of the cross-reference section at off.
func xrefObjects(t *testing.T, pdf []byte, off int) []int {
	t.Helper()
	end := bytes.Index(pdf[off:], []byte("trailer"))
	toks := fields(pdf[off+len("xref"):off+end], -1)
	var nums []int
	for len(toks) >= 2 {
		first, _ := strconv.Atoi(string(toks[0]))
		count, _ := strconv.Atoi(string(toks[1]))
		for i := 0; i < count; i++ {
			nums = append(nums, first+i)
		}
		toks = toks[2+3*count:]
	}
	slices.Sort(nums)
	return nums
}

// streamData returns the data of stream object r (unfiltered streams).
func streamData(t *testing.T, pdf []byte, tr *trailer, r ref) []byte {
	t.Helper()
	_, d, err := readDictObject(tr, r, "stream")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(string(mustGet(t, d, "Length")))
	o, err := tr.file.Latest(r.num)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(o, []byte("stream\n"))
	if i < 0 || i+len("stream\n")+n > len(o) {
		t.Fatalf("object %d: no stream of %d bytes", r.num, n)
	}
	start := i + len("stream\n")
	return o[start : start+n]
}

func mustGet(t *testing.T, d dict, key string) []byte {
	t.Helper()
	v, ok := d.get(key)
	if !ok {
		t.Fatalf("no /%s", key)
	}
	return v
}

// TestSignRefusesRevokedCertificate: with LTV, a signer certificate its
// CA revoked is refused before anything is signed or timestamped.
func TestSignRefusesRevokedCertificate(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	cfg := signtestConfig(a, true)
	cfg.CertFile, cfg.KeyFile = a.RevokedCertFile, a.RevokedKeyFile
	s, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Sign(testLetter(t))
	want := fmt.Sprintf(`sign pdf: check the signing certificate: certificate revoked: "%s" <%s> (Comitė Ciudadano, MX) was revoked on `, signtest.SignerName, signtest.SignerEmail)
	if err == nil || !strings.HasPrefix(err.Error(), want) || out != nil {
		t.Fatalf("Sign = %d bytes, %v; want an error starting %q", len(out), err, want)
	}
	if n := a.TSARequests.Load(); n != 0 {
		t.Errorf("%d timestamp requests for a refused signature", n)
	}
}

// TestSignTSAFailures: a TSA that is down, refuses the credentials or
// is not trusted gives no signed PDF and an error saying why.
func TestSignTSAFailures(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	letter := testLetter(t)

	a.SetTSADown(true)
	s, err := Load(signtestConfig(a, false))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Sign(letter)
	if err == nil || out != nil || !strings.Contains(err.Error(), "timestamp signature: -sign-tsa-url (CARTA_SIGN_TSA_URL) "+a.TSAURL+": 2 attempts: HTTP 503 Service Unavailable") {
		t.Errorf("TSA down: Sign = %d bytes, %v", len(out), err)
	}
	if n := a.TSARequests.Load(); n != 2 {
		t.Errorf("TSA down: %d requests, want 2 attempts", n)
	}
	a.SetTSADown(false)
	if _, err := s.Sign(letter); err != nil {
		t.Errorf("TSA back: %v", err)
	}

	// Another PKI's root does not vouch for this TSA.
	b := signtest.New(t)
	cfg := signtestConfig(a, false)
	cfg.TSACAFile = b.TSARootFile
	s, err = Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.Sign(letter); err == nil || out != nil || !strings.Contains(err.Error(), `the TSA's certificate "Carta Test TSA" (Carta tests) is not trusted by -sign-tsa-ca (CARTA_SIGN_TSA_CA)`) {
		t.Errorf("untrusted TSA: Sign = %d bytes, %v", len(out), err)
	}
}

func TestSignTSAAuthentication(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	a.TSAUsername, a.TSAPassword = "carta", "s3cret"
	pass := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pass, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	letter := testLetter(t)
	cfg := signtestConfig(a, false)
	s, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := a.TSARequests.Load()
	if _, err := s.Sign(letter); err == nil || !strings.Contains(err.Error(), a.TSAURL+": HTTP 401 Unauthorized: check -sign-tsa-username (CARTA_SIGN_TSA_USERNAME) and -sign-tsa-password-file (CARTA_SIGN_TSA_PASSWORD_FILE)") {
		t.Errorf("no credentials: %v", err)
	}
	if n := a.TSARequests.Load() - before; n != 1 {
		t.Errorf("refused credentials were tried %d times, want once", n)
	}
	cfg.TSAUsername, cfg.TSAPasswordFile = "carta", pass
	if s, err = Load(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(letter); err != nil {
		t.Errorf("with credentials: %v", err)
	}
}

func TestLoadTSAAndLTVErrors(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	leafOnly := filepath.Join(t.TempDir(), "leaf.pem")
	data, _ := os.ReadFile(a.CertFile)
	if err := os.WriteFile(leafOnly, data[:bytes.Index(data, []byte("-----END CERTIFICATE-----"))+len("-----END CERTIFICATE-----\n")], 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"not a URL", func(c *Config) { c.TSAURL = "tsa.example" }, `load timestamp authority: -sign-tsa-url (CARTA_SIGN_TSA_URL): "tsa.example" is not an http:// or https:// URL`},
		{"bad policy", func(c *Config) { c.TSAPolicy = "1.2.x" }, `load timestamp authority: -sign-tsa-policy (CARTA_SIGN_TSA_POLICY): "1.2.x" is not an object identifier`},
		{"missing CA file", func(c *Config) { c.TSACAFile = "/nonexistent/ca.pem" }, "load timestamp authority: -sign-tsa-ca (CARTA_SIGN_TSA_CA): open /nonexistent/ca.pem"},
		{"password file without user", func(c *Config) { c.TSAPasswordFile = a.KeyFile }, "load timestamp authority: -sign-tsa-password-file (CARTA_SIGN_TSA_PASSWORD_FILE) is set but -sign-tsa-username (CARTA_SIGN_TSA_USERNAME) is not"},
		{"TSA option without TSA", func(c *Config) { c.TSAURL = "" }, "load timestamp authority: -sign-tsa-ca (CARTA_SIGN_TSA_CA) is set but -sign-tsa-url (CARTA_SIGN_TSA_URL) is not"},
		{"LTA without LTV", func(c *Config) { c.LTV, c.LTA = false, true }, "load signing settings: -sign-lta (CARTA_SIGN_LTA) needs -sign-ltv (CARTA_SIGN_LTV) (PAdES B-LTA builds on B-LT)"},
		{"LTV without TSA", func(c *Config) { c.TSAURL, c.TSACAFile = "", "" }, "load signing settings: -sign-ltv (CARTA_SIGN_LTV) needs a timestamp authority (PAdES B-LT builds on B-T): set -sign-tsa-url (CARTA_SIGN_TSA_URL)"},
		{"LTV without the chain", func(c *Config) { c.CertFile = leafOnly }, `load signing certificate: -sign-cert (CARTA_SIGN_CERT): the chain of "Comitė Ciudadano" <letters@comite.example> (Comitė Ciudadano, MX) is incomplete: the certificate of its issuer "Carta Test Signing CA" (Carta tests) is missing: add it (up to the root) to -sign-cert (CARTA_SIGN_CERT)`},
	}
	rp, _ := testPKI(t)
	tests = append(tests, struct {
		name string
		edit func(c *Config)
		want string
	}{"LTV with a certificate without revocation addresses", func(c *Config) { c.CertFile, c.KeyFile, c.Now = rp.certPEM, rp.keyPEM, fixedClock },
		`load signing certificate: -sign-cert (CARTA_SIGN_CERT): the certificate of "Comitė Ciudadano (RSA test)" (Comitė Ciudadano) names no OCSP responder and no CRL distribution point, so -sign-ltv (CARTA_SIGN_LTV) has no revocation data to embed`})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := signtestConfig(a, true)
			tt.edit(&cfg)
			s, err := Load(cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || s != nil {
				t.Errorf("Load error = %v, want one starting %q", err, tt.want)
			}
		})
	}
}

// TestSignLTA: a B-LTA letter ends with a document timestamp over the
// whole file that openssl verifies against the TSA's CA; pdfsig finds the
// signature valid and lists the document timestamp as covering the
// whole document (poppler cannot validate document timestamps itself).
func TestSignLTA(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	cfg := signtestConfig(a, true)
	cfg.LTA = true
	s, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Level() != LevelBLTA {
		t.Errorf("Level() = %s, want %s", s.Level(), LevelBLTA)
	}
	signed, err := s.Sign(testLetter(t))
	if err != nil {
		t.Fatal(err)
	}
	qpdfCheck(t, signed)
	ranges := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+)\s*\]`).FindAllSubmatch(signed, -1)
	if len(ranges) != 2 || !bytes.Contains(signed, []byte("/Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161")) {
		t.Fatalf("%d byte ranges, want the signature's and the document timestamp's", len(ranges))
	}
	var r [3]int
	for i := range r {
		r[i], _ = strconv.Atoi(string(ranges[1][i+1]))
	}
	if r[1]+r[2] != len(signed) {
		t.Fatalf("the document timestamp covers [0 %d %d %d], not the whole file of %d bytes", r[0], r[1], r[2], len(signed))
	}
	der, err := hex.DecodeString(string(signed[r[0]+1 : r[1]-1]))
	if err != nil {
		t.Fatal(err)
	}
	var token asn1.RawValue
	if _, err := asn1.Unmarshal(der, &token); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokFile, dataFile := filepath.Join(dir, "token.der"), filepath.Join(dir, "data")
	if err := os.WriteFile(tokFile, token.FullBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dataFile, append(bytes.Clone(signed[:r[0]]), signed[r[1]:]...), 0o600); err != nil {
		t.Fatal(err)
	}
	openssl := needTool(t, "openssl")
	out, err := exec.Command(openssl, "ts", "-verify", "-in", tokFile, "-token_in", "-data", dataFile, "-CAfile", a.TSARootFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Errorf("openssl ts -verify of the document timestamp: %v\n%s", err, out)
	}
	got := pdfsig(t, signed, signtestNSS(t, a))
	for _, w := range []string{"Signature Field Name: Signature1", "Signature Validation: Signature is Valid.", "Certificate Validation: Certificate is Trusted.",
		"Signature Field Name: DocumentTimestamp1", "Signer Certificate Common Name: Carta Test TSA", "Total document signed"} {
		if !strings.Contains(got, w) {
			t.Errorf("pdfsig output lacks %q:\n%s", w, got)
		}
	}
}
