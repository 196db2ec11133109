package s3server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestMetadataStorage: metadata survives a put and a restart whether it
// is kept in the object's extended attribute or in a .meta file, and a
// .meta file left by an earlier version of the key never wins over the
// attribute.
func TestMetadataStorage(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 8<<10) // more than an ext4 attribute holds
	for _, tc := range []struct {
		name      string
		metaFiles bool   // force .meta files
		value     string // x-amz-meta-note
		wantFile  bool   // a .meta file is expected (where attributes work)
	}{
		{"in the extended attribute", false, "Comit=?utf-8?b?xJc=?= Ciudadano", false},
		{"in a meta file when attributes are off", true, "plain", true},
		{"in a meta file when too large for an attribute", false, big, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := newTestServer(t, dir, tc.metaFiles)
			put(t, s, "letters/a.pdf", "%PDF-1", map[string]string{"X-Amz-Meta-Note": tc.value, "Content-Type": "application/pdf"})
			attrs := runtime.GOOS == "linux" && !s.metaFiles.Load()
			_, err := os.Stat(filepath.Join(dir, ".meta", "bkt", "letters", "a.pdf"))
			if hasFile := err == nil; attrs && hasFile != tc.wantFile {
				t.Errorf(".meta file exists = %v, want %v", hasFile, tc.wantFile)
			}
			for _, srv := range []*Server{s, newTestServer(t, dir, tc.metaFiles)} { // the second one: after a restart
				h := get(t, srv, "letters/a.pdf")
				if got := note(h); got != tc.value || h.Get("Content-Type") != "application/pdf" || h.Get("ETag") == "" {
					t.Errorf("GET: note %.20q, Content-Type %q, ETag %q; want note %.20q, application/pdf and an ETag",
						got, h.Get("Content-Type"), h.Get("ETag"), tc.value)
				}
			}
		})
	}
}

func TestStaleMetaFileIgnored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := newTestServer(t, dir, true)
	put(t, s, "k.pdf", "one", map[string]string{"X-Amz-Meta-Note": "old"})
	s.metaFiles.Store(false)
	put(t, s, "k.pdf", "two", map[string]string{"X-Amz-Meta-Note": "new"})
	if got := note(get(t, s, "k.pdf")); got != "new" {
		t.Errorf("note = %q after overwrite, want new", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".meta", "bkt", "k.pdf")); err == nil && !s.metaFiles.Load() {
		t.Error("stale .meta file left after an overwrite stored in the attribute")
	}
}

func newTestServer(t *testing.T, dir string, metaFiles bool) *Server {
	t.Helper()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	s.metaFiles.Store(metaFiles)
	return s
}

func put(t *testing.T, s *Server, key, body string, header map[string]string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPut, "/bkt/"+key, bytes.NewReader([]byte(body)))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("PUT %s = %d %s", key, rec.Code, rec.Body)
	}
}

func get(t *testing.T, s *Server, key string) http.Header {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/bkt/"+key, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s = %d %s", key, rec.Code, rec.Body)
	}
	return rec.Header()
}

// note is the x-amz-meta-note value of a response (the server writes
// metadata names lowercase, as S3 does).
func note(h http.Header) string {
	if v := h["X-Amz-Meta-note"]; len(v) == 1 {
		return v[0]
	}
	return ""
}
