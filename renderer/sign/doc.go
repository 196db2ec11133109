// Package sign adds a digital signature to a rendered Carta PDF.
//
// Signing is a separate step after rendering: the renderer stays pure and
// the unsigned letter stays byte-identical for the same job, while Sign
// appends incremental updates holding the signature (the bytes of the
// unsigned letter are kept unchanged at the start of the signed file).
//
// # Levels
//
// Signatures are PAdES baseline signatures (ETSI EN 319 142-1) at the
// level Signer.Level reports:
//
//   - B-B: the signature dictionary has /SubFilter /ETSI.CAdES.detached
//     and /Contents holds a detached CMS SignedData (RFC 5652) over the
//     signed byte ranges, with SHA-256 digests and exactly three signed
//     attributes: content-type, message-digest and ESS
//     signing-certificate-v2 (RFC 5035). As PAdES requires, the CMS has
//     no signing-time attribute: the claimed signing time is the /M entry
//     of the signature dictionary (the signer's clock).
//
//   - B-T (Config.TSAURL): the CMS also carries, as the unsigned
//     signature-time-stamp attribute, an RFC 3161 timestamp token over
//     the signature value from the configured timestamp authority. The
//     token's signature, message imprint and nonce are checked and, with
//     Config.TSACAFile, its chain. A TSA that cannot be reached after
//     Config.Attempts tries fails Sign: no untimestamped signature is
//     returned. A TSA, OCSP responder or CRL distribution point that
//     cannot be reached, times out or answers HTTP 5xx, 408 or 429 (OCSP
//     "try later") fails Sign with an error wrapping an
//     *UnavailableError, which names the service and the flag to fix: a
//     worker (package queue) holds the job without spending its attempts
//     and calls Signer.Probe until the service answers. A refused
//     request (another 4xx), a bad answer or a revoked certificate is
//     not an outage.
//
//   - B-LT (Config.LTV): before signing, the revocation status of every
//     certificate of the signer's chain but the root is fetched (OCSP
//     from the certificate's AIA responder, else a CRL from its
//     distribution points); a revoked certificate is refused. After
//     signing, the same is done for the TSA's chain, and a second
//     incremental update adds a Document Security Store (/DSS in the
//     catalog, with /Certs, /OCSPs and /CRLs streams) holding both chains
//     (roots included) and that revocation data. The update writes only
//     the DSS, its streams and the catalog (with /DSS added). No /VRI
//     dictionaries are written: they are optional in PAdES, and
//     validators look up the DSS as a whole.
//
//   - B-LTA (Config.LTA): a third update adds a document timestamp: a
//     second signature field whose /Type /DocTimeStamp dictionary
//     (/SubFilter /ETSI.RFC3161) holds an RFC 3161 token from the same
//     TSA over the whole file but the token. Its validation data is
//     already in the DSS (same TSA). Renewing it (a new DSS and document
//     timestamp before the TSA's certificate expires) is not done: that
//     needs a job re-reading stored letters.
//
// Each signature field is a widget annotation merged with its field on
// page 1: /P points to the page, the page's /Annots lists it (the page
// object is rewritten in the signature's update), it is invisible
// (/Rect [0 0 0 0]) but printable and locked (/F 132), and it has an
// appearance (/AP /N, an empty form XObject) as PDF/A requires of every
// annotation. In a tagged PDF (one with /StructTreeRoot) the widget also
// gets a /Form structure element, appended to the document element and
// reached from the widget's /StructParent through the parent tree, an
// alternate name (/TU), and the page gets /Tabs /S, as PDF/UA wants. A
// structure tree of a shape Sign does not know (a parent tree split in
// /Kids, a root with several kids) is left as it is, the widget
// untagged, rather than the letter left unsigned.
//
// # Libraries, and what is written here
//
// github.com/digitorus/pkcs7 encodes the CMS SignedData, SignerInfo and
// attributes; github.com/digitorus/timestamp encodes timestamp requests
// and parses and checks the answers; golang.org/x/crypto/ocsp makes OCSP
// requests and checks responses; crypto/x509 parses and checks CRLs.
// Written here, because no library reachable does it: (1) signing the
// signed attributes without signing-time (the library is given only the
// public key, and its signing-time attribute is removed), because
// pkcs7's AddSignerChain always adds that attribute (with its own clock)
// and PAdES forbids it; (2) the PDF side (reading the catalog and first
// page of Carta's classic-xref PDFs and writing the objects of the
// incremental updates; renderer/internal/pdffile reads the trailer and
// cross-reference sections and writes the update's sections), because the Go PDF libraries reachable either rewrite the
// whole file, which would change the signed bytes, or cannot write a
// PAdES signature dictionary and DSS.
//
// The certificate and key come from configuration (a PKCS#12 file or PEM
// files), never from a job. Keys may be RSA or ECDSA. Errors name
// certificates as a person reads them (common name, e-mail address,
// organisation), with dates in UTC and what to do.
package sign
