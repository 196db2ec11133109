package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/digitorus/timestamp"
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

	// TSAURL is the URL of an RFC 3161 timestamp authority (-sign-tsa-url,
	// CARTA_SIGN_TSA_URL); when set, each signature carries a signature
	// timestamp token (PAdES B-T) and Sign fails when the TSA cannot give
	// one; default: none (PAdES B-B).
	TSAURL string
	// TSAUsername is the HTTP basic-auth user for TSAURL
	// (-sign-tsa-username, CARTA_SIGN_TSA_USERNAME); default: none.
	TSAUsername string
	// TSAPasswordFile is a file whose first line is the password of
	// TSAUsername (-sign-tsa-password-file,
	// CARTA_SIGN_TSA_PASSWORD_FILE).
	TSAPasswordFile string
	// TSACAFile is a PEM file of the CA certificates the TSA's
	// certificate must chain to (-sign-tsa-ca, CARTA_SIGN_TSA_CA);
	// default: the token's signature is checked but not its chain. With
	// LTV the TSA's root must be here (tokens rarely carry it).
	TSACAFile string
	// TSAPolicy is the TSA policy OID asked for (-sign-tsa-policy,
	// CARTA_SIGN_TSA_POLICY), e.g. 1.3.6.1.4.1.601.10.3.1; default: the
	// TSA's own.
	TSAPolicy string
	// LTV adds long-term validation data (PAdES B-LT) after each
	// signature (-sign-ltv, CARTA_SIGN_LTV): the certificates of the
	// signer's and the TSA's chains and an OCSP response or CRL for each
	// but the roots, in a DSS. It needs TSAURL and the full signer chain
	// up to the root in the certificate setting. A revoked signer
	// certificate is refused before signing. Default: false.
	LTV bool
	// LTA adds, after the LTV data, a document timestamp over the whole
	// file from the TSA (PAdES B-LTA) (-sign-lta, CARTA_SIGN_LTA). It
	// needs LTV. Default: false.
	LTA bool
	// HTTPTimeout bounds each request to the TSA, an OCSP responder or a
	// CRL distribution point [10s].
	HTTPTimeout time.Duration
	// Attempts is how many times each such request is tried before Sign
	// fails [3]; Backoff is the pause after the first failed attempt,
	// doubled after each further one [1s]. (The queue retries a failed
	// signing later, with its own backoff.)
	Attempts int
	Backoff  time.Duration

	// Now is the clock giving the signing time (/M); default time.Now.
	// Tests fix it. Load and every Signer.Sign refuse a certificate that
	// is not valid at Now().
	Now func() time.Time
}

// Configured reports whether c asks for signing at all.
func (c Config) Configured() bool {
	return c.P12File != "" || c.CertFile != "" || c.KeyFile != ""
}

