package s3server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// MaxObjectSize is the largest object PutObject accepts (64 MiB).
const MaxObjectSize = 64 << 20

// Server is an S3-compatible server on a local folder. It is an
// http.Handler; Start also runs it on a listener. Safe for concurrent use.
type Server struct {
	dir string
	mu  sync.Mutex // serialises commits (rename into place) and deletes

	// metaFiles, once set, keeps metadata in .meta files: the file
	// system refused an extended attribute.
	metaFiles atomic.Bool

	ln       net.Listener
	http     *http.Server
	done     chan struct{}
	inflight atomic.Int64 // requests being served
}

// New returns a server storing its buckets in dir, creating dir if needed.
func New(dir string) (*Server, error) {
	for _, d := range []string{dir, filepath.Join(dir, ".meta"), filepath.Join(dir, ".tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create s3 store: %w", err)
		}
	}
	return &Server{dir: dir}, nil
}

// Dir returns the folder the server stores its buckets in.
func (s *Server) Dir() string { return s.dir }

// Start serves on addr ("127.0.0.1:0" when empty: a free local port) until
// Close. It returns once the listener is open.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("start s3 server: %w", err)
	}
	s.ln = ln
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln) // returns ErrServerClosed on Close
	}()
	return nil
}

// URL returns the endpoint of a started server, e.g. http://127.0.0.1:40123.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops a started server: it stops accepting connections, lets
// requests in flight finish for up to 5 seconds, then closes every
// connection (including kept-alive ones that never sent a request, which
// http.Server.Shutdown alone would wait 5 seconds for).
func (s *Server) Close() error {
	if s.http == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.http.Shutdown(ctx) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var err error
wait:
	for {
		select {
		case err = <-shut:
			break wait
		case <-tick.C:
			if s.inflight.Load() == 0 {
				break wait
			}
		case <-ctx.Done():
			err = ctx.Err()
			break wait
		}
	}
	_ = s.http.Close()
	<-s.done
	if err != nil {
		return fmt.Errorf("stop s3 server: %w", err)
	}
	return nil
}

// CreateBucket creates bucket if it does not exist yet.
func (s *Server) CreateBucket(bucket string) error {
	if !bucketPattern.MatchString(bucket) {
		return fmt.Errorf("create bucket: invalid name %q", bucket)
	}
	if err := os.MkdirAll(filepath.Join(s.dir, bucket), 0o755); err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	return nil
}

var bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// meta is what DIR/.meta/<bucket>/<key> holds.
type meta struct {
	ETag        string            `json:"etag"` // quoted hex md5
	ContentType string            `json:"content_type,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`  // Content-Disposition, Cache-Control, ...
	Metadata    map[string]string `json:"metadata,omitempty"` // x-amz-meta-* without the prefix, lowercase names
	// Checksums are the x-amz-checksum-* values the upload sent and that
	// matched its body, by lowercase header name; returned by GetObject
	// and HeadObject with x-amz-checksum-mode: ENABLED.
	Checksums map[string]string `json:"checksums,omitempty"`
}

// s3Error is an S3 error response.
type s3Error struct {
	Status  int
	Code    string
	Message string
}

