package api_test

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/queue/client"
)

// TestPreviewOfJobsSubmittedOnNATS: jobs that never went through the
// API (queue/client, or raw on NATS) get their JSON kept by the worker
// that takes them, so the staff page draws their preview; an invalid
// one shows its detail page, with no preview and no crash. Real worker,
// embedded NATS, Versity Gateway S3.
func TestPreviewOfJobsSubmittedOnNATS(t *testing.T) {
	t.Parallel()
	endpoint := startVersity(t)
	nc := startNATS(t)
	st := newBucket(t, endpoint)
	w := runWorker(t, nc, st, queue.Config{Concurrency: 1, Logger: quietLogger()})
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); w.Ready(ctx) != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("worker not ready after 30s: %v", w.Ready(ctx))
		}
	}
	h := startAPI(t, nc, api.Config{Objects: presigner(t, endpoint, "")})
	h.waitReady(t)

	cl, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	valid := []byte(smallJob("nats-preview"))
	if _, err := cl.Submit(ctx, valid); err != nil {
		t.Fatalf("submit with queue/client: %v", err)
	}
	// Unknown field and no recipients: invalid, but it has an id.
	invalid := []byte(`{"schema":"letter/v1","id":"nats-invalid","letterhead":{"name":"Comitė Ciudadano"},` +
		`"letter":{"recipients":[],"salutation":"Hola:","body":[{"text":"x"}],"closing":"Atentamente,","colour":"red"}}`)
	if _, err := js.Publish(ctx, queue.DefaultSubject, invalid); err != nil {
		t.Fatalf("publish raw on NATS: %v", err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if res, err := cl.Wait(wctx, "nats-preview"); err != nil || res.Status != client.StatusDone {
		t.Fatalf("nats-preview = %+v, %v; want done", res, err)
	}
	if res, err := cl.Wait(wctx, "nats-invalid"); err != nil || res.Status != client.StatusFailed {
		t.Fatalf("nats-invalid = %+v, %v; want failed", res, err)
	}
	h.waitListed(t, "nats-preview", "nats-invalid")

	// The done letter: its detail page shows the preview, and the
	// preview is an 800 px PNG. The worker keeps the JSON beside the
	// job, so it may land a moment after the result: poll.
	var prev *http.Response
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		prev = h.do(t, "GET", "/letters/nats-preview/preview.png", readSecret, nil)
		if prev.StatusCode != http.StatusNotFound || time.Now().After(deadline) {
			break
		}
	}
	if prev.StatusCode != http.StatusOK || prev.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("preview of a job submitted with queue/client = %d %q: %s", prev.StatusCode, prev.Header.Get("Content-Type"), readAll(t, prev.Body))
	}
	img, err := png.Decode(prev.Body)
	if err != nil || img.Bounds().Dx() != 800 || img.Bounds().Dy() <= img.Bounds().Dx() {
		t.Fatalf("preview is not an 800 px wide portrait PNG: %v", err)
	}
	if code, page := getPage(t, h, "/letters/nats-preview"); code != http.StatusOK || !strings.Contains(page, `<img id="preview" src="/letters/nats-preview/preview.png"`) {
		t.Errorf("detail page of nats-preview = %d, want 200 with the preview:\n%s", code, between(page, "<main", "</main>"))
	}

	// The invalid job: its JSON is kept too, and its detail page explains
	// the failure, without a preview.
	kv, err := js.KeyValue(ctx, api.DefaultJobsBucket)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		e, err := kv.Get(ctx, client.JobKey("nats-invalid"))
		if err == nil && bytes.Equal(e.Value(), invalid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs bucket does not hold the invalid job's JSON after 30s (%v)", err)
		}
	}
	code, page := getPage(t, h, "/letters/nats-invalid")
	if code != http.StatusOK || !strings.Contains(page, "Why it failed") || !strings.Contains(page, "<code>letter.colour</code>") ||
		!strings.Contains(page, "<code>letter.recipients</code>") || strings.Contains(page, `id="preview"`) {
		t.Errorf("detail page of nats-invalid = %d, want 200 naming letter.colour and letter.recipients, no preview:\n%s", code, between(page, "<main", "</main>"))
	}
	if bad := h.do(t, "GET", "/letters/nats-invalid/preview.png", readSecret, nil); bad.StatusCode != http.StatusNotFound {
		t.Errorf("preview of the invalid job = %d, want 404", bad.StatusCode)
	}
}
