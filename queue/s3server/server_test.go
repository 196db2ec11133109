package s3server_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/carta-letters/carta/queue/s3server"
)

// start runs a server on a fresh folder and returns its URL.
func start(t *testing.T, dir string) (*s3server.Server, string) {
	t.Helper()
	s, err := s3server.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, s.URL()
}

type resp struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string, body []byte, header map[string]string) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, string(b)}
}

func errCode(body string) string {
	var e struct{ Code string }
	_ = xml.Unmarshal([]byte(body), &e)
	return e.Code
}

func TestStartBindsLoopback(t *testing.T) {
	t.Parallel()
	_, url := start(t, t.TempDir())
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("URL = %s, want loopback", url)
	}
}

func TestBuckets(t *testing.T) {
	t.Parallel()
	_, url := start(t, t.TempDir())
	for _, tc := range []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"head missing bucket", "HEAD", "/letters", 404, ""},
		{"create bucket", "PUT", "/letters", 200, ""},
		{"head existing bucket", "HEAD", "/letters", 200, ""},
		{"create it again", "PUT", "/letters", 409, "BucketAlreadyOwnedByYou"},
		{"bad bucket name", "PUT", "/Bad_Name", 400, "InvalidBucketName"},
		{"list missing bucket", "GET", "/nope?list-type=2", 404, "NoSuchBucket"},
		{"location", "GET", "/letters?location", 200, ""},
		{"multipart is not implemented", "POST", "/letters/k?uploads", 501, "NotImplemented"},
		{"put into missing bucket", "PUT", "/nope/k", 404, "NoSuchBucket"},
		{"delete missing bucket", "DELETE", "/nope", 404, "NoSuchBucket"},
		{"delete empty bucket", "DELETE", "/letters", 204, ""},
		{"head deleted bucket", "HEAD", "/letters", 404, ""},
	} {
		// Sequential: each step depends on the one before.
		r := do(t, tc.method, url+tc.path, nil, nil)
		if r.status != tc.status || (tc.code != "" && errCode(r.body) != tc.code) {
			t.Fatalf("%s: %s %s = %d %s, want %d %s", tc.name, tc.method, tc.path, r.status, r.body, tc.status, tc.code)
		}
	}
}