func (e *s3Error) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code, format string, args ...any) *s3Error {
	return &s3Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ServeHTTP answers one S3 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	reqID := newRequestID()
	w.Header().Set("x-amz-request-id", reqID)
	w.Header().Set("Server", "carta-s3server")
	err := s.route(w, r)
	if err == nil {
		return
	}
	var se *s3Error
	if !errors.As(err, &se) {
		se = errf(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(se.Status)
	if r.Method == http.MethodHead {
		return
	}
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		Resource  string
		RequestID string `xml:"RequestId"`
	}{Code: se.Code, Message: se.Message, Resource: r.URL.Path, RequestID: reqID})
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) error {
	p := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, hasKey := strings.Cut(p, "/")
	q := r.URL.Query()
	if bucket == "" {
		if r.Method == http.MethodGet {
			return s.listBuckets(w)
		}
		return errf(http.StatusMethodNotAllowed, "MethodNotAllowed", "%s on the service is not supported", r.Method)
	}
	if !bucketPattern.MatchString(bucket) {
		return errf(http.StatusBadRequest, "InvalidBucketName", "invalid bucket name %q", bucket)
	}
	for _, sub := range []string{"uploads", "uploadId", "versioning", "versions", "acl", "policy", "tagging", "lifecycle", "cors", "delete"} {
		if q.Has(sub) {
			return errf(http.StatusNotImplemented, "NotImplemented", "?%s is not supported by this server", sub)
		}
	}
	if !hasKey || key == "" {
		switch r.Method {
		case http.MethodPut:
			return s.createBucket(w, bucket)
		case http.MethodHead:
			_, err := s.bucketDir(bucket)
			return err
		case http.MethodDelete:
			return s.deleteBucket(w, bucket)
		case http.MethodGet:
			if q.Has("location") {
				if _, err := s.bucketDir(bucket); err != nil {
					return err
				}
				return writeXML(w, struct {
					XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
				}{})
			}
			return s.listObjects(w, r, bucket)
		}
		return errf(http.StatusMethodNotAllowed, "MethodNotAllowed", "%s on a bucket is not supported", r.Method)
	}
	if err := checkKey(key); err != nil {
		return err
	}
	switch r.Method {
	case http.MethodPut:
		if r.Header.Get("x-amz-copy-source") != "" {
			return errf(http.StatusNotImplemented, "NotImplemented", "CopyObject is not supported by this server")
		}
		return s.putObject(w, r, bucket, key)
	case http.MethodGet, http.MethodHead:
		return s.getObject(w, r, bucket, key)
	case http.MethodDelete:
		return s.deleteObject(w, bucket, key)
	}
	return errf(http.StatusMethodNotAllowed, "MethodNotAllowed", "%s on an object is not supported", r.Method)
}

// checkKey refuses keys that cannot map to a path inside the bucket.
func checkKey(key string) error {
	bad := func(why string) error {
		return errf(http.StatusBadRequest, "InvalidArgument", "object key %q %s", key, why)
	}
	switch {
	case len(key) > 1024:
		return bad("is longer than 1024 bytes")
	case !utf8.ValidString(key):
		return bad("is not UTF-8")
	case strings.ContainsAny(key, "\x00\\"):
		return bad("contains NUL or a backslash")
	case strings.HasSuffix(key, "/"):
		return bad("ends with /")
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return bad("has an empty, . or .. segment")
		}
	}
	return nil
}

func (s *Server) bucketDir(bucket string) (string, error) {
	d := filepath.Join(s.dir, bucket)
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		return "", errf(http.StatusNotFound, "NoSuchBucket", "bucket %s does not exist", bucket)
	}
	return d, nil
}

func (s *Server) objectPath(bucket, key string) string {
	return filepath.Join(s.dir, bucket, filepath.FromSlash(key))
}

func (s *Server) metaPath(bucket, key string) string {
	return filepath.Join(s.dir, ".meta", bucket, filepath.FromSlash(key))
}

func (s *Server) listBuckets(w http.ResponseWriter) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list buckets: %w", err)
	}
	type bucketXML struct {
		Name         string
		CreationDate string
	}
	out := struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
		Owner   struct{ ID, DisplayName string }
		Buckets []bucketXML `xml:"Buckets>Bucket"`
	}{}
	out.Owner.ID, out.Owner.DisplayName = "carta", "carta"
	for _, e := range entries {
		if !e.IsDir() || !bucketPattern.MatchString(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out.Buckets = append(out.Buckets, bucketXML{e.Name(), fi.ModTime().UTC().Format(timeFormat)})
	}
	return writeXML(w, out)
}

func (s *Server) createBucket(w http.ResponseWriter, bucket string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.bucketDir(bucket); err == nil {
		return errf(http.StatusConflict, "BucketAlreadyOwnedByYou", "bucket %s already exists", bucket)
	}
	if err := s.CreateBucket(bucket); err != nil {
		return err
	}
	w.Header().Set("Location", "/"+bucket)
	return nil
}