// Levels of PAdES baseline signatures that a Signer makes (Signer.Level).
const (
	LevelBB   = "B-B"   // signature only; the signing time is the signer's clock
	LevelBT   = "B-T"   // with a signature timestamp from a TSA
	LevelBLT  = "B-LT"  // and the validation data in a DSS
	LevelBLTA = "B-LTA" // and a document timestamp over it all
)

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
	capacity int    // bytes reserved for the CMS in /Contents, without a timestamp token

	tsa         *tsa         // nil: no timestamp
	tokenLen    atomic.Int64 // the largest timestamp token seen
	ltv, lta    bool
	signerChain []*x509.Certificate // cert up to its root, with LTV
	httpTimeout time.Duration
	attempts    int
	backoff     time.Duration
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
		return nil, fmt.Errorf("load signing certificate: %s: the certificate of %s is valid from %s to %s, not now (%s): %s",
			where, describeCert(cert), day(cert.NotBefore), day(cert.NotAfter), day(t), renewAdvice(where))
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, fmt.Errorf("load signing certificate: %s: the certificate of %s may not sign (its key usage has neither digitalSignature nor nonRepudiation): ask its CA for a signing certificate", where, describeCert(cert))
	}
	name := cfg.Name
	if name == "" {
		name = cert.Subject.CommonName
	}
	if name == "" && len(cert.Subject.Organization) > 0 {
		name = cert.Subject.Organization[0]
	}
	s := &Signer{key: signer, cert: cert, chain: chain, name: name, reason: cfg.Reason, location: cfg.Location, now: now, where: where,
		ltv: cfg.LTV, lta: cfg.LTA, httpTimeout: cfg.HTTPTimeout, attempts: cfg.Attempts, backoff: cfg.Backoff}
	if s.httpTimeout <= 0 {
		s.httpTimeout = 10 * time.Second
	}
	if s.attempts <= 0 {
		s.attempts = 3
	}
	if s.backoff <= 0 {
		s.backoff = time.Second
	}
	s.capacity = s.maxCMSLen()
	if cfg.TSAURL == "" {
		for _, o := range []struct{ flag, val string }{{"sign-tsa-username", cfg.TSAUsername}, {"sign-tsa-password-file", cfg.TSAPasswordFile}, {"sign-tsa-ca", cfg.TSACAFile}, {"sign-tsa-policy", cfg.TSAPolicy}} {
			if o.val != "" {
				return nil, fmt.Errorf("load timestamp authority: %s is set but %s is not", setting(o.flag), setting("sign-tsa-url"))
			}
		}
		if cfg.LTV {
			return nil, fmt.Errorf("load signing settings: %s needs a timestamp authority (PAdES B-LT builds on B-T): set %s", setting("sign-ltv"), setting("sign-tsa-url"))
		}
	} else {
		c := cfg
		c.HTTPTimeout, c.Attempts, c.Backoff = s.httpTimeout, s.attempts, s.backoff
		if s.tsa, err = newTSA(c); err != nil {
			return nil, err
		}
		s.tokenLen.Store(8 << 10)
	}
	if cfg.LTA && !cfg.LTV {
		return nil, fmt.Errorf("load signing settings: %s needs %s (PAdES B-LTA builds on B-LT)", setting("sign-lta"), setting("sign-ltv"))
	}
	if cfg.LTV {
		if s.signerChain, err = buildChain(cert, chain, where); err != nil {
			return nil, fmt.Errorf("load signing certificate: %s: %w", where, err)
		}
		for _, c := range s.signerChain[:len(s.signerChain)-1] {
			if len(c.OCSPServer) == 0 && len(c.CRLDistributionPoints) == 0 {
				return nil, fmt.Errorf("load signing certificate: %s: the certificate of %s names no OCSP responder and no CRL distribution point, so %s has no revocation data to embed: use a certificate from a CA that publishes them, or leave out %s",
					where, describeCert(c), setting("sign-ltv"), setting("sign-ltv"))
			}
		}
	}
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
	certs, err := readPEMCerts(cfg.CertFile)
	if err != nil {
		return nil, nil, fmt.Errorf("load signing certificate: %s: %w", certWhere, err)
	}
	data, err := os.ReadFile(cfg.KeyFile)
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

// Level is the PAdES baseline level of the signatures s makes: LevelBB,
// LevelBT with a TSA, LevelBLT with a TSA and LTV, LevelBLTA with LTA
// too.
func (s *Signer) Level() string {
	switch {
	case s.lta:
		return LevelBLTA
	case s.ltv:
		return LevelBLT
	case s.tsa != nil:
		return LevelBT
	}
	return LevelBB
}

