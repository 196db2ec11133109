package api_test

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/api"
)

// markSigner stands in for a PDF signer: it appends a comment. The API
// never looks inside a PDF; it shows who signed from the result event.
type markSigner struct{ name string }

func (s markSigner) Name() string { return s.name }

// Level is the PAdES level the worker records (signature_level).
func (s markSigner) Level() string { return "B-T" }
func (s markSigner) Sign(pdf []byte) ([]byte, error) {
	return append(append([]byte(nil), pdf...), "% signed\n"...), nil
}

// TestCopiesThroughWorker submits the reference job with per-recipient
// copies to a real, signing worker (embedded NATS, Versity Gateway S3)
// and checks that the API and the staff page list every copy, download
// each, and say who signed the letter.
func TestCopiesThroughWorker(t *testing.T) {
	t.Parallel()
	const signer = "Comitė Ciudadano"
	endpoint := startVersity(t)
	nc := startNATS(t)
	st := newBucket(t, endpoint)
	runWorker(t, nc, st, queue.Config{Concurrency: 1, Logger: quietLogger(), Signer: markSigner{signer}})
	redirect := startAPI(t, nc, api.Config{Objects: presigner(t, endpoint, "")})
	stream := startAPI(t, nc, api.Config{Objects: presigner(t, endpoint, ""), Stream: true})
	redirect.waitReady(t)
	stream.waitReady(t)

	var m map[string]any
	if err := json.Unmarshal(referenceJob(t), &m); err != nil {
		t.Fatal(err)
	}
	m["id"] = "nals-copies"
	m["output"] = map[string]any{"copies": "per-recipient"}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var resp *http.Response
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp = redirect.do(t, "POST", "/v1/jobs", submitSecret, bytes.NewReader(data))
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST job = %d %s", resp.StatusCode, readAll(t, resp.Body))
	}
	var status api.JobStatus
	for deadline := time.Now().Add(60 * time.Second); ; {
		decodeBody(t, redirect.do(t, "GET", "/v1/jobs/nals-copies", readSecret, nil), &status)
		if status.Status != api.StatusQueued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("job still queued after 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status.Status != "done" || status.Result == nil || status.Result.SignedBy != signer {
		t.Fatalf("status = %+v, want done and signed by %s", status, signer)
	}
	recipients := status.Result.Recipients
	if len(status.Copies) != len(recipients) || len(recipients) != 3 {
		t.Fatalf("status lists %d copies for %d recipients, want 3 each: %+v", len(status.Copies), len(recipients), status.Copies)
	}
	for i, c := range status.Copies {
		want := "/v1/letters/nals-copies/copies/" + c.Name + ".pdf"
		if c.PDFURL != want || c.Recipient != recipients[i] || c.SignedBy != signer || c.SHA256 == "" {
			t.Errorf("copy %d = %+v, want pdf_url %s for %s, signed", i, c, want, recipients[i])
		}
	}

	t.Run("listed with copies", func(t *testing.T) {
		t.Parallel()
		redirect.waitListed(t, "nals-copies")
		var l api.LetterList
		decodeBody(t, redirect.do(t, "GET", "/v1/letters?q=nals-copies", readSecret, nil), &l)
		if l.Total != 1 {
			t.Fatalf("list = %+v", l)
		}
		got := l.Letters[0]
		if got.SignedBy != signer || !slices.Equal(got.Copies, status.Copies) {
			t.Errorf("listed letter signed_by %q copies %+v, want %q and %+v", got.SignedBy, got.Copies, signer, status.Copies)
		}
	})

	t.Run("each copy streams", func(t *testing.T) {
		t.Parallel()
		for _, c := range status.Copies {
			resp := stream.do(t, "GET", c.PDFURL, readSecret, nil)
			body := readAll(t, resp.Body)
			if resp.StatusCode != http.StatusOK || sha(body) != c.SHA256 || int64(len(body)) != c.Bytes {
				t.Errorf("GET %s = %d, sha256 %s (%d bytes), want 200, %s (%d bytes)", c.PDFURL, resp.StatusCode, sha(body), len(body), c.SHA256, c.Bytes)
			}
			if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="nals-copies-`+c.Name+`.pdf"`) {
				t.Errorf("Content-Disposition = %q", cd)
			}
			if !strings.HasSuffix(string(body), "% signed\n") {
				t.Errorf("%s: the copy downloaded is not the signed one", c.Name)
			}
		}
	})

	t.Run("a copy redirects to its presigned URL", func(t *testing.T) {
		t.Parallel()
		c := status.Copies[1]
		resp := redirect.do(t, "GET", c.PDFURL, readSecret, nil)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("GET %s = %d %s, want 302", c.PDFURL, resp.StatusCode, readAll(t, resp.Body))
		}
		got, err := http.Get(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		defer got.Body.Close()
		if body := readAll(t, got.Body); got.StatusCode != 200 || sha(body) != c.SHA256 {
			t.Errorf("presigned GET = %d, sha256 %s, want 200 and %s", got.StatusCode, sha(body), c.SHA256)
		}
	})

	t.Run("unknown copies and bad names are 404", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{
			"/v1/letters/nals-copies/copies/copy-09-nobody.pdf",
			"/v1/letters/nals-copies/copies/" + status.Copies[0].Name + ".txt",
			"/v1/letters/nals-copies/copies/COPY-01.pdf",
			"/v1/letters/no-such-letter/copies/" + status.Copies[0].Name + ".pdf",
		} {
			if resp := stream.do(t, "GET", path, readSecret, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
			}
		}
		if resp := stream.do(t, "GET", status.Copies[0].PDFURL, submitSecret, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET a copy with the submit role = %d, want 403", resp.StatusCode)
		}
	})

	t.Run("staff page shows the signer and offers each copy", func(t *testing.T) {
		t.Parallel()
		redirect.waitListed(t, "nals-copies")
		c := &http.Client{Jar: newJar(t), Timeout: 30 * time.Second}
		lr, err := c.PostForm(redirect.url+"/login", url.Values{"token": {readSecret}})
		if err != nil {
			t.Fatal(err)
		}
		lr.Body.Close()
		resp, err := c.Get(redirect.url + "/letters/nals-copies")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body := html.UnescapeString(string(readAll(t, resp.Body)))
		want := []string{`>Signature</th>`, "Signed by " + signer + " (PAdES B-T)", "Copies for each recipient"}
		for _, cp := range status.Copies {
			want = append(want, `href="`+cp.PDFURL+`"`, `href="`+cp.PDFURL+`?inline=1"`, "copy for "+cp.Recipient)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("letters page lacks %q", w)
			}
		}
	})
}