func (s *Server) deleteBucket(w http.ResponseWriter, bucket string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.bucketDir(bucket)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(d)
	if err != nil {
		return fmt.Errorf("delete bucket: %w", err)
	}
	if len(entries) > 0 {
		return errf(http.StatusConflict, "BucketNotEmpty", "bucket %s is not empty", bucket)
	}
	if err := os.Remove(d); err != nil {
		return fmt.Errorf("delete bucket: %w", err)
	}
	_ = os.RemoveAll(filepath.Join(s.dir, ".meta", bucket))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// storedHeaders are the request headers kept with an object and returned
// by GetObject and HeadObject.
var storedHeaders = []string{"Cache-Control", "Content-Disposition", "Content-Language", "Expires"}

func (s *Server) putObject(w http.ResponseWriter, r *http.Request, bucket, key string) error {
	if _, err := s.bucketDir(bucket); err != nil {
		return err
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm != "*" {
		return errf(http.StatusNotImplemented, "NotImplemented", "If-None-Match on PutObject supports only *")
	}
	body, declared, err := payload(r)
	if err != nil {
		return err
	}
	sums, err := newChecksums(r.Header)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, ".tmp"), "put-*")
	if err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	defer tmp.Close()           // closed before the rename; a no-op then
	n, err := io.Copy(io.MultiWriter(tmp, sums), io.LimitReader(body, MaxObjectSize+1))
	if err != nil {
		var se *s3Error
		if errors.As(err, &se) {
			return se
		}
		return errf(http.StatusBadRequest, "IncompleteBody", "read body: %v", err)
	}
	if n > MaxObjectSize {
		return errf(http.StatusBadRequest, "EntityTooLarge", "object is larger than %d bytes", MaxObjectSize)
	}
	if declared >= 0 && n != declared {
		return errf(http.StatusBadRequest, "IncompleteBody", "got %d bytes, expected %d", n, declared)
	}
	checked, err := sums.verify(r.Header, trailerOf(body))
	if err != nil {
		return err
	}
	m := meta{ETag: `"` + hex.EncodeToString(sums.md5.Sum(nil)) + `"`, ContentType: r.Header.Get("Content-Type"), Checksums: checked}
	for _, h := range storedHeaders {
		if v := r.Header.Get(h); v != "" {
			if m.Headers == nil {
				m.Headers = map[string]string{}
			}
			m.Headers[h] = v
		}
	}
	if ce := contentEncoding(r.Header); ce != "" {
		if m.Headers == nil {
			m.Headers = map[string]string{}
		}
		m.Headers["Content-Encoding"] = ce
	}
	for name, vals := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-meta-") && len(vals) > 0 {
			if m.Metadata == nil {
				m.Metadata = map[string]string{}
			}
			m.Metadata[strings.TrimPrefix(l, "x-amz-meta-")] = strings.Join(vals, ",")
		}
	}
	metaJSON, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("put object: %w", err)
	}

	// Metadata goes in an extended attribute of the object file, set
	// before the file is synced and renamed into place: one new file, one
	// fsync and one rename per object, and the object appears with its
	// metadata or not at all. Where the file system refuses the attribute
	// (or the metadata is too large for it) it goes to a .meta file,
	// written and renamed into place first, so that an object file
	// without metadata never appears.
	inAttr := false
	if !s.metaFiles.Load() {
		if err := setMetaAttr(tmp.Name(), metaJSON); err == nil {
			inAttr = true
		} else if errors.Is(err, syscall.ENOTSUP) || errors.Is(err, errNoAttr) {
			s.metaFiles.Store(true)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("put object: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	obj, mp := s.objectPath(bucket, key), s.metaPath(bucket, key)
	if fi, err := os.Stat(obj); err == nil {
		if r.Header.Get("If-None-Match") == "*" {
			return errf(http.StatusPreconditionFailed, "PreconditionFailed", "object %s already exists", key)
		}
		if fi.IsDir() {
			return errf(http.StatusConflict, "InvalidArgument", "object key %q is a prefix of other keys on this server", key)
		}
	}
	dirs := []string{filepath.Dir(obj), filepath.Dir(mp)}
	if inAttr {
		dirs = dirs[:1]
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
				return errf(http.StatusConflict, "InvalidArgument", "a prefix of object key %q is an object on this server", key)
			}
			return fmt.Errorf("put object: %w", err)
		}
	}
	if !inAttr {
		if err := writeFileAtomic(filepath.Join(s.dir, ".tmp"), mp, metaJSON); err != nil {
			return fmt.Errorf("put object: %w", err)
		}
	}
	if err := os.Rename(tmp.Name(), obj); err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	if inAttr {
		// A .meta file left by an earlier version of this key would be
		// ignored (the attribute comes first); remove it all the same.
		_ = os.Remove(mp)
	}
	w.Header().Set("ETag", m.ETag)
	return nil
}

