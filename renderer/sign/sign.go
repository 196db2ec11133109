package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// Config says where the signing certificate and key are and what the
// signature says. Set either P12File (with P12Password or
// P12PasswordFile) or both CertFile and KeyFile. Each field names the
// carta flag and environment variable that set it; errors from Load name
// them too.
type Config struct {
	// P12File is a PKCS#12 (.p12, .pfx) file holding the key, its
	// certificate and optionally the chain (-sign-p12, CARTA_SIGN_P12).
	P12File string
	// P12Password is the password of P12File (-sign-p12-password,
	// CARTA_SIGN_P12_PASSWORD); empty for none.
	P12Password string
	// P12PasswordFile is a file whose first line is the password of
	// P12File (-sign-p12-password-file, CARTA_SIGN_P12_PASSWORD_FILE);
	// it may not be combined with P12Password.
	P12PasswordFile string

	// CertFile is a PEM file of the signing certificate followed by its
	// chain up to, optionally, the root (-sign-cert, CARTA_SIGN_CERT).
	CertFile string
	// KeyFile is an unencrypted PEM private key, PKCS#8, PKCS#1 or SEC 1
	// (-sign-key, CARTA_SIGN_KEY).
	KeyFile string

	// Name is the signer's name written into the signature (/Name) and
	// returned by Signer.Name (-sign-name, CARTA_SIGN_NAME); default: the
	// certificate's subject common name, else its organisation.
	Name string
	// Reason is the reason for signing (/Reason) (-sign-reason,
	// CARTA_SIGN_REASON); default: none.
	Reason string
	// Location is where the letter was signed (/Location)
	// (-sign-location, CARTA_SIGN_LOCATION); default: none.
	Location string

	// Now is the clock giving the signing time (/M); default time.Now.
	// Tests fix it. Load and every Signer.Sign refuse a certificate that
	// is not valid at Now().
	Now func() time.Time
}

// Configured reports whether c asks for signing at all.
func (c Config) Configured() bool {
	return c.P12File != "" || c.CertFile != "" || c.KeyFile != ""
}

// Signer signs PDFs with one certificate and key. It is safe for
// concurrent use.
type Signer struct {
	key      crypto.Signer
	cert     *x509.Certificate
	chain    []*x509.Certificate // the certificates after cert, as given
	name     string
	reason   string
	location string
	now      func() time.Time
	where    string // the setting holding the certificate, for errors
	capacity int    // bytes reserved for the CMS in /Contents
}

// setting names a configuration setting by its flag and variable, e.g.
// "-sign-key (CARTA_SIGN_KEY)".
func setting(flag string) string {
	return "-" + flag + " (CARTA_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_")) + ")"
}

// Load reads the certificate and key that cfg names and checks that they
// belong together, that the key is RSA or ECDSA and that the certificate
// is valid now and allowed to sign. Errors name the flag and environment
// variable to fix, e.g.
//
//	load signing key: -sign-key (CARTA_SIGN_KEY): open /etc/carta/key.pem: no such file or directory
func Load(cfg Config) (*Signer, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	var (
		key   crypto.PrivateKey
		certs []*x509.Certificate
		err   error
		where string // setting holding the certificate
	)
	switch {
	case cfg.P12File != "" && (cfg.CertFile != "" || cfg.KeyFile != ""):
		return nil, fmt.Errorf("load signing key: set either %s or %s and %s, not both", setting("sign-p12"), setting("sign-cert"), setting("sign-key"))
	case cfg.P12File != "":
		where = setting("sign-p12")
		key, certs, err = loadP12(cfg)
	case cfg.CertFile != "" && cfg.KeyFile != "":
		where = setting("sign-cert")
		key, certs, err = loadPEM(cfg)
	case cfg.CertFile != "":
		return nil, fmt.Errorf("load signing key: %s is set but %s is not", setting("sign-cert"), setting("sign-key"))
	case cfg.KeyFile != "":
		return nil, fmt.Errorf("load signing key: %s is set but %s is not", setting("sign-key"), setting("sign-cert"))
	default:
		return nil, fmt.Errorf("load signing key: none configured: set %s or %s and %s", setting("sign-p12"), setting("sign-cert"), setting("sign-key"))
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("load signing key: %s: unsupported key type %T", where, key)
	}
	switch signer.Public().(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		return nil, fmt.Errorf("load signing key: %s: unsupported key type %T (need RSA or ECDSA)", where, signer.Public())
	}
	leaf := -1
	for i, c := range certs {
		if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(signer.Public()) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return nil, fmt.Errorf("load signing certificate: %s: no certificate matches the private key", where)
	}
	cert := certs[leaf]
	chain := append(append([]*x509.Certificate(nil), certs[:leaf]...), certs[leaf+1:]...)
	t := now()
	if t.Before(cert.NotBefore) || t.After(cert.NotAfter) {
		return nil, fmt.Errorf("load signing certificate: %s: certificate %q is valid from %s to %s, not now (%s)",
			where, cert.Subject.String(), cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, fmt.Errorf("load signing certificate: %s: certificate %q may not sign (its key usage has neither digitalSignature nor nonRepudiation)", where, cert.Subject.String())
	}
	name := cfg.Name
	if name == "" {
		name = cert.Subject.CommonName
	}
	if name == "" && len(cert.Subject.Organization) > 0 {
		name = cert.Subject.Organization[0]
	}
	s := &Signer{key: signer, cert: cert, chain: chain, name: name, reason: cfg.Reason, location: cfg.Location, now: now, where: where}
	s.capacity = s.maxCMSLen()
	return s, nil
}

// loadP12 reads the PKCS#12 file of cfg.
func loadP12(cfg Config) (crypto.PrivateKey, []*x509.Certificate, error) {
	where := setting("sign-p12")
	password := cfg.P12Password
	if cfg.P12PasswordFile != "" {
		if cfg.P12Password != "" {
			return nil, nil, fmt.Errorf("load signing key: set either %s or %s, not both", setting("sign-p12-password"), setting("sign-p12-password-file"))
		}
		data, err := os.ReadFile(cfg.P12PasswordFile)
		if err != nil {
			return nil, nil, fmt.Errorf("load signing key: %s: %w", setting("sign-p12-password-file"), err)
		}
		password, _, _ = strings.Cut(string(data), "\n")
		password = strings.TrimSuffix(password, "\r")
	}
	data, err := os.ReadFile(cfg.P12File)
	if err != nil {
		return nil, nil, fmt.Errorf("load signing key: %s: %w", where, err)
	}
	key, cert, cas, err := pkcs12.DecodeChain(data, password)
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, nil, fmt.Errorf("load signing key: %s: wrong password: check %s or %s", where, setting("sign-p12-password"), setting("sign-p12-password-file"))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load signing key: %s: decode PKCS#12: %w", where, err)
	}
	return key, append([]*x509.Certificate{cert}, cas...), nil
}

