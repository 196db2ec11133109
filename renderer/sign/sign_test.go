package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pdfsig runs pdfsig on data, with the NSS database nssdir if not empty,
// and returns its output. (Certificates of the tests have no OCSP address,
// so pdfsig goes to no network; -no-ocsp is not used because pdfsig 22.12
// then reports every chain as "Unknown issue with Certificate".)
func pdfsig(t *testing.T, data []byte, nssdir string) string {
	t.Helper()
	bin := needTool(t, "pdfsig")
	path := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var args []string
	if nssdir != "" {
		args = append(args, "-nssdir", nssdir)
	}
	out, _ := exec.Command(bin, append(args, path)...).CombinedOutput()
	return string(out)
}

// qpdfCheck runs qpdf --check on data and fails the test on any problem.
func qpdfCheck(t *testing.T, data []byte) {
	t.Helper()
	bin := needTool(t, "qpdf")
	path := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--check", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No syntax or stream encoding errors found") || strings.Contains(string(out), "WARNING") {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
}

func TestSignValidates(t *testing.T) {
	t.Parallel()
	rp, ep := testPKI(t)
	tests := []struct {
		name string
		pki  *pki
		cfg  func(p *pki) Config
	}{
		{"rsa key from PEM files", rp, func(p *pki) Config { return Config{CertFile: p.certPEM, KeyFile: p.keyPEM} }},
		{"ecdsa key from PEM files", ep, func(p *pki) Config { return Config{CertFile: p.certPEM, KeyFile: p.keyPEM} }},
		{"rsa key from PKCS#12", rp, func(p *pki) Config { return Config{P12File: p.p12, P12Password: p.p12Password} }},
		{"ecdsa key from PKCS#12", ep, func(p *pki) Config { return Config{P12File: p.p12, P12Password: p.p12Password} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg(tt.pki)
			cfg.Reason, cfg.Location, cfg.Now = "Joint letter to NALS 2023", "Ciudad de México", fixedClock
			s, err := Load(cfg)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			unsigned := testLetter(t)
			before := bytes.Clone(unsigned)
			signed, err := s.Sign(unsigned)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if !bytes.Equal(unsigned, before) {
				t.Fatal("Sign changed its input")
			}
			if !bytes.HasPrefix(signed, unsigned) {
				t.Fatal("signed PDF does not start with the unsigned letter's bytes")
			}
			checkCMS(t, signed, tt.pki.leaf)
			qpdfCheck(t, signed)

			nss := nssDB(t, tt.pki)
			out := pdfsig(t, signed, nss)
			want := []string{
				"Signature Validation: Signature is Valid.",
				"Total document signed",
				"Signature Type: ETSI.CAdES.detached",
				"Signing Hash Algorithm: SHA-256",
				"Signing Time: Jan 09 2023 15:04:05",
				"Signer Certificate Common Name: " + tt.pki.leafCN,
			}
			if nss != "" {
				want = append(want, "Certificate Validation: Certificate is Trusted.")
			} else {
				t.Log("certutil missing: the test CA is not trusted, only the signature is checked")
				want = append(want, "Certificate Validation: Certificate issuer isn't Trusted.")
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("pdfsig output lacks %q:\n%s", w, out)
				}
			}
			if n := strings.Count(out, "Signature #"); n != 1 {
				t.Errorf("pdfsig found %d signatures, want 1:\n%s", n, out)
			}
		})
	}
}

