package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers used in the CMS.
var (
	oidData                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidRSAEncryption        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECDSAWithSHA256      = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
)

// tag0 is the context-specific constructed tag [0].
var tag0 = cbasn1.Tag(0).ContextSpecific().Constructed()

// cms returns a detached CMS SignedData (DER) over content whose SHA-256
// is digest, with the signed attributes of CAdES baseline B-B:
// content-type, message-digest and signing-certificate-v2, and no
// signing-time.
func (s *Signer) cms(digest []byte) ([]byte, error) {
	attrs := s.signedAttrs(digest)
	// The signature covers the attributes encoded as a SET OF (tag 0x31),
	// while the SignerInfo carries them as [0] IMPLICIT.
	var set cryptobyte.Builder
	set.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(attrs) })
	toSign, err := set.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode signed attributes: %w", err)
	}
	h := sha256.Sum256(toSign)
	sig, err := s.key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign attributes: %w", err)
	}

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(tag0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(1) // version
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { addAlgorithm(b, oidSHA256, false) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // EncapsulatedContentInfo, detached
					b.AddASN1ObjectIdentifier(oidData)
				})
				b.AddASN1(tag0, func(b *cryptobyte.Builder) { // certificates
					b.AddBytes(s.cert.Raw)
					for _, c := range s.chain {
						b.AddBytes(c.Raw)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { // signerInfos
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1) // version: sid is issuerAndSerialNumber
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(s.cert.RawIssuer)
							b.AddASN1BigInt(s.cert.SerialNumber)
						})
						addAlgorithm(b, oidSHA256, false)
						b.AddASN1(tag0, func(b *cryptobyte.Builder) { b.AddBytes(attrs) })
						switch s.key.Public().(type) {
						case *rsa.PublicKey:
							addAlgorithm(b, oidRSAEncryption, true)
						case *ecdsa.PublicKey:
							addAlgorithm(b, oidECDSAWithSHA256, false)
						}
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode cms: %w", err)
	}
	return out, nil
}

// signedAttrs returns the DER of the signed attributes, each an Attribute
// SEQUENCE, concatenated in DER SET OF order.
func (s *Signer) signedAttrs(digest []byte) []byte {
	certHash := sha256.Sum256(s.cert.Raw)
	attrs := [][]byte{
		attribute(oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) }),
		attribute(oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }),
		attribute(oidSigningCertificateV2, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2
						// hashAlgorithm is omitted: its default is SHA-256.
						// issuerSerial is omitted as CAdES baseline advises.
						b.AddASN1OctetString(certHash[:])
					})
				})
			})
		}),
	}
	slices.SortFunc(attrs, bytes.Compare)
	return bytes.Join(attrs, nil)
}

// attribute encodes an Attribute with one value.
func attribute(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, value)
	})
	return b.BytesOrPanic() // only fixed, well-formed values
}

// addAlgorithm adds an AlgorithmIdentifier, with NULL parameters if null.
func addAlgorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, null bool) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if null {
			b.AddASN1NULL()
		}
	})
}

// maxCMSLen is an upper bound of the length of s.cms's output: the
// certificates, the largest signature the key makes, and room for the
// fixed structure and attributes.
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