// loadPEM reads the PEM certificate and key files of cfg.
func loadPEM(cfg Config) (crypto.PrivateKey, []*x509.Certificate, error) {
	certWhere, keyWhere := setting("sign-cert"), setting("sign-key")
	data, err := os.ReadFile(cfg.CertFile)
	if err != nil {
		return nil, nil, fmt.Errorf("load signing certificate: %s: %w", certWhere, err)
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
			return nil, nil, fmt.Errorf("load signing certificate: %s: certificate %d: %w", certWhere, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("load signing certificate: %s: no PEM CERTIFICATE block in %s", certWhere, cfg.CertFile)
	}
	data, err = os.ReadFile(cfg.KeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("load signing key: %s: %w", keyWhere, err)
	}
	var key crypto.PrivateKey
	for rest := data; key == nil; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, nil, fmt.Errorf("load signing key: %s: no PEM private key in %s", keyWhere, cfg.KeyFile)
		}
		switch {
		case b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "":
			return nil, nil, fmt.Errorf("load signing key: %s: encrypted PEM keys are not supported; use %s with a password instead", keyWhere, setting("sign-p12"))
		case b.Type == "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case b.Type == "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case b.Type == "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("load signing key: %s: parse %s: %w", keyWhere, strings.ToLower(b.Type), err)
		}
	}
	return key, certs, nil
}

// Name is the signer's name: Config.Name, else the certificate's common
// name, else its organisation.
func (s *Signer) Name() string { return s.name }

// Certificate is the signing certificate.
func (s *Signer) Certificate() *x509.Certificate { return s.cert }

// Sign returns pdf with a PAdES B-B signature appended as an incremental
// update: the result starts with pdf's bytes unchanged. The signing time
// is the signer's clock; Sign refuses to sign when the certificate is not
// valid at that time (a long-running worker outliving its certificate),
// e.g.
//
//	sign pdf: signing certificate expired on 2043-01-09T15:04:05Z: renew -sign-cert (CARTA_SIGN_CERT)
//
// pdf must be an unencrypted PDF with classic cross-reference tables and
// no form (Carta's renderer writes such PDFs).
func (s *Signer) Sign(pdf []byte) ([]byte, error) {
	t := s.now()
	if err := s.checkValidity(t); err != nil {
		return nil, fmt.Errorf("sign pdf: %w", err)
	}
	out, err := s.sign(pdf, t)
	if err != nil {
		return nil, fmt.Errorf("sign pdf: %w", err)
	}
	return out, nil
}

// checkValidity reports an error when t is outside the validity period of
// the signing certificate.
func (s *Signer) checkValidity(t time.Time) error {
	switch {
	case t.After(s.cert.NotAfter):
		return fmt.Errorf("signing certificate expired on %s (now %s): renew %s",
			s.cert.NotAfter.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339), s.where)
	case t.Before(s.cert.NotBefore):
		return fmt.Errorf("signing certificate not valid before %s (now %s): check the clock or %s",
			s.cert.NotBefore.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339), s.where)
	}
	return nil
}

// hasPrefix reports whether b starts with s.
func hasPrefix(b []byte, s string) bool { return bytes.HasPrefix(b, []byte(s)) }
