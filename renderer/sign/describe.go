package sign

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"
	"strings"
	"time"
)

// oidEmailAddress is the PKCS #9 emailAddress attribute of a subject,
// which pkix.Name.String prints as a raw OID and hex.
var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// describeName renders a certificate subject or issuer as a person reads
// it: the common name in quotes, the e-mail addresses in angle brackets,
// then the organisation, e.g.
//
//	"Comitė Ciudadano" <letters@example.org> (Comitė Ciudadano, MX)
func describeName(n pkix.Name, emails ...string) string {
	for _, a := range n.Names {
		if a.Type.Equal(oidEmailAddress) {
			if s, ok := a.Value.(string); ok && !slices.Contains(emails, s) {
				emails = append([]string{s}, emails...)
			}
		}
	}
	var b strings.Builder
	if n.CommonName != "" {
		fmt.Fprintf(&b, "%q", n.CommonName)
	}
	for _, e := range emails {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "<%s>", e)
	}
	var org []string
	org = append(org, n.OrganizationalUnit...)
	org = append(org, n.Organization...)
	org = append(org, n.Country...)
	if len(org) > 0 {
		if b.Len() == 0 {
			return strings.Join(org, ", ")
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(org, ", "))
	}
	if b.Len() == 0 {
		return n.String()
	}
	return b.String()
}

// describeCert renders c's subject as describeName does, with the
// e-mail addresses of its subject alternative names.
func describeCert(c *x509.Certificate) string {
	return describeName(c.Subject, c.EmailAddresses...)
}

// day formats t for a person: 2023-01-09 15:04:05 UTC.
func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// renewAdvice says what to do about a certificate set in where that is
// not valid now.
func renewAdvice(where string) string {
	return "get a renewed certificate and key from its CA and set " + where + " to them"
}