func TestObjects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, url := start(t, dir)
	do(t, "PUT", url+"/letters", nil, nil)
	pdf := []byte("%PDF-1.7 Mélanie Joly\n")
	sum := sha256.Sum256(pdf)
	md := md5.Sum(pdf)

	t.Run("put stores bytes, type and metadata", func(t *testing.T) {
		r := do(t, "PUT", url+"/letters/letters/nals-2023.pdf", pdf, map[string]string{
			"Content-Type": "application/pdf", "x-amz-meta-carta-job-id": "nals-2023", "X-Amz-Meta-Carta-Sha256": hex.EncodeToString(sum[:]),
			"x-amz-content-sha256": hex.EncodeToString(sum[:]), "Content-MD5": base64.StdEncoding.EncodeToString(md[:]),
		})
		if r.status != 200 || r.header.Get("ETag") != `"`+hex.EncodeToString(md[:])+`"` {
			t.Fatalf("put = %d %v %s", r.status, r.header, r.body)
		}
		got, err := os.ReadFile(filepath.Join(dir, "letters", "letters", "nals-2023.pdf"))
		if err != nil || !bytes.Equal(got, pdf) {
			t.Fatalf("file = %q, %v", got, err)
		}
	})
	t.Run("get returns bytes and headers", func(t *testing.T) {
		r := do(t, "GET", url+"/letters/letters/nals-2023.pdf", nil, nil)
		if r.status != 200 || r.body != string(pdf) {
			t.Fatalf("get = %d %q", r.status, r.body)
		}
		for k, want := range map[string]string{"Content-Type": "application/pdf", "X-Amz-Meta-Carta-Job-Id": "nals-2023", "X-Amz-Meta-Carta-Sha256": hex.EncodeToString(sum[:]), "ETag": `"` + hex.EncodeToString(md[:]) + `"`, "Content-Length": fmt.Sprint(len(pdf))} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})
	t.Run("head returns headers without body", func(t *testing.T) {
		r := do(t, "HEAD", url+"/letters/letters/nals-2023.pdf", nil, nil)
		if r.status != 200 || r.body != "" || r.header.Get("Content-Length") != fmt.Sprint(len(pdf)) || r.header.Get("X-Amz-Meta-Carta-Job-Id") != "nals-2023" {
			t.Fatalf("head = %d %v %q", r.status, r.header, r.body)
		}
	})
	t.Run("range get", func(t *testing.T) {
		r := do(t, "GET", url+"/letters/letters/nals-2023.pdf", nil, map[string]string{"Range": "bytes=0-3"})
		if r.status != 206 || r.body != "%PDF" {
			t.Fatalf("range = %d %q", r.status, r.body)
		}
	})
	t.Run("if-none-match star refuses to overwrite", func(t *testing.T) {
		r := do(t, "PUT", url+"/letters/letters/nals-2023.pdf", []byte("other"), map[string]string{"If-None-Match": "*"})
		if r.status != 412 || errCode(r.body) != "PreconditionFailed" {
			t.Fatalf("put = %d %s", r.status, r.body)
		}
		if g := do(t, "GET", url+"/letters/letters/nals-2023.pdf", nil, nil); g.body != string(pdf) {
			t.Fatalf("object changed to %q", g.body)
		}
	})
	t.Run("if-none-match star creates a new object", func(t *testing.T) {
		r := do(t, "PUT", url+"/letters/letters/new.pdf", []byte("new"), map[string]string{"If-None-Match": "*"})
		if r.status != 200 {
			t.Fatalf("put = %d %s", r.status, r.body)
		}
	})
	t.Run("plain put overwrites", func(t *testing.T) {
		do(t, "PUT", url+"/letters/tmp/x", []byte("one"), nil)
		do(t, "PUT", url+"/letters/tmp/x", []byte("two"), nil)
		if g := do(t, "GET", url+"/letters/tmp/x", nil, nil); g.body != "two" || g.header.Get("Content-Type") != "binary/octet-stream" {
			t.Fatalf("get = %q %v", g.body, g.header)
		}
	})
	t.Run("bad digests store nothing", func(t *testing.T) {
		for name, h := range map[string]map[string]string{
			"content-md5":          {"Content-MD5": base64.StdEncoding.EncodeToString(md[:])},
			"x-amz-content-sha256": {"x-amz-content-sha256": hex.EncodeToString(sum[:])},
			"x-amz-checksum-crc32": {"x-amz-checksum-crc32": "AAAAAA=="},
		} {
			r := do(t, "PUT", url+"/letters/bad/"+name, []byte("corrupted"), h)
			if r.status != 400 {
				t.Errorf("%s: put = %d %s, want 400", name, r.status, r.body)
			}
			if g := do(t, "HEAD", url+"/letters/bad/"+name, nil, nil); g.status != 404 {
				t.Errorf("%s: object stored (%d)", name, g.status)
			}
		}
	})
	t.Run("bad keys", func(t *testing.T) {
		for _, k := range []string{"a//b", "a/./b", "a/../../etc", "dir/"} {
			if r := do(t, "PUT", url+"/letters/"+k, []byte("x"), nil); r.status != 400 {
				t.Errorf("put %q = %d %s, want 400", k, r.status, r.body)
			}
		}
	})
	t.Run("a key cannot be both an object and a folder", func(t *testing.T) {
		if r := do(t, "PUT", url+"/letters/letters/nals-2023.pdf/inner", []byte("x"), nil); r.status != 409 {
			t.Errorf("put under an object = %d %s, want 409", r.status, r.body)
		}
		if r := do(t, "PUT", url+"/letters/letters", []byte("x"), nil); r.status != 409 {
			t.Errorf("put over a folder = %d %s, want 409", r.status, r.body)
		}
	})
	t.Run("get missing key", func(t *testing.T) {
		r := do(t, "GET", url+"/letters/nope.pdf", nil, nil)
		if r.status != 404 || errCode(r.body) != "NoSuchKey" {
			t.Fatalf("get = %d %s", r.status, r.body)
		}
	})
	t.Run("delete removes object and empty folders", func(t *testing.T) {
		if r := do(t, "DELETE", url+"/letters/tmp/x", nil, nil); r.status != 204 {
			t.Fatalf("delete = %d", r.status)
		}
		if r := do(t, "GET", url+"/letters/tmp/x", nil, nil); r.status != 404 {
			t.Fatalf("get after delete = %d", r.status)
		}
		if _, err := os.Stat(filepath.Join(dir, "letters", "tmp")); !os.IsNotExist(err) {
			t.Fatalf("empty folder left: %v", err)
		}
		if r := do(t, "DELETE", url+"/letters/tmp/x", nil, nil); r.status != 204 {
			t.Fatalf("second delete = %d", r.status)
		}
	})
	t.Run("bucket with objects cannot be deleted", func(t *testing.T) {
		if r := do(t, "DELETE", url+"/letters", nil, nil); r.status != 409 || errCode(r.body) != "BucketNotEmpty" {
			t.Fatalf("delete = %d %s", r.status, r.body)
		}
	})
}

