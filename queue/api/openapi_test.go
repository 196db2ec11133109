package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/renderer/job"
)

// TestOpenAPIMatchesServer checks that openapi.yaml is a valid OpenAPI
// document and that live answers of the server, for every route and
// documented status, validate against it.
func TestOpenAPIMatchesServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("openapi.yaml is not valid: %v", err)
	}
	nc := startNATS(t)
	kv := setupQueue(t, nc)
	putResult(t, kv, client.Result{ID: "oa-done", Status: client.StatusDone, Bucket: "b", Key: "letters/oa-done.pdf", SHA256: "ab",
		Bytes: 10, Pages: 1, Title: "Done", Recipients: []string{"Mélanie Joly"}, FinishedAt: time.Now().UTC(),
		SignedBy: "Comitė Ciudadano", Copies: []client.Copy{{Name: "copy-01-melanie-joly", Key: "letters/oa-done/copy-01-melanie-joly.pdf",
			SHA256: "cd", Bytes: 11, Pages: 1, Recipient: "Mélanie Joly", SignedBy: "Comitė Ciudadano"}}})
	for _, id := range []string{"oa-failed", "oa-failed-2"} {
		putResult(t, kv, client.Result{ID: id, Status: client.StatusFailed, FinishedAt: time.Now().UTC().Add(-time.Minute),
			Error: &client.ResultError{Code: client.CodeInvalidJob, Message: "bad", Field: "letter", Fields: []client.FieldError{{Field: "letter", Message: "bad"}}}})
	}
	h := startAPI(t, nc, api.Config{})
	h.waitReady(t)
	h.waitListed(t, "oa-done", "oa-failed", "oa-failed-2")
	// The document's server is relative ("/"): match it on this one.
	doc.Servers = openapi3.Servers{{URL: h.url}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}

	big := bytes.Repeat([]byte(" "), job.MaxJobBytes+1)
	tests := []struct {
		name        string
		method      string
		path        string
		secret      string
		contentType string
		body        []byte
		want        int
	}{
		{"submit accepted", "POST", "/v1/jobs", submitSecret, "application/json", []byte(smallJob("oa-new")), 202},
		{"submit again", "POST", "/v1/jobs", submitSecret, "application/json", []byte(smallJob("oa-new")), 409},
		{"submit done id", "POST", "/v1/jobs", submitSecret, "application/json", []byte(smallJob("oa-done")), 409},
		{"resubmit failed id", "POST", "/v1/jobs", submitSecret, "application/json", []byte(smallJob("oa-failed")), 202},
		{"status resubmitted", "GET", "/v1/jobs/oa-failed", readSecret, "", nil, 200},
		{"submit invalid", "POST", "/v1/jobs", submitSecret, "application/json", []byte(`{"schema":"letter/v1","id":"oa-bad"}`), 400},
		{"submit too large", "POST", "/v1/jobs", submitSecret, "application/json", big, 413},
		{"submit form", "POST", "/v1/jobs", submitSecret, "text/plain", []byte("x"), 415},
		{"submit without token", "POST", "/v1/jobs", "", "application/json", []byte(smallJob("oa-x")), 401},
		{"submit with read role", "POST", "/v1/jobs", readSecret, "application/json", []byte(smallJob("oa-x")), 403},
		{"status queued", "GET", "/v1/jobs/oa-new", submitSecret, "", nil, 200},
		{"status done", "GET", "/v1/jobs/oa-done", readSecret, "", nil, 200},
		{"status failed", "GET", "/v1/jobs/oa-failed-2", readSecret, "", nil, 200},
		{"status unknown", "GET", "/v1/jobs/oa-none", readSecret, "", nil, 404},
		{"list", "GET", "/v1/letters?limit=1", readSecret, "", nil, 200},
		{"list filtered", "GET", "/v1/letters?q=joly&status=done", readSecret, "", nil, 200},
		{"list queued", "GET", "/v1/letters?status=queued&sort=title", readSecret, "", nil, 200},
		{"list by date and layout", "GET", "/v1/letters?from=2023-01-01&to=2023-12-31&layout=letter&sort=-date", readSecret, "", nil, 200},
		{"list second page", "GET", "/v1/letters?limit=1&cursor=" + firstCursor(t, h), readSecret, "", nil, 200},
		{"list bad date", "GET", "/v1/letters?from=yesterday", readSecret, "", nil, 400},
		{"list bad limit", "GET", "/v1/letters?limit=0", readSecret, "", nil, 400},
		{"list with submit role", "GET", "/v1/letters", submitSecret, "", nil, 403},
		{"pdf of failed job", "GET", "/v1/letters/oa-failed.pdf", readSecret, "", nil, 404},
		{"pdf without storage", "GET", "/v1/letters/oa-done.pdf", readSecret, "", nil, 503},
		{"copy without storage", "GET", "/v1/letters/oa-done/copies/copy-01-melanie-joly.pdf", readSecret, "", nil, 503},
		{"unknown copy", "GET", "/v1/letters/oa-done/copies/copy-02-nobody.pdf", readSecret, "", nil, 404},
		{"copy of failed job", "GET", "/v1/letters/oa-failed/copies/copy-01-melanie-joly.pdf", readSecret, "", nil, 404},
		{"copy with submit role", "GET", "/v1/letters/oa-done/copies/copy-01-melanie-joly.pdf", submitSecret, "", nil, 403},
		{"openapi", "GET", "/v1/openapi.yaml", "", "", nil, 200},
	}
	for _, tc := range tests { // in order: "submit again" needs "submit accepted"
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, h.url+tc.path, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.secret != "" {
				req.Header.Set("Authorization", "Bearer "+tc.secret)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, resp.StatusCode, body, tc.want)
			}
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("openapi.yaml has no route for %s %s: %v", tc.method, tc.path, err)
			}
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
				Status:                 resp.StatusCode,
				Header:                 resp.Header,
				Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
			}
			in.SetBodyBytes(body)
			if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
				t.Errorf("answer %d %s does not match openapi.yaml: %v", resp.StatusCode, body, err)
			}
		})
	}
}

