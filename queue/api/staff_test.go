package api_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/queue/client"
)

// windowJob is a din5008-a letter whose first recipient's address has
// the given number of lines; more than the window holds fails in layout.
func windowJob(id string, lines int) string {
	addr := make([]string, lines)
	for i := range addr {
		addr[i] = fmt.Sprintf(`"Line %d"`, i+1)
	}
	return fmt.Sprintf(`{"schema":"letter/v1","id":%q,"layout":"din5008-a","title":"Note to the Foreign Office","letterhead":{"name":"Comitė Ciudadano","lines":["Calle Madero 10, 06000 Ciudad de México"]},
"letter":{"date":"2023-01-09","recipients":[{"name":"Mélanie Joly","address":[%s]}],
"salutation":"Dear Minister Joly:","body":[{"text":"We write about the summit."}],"closing":"Sincerely,"}}`, id, strings.Join(addr, ","))
}

// waitStatus polls GET /v1/jobs/{id} until its status is not queued.
func waitStatus(t *testing.T, h *harness, id string) api.JobStatus {
	t.Helper()
	var st api.JobStatus
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp := h.do(t, "GET", "/v1/jobs/"+id, readSecret, nil)
		if resp.StatusCode == http.StatusOK {
			decodeBody(t, resp, &st)
			if st.Status != api.StatusQueued {
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still queued after 60s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFailureKeptAndResubmitted runs a real worker: a letter that fails
// in layout keeps its title, recipients and date, is explained without
// internal prefixes; the API refuses the same job up front; a corrected
// job with the same id is accepted over HTTP and over NATS
// (client.Submit, inside the stream's duplicates window), keeping the
// failed attempt in its history.
func TestFailureKeptAndResubmitted(t *testing.T) {
	t.Parallel()
	endpoint := startVersity(t)
	nc := startNATS(t)
	st := newBucket(t, endpoint)
	runWorker(t, nc, st, queue.Config{Concurrency: 1, Logger: quietLogger()})
	ctx := context.Background()
	h := startAPI(t, nc, api.Config{Objects: presigner(t, endpoint, "")})
	h.waitReady(t)

	post := func(body string, want int) *http.Response {
		t.Helper()
		var resp *http.Response
		for deadline := time.Now().Add(15 * time.Second); ; { // the worker creates the stream as it starts
			resp = h.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(body))
			if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if resp.StatusCode != want {
			t.Fatalf("POST = %d %s, want %d", resp.StatusCode, readAll(t, resp.Body), want)
		}
		return resp
	}

	cl, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// A job that fails in layout, published on NATS (the API refuses it
	// up front, below).
	post(smallJob("warm-up"), http.StatusAccepted) // waits for the worker's stream
	if _, err := cl.Submit(ctx, []byte(windowJob("window-http", 9))); err != nil {
		t.Fatal(err)
	}
	failed := waitStatus(t, h, "window-http")
	r := failed.Result
	if failed.Status != "failed" || r == nil || r.Error == nil {
		t.Fatalf("status = %+v, want failed", failed)
	}
	if len(failed.Problems) != 1 || failed.Problems[0].Field != "letter.recipients[0].address" ||
		strings.Contains(failed.Problems[0].Message, "lay out") || strings.Contains(failed.Problems[0].Message, "letter.recipients") {
		t.Errorf("problems = %+v, want one on letter.recipients[0].address, written once", failed.Problems)
	}
	if r.Title != "Note to the Foreign Office" || len(r.Recipients) != 1 || r.Recipients[0] != "Mélanie Joly" || r.Date != "2023-01-09" || r.Layout != "din5008-a" {
		t.Errorf("failed result lost the letter: title %q, recipients %q, date %q, layout %q", r.Title, r.Recipients, r.Date, r.Layout)
	}
	for deadline := time.Now().Add(10 * time.Second); ; { // the index follows the bucket
		var l api.LetterList
		decodeBody(t, h.do(t, "GET", "/v1/letters?q=foreign+office&status=failed", readSecret, nil), &l)
		if l.Total == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search for the failed letter's title finds %d", l.Total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, page := getPage(t, h, "/letters/window-http")
	if code != 200 || !strings.Contains(page, "<code>letter.recipients[0].address</code>: ") || strings.Contains(page, "lay out letter") ||
		strings.Count(page, "letter.recipients[0].address") != 1 {
		t.Errorf("detail page = %d, explanation not clean:\n%s", code, between(page, `id="why"`, "</section>"))
	}
	// Over HTTP the same job is refused at once, with its field, and
	// nothing is queued: the API lays it out as the worker would.
	bad := post(windowJob("window-http", 9), http.StatusBadRequest)
	var e struct{ Fields []client.FieldError }
	decodeBody(t, bad, &e)
	if len(e.Fields) != 1 || e.Fields[0].Field != "letter.recipients[0].address" {
		t.Errorf("refusal fields = %+v, want letter.recipients[0].address", e.Fields)
	}
	post(windowJob("window-http", 4), http.StatusAccepted)
	done := waitStatus(t, h, "window-http")
	if done.Status != "done" || len(done.History) != 1 || done.History[0].Error == nil {
		t.Errorf("corrected job = %s with %d earlier attempts, want done with 1", done.Status, len(done.History))
	}
	post(windowJob("window-http", 4), http.StatusConflict) // done: never again
	prev := h.do(t, "GET", "/letters/window-http/preview.png", readSecret, nil)
	if img, err := png.Decode(prev.Body); prev.StatusCode != 200 || err != nil || img.Bounds().Dx() != 800 {
		t.Errorf("preview = %d (%v), want an 800 px PNG", prev.StatusCode, err)
	}

	// Over NATS, inside the duplicates window.
	if _, err := cl.Submit(ctx, []byte(windowJob("window-nats", 9))); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	first, err := cl.Wait(wctx, "window-nats")
	if err != nil || first.Status != client.StatusFailed {
		t.Fatalf("first NATS attempt = %+v, %v; want failed", first, err)
	}
	since := first.FinishedAt.Add(time.Millisecond)
	ack, err := cl.Publish(ctx, []byte(windowJob("window-nats", 4)))
	if err != nil || ack.Duplicate {
		t.Fatalf("resubmission over NATS: ack %+v, %v; want queued, not a duplicate", ack, err)
	}
	if ack2, err := cl.Publish(ctx, []byte(windowJob("window-nats", 4))); err != nil || !ack2.Duplicate {
		t.Errorf("the same resubmission twice: ack %+v, %v; want the second dropped as a duplicate", ack2, err)
	}
	if res, err := cl.WaitSince(wctx, "window-nats", since); err != nil || res.Status != client.StatusDone {
		t.Errorf("corrected job over NATS = %+v, %v; want done", res, err)
	}
}

func getPage(t *testing.T, h *harness, path string) (int, string) {
	t.Helper()
	resp := h.do(t, "GET", path, readSecret, nil)
	return resp.StatusCode, string(readAll(t, resp.Body))
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return s
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		s = s[:j]
	}
	return s
}

// TestTwoInstances: a job queued through one serve instance is known,
// listed as queued and refused again (409) on another, since both read
// the buckets, not a local index.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	setupQueue(t, nc)
	a := startAPI(t, nc, api.Config{})
	b := startAPI(t, nc, api.Config{})
	a.waitReady(t)
	b.waitReady(t)
	if resp := a.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(smallJob("two-1"))); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST on A = %d", resp.StatusCode)
	}
	var st api.JobStatus
	resp := b.do(t, "GET", "/v1/jobs/two-1", submitSecret, nil)
	decodeBody(t, resp, &st)
	if resp.StatusCode != 200 || st.Status != api.StatusQueued || st.QueuedAt == nil {
		t.Errorf("GET on B = %d %+v, want queued", resp.StatusCode, st)
	}
	if resp := b.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(smallJob("two-1"))); resp.StatusCode != http.StatusConflict {
		t.Errorf("POST again on B = %d, want 409", resp.StatusCode)
	}
	var l api.LetterList
	for deadline := time.Now().Add(10 * time.Second); l.Total == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		decodeBody(t, b.do(t, "GET", "/v1/letters?status=queued", readSecret, nil), &l)
	}
	if l.Total != 1 || l.Letters[0].ID != "two-1" || l.Letters[0].Title != "Mélanie Joly" || l.Letters[0].QueuedAt == nil {
		t.Errorf("queued letters on B = %+v", l)
	}
	code, page := getPage(t, b, "/?status=queued")
	if code != 200 || !strings.Contains(page, `class="badge queued"`) {
		t.Errorf("staff page on B = %d without the queued job", code)
	}
}