// errNoAttr: no metadata in an extended attribute.
var errNoAttr = errors.New("no metadata attribute")

func writeFileAtomic(tmpDir, dst string, data []byte) error {
	f, err := os.CreateTemp(tmpDir, "meta-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), dst)
}

// contentEncoding is Content-Encoding without the aws-chunked transport
// coding.
func contentEncoding(h http.Header) string {
	var keep []string
	for _, v := range strings.Split(h.Get("Content-Encoding"), ",") {
		if v = strings.TrimSpace(v); v != "" && v != "aws-chunked" {
			keep = append(keep, v)
		}
	}
	return strings.Join(keep, ",")
}

// payload returns the object bytes of a PutObject request, decoding the
// aws-chunked framing when used, and the declared object length (-1 when
// unknown).
func payload(r *http.Request) (io.Reader, int64, error) {
	sha := r.Header.Get("x-amz-content-sha256")
	chunked := strings.HasPrefix(sha, "STREAMING-") || strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked")
	if !chunked {
		return r.Body, r.ContentLength, nil
	}
	declared := int64(-1)
	if v := r.Header.Get("x-amz-decoded-content-length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, 0, errf(http.StatusBadRequest, "InvalidArgument", "bad x-amz-decoded-content-length %q", v)
		}
		declared = n
	}
	return &chunkReader{br: bufio.NewReader(r.Body), trailer: http.Header{}}, declared, nil
}

// chunkReader decodes the aws-chunked body framing:
// hex-size[;chunk-signature=…]\r\n data \r\n … 0[;…]\r\n [trailers\r\n] \r\n
type chunkReader struct {
	br      *bufio.Reader
	left    int64
	eof     bool
	trailer http.Header
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.left == 0 {
		if c.eof {
			return 0, io.EOF
		}
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	if c.left == 0 && err == nil {
		if crlf, e := c.br.ReadString('\n'); e != nil || strings.TrimRight(crlf, "\r\n") != "" {
			return n, errf(http.StatusBadRequest, "IncompleteBody", "malformed aws-chunked body")
		}
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (c *chunkReader) next() error {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return errf(http.StatusBadRequest, "IncompleteBody", "malformed aws-chunked body: %v", err)
	}
	sizeHex, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
	if err != nil || size < 0 {
		return errf(http.StatusBadRequest, "IncompleteBody", "malformed aws-chunked size %q", sizeHex)
	}
	if size > 0 {
		c.left = size
		return nil
	}
	c.eof = true
	for { // trailers until an empty line or the end of the body
		line, err := c.br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return nil
		}
		if name, val, ok := strings.Cut(line, ":"); ok {
			c.trailer.Set(strings.TrimSpace(name), strings.TrimSpace(val))
		}
		if err != nil {
			return nil
		}
	}
}

func trailerOf(r io.Reader) http.Header {
	if c, ok := r.(*chunkReader); ok {
		return c.trailer
	}
	return nil
}

// checksums hashes a body once for the ETag (md5) and for every digest
// the request announces: x-amz-content-sha256, x-amz-checksum-* headers,
// and checksums it declares in x-amz-trailer.
type checksums struct {
	md5    hash.Hash
	sha256 hash.Hash            // nil when not announced
	sums   map[string]hash.Hash // by x-amz-checksum-* header name, lowercase
	// trailers are the checksum headers x-amz-trailer declared.
	trailers map[string]bool
	all      io.Writer
}

// checksumAlgorithms are the x-amz-checksum-* values checked, by header.
var checksumAlgorithms = map[string]func() hash.Hash{
	"x-amz-checksum-sha256": sha256.New,
	"x-amz-checksum-sha1":   sha1.New,
	"x-amz-checksum-crc32":  func() hash.Hash { return crc32.NewIEEE() },
	"x-amz-checksum-crc32c": func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
}

// unsupportedChecksums are checksum headers of S3 this server cannot
// check: refused rather than stored unchecked.
var unsupportedChecksums = []string{"x-amz-checksum-crc64nvme"}

func newChecksums(h http.Header) (*checksums, error) {
	c := &checksums{md5: md5.New(), sums: map[string]hash.Hash{}, trailers: map[string]bool{}}
	for _, v := range h.Values("x-amz-trailer") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				c.trailers[name] = true
			}
		}
	}
	for _, name := range unsupportedChecksums {
		if h.Get(name) != "" || c.trailers[name] {
			return nil, errf(http.StatusNotImplemented, "NotImplemented", "%s is not supported by this server: use sha256, sha1, crc32 or crc32c", name)
		}
	}
	ws := []io.Writer{c.md5}
	for name, newHash := range checksumAlgorithms {
		if h.Get(name) != "" || c.trailers[name] {
			c.sums[name] = newHash()
			ws = append(ws, c.sums[name])
		}
	}
	c.sha256 = c.sums["x-amz-checksum-sha256"]
	if c.sha256 == nil && len(h.Get("x-amz-content-sha256")) == 64 {
		c.sha256 = sha256.New()
		ws = append(ws, c.sha256)
	}
	c.all = io.MultiWriter(ws...)
	return c, nil
}

