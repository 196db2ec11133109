// Package sign adds a digital signature to a rendered Carta PDF.
//
// Signing is a separate step after rendering: the renderer stays pure and
// the unsigned letter stays byte-identical for the same job, while Sign
// appends an incremental update holding the signature (the bytes of the
// unsigned letter are kept unchanged at the start of the signed file).
//
// The signature is a PAdES baseline B-B signature (ETSI EN 319 142-1): the
// signature dictionary has /SubFilter /ETSI.CAdES.detached and /Contents
// holds a detached CMS SignedData (RFC 5652) over the signed byte ranges,
// with SHA-256 digests and exactly three signed attributes — content-type,
// message-digest and ESS signing-certificate-v2 (RFC 5035). As PAdES
// requires, the CMS has no signing-time attribute: the claimed signing
// time is the /M entry of the signature dictionary. There is no timestamp
// (B-T) and no embedded revocation data (B-LT).
//
// The certificate and key come from configuration (a PKCS#12 file or PEM
// files), never from a job. Keys may be RSA or ECDSA.
package sign
