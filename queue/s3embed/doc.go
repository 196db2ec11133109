// Package s3embed runs Versity Gateway (github.com/versity/versitygw,
// Apache-2.0), a maintained S3 server, from inside the carta binary: the
// S3 server of "carta demo", "carta bench", "carta soak" and of tests
// that want an S3 server without the versitygw binary.
//
// The gateway is its posix backend over Config.Dir: bucket b is the folder
// Dir/b and object key k the plain file Dir/b/k, its metadata (content
// type, user metadata, checksums) in the file's extended attributes, or in
// a sidecar folder Dir + ".meta" on a file system without user extended
// attributes. Objects survive a restart.
//
// What it checks, as the versitygw binary and AWS do: every request's SigV4
// signature against the one access key and secret of Config (anything
// unsigned or signed with another key gets 403); presigned URLs (signature,
// X-Amz-Expires: an expired link gets 403); the signed payload hash
// (x-amz-content-sha256) and x-amz-checksum-* against the body, refusing a
// damaged body with nothing stored, and keeping the checksum with the
// object; If-None-Match: * (412 when the key exists). The tests run these
// checks against this package's server and the versitygw binary alike.
//
// One server per folder: the gateway process holds an exclusive lock
// (flock) on Config.Dir while it runs, and Start refuses a second server
// on a folder another one serves. That is what lets it serialise
// conditional writes (If-None-Match: *) inside its own process, without
// the posix backend's lock file per object shard (an open, flock and
// close per PUT). On a file system without flock the gateway keeps its
// lock files. The ETag of an object is its checksum
// ("SHA256-<base64>" for a PUT with x-amz-checksum-sha256, CRC64NVME
// computed by the server for one without), not an MD5 computed only for
// the ETag (S3 does not promise an MD5 ETag either: multipart uploads,
// SSE-KMS); Content-MD5 is still checked when a request sends one.
// Together these cut the server's CPU per PUT of a 71 KB letter from
// a median 0.86 to 0.69 ms on this machine (carta bench, which
// reports it).
//
// In a process of its own. The gateway is started in a child process that
// is this same executable run again: Start runs os.Executable() with
// CARTA_S3EMBED_CHILD=1 (and the settings, keys included, in the
// environment, not the command line), and this package's init function
// turns such a process into the gateway before main runs. Two properties
// of Versity Gateway v1.8.0 as a library rule out running it in the
// caller's own process: its posix backend changes the process's working
// directory to the data folder (os.Chdir in posix.New) and resolves
// buckets relative to it, which would silently move every relative path
// of the caller (a demo's -data, a test's ../shared); and its embedgw
// package runs one gateway per process, whereas tests start several. The
// child ends with Close, on SIGTERM, or when the parent dies (its standard
// input, a pipe from the parent, closes); it ignores SIGINT, so Ctrl-C on
// "carta demo" lets the worker finish its jobs in flight before the
// server stops.
//
// Versity Gateway against gofakes3 (github.com/johannesboyne/gofakes3
// v1.2.0, with its afero file-system backend), measured on this 2-CPU
// machine:
//
//	                          Versity Gateway v1.8.0         gofakes3 v1.2.0
//	SigV4 signatures          checked                        not checked (any request is accepted)
//	presigned URL expiry      checked                        not checked
//	x-amz-content-sha256      checked                        not checked
//	x-amz-checksum-sha256     checked and kept               not checked
//	Content-MD5               checked                        checked
//	If-None-Match: *          checked                        checked
//	binary size (stripped)    +13.8 MB (carta 47.3 → 61.2)   +1.7 MB (over a bare net/http program)
//	start to ready            24–33 ms (BenchmarkStart,      3–6 ms (in process)
//	                          child process, Close included)
//
// gofakes3 would have needed Carta's own SigV4 and checksum verification
// in front of it, the hand-written protocol code the previous embedded
// server was; Versity Gateway checks what Carta relies on, and is the
// server the tests already ran as a binary and the compose file runs.
//
// The server listens on loopback by default (Config.Addr); it is for one
// machine, with one set of keys and no TLS. In production, point Carta at
// a real S3 service.
package s3embed
