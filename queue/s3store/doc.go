// Package s3store stores Carta's PDFs in an S3 bucket with
// aws-sdk-go-v2. It is the only package of Carta that imports the AWS
// SDK, and it implements queue.ObjectStore.
//
// Credentials and region come from the SDK's standard chain
// (environment, shared config and credentials files, SSO, web identity,
// container and instance roles). The endpoint is Config.Endpoint, else
// the AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) environment variable,
// else AWS's own. A custom CA bundle for a private HTTPS endpoint is read
// from AWS_CA_BUNDLE, or given as Config.HTTPClient.
//
// Request checksum calculation and response checksum validation are set
// to "when required": the SDK's default (aws-chunked uploads with trailing
// checksums) breaks several third-party S3 servers. Integrity is kept by
// signing the body's sha256 as the request's payload hash
// (x-amz-content-sha256), over HTTP and HTTPS alike (where the SDK would
// otherwise send UNSIGNED-PAYLOAD), on a seekable body. A server that
// verifies it refuses a damaged body: TestStoreRefusesDamagedBody shows
// it for Versity Gateway, as the versitygw binary and as the server
// built into carta (queue/s3embed); AWS answers a mismatch with
// XAmzContentSHA256Mismatch. Not every S3-compatible server checks it
// (Scality CloudServer began to in 2026), which is one reason the
// checksum header below goes too. Other servers were not tried. The same sha256 goes as the x-amz-checksum-sha256
// header, a full-object checksum the server checks too and keeps with the
// object (HeadObject with ChecksumMode ENABLED returns it); as a header,
// not in an aws-chunked trailer. The sha256 is the caller's
// (queue.Object.SHA256, which the renderer computed) when given, so a
// PDF is hashed once.
//
// Every HTTP attempt is bounded by Config.RequestTimeout (30 s by
// default), so a server that accepts a connection and never answers
// fails the request rather than holding a worker until the job's time
// limit.
//
// PutIfAbsent sends If-None-Match: * so an existing object is never
// replaced. A server that answers 501 Not Implemented to it is remembered
// and then served with a HEAD, a plain PUT and a HEAD again. This is not
// atomic: two writers (say two deliveries of one signed job, whose bytes
// differ) can both find the key free and both PUT, the last one winning.
// The HEAD after the PUT catches a writer that PUT after us: when the
// stored carta-sha256 metadata is not the one sent, PutIfAbsent returns
// queue.ErrObjectExists, and the worker reports the stored object. A race
// remains: a writer whose PUT lands after our second HEAD still replaces
// the object we reported as stored, so a recorded sha256 can then differ
// from the stored object. Only a server with conditional writes closes
// it.
package s3store