func (c *checksums) Write(p []byte) (int, error) { return c.all.Write(p) }

// verify checks every digest the request carries, in headers or
// trailers, and returns the x-amz-checksum-* values it checked.
func (c *checksums) verify(h, trailer http.Header) (map[string]string, error) {
	if v := h.Get("Content-MD5"); v != "" && v != base64.StdEncoding.EncodeToString(c.md5.Sum(nil)) {
		return nil, errf(http.StatusBadRequest, "BadDigest", "Content-MD5 does not match the body")
	}
	if v := h.Get("x-amz-content-sha256"); len(v) == 64 && !strings.EqualFold(v, hex.EncodeToString(c.sha256.Sum(nil))) {
		return nil, errf(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "x-amz-content-sha256 does not match the body")
	}
	for name := range trailer {
		// x-amz-trailer-signature, in signed streaming uploads, is not a
		// checksum of the body.
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-checksum-") && !c.trailers[l] {
			return nil, errf(http.StatusBadRequest, "InvalidRequest", "%s came in a trailer that x-amz-trailer did not declare", l)
		}
	}
	var checked map[string]string
	for name, sum := range c.sums {
		v := h.Get(name)
		if c.trailers[name] {
			if v = trailer.Get(name); v == "" {
				return nil, errf(http.StatusBadRequest, "MalformedTrailerError", "x-amz-trailer declared %s, and the body's trailer does not have it", name)
			}
		}
		if v != base64.StdEncoding.EncodeToString(sum.Sum(nil)) {
			return nil, errf(http.StatusBadRequest, "BadDigest", "%s does not match the body", name)
		}
		if checked == nil {
			checked = map[string]string{}
		}
		checked[name] = v
	}
	return checked, nil
}

// readMeta returns the metadata of an object: from its extended
// attribute, else from its .meta file.
func (s *Server) readMeta(bucket, key string) meta {
	var m meta
	data, err := metaAttrOf(s.objectPath(bucket, key))
	if err != nil {
		data, err = os.ReadFile(s.metaPath(bucket, key))
	}
	if err == nil {
		_ = json.Unmarshal(data, &m)
	}
	return m
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request, bucket, key string) error {
	if _, err := s.bucketDir(bucket); err != nil {
		return err
	}
	f, err := os.Open(s.objectPath(bucket, key))
	if err != nil {
		return errf(http.StatusNotFound, "NoSuchKey", "object %s does not exist", key)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		return errf(http.StatusNotFound, "NoSuchKey", "object %s does not exist", key)
	}
	m := s.readMeta(bucket, key)
	h := w.Header()
	ct := m.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	if m.ETag != "" {
		h.Set("ETag", m.ETag)
	}
	for k, v := range m.Headers {
		h.Set(k, v)
	}
	for k, v := range m.Metadata {
		h["X-Amz-Meta-"+k] = []string{v}
	}
	if strings.EqualFold(r.Header.Get("x-amz-checksum-mode"), "ENABLED") && r.Header.Get("Range") == "" {
		// Full-object checksums, as S3 gives them: not for a range.
		for k, v := range m.Checksums {
			h.Set(k, v)
		}
	}
	h.Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, "", fi.ModTime(), f)
	return nil
}