func TestSignUntrustedCA(t *testing.T) {
	t.Parallel()
	rp, _ := testPKI(t)
	s, err := Load(Config{CertFile: rp.certPEM, KeyFile: rp.keyPEM, Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.Sign(testLetter(t))
	if err != nil {
		t.Fatal(err)
	}
	// With an empty NSS database the throwaway CA is unknown: the
	// signature is still valid and covers the whole document.
	empty := t.TempDir()
	certutil := needTool(t, "certutil")
	if out, err := exec.Command(certutil, "-N", "-d", "sql:"+empty, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil: %v\n%s", err, out)
	}
	out := pdfsig(t, signed, "sql:"+empty)
	for _, w := range []string{"Signature Validation: Signature is Valid.", "Total document signed", "Certificate Validation: Certificate issuer isn't Trusted."} {
		if !strings.Contains(out, w) {
			t.Errorf("pdfsig output lacks %q:\n%s", w, out)
		}
	}
}

func TestSignTampered(t *testing.T) {
	t.Parallel()
	rp, _ := testPKI(t)
	s, err := Load(Config{CertFile: rp.certPEM, KeyFile: rp.keyPEM, Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.Sign(testLetter(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		offset func(b []byte) int
	}{
		{"byte of the letter in the first range", func(b []byte) int { return bytes.Index(b, []byte("/Title")) + 3 }},
		{"signing time in the signature dictionary", func(b []byte) int { return bytes.Index(b, []byte("/M (D:2023")) + 7 }},
		{"trailer in the second range", func(b []byte) int { return bytes.LastIndex(b, []byte("/Size")) + 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := bytes.Clone(signed)
			i := tt.offset(b)
			if i < 10 {
				t.Fatal("marker not found")
			}
			b[i] ^= 0x01
			out := pdfsig(t, b, nssDB(t, rp))
			if strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Signature Validation: Digest Mismatch.") {
				t.Errorf("pdfsig did not report the tampered PDF as a digest mismatch:\n%s", out)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	t.Parallel()
	rp, _ := testPKI(t)
	s, err := Load(Config{CertFile: rp.certPEM, KeyFile: rp.keyPEM, Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	letter := testLetter(t)
	signed, err := s.Sign(letter)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pdf  []byte
		want string
	}{
		{"not a PDF", []byte("hello"), "sign pdf: not a PDF"},
		{"truncated PDF", letter[:len(letter)/2], "sign pdf: read trailer: no startxref"},
		{"already signed PDF", signed, "already has a form"},
		{"cross-reference stream", []byte("%PDF-1.5\n1 0 obj\n<</Type /XRef>>\nendobj\nstartxref\n9\n%%EOF\n"), "cross-reference streams are not supported"},
		{"encrypted PDF", []byte("%PDF-1.4\nxref\n0 1\n0000000000 65535 f \ntrailer\n<</Size 1 /Root 1 0 R /Encrypt 2 0 R>>\nstartxref\n9\n%%EOF\n"), "encrypted PDFs are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := s.Sign(tt.pdf)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "sign pdf: ") {
				t.Fatalf("Sign error = %v, want one containing %q", err, tt.want)
			}
			if out != nil {
				t.Error("Sign returned output with an error")
			}
		})
	}
}

// TestSignChecksValidityAtSigningTime covers a long-running worker whose
// certificate was valid when Load ran but is not when Sign runs.
func TestSignChecksValidityAtSigningTime(t *testing.T) {
	t.Parallel()
	rp, _ := testPKI(t)
	letter := testLetter(t)
	pem := Config{CertFile: rp.certPEM, KeyFile: rp.keyPEM}
	p12 := Config{P12File: rp.p12, P12Password: rp.p12Password}
	tests := []struct {
		name string
		cfg  Config
		at   time.Time // the clock when Sign runs; Load runs at signTime
		want string    // "" when Sign must succeed
	}{
		{"worker outlives PEM certificate", pem, rp.leaf.NotAfter.Add(24 * time.Hour),
			`sign pdf: the signing certificate of "Comitė Ciudadano (RSA test)" (Comitė Ciudadano) expired on 2043-01-09 15:04:05 UTC (now 2043-01-10 15:04:05 UTC): get a renewed certificate and key from its CA and set -sign-cert (CARTA_SIGN_CERT) to them`},
		{"worker outlives PKCS#12 certificate", p12, rp.leaf.NotAfter.Add(time.Second),
			`sign pdf: the signing certificate of "Comitė Ciudadano (RSA test)" (Comitė Ciudadano) expired on 2043-01-09 15:04:05 UTC (now 2043-01-09 15:04:06 UTC): get a renewed certificate and key from its CA and set -sign-p12 (CARTA_SIGN_P12) to them`},
		{"clock set back before NotBefore", pem, rp.leaf.NotBefore.Add(-time.Second),
			`sign pdf: the signing certificate of "Comitė Ciudadano (RSA test)" (Comitė Ciudadano) is not valid before 2022-01-09 15:04:05 UTC (now 2022-01-09 15:04:04 UTC): check the clock or -sign-cert (CARTA_SIGN_CERT)`},
		{"last valid instant", pem, rp.leaf.NotAfter, ""},
		{"first valid instant", pem, rp.leaf.NotBefore, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := signTime
			tt.cfg.Now = func() time.Time { return now }
			s, err := Load(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			now = tt.at // the worker kept running
			out, err := s.Sign(letter)
			if tt.want == "" {
				if err != nil || !bytes.HasPrefix(out, letter) {
					t.Fatalf("Sign at %s: error %v, %d bytes; want a signed letter", tt.at, err, len(out))
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Sign error = %v, want %q", err, tt.want)
			}
			if out != nil {
				t.Error("Sign returned output with an error")
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	rp, _ := testPKI(t)
	wrongPass := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(wrongPass, []byte("nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing configured", Config{}, "load signing key: none configured: set -sign-p12 (CARTA_SIGN_P12) or -sign-cert (CARTA_SIGN_CERT) and -sign-key (CARTA_SIGN_KEY)"},
		{"wrong PKCS#12 password", Config{P12File: rp.p12, P12Password: "wrong"}, "load signing key: -sign-p12 (CARTA_SIGN_P12): wrong password: check -sign-p12-password (CARTA_SIGN_P12_PASSWORD) or -sign-p12-password-file (CARTA_SIGN_P12_PASSWORD_FILE)"},
		{"wrong PKCS#12 password file", Config{P12File: rp.p12, P12PasswordFile: wrongPass}, "wrong password"},
		{"missing PKCS#12 password file", Config{P12File: rp.p12, P12PasswordFile: "/nonexistent/pass"}, "load signing key: -sign-p12-password-file (CARTA_SIGN_P12_PASSWORD_FILE): open /nonexistent/pass"},
		{"password and password file", Config{P12File: rp.p12, P12Password: "x", P12PasswordFile: wrongPass}, "set either -sign-p12-password (CARTA_SIGN_P12_PASSWORD) or -sign-p12-password-file"},
		{"missing PKCS#12 file", Config{P12File: "/nonexistent/x.p12"}, "load signing key: -sign-p12 (CARTA_SIGN_P12): open /nonexistent/x.p12"},
		{"PEM file as PKCS#12", Config{P12File: rp.certPEM}, "load signing key: -sign-p12 (CARTA_SIGN_P12): decode PKCS#12"},
		{"missing key file", Config{CertFile: rp.certPEM, KeyFile: "/nonexistent/key.pem"}, "load signing key: -sign-key (CARTA_SIGN_KEY): open /nonexistent/key.pem"},
		{"missing certificate file", Config{CertFile: "/nonexistent/cert.pem", KeyFile: rp.keyPEM}, "load signing certificate: -sign-cert (CARTA_SIGN_CERT): open /nonexistent/cert.pem"},
		{"certificate without key", Config{CertFile: rp.certPEM}, "-sign-cert (CARTA_SIGN_CERT) is set but -sign-key (CARTA_SIGN_KEY) is not"},
		{"key without certificate", Config{KeyFile: rp.keyPEM}, "-sign-key (CARTA_SIGN_KEY) is set but -sign-cert (CARTA_SIGN_CERT) is not"},
		{"PKCS#12 and PEM", Config{P12File: rp.p12, CertFile: rp.certPEM, KeyFile: rp.keyPEM}, "set either -sign-p12 (CARTA_SIGN_P12) or"},
		{"key file holds a certificate", Config{CertFile: rp.certPEM, KeyFile: rp.certPEM}, "load signing key: -sign-key (CARTA_SIGN_KEY): no PEM private key"},
		{"certificate file holds a key", Config{CertFile: rp.keyPEM, KeyFile: rp.keyPEM}, "load signing certificate: -sign-cert (CARTA_SIGN_CERT): no PEM CERTIFICATE block"},
		{"certificate of another key", Config{CertFile: rp.caOnlyCert, KeyFile: rp.keyPEM}, "load signing certificate: -sign-cert (CARTA_SIGN_CERT): no certificate matches the private key"},
		{"expired certificate", Config{CertFile: rp.expiredCert, KeyFile: rp.keyPEM}, `load signing certificate: -sign-cert (CARTA_SIGN_CERT): the certificate of "Comitė Ciudadano (RSA test)" <letters@comite.example> (Comitė Ciudadano) is valid from 2022-01-09 15:04:05 UTC to 2023-01-08 15:04:05 UTC, not now (2023-01-09 15:04:05 UTC): get a renewed certificate and key from its CA and set -sign-cert (CARTA_SIGN_CERT) to them`},
		{"certificate not for signing", Config{CertFile: rp.signingForbidden, KeyFile: rp.forbiddenKeyPEM}, "may not sign"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Now = fixedClock
			s, err := Load(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error = %v, want one containing %q", err, tt.want)
			}
			if s != nil {
				t.Error("Load returned a signer with an error")
			}
		})
	}
}

func TestLoadNameAndPasswordFile(t *testing.T) {
	t.Parallel()
	rp, _ := testPKI(t)
	passFile := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(passFile, []byte(rp.p12Password+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"name defaults to the certificate's common name", Config{CertFile: rp.certPEM, KeyFile: rp.keyPEM}, rp.leafCN},
		{"configured name wins", Config{CertFile: rp.certPEM, KeyFile: rp.keyPEM, Name: "Mélanie Joly"}, "Mélanie Joly"},
		{"password file with CRLF line end", Config{P12File: rp.p12, P12PasswordFile: passFile}, rp.leafCN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Now = fixedClock
			s, err := Load(tt.cfg)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := s.Name(); got != tt.want {
				t.Errorf("Name() = %q, want %q", got, tt.want)
			}
			if !s.Certificate().Equal(rp.leaf) {
				t.Error("Certificate() is not the leaf certificate")
			}
		})
	}
}

func TestSignDictionaryEntries(t *testing.T) {
	t.Parallel()
	rp, _ := testPKI(t)
	s, err := Load(Config{CertFile: rp.certPEM, KeyFile: rp.keyPEM, Name: "Comitė Ciudadano", Reason: "Letter (joint) \\ NALS", Location: "Ciudad de México", Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.Sign(testLetter(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"/SubFilter /ETSI.CAdES.detached",
		"/M (D:20230109150405Z)",
		"/Name " + pdfText("Comitė Ciudadano"),
		"/Reason (Letter \\(joint\\) \\\\ NALS)",
		"/Location " + pdfText("Ciudad de México"),
		"/AcroForm <</Fields [",
	} {
		if !bytes.Contains(signed, []byte(want)) {
			t.Errorf("signed PDF lacks %q", want)
		}
	}
}

func TestPDFText(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain ASCII", "Washington", "(Washington)"},
		{"parentheses and backslash escaped", `a(b)\c`, `(a\(b\)\\c)`},
		{"accented letters as UTF-16BE", "Comitė", "<feff0043006f006d006900740117>"},
		{"character outside the BMP as a surrogate pair", "𝄞", "<feffd834dd1e>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := pdfText(tt.in); got != tt.want {
				t.Errorf("pdfText(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// checkCMS checks, without pdfsig, the CMS in signed: its digest covers
// exactly the byte ranges, its signed attributes are those of CAdES
// baseline B-B with no signing-time, and the signature verifies with the
// certificate's key.
func checkCMS(t *testing.T, signed []byte, leaf *x509.Certificate) {
	t.Helper()
	m := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+)\s*\]`).FindSubmatch(signed)
	if m == nil {
		t.Fatal("no /ByteRange")
	}
	a, _ := strconv.Atoi(string(m[1]))
	b, _ := strconv.Atoi(string(m[2]))
	c, _ := strconv.Atoi(string(m[3]))
	if b+c != len(signed) || signed[a] != '<' || signed[b-1] != '>' {
		t.Fatalf("/ByteRange [0 %d %d %d] does not cover the file of %d bytes around /Contents", a, b, c, len(signed))
	}
	der, err := hex.DecodeString(string(signed[a+1 : b-1]))
	if err != nil {
		t.Fatalf("decode /Contents: %v", err)
	}
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil || !ci.Type.Equal(oidSignedData) {
		t.Fatalf("parse ContentInfo: %v (type %v)", err, ci.Type)
	}
	var sd struct {
		Version      int
		DigestAlgs   asn1.RawValue
		Encap        struct{ Type asn1.ObjectIdentifier }
		Certificates asn1.RawValue `asn1:"optional,tag:0"`
		SignerInfos  []struct {
			Version      int
			SID          asn1.RawValue
			DigestAlg    pkix.AlgorithmIdentifier
			SignedAttrs  asn1.RawValue `asn1:"optional,tag:0"`
			SignatureAlg pkix.AlgorithmIdentifier
			Signature    []byte
			UnsignedAttr asn1.RawValue `asn1:"optional,tag:1"`
		} `asn1:"set"`
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatalf("parse SignedData: %v", err)
	}
	if len(sd.SignerInfos) != 1 {
		t.Fatalf("%d signer infos, want 1", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	if !si.DigestAlg.Algorithm.Equal(oidSHA256) || !sd.Encap.Type.Equal(oidData) {
		t.Errorf("digest algorithm %v, content type %v", si.DigestAlg.Algorithm, sd.Encap.Type)
	}
	h := sha256.New()
	h.Write(signed[:a])
	h.Write(signed[b:])
	digest := h.Sum(nil)
	certHash := sha256.Sum256(leaf.Raw)
	got := map[string][]byte{}
	for rest := si.SignedAttrs.Bytes; len(rest) > 0; {
		var attr struct {
			Type   asn1.ObjectIdentifier
			Values asn1.RawValue
		}
		var err error
		if rest, err = asn1.Unmarshal(rest, &attr); err != nil {
			t.Fatalf("parse attribute: %v", err)
		}
		got[attr.Type.String()] = attr.Values.Bytes
	}
	if len(got) != 3 {
		t.Errorf("signed attributes %v, want content-type, message-digest and signing-certificate-v2 only", got)
	}
	var md []byte
	if _, err := asn1.Unmarshal(got[oidMessageDigest.String()], &md); err != nil || !bytes.Equal(md, digest) {
		t.Errorf("message-digest %x, want %x (%v)", md, digest, err)
	}
	if v := got[oidSigningCertificateV2.String()]; !bytes.Contains(v, certHash[:]) {
		t.Errorf("signing-certificate-v2 %x lacks the certificate hash %x", v, certHash)
	}
	toSign := bytes.Clone(si.SignedAttrs.FullBytes)
	toSign[0] = 0x31 // SET OF
	ah := sha256.Sum256(toSign)
	switch k := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, ah[:], si.Signature); err != nil {
			t.Errorf("RSA signature does not verify: %v", err)
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, ah[:], si.Signature) {
			t.Error("ECDSA signature does not verify")
		}
	}
}

func BenchmarkSign(b *testing.B) {
	rp, ep := testPKI(b)
	letter := testLetter(b)
	for _, bb := range []struct {
		name string
		p    *pki
	}{{"rsa2048", rp}, {"ecdsaP256", ep}} {
		b.Run(bb.name, func(b *testing.B) {
			s, err := Load(Config{CertFile: bb.p.certPEM, KeyFile: bb.p.keyPEM, Now: fixedClock})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(letter)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(letter); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