// TestHTTPBehaviour: 405 with Allow, the favicon, HSTS over TLS only,
// Range and If-None-Match on streamed PDFs, inline and attachment.
func TestHTTPBehaviour(t *testing.T) {
	t.Parallel()
	endpoint := startVersity(t)
	nc := startNATS(t)
	kv := setupQueue(t, nc)
	st := newBucket(t, endpoint)
	res := storePDF(t, st, kv, "http-1", "Carta à l'ambassade", []string{"Mélanie Joly"}, fakePDF, 1)
	h := startAPI(t, nc, api.Config{Objects: presigner(t, endpoint, ""), Stream: true})
	h.waitReady(t)
	h.waitListed(t, "http-1")

	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/jobs", "POST"}, {"GET", "/v1/jobs", "POST"}, {"POST", "/v1/letters", "GET, HEAD"},
		{"PUT", "/v1/jobs/x", "GET, HEAD"}, {"DELETE", "/v1/letters/x.pdf", "GET, HEAD"}, {"POST", "/", "GET, HEAD"},
		{"GET", "/logout", "POST"},
	} {
		resp := h.do(t, tc.method, tc.path, readSecret, nil)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s = %d Allow %q, want 405 Allow %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), tc.allow)
		}
	}
	if resp := h.do(t, "GET", "/v1/nothing", readSecret, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown API route = %d, want 404", resp.StatusCode)
	}
	fav := h.do(t, "GET", "/favicon.ico", "", nil)
	if fav.StatusCode != 200 || fav.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(readAll(t, fav.Body)), "<svg") {
		t.Errorf("favicon = %d %s", fav.StatusCode, fav.Header.Get("Content-Type"))
	}
	if hsts := h.do(t, "GET", "/healthz", "", nil).Header.Get("Strict-Transport-Security"); hsts != "" {
		t.Errorf("plain HTTP sends HSTS %q", hsts)
	}
	ts := httptest.NewTLSServer(h.srv.Handler())
	defer ts.Close()
	tr := ts.Client()
	tresp, err := tr.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	tresp.Body.Close()
	if hsts := tresp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("TLS answer has HSTS %q", hsts)
	}
	_ = tls.VersionTLS12

	get := func(path string, hdr map[string]string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", h.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+readSecret)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	resp, body := get("/v1/letters/http-1.pdf", map[string]string{"Range": "bytes=0-4"})
	if resp.StatusCode != http.StatusPartialContent || string(body) != "%PDF-" || !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes 0-4/") {
		t.Errorf("Range = %d %q %q, want 206 %%PDF-", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	etag := `"` + res.SHA256 + `"`
	if resp, _ := get("/v1/letters/http-1.pdf", map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match = %d, want 304", resp.StatusCode)
	}
	resp, body = get("/v1/letters/http-1.pdf", nil)
	if cd := resp.Header.Get("Content-Disposition"); resp.StatusCode != 200 || sha(body) != res.SHA256 ||
		cd != `attachment; filename="http-1 - Carta _ l'ambassade.pdf"; filename*=utf-8''http-1%20-%20Carta%20%C3%A0%20l%27ambassade.pdf` {
		t.Errorf("download = %d, Content-Disposition %q", resp.StatusCode, cd)
	}
	resp, _ = get("/v1/letters/http-1.pdf?inline=1", nil)
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline; ") {
		t.Errorf("open in browser: Content-Disposition %q, want inline", cd)
	}
}