func (s *Server) deleteObject(w http.ResponseWriter, bucket, key string) error {
	d, err := s.bucketDir(bucket)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	obj := s.objectPath(bucket, key)
	if fi, err := os.Stat(obj); err == nil && !fi.IsDir() {
		if err := os.Remove(obj); err != nil {
			return fmt.Errorf("delete object: %w", err)
		}
		_ = os.Remove(s.metaPath(bucket, key))
		pruneEmpty(filepath.Dir(obj), d)
		pruneEmpty(filepath.Dir(s.metaPath(bucket, key)), filepath.Join(s.dir, ".meta", bucket))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pruneEmpty removes empty directories from dir up to, not including, stop.
func pruneEmpty(dir, stop string) {
	for dir != stop && strings.HasPrefix(dir, stop) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

type objectXML struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	StorageClass string
}

type prefixXML struct{ Prefix string }

const timeFormat = "2006-01-02T15:04:05.000Z"

func (s *Server) listObjects(w http.ResponseWriter, r *http.Request, bucket string) error {
	d, err := s.bucketDir(bucket)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v2 := q.Get("list-type") == "2"
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	maxKeys := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errf(http.StatusBadRequest, "InvalidArgument", "bad max-keys %q", v)
		}
		maxKeys = min(n, 1000)
	}
	after := q.Get("marker")
	if v2 {
		after = q.Get("start-after")
		if tok := q.Get("continuation-token"); tok != "" {
			b, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				return errf(http.StatusBadRequest, "InvalidArgument", "bad continuation-token")
			}
			after = string(b)
		}
	}

	var keys []string
	err = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(d, p)
		if err != nil {
			return nil
		}
		keys = append(keys, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return fmt.Errorf("list objects: %w", err)
	}
	sort.Strings(keys)

	var contents []objectXML
	var prefixes []prefixXML
	seen := map[string]bool{}
	truncated, last := false, ""
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) || k <= after {
			continue
		}
		entry := k
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				entry = k[:len(prefix)+i+len(delim)]
				if entry <= after {
					continue
				}
			}
		}
		if seen[entry] {
			continue
		}
		if len(contents)+len(prefixes) == maxKeys {
			truncated = true
			break
		}
		seen[entry] = true
		last = entry
		if entry != k {
			prefixes = append(prefixes, prefixXML{entry})
			continue
		}
		fi, err := os.Stat(filepath.Join(d, filepath.FromSlash(k)))
		if err != nil {
			continue // deleted meanwhile
		}
		contents = append(contents, objectXML{Key: k, LastModified: fi.ModTime().UTC().Format(timeFormat), ETag: s.readMeta(bucket, k).ETag, Size: fi.Size(), StorageClass: "STANDARD"})
	}
	// A prefix entry is past every key it covers, so continue after all of them.
	resume := last
	if strings.HasSuffix(last, delim) && delim != "" {
		resume = last + "\U0010FFFF"
	}
	type result struct {
		XMLName               xml.Name    `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
		Name                  string      `xml:"Name"`
		Prefix                string      `xml:"Prefix"`
		Delimiter             string      `xml:"Delimiter,omitempty"`
		MaxKeys               int         `xml:"MaxKeys"`
		IsTruncated           bool        `xml:"IsTruncated"`
		Marker                *string     `xml:"Marker,omitempty"`
		NextMarker            string      `xml:"NextMarker,omitempty"`
		KeyCount              *int        `xml:"KeyCount,omitempty"`
		ContinuationToken     string      `xml:"ContinuationToken,omitempty"`
		NextContinuationToken string      `xml:"NextContinuationToken,omitempty"`
		StartAfter            string      `xml:"StartAfter,omitempty"`
		Contents              []objectXML `xml:"Contents"`
		CommonPrefixes        []prefixXML `xml:"CommonPrefixes"`
	}
	out := result{Name: bucket, Prefix: prefix, Delimiter: delim, MaxKeys: maxKeys, IsTruncated: truncated, Contents: contents, CommonPrefixes: prefixes}
	if v2 {
		n := len(contents) + len(prefixes)
		out.KeyCount = &n
		out.ContinuationToken = q.Get("continuation-token")
		out.StartAfter = q.Get("start-after")
		if truncated {
			out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(resume))
		}
	} else {
		m := q.Get("marker")
		out.Marker = &m
		if truncated {
			out.NextMarker = resume
		}
	}
	return writeXML(w, out)
}

func writeXML(w http.ResponseWriter, v any) error {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/xml")
	_, err := w.Write(buf.Bytes())
	return err
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