// TestAWSChunked sends a body in the aws-chunked framing the AWS SDKs use
// for streaming uploads, with a trailing checksum.
func TestAWSChunked(t *testing.T) {
	t.Parallel()
	_, url := start(t, t.TempDir())
	do(t, "PUT", url+"/b-1", nil, nil)
	data := []byte(strings.Repeat("López Obrador ", 100))
	crc := crc32.ChecksumIEEE(data)
	crcB64 := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	crcc := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
	crccB64 := base64.StdEncoding.EncodeToString([]byte{byte(crcc >> 24), byte(crcc >> 16), byte(crcc >> 8), byte(crcc)})
	frame := func(trailer string) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "%x;chunk-signature=abc\r\n%s\r\n", 1000, data[:1000])
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(data)-1000, data[1000:])
		fmt.Fprintf(&b, "0\r\n%s\r\n", trailer)
		return b.Bytes()
	}
	h := map[string]string{"Content-Encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		"x-amz-decoded-content-length": fmt.Sprint(len(data)), "x-amz-trailer": "x-amz-checksum-crc32", "Content-Type": "application/pdf"}
	with := func(name, value string) map[string]string {
		m := maps.Clone(h)
		if value == "" {
			delete(m, name)
		} else {
			m[name] = value
		}
		return m
	}
	for _, tc := range []struct {
		name, trailer string
		header        map[string]string
		status        int
	}{
		{"good trailer checksum", "x-amz-checksum-crc32:" + crcB64 + "\r\n", h, 200},
		{"bad trailer checksum", "x-amz-checksum-crc32:AAAAAA==\r\n", h, 400},
		{"trailer signature beside the checksum", "x-amz-checksum-crc32:" + crcB64 + "\r\nx-amz-trailer-signature:abc\r\n", h, 200},
		// Only announced digests are computed: a trailer checksum that
		// x-amz-trailer did not declare cannot be checked, so it is refused.
		{"undeclared trailer checksum", "x-amz-checksum-crc32:" + crcB64 + "\r\n", with("x-amz-trailer", ""), 400},
		{"declared trailer checksum missing", "", h, 400},
		{"crc32c declared, names matched exactly", "x-amz-checksum-crc32c:" + crccB64 + "\r\n", with("x-amz-trailer", "x-amz-checksum-crc32c"), 200},
		{"crc64nvme cannot be checked here", "x-amz-checksum-crc64nvme:AAAAAAAAAAA=\r\n", with("x-amz-trailer", "x-amz-checksum-crc64nvme"), 501},
	} {
		r := do(t, "PUT", url+"/b-1/"+strings.ReplaceAll(tc.name, " ", "-"), frame(tc.trailer), tc.header)
		if r.status != tc.status {
			t.Fatalf("%s: put = %d %s", tc.name, r.status, r.body)
		}
	}
	g := do(t, "GET", url+"/b-1/good-trailer-checksum", nil, nil)
	if g.body != string(data) || g.header.Get("Content-Encoding") != "" {
		t.Fatalf("get = %d %q, Content-Encoding %q", g.status, g.body[:min(40, len(g.body))], g.header.Get("Content-Encoding"))
	}
}

// TestChecksumHeaders: x-amz-checksum-* headers are checked against the
// body and kept: GetObject and HeadObject return them with
// x-amz-checksum-mode: ENABLED, for the whole object only.
func TestChecksumHeaders(t *testing.T) {
	t.Parallel()
	_, url := start(t, t.TempDir())
	do(t, "PUT", url+"/b-2", nil, nil)
	data := []byte("Mélanie Joly, Serviço Jesuíta")
	s1 := sha1.Sum(data)
	s256 := sha256.Sum256(data)
	good1, good256 := base64.StdEncoding.EncodeToString(s1[:]), base64.StdEncoding.EncodeToString(s256[:])
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"good sha1 and sha256", map[string]string{"x-amz-checksum-sha1": good1, "x-amz-checksum-sha256": good256}, 200},
		{"bad sha1", map[string]string{"x-amz-checksum-sha1": good256}, 400},
		{"bad sha256", map[string]string{"x-amz-checksum-sha256": good1}, 400},
		{"crc64nvme", map[string]string{"x-amz-checksum-crc64nvme": "AAAAAAAAAAA="}, 501},
	} {
		if r := do(t, "PUT", url+"/b-2/"+strings.ReplaceAll(tc.name, " ", "-"), data, tc.header); r.status != tc.status {
			t.Fatalf("%s: put = %d %s", tc.name, r.status, r.body)
		}
	}
	for _, tc := range []struct {
		name, method string
		header       map[string]string
		want         string
	}{
		{"head with checksum mode", "HEAD", map[string]string{"x-amz-checksum-mode": "ENABLED"}, good256},
		{"get with checksum mode", "GET", map[string]string{"x-amz-checksum-mode": "ENABLED"}, good256},
		{"get without checksum mode", "GET", nil, ""},
		{"range with checksum mode", "GET", map[string]string{"x-amz-checksum-mode": "ENABLED", "Range": "bytes=0-3"}, ""},
	} {
		r := do(t, tc.method, url+"/b-2/good-sha1-and-sha256", nil, tc.header)
		if got := r.header.Get("x-amz-checksum-sha256"); got != tc.want || r.status/100 != 2 {
			t.Errorf("%s: %d, x-amz-checksum-sha256 %q, want %q", tc.name, r.status, got, tc.want)
		}
		if tc.want != "" && r.header.Get("x-amz-checksum-sha1") != good1 {
			t.Errorf("%s: x-amz-checksum-sha1 %q, want %q", tc.name, r.header.Get("x-amz-checksum-sha1"), good1)
		}
	}
}

