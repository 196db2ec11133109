package api_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/renderer"
)

// TestThroughWorker submits the reference job over HTTP to a real worker
// (embedded NATS, Versity Gateway S3), follows its status to done, and
// downloads the letter through the presigned link.
func TestThroughWorker(t *testing.T) {
	t.Parallel()
	endpoint := startVersity(t)
	nc := startNATS(t)
	st := newBucket(t, endpoint)
	runWorker(t, nc, st, queue.Config{Concurrency: 1, Logger: quietLogger()})

	h := startAPI(t, nc, api.Config{Objects: presigner(t, endpoint, "")})
	h.waitReady(t)
	ref := referenceJob(t)
	j, want, err := renderer.RenderJSON(ref)
	if err != nil {
		t.Fatalf("render reference job: %v", err)
	}

	// The worker creates the stream as it starts: retry while it is not there.
	var resp *http.Response
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp = h.do(t, "POST", "/v1/jobs", submitSecret, bytes.NewReader(ref))
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST reference job = %d %s", resp.StatusCode, readAll(t, resp.Body))
	}
	loc := resp.Header.Get("Location")

	var status api.JobStatus
	for deadline := time.Now().Add(60 * time.Second); ; {
		decodeBody(t, h.do(t, "GET", loc, submitSecret, nil), &status)
		if status.Status != api.StatusQueued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still queued after 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status.Status != "done" || status.Result == nil {
		t.Fatalf("status = %+v, want done", status)
	}
	if status.Result.SHA256 != want.SHA256 || status.Result.Pages != want.Pages || status.Result.Title != j.DocTitle() {
		t.Errorf("result = %+v, want sha256 %s, %d pages, title %q", status.Result, want.SHA256, want.Pages, j.DocTitle())
	}

	// Listed, found by a recipient, and downloadable.
	h.waitListed(t, j.ID)
	var l api.LetterList
	decodeBody(t, h.do(t, "GET", "/v1/letters?q=trudeau", readSecret, nil), &l)
	if l.Total != 1 || l.Letters[0].ID != j.ID {
		t.Errorf("search trudeau = %+v, want the reference letter", l)
	}
	dl := h.do(t, "GET", status.PDFURL, readSecret, nil)
	if dl.StatusCode != http.StatusFound {
		t.Fatalf("GET %s = %d, want 302", status.PDFURL, dl.StatusCode)
	}
	pdf, err := http.Get(dl.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	defer pdf.Body.Close()
	if got := readAll(t, pdf.Body); sha(got) != want.SHA256 {
		t.Errorf("downloaded sha256 %s, want %s", sha(got), want.SHA256)
	}

	// Submitting it again makes no second letter.
	again := h.do(t, "POST", "/v1/jobs", submitSecret, bytes.NewReader(ref))
	if again.StatusCode != http.StatusConflict {
		t.Errorf("second POST = %d, want 409", again.StatusCode)
	}
	keys, err := st.List(context.Background(), "letters/")
	if err != nil || len(keys) != 1 {
		t.Errorf("bucket holds %v (%v), want one letter", keys, err)
	}
}
