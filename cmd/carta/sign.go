package main

import (
	"flag"
	"fmt"

	"github.com/carta-letters/carta/renderer/sign"
)

// signFlags are the PDF signing settings shared by "carta render" and
// "carta worker". The certificate and key come only from here (flags or
// CARTA_SIGN_* variables), never from a job.
type signFlags struct {
	cfg sign.Config
}

// signFlagNames are the flags addSignFlags defines.
var signFlagNames = []string{
	"sign-p12", "sign-p12-password", "sign-p12-password-file",
	"sign-cert", "sign-key", "sign-name", "sign-reason", "sign-location",
	"sign-tsa-url", "sign-tsa-username", "sign-tsa-password-file", "sign-tsa-ca", "sign-tsa-policy", "sign-ltv", "sign-lta",
}

// addSignFlags defines the signing flags on fs. With none of -sign-p12,
// -sign-cert and -sign-key set, letters are not signed.
func addSignFlags(fs *flag.FlagSet) *signFlags {
	f := &signFlags{}
	fs.StringVar(&f.cfg.P12File, "sign-p12", "", "sign each PDF with the key and certificate chain of this PKCS#12 (.p12/.pfx) file")
	fs.StringVar(&f.cfg.P12Password, "sign-p12-password", "", "password of -sign-p12 (prefer -sign-p12-password-file)")
	fs.StringVar(&f.cfg.P12PasswordFile, "sign-p12-password-file", "", "file whose first line is the password of -sign-p12")
	fs.StringVar(&f.cfg.CertFile, "sign-cert", "", "sign each PDF with this PEM certificate, followed by its chain (with -sign-key)")
	fs.StringVar(&f.cfg.KeyFile, "sign-key", "", "unencrypted PEM private key of -sign-cert")
	fs.StringVar(&f.cfg.Name, "sign-name", "", "signer name written into the signature (default: the certificate's common name)")
	fs.StringVar(&f.cfg.Reason, "sign-reason", "", "reason for signing written into the signature")
	fs.StringVar(&f.cfg.Location, "sign-location", "", "place of signing written into the signature")
	fs.StringVar(&f.cfg.TSAURL, "sign-tsa-url", "", "RFC 3161 timestamp authority URL: each signature gets a trusted timestamp (PAdES B-T); no letter is stored without one")
	fs.StringVar(&f.cfg.TSAUsername, "sign-tsa-username", "", "HTTP basic-auth user for -sign-tsa-url")
	fs.StringVar(&f.cfg.TSAPasswordFile, "sign-tsa-password-file", "", "file whose first line is the password of -sign-tsa-username")
	fs.StringVar(&f.cfg.TSACAFile, "sign-tsa-ca", "", "PEM file of the CA certificates the timestamp authority must chain to (needed with -sign-ltv)")
	fs.StringVar(&f.cfg.TSAPolicy, "sign-tsa-policy", "", "timestamp policy OID to ask the timestamp authority for (default: its own)")
	fs.BoolVar(&f.cfg.LTV, "sign-ltv", false, "embed the certificate chains and their OCSP responses or CRLs after each signature (PAdES B-LT; needs -sign-tsa-url)")
	fs.BoolVar(&f.cfg.LTA, "sign-lta", false, "after the -sign-ltv data, add a document timestamp over the whole file (PAdES B-LTA)")
	return f
}

// applySignEnv applies the CARTA_SIGN_* variables (looked up with lookup)
// to the signing flags of fs only, for commands such as "carta render"
// that do not take their other flags from the environment. Call it after
// addSignFlags and before parsing, so the command line wins. Commands
// that call applyEnv on the whole flag set need not call it.
func applySignEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	sub := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	for _, name := range signFlagNames {
		if f := fs.Lookup(name); f != nil {
			sub.Var(f.Value, f.Name, f.Usage)
		}
	}
	err := applyEnv(sub, lookup)
	sub.VisitAll(func(f *flag.Flag) { fs.Lookup(f.Name).Usage = f.Usage })
	return err
}

// signer loads the configured signer, or returns nil when no signing key
// is configured. Setting a signing option without a key is an error, so
// that a misconfiguration never silently gives unsigned letters.
func (f *signFlags) signer() (*sign.Signer, error) {
	if !f.cfg.Configured() {
		for _, s := range []struct{ flag, val string }{
			{"sign-p12-password", f.cfg.P12Password},
			{"sign-p12-password-file", f.cfg.P12PasswordFile},
			{"sign-name", f.cfg.Name},
			{"sign-reason", f.cfg.Reason},
			{"sign-location", f.cfg.Location},
			{"sign-tsa-url", f.cfg.TSAURL},
			{"sign-tsa-username", f.cfg.TSAUsername},
			{"sign-tsa-password-file", f.cfg.TSAPasswordFile},
			{"sign-tsa-ca", f.cfg.TSACAFile},
			{"sign-tsa-policy", f.cfg.TSAPolicy},
			{"sign-ltv", map[bool]string{true: "true"}[f.cfg.LTV]},
			{"sign-lta", map[bool]string{true: "true"}[f.cfg.LTA]},
		} {
			if s.val != "" {
				return nil, fmt.Errorf("load signing key: -%s (%s) is set but no key is: set -sign-p12 (%s) or -sign-cert (%s) and -sign-key (%s)",
					s.flag, envName(s.flag), envName("sign-p12"), envName("sign-cert"), envName("sign-key"))
			}
		}
		return nil, nil
	}
	return sign.Load(f.cfg)
}