// lockedBuffer is a log sink for one test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestGuessingIsLimited: wrong bearer tokens and sign-ins from one
// address are slowed, logged with the address and, past the limit,
// answered 429 even for a right token, while another address is not
// affected; the session cookie never holds the token and a forged one is
// refused.
func TestGuessingIsLimited(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	setupQueue(t, nc)
	var logs lockedBuffer
	h := startAPI(t, nc, api.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	h.waitReady(t)

	var wg sync.WaitGroup
	codes := make(chan int, api.FailureLimit+5)
	start := time.Now()
	for i := range api.FailureLimit + 5 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", h.url+"/v1/letters", nil)
			req.Header.Set("Authorization", fmt.Sprintf("Bearer guess-%02d-Ab3dEf6hIj9lMn2pQr5tUv8xYz", i))
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusUnauthorized && c != http.StatusTooManyRequests {
			t.Errorf("wrong token answered %d", c)
		}
	}
	if el := time.Since(start); el < 500*time.Millisecond {
		t.Errorf("%d wrong tokens answered in %v: not slowed", api.FailureLimit+5, el)
	}
	resp := h.do(t, "GET", "/v1/letters", readSecret, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("right token after %d failures = %d (Retry-After %q), want 429", api.FailureLimit, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	lr, err := noRedirect.PostForm(h.url+"/login", url.Values{"token": {readSecret}})
	if err != nil {
		t.Fatal(err)
	}
	lr.Body.Close()
	if lr.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sign-in after the failures = %d, want 429", lr.StatusCode)
	}
	if !strings.Contains(logs.String(), "authentication failed") || !strings.Contains(logs.String(), "client=127.0.0.1") {
		t.Errorf("failures not logged with the client address:\n%.500s", logs.String())
	}

	// Another address is not affected.
	other := &http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirect.CheckRedirect,
		Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	lr, err = other.PostForm(h.url+"/login", url.Values{"token": {readSecret}})
	if err != nil {
		t.Fatal(err)
	}
	lr.Body.Close()
	if lr.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in from 127.0.0.2 = %d, want 303", lr.StatusCode)
	}
	var session *http.Cookie
	for _, c := range lr.Cookies() {
		if c.Name == "carta_session" {
			session = c
		}
	}
	if session == nil || strings.Contains(session.Value, readSecret) || !strings.HasPrefix(session.Value, "staff.") {
		t.Fatalf("session cookie %v", session)
	}
	for name, v := range map[string]string{"valid": session.Value, "forged mac": session.Value[:len(session.Value)-4] + "AAAA",
		"other name": strings.Replace(session.Value, "staff.", "ops.", 1), "raw token": readSecret} {
		req, _ := http.NewRequest("GET", h.url+"/", nil)
		req.AddCookie(&http.Cookie{Name: "carta_session", Value: v})
		resp, err := other.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusSeeOther // to the sign-in form
		if name == "valid" {
			want = http.StatusOK
		}
		if resp.StatusCode != want {
			t.Errorf("%s session cookie: GET / = %d, want %d", name, resp.StatusCode, want)
		}
	}
}

