package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/digitorus/pkcs7"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers used in the CMS.
var (
	oidData                 = pkcs7.OIDData
	oidSignedData           = pkcs7.OIDSignedData
	oidMessageDigest        = pkcs7.OIDAttributeMessageDigest
	oidSigningTime          = pkcs7.OIDAttributeSigningTime
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidTimeStampToken       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidSHA256               = pkcs7.OIDDigestAlgorithmSHA256
)

// cms returns a detached CMS SignedData (DER) over content (the signed
// byte ranges), with the signed attributes of CAdES baseline B-B:
// content-type, message-digest and signing-certificate-v2, and no
// signing-time. When stamp is not nil it is given the signature value and
// its token is added as the unsigned signature-time-stamp attribute
// (CAdES baseline B-T).
//
// github.com/digitorus/pkcs7 encodes the SignedData, the SignerInfo and
// the attributes. Its AddSignerChain always adds a signing-time attribute
// (the library's wall clock), which PAdES forbids (ETSI EN 319 142-1,
// 5.4: the claimed signing time is /M), and offers no option to leave it
// out; so cms gives the library only the public key, removes that
// attribute and signs the remaining attributes itself (resign), the only
// part written here.
func (s *Signer) cms(content []byte, stamp func(sigValue []byte) ([]byte, error)) ([]byte, error) {
	certHash := sha256.Sum256(s.cert.Raw)
	// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 };
	// in the ESSCertIDv2 hashAlgorithm is omitted (its default is SHA-256)
	// and issuerSerial too, as CAdES baseline advises.
	scv2, err := asn1.Marshal(struct{ Certs []struct{ Hash []byte } }{[]struct{ Hash []byte }{{certHash[:]}}})
	if err != nil {
		return nil, fmt.Errorf("encode signing-certificate-v2: %w", err)
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, fmt.Errorf("make cms: %w", err)
	}
	sd.SetDigestAlgorithm(oidSHA256)
	// No parents: the library would check their order and take the
	// issuer's name from the first; the chain is added as is below.
	// The library is given the public key only: its signature (over
	// attributes with signing-time) would be thrown away.
	if err := sd.AddSignerChain(s.cert, publicOnly{s.key.Public()}, nil, pkcs7.SignerInfoConfig{
		ExtraSignedAttributes: []pkcs7.Attribute{{Type: oidSigningCertificateV2, Value: asn1.RawValue{FullBytes: scv2}}},
	}); err != nil {
		return nil, fmt.Errorf("make cms: %w", err)
	}
	for _, c := range s.chain {
		sd.AddCertificate(c)
	}
	si := &sd.GetSignedData().SignerInfos[0]
	kept := si.AuthenticatedAttributes[:0]
	for _, a := range si.AuthenticatedAttributes {
		if !a.Type.Equal(oidSigningTime) {
			kept = append(kept, a)
		}
	}
	si.AuthenticatedAttributes = kept
	attrs := make([][]byte, len(si.AuthenticatedAttributes))
	for i, a := range si.AuthenticatedAttributes {
		if attrs[i], err = asn1.Marshal(a); err != nil {
			return nil, fmt.Errorf("encode signed attributes: %w", err)
		}
	}
	if si.EncryptedDigest, err = s.resign(attrs); err != nil {
		return nil, err
	}
	if stamp != nil {
		token, err := stamp(si.EncryptedDigest)
		if err != nil {
			return nil, err
		}
		if err := si.SetUnauthenticatedAttributes([]pkcs7.Attribute{{Type: oidTimeStampToken, Value: asn1.RawValue{FullBytes: token}}}); err != nil {
			return nil, fmt.Errorf("add timestamp token: %w", err)
		}
	}
	sd.Detach()
	out, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("encode cms: %w", err)
	}
	return out, nil
}

// publicOnly is a crypto.Signer that makes no signature: the library
// learns the key type from it, and the real signature is made by resign.
type publicOnly struct{ pub crypto.PublicKey }

func (p publicOnly) Public() crypto.PublicKey { return p.pub }

func (p publicOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return nil, nil }

// resign signs the signed attributes attrs (each a DER Attribute): the
// signature covers them encoded as a DER SET OF (tag 0x31), sorted.
func (s *Signer) resign(attrs [][]byte) ([]byte, error) {
	if len(attrs) != 3 {
		return nil, errors.New("make cms: unexpected signed attributes from the CMS library")
	}
	attrs = slices.Clone(attrs)
	slices.SortFunc(attrs, bytes.Compare)
	var set cryptobyte.Builder
	set.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	toSign, err := set.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode signed attributes: %w", err)
	}
	h := sha256.Sum256(toSign)
	sig, err := s.key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign attributes: %w", err)
	}
	return sig, nil
}

// maxCMSLen is an upper bound of the length of s.cms's output without a
// timestamp token: the certificates, the largest signature the key makes,
// and room for the fixed structure and attributes.
func (s *Signer) maxCMSLen() int {
	n := len(s.cert.Raw) + len(s.cert.RawIssuer) + len(s.cert.SerialNumber.Bytes())
	for _, c := range s.chain {
		n += len(c.Raw)
	}
	switch k := s.key.Public().(type) {
	case *rsa.PublicKey:
		n += k.Size()
	case *ecdsa.PublicKey:
		n += 2*((k.Curve.Params().BitSize+7)/8) + 16
	}
	return n + 512
}
