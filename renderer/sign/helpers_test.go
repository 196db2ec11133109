package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/carta-letters/carta/renderer"
	"software.sslmate.com/src/go-pkcs12"
)

// signTime is the fixed signing time of the tests.
var signTime = time.Date(2023, 1, 9, 15, 4, 5, 0, time.UTC)

func fixedClock() time.Time { return signTime }

// pki is a throwaway CA and a leaf certificate it issued, written as PEM
// and PKCS#12 files.
type pki struct {
	dir              string
	caPEM            string // CA certificate
	certPEM, keyPEM  string // leaf certificate + CA, leaf key
	p12, p12Password string
	leafCN           string
	ca, leaf         *x509.Certificate
	leafKey          crypto.Signer
	expiredCert      string // a PEM leaf that expired before signTime
	caOnlyCert       string // a PEM CA certificate that does not match keyPEM
	signingForbidden string // a leaf PEM whose key usage forbids signing
	forbiddenKeyPEM  string
}

var (
	pkiOnce       sync.Once
	pkiDir        string // removed by TestMain
	pkiRSA, pkiEC *pki
	pkiErr        error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pkiDir != "" {
		os.RemoveAll(pkiDir)
	}
	os.Exit(code)
}

// testPKI returns the RSA and ECDSA test PKIs, made once per test binary.
func testPKI(t testing.TB) (rsaPKI, ecPKI *pki) {
	t.Helper()
	pkiOnce.Do(func() {
		dir, err := os.MkdirTemp("", "carta-sign-test-")
		if err != nil {
			pkiErr = err
			return
		}
		pkiDir = dir
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			pkiErr = err
			return
		}
		ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			pkiErr = err
			return
		}
		if pkiRSA, pkiErr = makePKI(filepath.Join(dir, "rsa"), rk, "Comitė Ciudadano (RSA test)"); pkiErr != nil {
			return
		}
		pkiEC, pkiErr = makePKI(filepath.Join(dir, "ec"), ek, "Comitė Ciudadano (ECDSA test)")
	})
	if pkiErr != nil {
		t.Fatalf("make test PKI: %v", pkiErr)
	}
	return pkiRSA, pkiEC
}

func makePKI(dir string, leafKey crypto.Signer, cn string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Carta Test CA", Organization: []string{"Carta tests"}},
		NotBefore:             signTime.AddDate(-1, 0, 0),
		NotAfter:              signTime.AddDate(25, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, notAfter time.Time, usage x509.KeyUsage, key crypto.Signer, extra ...pkix.AttributeTypeAndValue) (*x509.Certificate, error) {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn, Organization: []string{"Comitė Ciudadano"}, ExtraNames: extra},
			NotBefore:    signTime.AddDate(-1, 0, 0),
			NotAfter:     notAfter,
			KeyUsage:     usage,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
		if err != nil {
			return nil, err
		}
		return x509.ParseCertificate(der)
	}
	leaf, err := issue(2, signTime.AddDate(20, 0, 0), x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment, leafKey)
	if err != nil {
		return nil, err
	}
	// An e-mail address in the subject, as many CAs write it (PKCS #9
	// emailAddress), which error messages must print readably.
	expired, err := issue(3, signTime.AddDate(0, 0, -1), x509.KeyUsageDigitalSignature, leafKey,
		pkix.AttributeTypeAndValue{Type: oidEmailAddress, Value: "letters@comite.example"})
	if err != nil {
		return nil, err
	}
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	forbidden, err := issue(4, signTime.AddDate(2, 0, 0), x509.KeyUsageKeyEncipherment, otherKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, err
	}
	otherDER, err := x509.MarshalPKCS8PrivateKey(otherKey)
	if err != nil {
		return nil, err
	}
	certPEM := func(cs ...*x509.Certificate) []byte {
		var b []byte
		for _, c := range cs {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		return b
	}
	p := &pki{
		dir: dir, leafCN: cn, ca: ca, leaf: leaf, leafKey: leafKey,
		caPEM:            filepath.Join(dir, "ca.pem"),
		certPEM:          filepath.Join(dir, "cert.pem"),
		keyPEM:           filepath.Join(dir, "key.pem"),
		p12:              filepath.Join(dir, "signer.p12"),
		p12Password:      "correct horse battery staple",
		expiredCert:      filepath.Join(dir, "expired.pem"),
		caOnlyCert:       filepath.Join(dir, "ca-only.pem"),
		signingForbidden: filepath.Join(dir, "forbidden.pem"),
		forbiddenKeyPEM:  filepath.Join(dir, "forbidden-key.pem"),
	}
	p12, err := pkcs12.Modern.Encode(leafKey, leaf, []*x509.Certificate{ca}, p.p12Password)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		p.caPEM:            certPEM(ca),
		p.certPEM:          certPEM(leaf, ca),
		p.keyPEM:           pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		p.p12:              p12,
		p.expiredCert:      certPEM(expired),
		p.caOnlyCert:       certPEM(ca),
		p.signingForbidden: certPEM(forbidden),
		p.forbiddenKeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: otherDER}),
	}
	for name, data := range files {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

var (
	letterOnce sync.Once
	letter     []byte
	letterErr  error
)

// testLetter renders the reference job once.
func testLetter(t testing.TB) []byte {
	t.Helper()
	letterOnce.Do(func() {
		data, err := os.ReadFile("../../../shared/jobs/nals-2023.json")
		if err != nil {
			letterErr = err
			return
		}
		_, res, err := renderer.RenderJSON(data)
		if err != nil {
			letterErr = err
			return
		}
		letter = res.PDF
	})
	if letterErr != nil {
		t.Fatalf("render reference letter: %v", letterErr)
	}
	return letter
}

// needTool returns the path of a command-line tool, skipping the test when
// it is missing outside CI and failing it in CI.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

var (
	nssMu   sync.Mutex
	nssDirs = map[*pki]string{}
)

// nssDB returns an NSS database (for pdfsig -nssdir) trusting p's CA, or
// "" when certutil is missing outside CI.
func nssDB(t *testing.T, p *pki) string {
	t.Helper()
	nssMu.Lock()
	defer nssMu.Unlock()
	if db, ok := nssDirs[p]; ok {
		return db
	}
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("certutil (libnss3-tools) is required in CI: %v", err)
		}
		return ""
	}
	dir := filepath.Join(p.dir, "nssdb")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db := "sql:" + dir
	for _, args := range [][]string{
		{"-N", "-d", db, "--empty-password"},
		{"-A", "-d", db, "-n", "carta-test-ca", "-t", "CT,C,C", "-i", p.caPEM},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	nssDirs[p] = db
	return db
}