// Sign returns pdf with a PAdES signature of s.Level() appended as
// incremental updates: the result starts with pdf's bytes unchanged. The
// signing time (/M) is the signer's clock; Sign refuses to sign when the
// certificate is not valid at that time (a long-running worker outliving
// its certificate), e.g.
//
//	sign pdf: the signing certificate of "Comitė Ciudadano" <letters@example.org> expired on 2043-01-09 15:04:05 UTC (now 2043-01-10 15:04:05 UTC): get a renewed certificate and key from its CA and set -sign-cert (CARTA_SIGN_CERT) to them
//
// With a TSA the signature value is timestamped (B-T); Sign fails rather
// than return a signature without the timestamp when the TSA cannot be
// reached or its answer is wrong. With LTV, the revocation status of the
// signer's chain is fetched first (a revoked certificate is refused), and
// after signing, that of the TSA's chain; all of it is appended in a DSS
// update (B-LT). With LTA, a document timestamp follows (B-LTA).
//
// pdf must be an unencrypted PDF with classic cross-reference tables and
// no form (Carta's renderer writes such PDFs).
func (s *Signer) Sign(pdf []byte) ([]byte, error) {
	t := s.now()
	if err := s.checkValidity(t); err != nil {
		return nil, fmt.Errorf("sign pdf: %w", err)
	}
	ctx := context.Background()
	var v *validation
	if s.ltv {
		v = &validation{}
		if err := s.revocation(ctx, s.signerChain, v); err != nil {
			return nil, fmt.Errorf("sign pdf: check the signing certificate: %w", err)
		}
	}
	var (
		ts    *timestamp.Timestamp
		stamp stampFunc
	)
	capacity := s.capacity
	if s.tsa != nil {
		capacity += int(s.tokenLen.Load()) + 64
		stamp = func(sig []byte) ([]byte, error) {
			var err error
			if ts, err = s.tsa.stamp(ctx, sig); err != nil {
				return nil, err
			}
			return ts.RawToken, nil
		}
	}
	out, cms, err := s.sign(pdf, t, capacity, stamp)
	if errors.Is(err, errTooSmall) && s.tsa != nil {
		// A larger token than ever before: remember, reserve and sign
		// again (the TSA is asked again).
		s.tokenLen.Store(int64(len(ts.RawToken)) + 1024)
		out, _, err = s.sign(pdf, t, len(cms)+1024, stamp)
	}
	if err != nil {
		return nil, fmt.Errorf("sign pdf: %w", err)
	}
	if s.ltv {
		pool := append(append([]*x509.Certificate(nil), ts.Certificates...), s.tsa.rootCerts...)
		chain, err := buildChain(tsaSigner(ts), pool, setting("sign-tsa-ca"))
		if err != nil {
			return nil, fmt.Errorf("sign pdf: add validation data: the timestamp authority's certificate: %w", err)
		}
		if err := s.revocation(ctx, chain, v); err != nil {
			return nil, fmt.Errorf("sign pdf: add validation data: the timestamp authority's certificate: %w", err)
		}
		if out, err = appendDSS(out, v); err != nil {
			return nil, fmt.Errorf("sign pdf: add validation data: %w", err)
		}
	}
	if s.lta {
		signed := out
		out, token, err := s.appendDocTimestamp(ctx, signed, int(s.tokenLen.Load())+64)
		if errors.Is(err, errTooSmall) {
			s.tokenLen.Store(int64(len(token)) + 1024)
			out, _, err = s.appendDocTimestamp(ctx, signed, len(token)+1024)
		}
		if err != nil {
			return nil, fmt.Errorf("sign pdf: %w", err)
		}
		return out, nil
	}
	return out, nil
}

// checkValidity reports an error when t is outside the validity period of
// the signing certificate.
func (s *Signer) checkValidity(t time.Time) error {
	switch {
	case t.After(s.cert.NotAfter):
		return fmt.Errorf("the signing certificate of %s expired on %s (now %s): %s",
			describeCert(s.cert), day(s.cert.NotAfter), day(t), renewAdvice(s.where))
	case t.Before(s.cert.NotBefore):
		return fmt.Errorf("the signing certificate of %s is not valid before %s (now %s): check the clock or %s",
			describeCert(s.cert), day(s.cert.NotBefore), day(t), s.where)
	}
	return nil
}

// hasPrefix reports whether b starts with s.
func hasPrefix(b []byte, s string) bool { return bytes.HasPrefix(b, []byte(s)) }