// TestKeyOfAnotherLetterRefused: a job may not claim the key of another
// job's letter (issue: job A with output.key "letters/future-x.pdf" made
// the later job future-x fail for good).
func TestKeyOfAnotherLetterRefused(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	setupQueue(t, nc)
	h := startAPI(t, nc, api.Config{})
	h.waitReady(t)
	body := strings.Replace(smallJob("key-thief"), `"schema"`, `"output":{"key":"letters/future-x.pdf"},"schema"`, 1)
	resp := h.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(body))
	var e struct {
		Error  string
		Fields []client.FieldError
	}
	decodeBody(t, resp, &e)
	if resp.StatusCode != http.StatusBadRequest || len(e.Fields) != 1 || e.Fields[0].Field != "output.key" {
		t.Errorf("POST with another letter's key = %d %+v, want 400 on output.key", resp.StatusCode, e)
	}
	own := strings.Replace(smallJob("key-owner"), `"schema"`, `"output":{"key":"cartas/2023/key-owner.pdf"},"schema"`, 1)
	if resp := h.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(own)); resp.StatusCode != http.StatusAccepted {
		t.Errorf("POST with its own key = %d, want 202", resp.StatusCode)
	}
}

// TestTooManyPagesRefused: a job within every size limit that needs more
// than renderer.MaxPages pages is refused at once with 400 naming the
// field, instead of being accepted and failing in the worker.
func TestTooManyPagesRefused(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	setupQueue(t, nc)
	h := startAPI(t, nc, api.Config{})
	h.waitReady(t)
	para := strings.Repeat(`a\n`, 8000)
	body := strings.Replace(smallJob("too-long"), `{"text":"We write about the summit."}`,
		`{"text":"`+para+`"},{"text":"`+para+`"}`, 1)
	start := time.Now()
	resp := h.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(body))
	var e struct {
		Error  string
		Fields []client.FieldError
	}
	decodeBody(t, resp, &e)
	if resp.StatusCode != http.StatusBadRequest || len(e.Fields) != 1 || e.Fields[0].Field != "letter" ||
		!strings.Contains(e.Fields[0].Message, "pages; the limit is 200") {
		t.Errorf("POST of a %d-byte job of too many pages = %d %+v, want 400 on letter", len(body), resp.StatusCode, e)
	}
	t.Logf("refused in %v", time.Since(start))
}