type listResult struct {
	Contents              []struct{ Key string }
	CommonPrefixes        []struct{ Prefix string }
	IsTruncated           bool
	KeyCount              int
	NextContinuationToken string
}

func TestList(t *testing.T) {
	t.Parallel()
	_, url := start(t, t.TempDir())
	do(t, "PUT", url+"/b-2", nil, nil)
	for _, k := range []string{"letters/a.pdf", "letters/b.pdf", "letters/sub/c.pdf", "other/d.pdf", "top.txt"} {
		if r := do(t, "PUT", url+"/b-2/"+k, []byte(k), nil); r.status != 200 {
			t.Fatalf("put %s = %d", k, r.status)
		}
	}
	list := func(t *testing.T, query string) listResult {
		r := do(t, "GET", url+"/b-2?list-type=2"+query, nil, nil)
		if r.status != 200 {
			t.Fatalf("list = %d %s", r.status, r.body)
		}
		var out listResult
		if err := xml.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	keys := func(l listResult) (ks []string) {
		for _, c := range l.Contents {
			ks = append(ks, c.Key)
		}
		for _, p := range l.CommonPrefixes {
			ks = append(ks, p.Prefix+"*")
		}
		return ks
	}
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"everything", "", []string{"letters/a.pdf", "letters/b.pdf", "letters/sub/c.pdf", "other/d.pdf", "top.txt"}},
		{"prefix", "&prefix=letters/", []string{"letters/a.pdf", "letters/b.pdf", "letters/sub/c.pdf"}},
		{"delimiter at top", "&delimiter=/", []string{"top.txt", "letters/*", "other/*"}},
		{"prefix and delimiter", "&prefix=letters/&delimiter=/", []string{"letters/a.pdf", "letters/b.pdf", "letters/sub/*"}},
		{"start after", "&start-after=letters/b.pdf", []string{"letters/sub/c.pdf", "other/d.pdf", "top.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keys(list(t, tc.query)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("keys = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("pagination with a delimiter visits every entry once", func(t *testing.T) {
		var all []string
		tok := ""
		for range 10 {
			q := "&max-keys=1&delimiter=/"
			if tok != "" {
				q += "&continuation-token=" + tok
			}
			l := list(t, q)
			all = append(all, keys(l)...)
			if !l.IsTruncated {
				break
			}
			tok = l.NextContinuationToken
		}
		if want := []string{"letters/*", "other/*", "top.txt"}; !reflect.DeepEqual(all, want) {
			t.Fatalf("pages = %v, want %v", all, want)
		}
	})
}

func TestPersistsAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := s3server.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket("letters"); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	do(t, "PUT", s.URL()+"/letters/k.pdf", []byte("Comitė"), map[string]string{"Content-Type": "application/pdf", "x-amz-meta-carta-pages": "3"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, url := start(t, dir)
	r := do(t, "GET", url+"/letters/k.pdf", nil, nil)
	if r.status != 200 || r.body != "Comitė" || r.header.Get("Content-Type") != "application/pdf" || r.header.Get("X-Amz-Meta-Carta-Pages") != "3" {
		t.Fatalf("after restart: %d %q %v", r.status, r.body, r.header)
	}
}

// TestConcurrentCreateOnlyPuts checks that If-None-Match: * lets exactly
// one of many racing writers create the object.
func TestConcurrentCreateOnlyPuts(t *testing.T) {
	t.Parallel()
	_, url := start(t, t.TempDir())
	do(t, "PUT", url+"/race", nil, nil)
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			codes[i] = do(t, "PUT", url+"/race/one.pdf", []byte(fmt.Sprint("writer ", i)), map[string]string{"If-None-Match": "*"}).status
		})
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 412:
		default:
			t.Fatalf("status %d", c)
		}
	}
	if ok != 1 {
		t.Fatalf("%d writers succeeded, want 1 (%v)", ok, codes)
	}
}