// firstCursor is the next_cursor of the first page of one letter.
func firstCursor(t *testing.T, h *harness) string {
	t.Helper()
	var l api.LetterList
	decodeBody(t, h.do(t, "GET", "/v1/letters?limit=1", readSecret, nil), &l)
	if l.NextCursor == "" {
		t.Fatal("no next cursor")
	}
	return l.NextCursor
}

// TestOpenAPILimits checks that the limits openapi.yaml states are the
// server's: the job size, the page size, the id syntax.
func TestOpenAPILimits(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	post := doc.Paths.Find("/v1/jobs").Post
	desc := post.RequestBody.Value.Description
	if want := strconv.Itoa(job.MaxJobBytes) + " bytes"; !strings.Contains(desc, want) {
		t.Errorf("request body description %q does not state the limit %s", desc, want)
	}
	if d := post.Responses.Status(413).Value.Description; !strings.Contains(*d, strconv.Itoa(job.MaxJobBytes)) {
		t.Errorf("413 description %q does not state the limit %d", *d, job.MaxJobBytes)
	}
	if strings.Contains(string(api.OpenAPI()), "MiB (") || strings.Contains(string(api.OpenAPI()), "2097152") {
		t.Error("openapi.yaml still states another job limit")
	}
	var limit *openapi3.Parameter
	for _, p := range doc.Paths.Find("/v1/letters").Get.Parameters {
		if p.Value.Name == "limit" {
			limit = p.Value
		}
	}
	if limit == nil || limit.Schema.Value.Max == nil || int(*limit.Schema.Value.Max) != api.MaxPageSize {
		t.Errorf("limit parameter maximum is not %d", api.MaxPageSize)
	}
	if !strings.Contains(limit.Description, "default "+strconv.Itoa(api.DefaultPageSize)) {
		t.Errorf("limit description %q does not give the default %d", limit.Description, api.DefaultPageSize)
	}
	var layouts []string
	for _, p := range doc.Paths.Find("/v1/letters").Get.Parameters {
		if p.Value.Name == "layout" {
			for _, e := range p.Value.Schema.Value.Enum {
				layouts = append(layouts, e.(string))
			}
		}
	}
	if strings.Join(layouts, ",") != strings.Join(job.Layouts, ",") {
		t.Errorf("layout enum %v, want job.Layouts %v", layouts, job.Layouts)
	}
}
