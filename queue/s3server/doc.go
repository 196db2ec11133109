// Package s3server is a small S3-compatible HTTP server that keeps its
// objects as plain files in a local folder. It backs "carta demo" (so a
// newcomer needs no S3 service, and letters survive a restart) and the
// tests of Carta's queue.
//
// Layout of the folder:
//
//	DIR/<bucket>/<key>          the object's bytes (key "letters/x.pdf" is the file letters/x.pdf)
//	DIR/.meta/<bucket>/<key>    JSON: content type, ETag, user metadata (see below)
//	DIR/.tmp/                   uploads in progress (written, then renamed into place)
//
// The metadata JSON is kept, where the file system allows it (Linux with
// user extended attributes: ext4, xfs, btrfs, tmpfs), in the extended
// attribute "user.carta-s3.meta" of the object file itself: a put then
// creates one file, syncs it once and renames it into place, and the
// object appears with its metadata or not at all. Elsewhere, or when the
// metadata is too large for an attribute, it goes to the .meta file,
// written and renamed into place before the object. Reads take the
// attribute first, then the .meta file. Every put syncs the object (and
// the .meta file) before renaming it into place.
//
// Supported, path-style only (http://HOST:PORT/BUCKET/KEY):
// ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
// PutObject (with If-None-Match: * for create-only writes, Content-MD5,
// x-amz-content-sha256 and x-amz-checksum-{sha256,sha1,crc32,crc32c}
// checked and kept (returned with x-amz-checksum-mode: ENABLED), only the
// digests a request announces computed, a trailing checksum refused
// unless x-amz-trailer declared it and a declared one that is missing
// refused, crc64nvme refused with 501 rather than stored unchecked,
// aws-chunked bodies decoded), GetObject and HeadObject (ranges and
// conditional requests through net/http), DeleteObject, ListObjectsV2 and
// ListObjects (prefix, delimiter, max-keys, continuation). Multipart
// uploads, copies, versioning, ACLs and virtual-host addressing answer
// 501 NotImplemented.
//
// Security: requests are NOT authenticated; SigV4 signatures are accepted
// without being checked. The server is meant for one machine: Start binds
// 127.0.0.1 unless told otherwise. Never expose it to a network.
//
// Limits: keys follow the file system, so a key cannot be both an object
// and a "folder" of other keys (a/b and a/b/c), and no key segment may be
// empty, "." or "..". Such puts answer 400 InvalidArgument or 409.
package s3server
