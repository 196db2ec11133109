package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/renderer/job"
)

// Two well-made secrets for the token tests.
const (
	secretA = "Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh"
	secretB = "Zy8xWv5tSr2pOn9lKj6hGf3dEc0bAz7yXw"
)

func TestParseTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []api.Token
		wantErr string
	}{
		{name: "one per role, comma separated", in: "svc:submit:%[1]s, staff:read:%[2]s",
			want: []api.Token{{Name: "svc", Roles: []api.Role{api.RoleSubmit}, Secret: secretA}, {Name: "staff", Roles: []api.Role{api.RoleRead}, Secret: secretB}}},
		{name: "both roles, file with comments", in: "# tokens\n\nops:submit+read:c2VjcmV0LXNlY3JldC0xMjM0NQ-c2VjcmV0LXk==\n",
			want: []api.Token{{Name: "ops", Roles: []api.Role{api.RoleSubmit, api.RoleRead}, Secret: "c2VjcmV0LXNlY3JldC0xMjM0NQ-c2VjcmV0LXk=="}}},
		{name: "secret may contain a colon-free base64", in: "a:read:abc/def+ghi=jkl_mno~pqrs.tuv-wxyz0129",
			want: []api.Token{{Name: "a", Roles: []api.Role{api.RoleRead}, Secret: "abc/def+ghi=jkl_mno~pqrs.tuv-wxyz0129"}}},
		{name: "empty list", in: "", want: nil},
		{name: "unknown role", in: "a:admin:%[1]s", wantErr: `role "admin"`},
		{name: "short secret", in: "a:read:Ab3dEf6hIj9lMn2pQr5t", wantErr: "at least 32"},
		{name: "one repeated letter", in: "a:read:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", wantErr: "different characters"},
		{name: "too few different characters", in: "a:read:abcabcabcaabbccabcabcabcabcabcabcabc", wantErr: "different characters"},
		{name: "one character a quarter of it", in: "a:read:a1aba2acada3aeafa4agaha5aiaja6akal", wantErr: "repeats one character"},
		{name: "a sequence", in: "a:read:abcdefghijklmnopqrstuvwxyz0123456789", wantErr: "sequence or a repeated pattern"},
		{name: "a repeated pair pattern", in: "a:read:a1b2c3d4e5f6g7h8a1b2c3d4e5f6g7h8a1b2", wantErr: "sequence or a repeated pattern"},
		{name: "secret with a space", in: "a:read:Ab3dEf6hIj9lMn2p Qr5tUv8xYz1bCd4fGh", wantErr: "may only use"},
		{name: "missing part", in: "a:%[1]s", wantErr: "name:roles:secret"},
		{name: "duplicate name", in: "a:read:%[1]s,a:submit:%[2]s", wantErr: "used twice"},
		{name: "duplicate secret", in: "a:read:%[1]s,b:submit:%[1]s", wantErr: "used by another"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if strings.Contains(tc.in, "%[") {
				tc.in = fmt.Sprintf(tc.in, secretA, secretB)
			}
			got, err := api.ParseTokens(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseTokens(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), secretA) || strings.Contains(err.Error(), "aaaaaaaaaaaa") {
					t.Errorf("error %q shows a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTokens(%q): %v", tc.in, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ParseTokens(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestNewRefusesUnsafeConfig(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	tests := []struct {
		name    string
		cfg     api.Config
		wantErr string
	}{
		{name: "anonymous on all interfaces", cfg: api.Config{AllowAnonymous: true, Addr: "0.0.0.0:8080"}, wantErr: "loopback"},
		{name: "anonymous on an empty host", cfg: api.Config{AllowAnonymous: true, Addr: ":8080"}, wantErr: "loopback"},
		{name: "no tokens and no anonymous", cfg: api.Config{}, wantErr: "no tokens"},
		{name: "token without role", cfg: api.Config{Tokens: []api.Token{{Name: "x", Secret: secretA}}}, wantErr: "no role"},
		{name: "short token", cfg: api.Config{Tokens: []api.Token{{Name: "x", Roles: []api.Role{api.RoleRead}, Secret: "a"}}}, wantErr: "at least 32"},
		{name: "token of one repeated letter", cfg: api.Config{Tokens: []api.Token{{Name: "x", Roles: []api.Role{api.RoleRead}, Secret: strings.Repeat("a", 40)}}}, wantErr: "different characters"},
		{name: "link expiry too long", cfg: api.Config{Tokens: testTokens, LinkExpiry: 8 * 24 * time.Hour}, wantErr: "link expiry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.cfg.NATS = nc
			srv, err := api.New(tc.cfg)
			if err == nil {
				srv.Close()
				t.Fatalf("New(%+v) accepted it", tc.cfg)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("New error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	t.Run("anonymous on loopback", func(t *testing.T) {
		t.Parallel()
		for _, addr := range []string{"127.0.0.1:8080", "[::1]:8080", "localhost:8080"} {
			srv, err := api.New(api.Config{NATS: nc, AllowAnonymous: true, Addr: addr})
			if err != nil {
				t.Fatalf("New(anonymous, %s): %v", addr, err)
			}
			srv.Close()
		}
	})
}

func TestAuth(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	kv := setupQueue(t, nc)
	putResult(t, kv, client.Result{ID: "known", Status: client.StatusFailed, FinishedAt: time.Now().UTC(),
		Error: &client.ResultError{Code: client.CodeRenderFailed, Message: "boom"}})
	h := startAPI(t, nc, api.Config{})
	h.waitReady(t)

	tests := []struct {
		name   string
		method string
		path   string
		secret string
		header string // raw Authorization header, instead of secret
		want   int
	}{
		{"list without token", "GET", "/v1/letters", "", "", 401},
		{"list with unknown token", "GET", "/v1/letters", "not-a-real-token-000000", "", 401},
		{"list with basic auth", "GET", "/v1/letters", "", "Basic " + readSecret, 401},
		{"list with a prefix of a token", "GET", "/v1/letters", readSecret[:len(readSecret)-1], "", 401},
		{"list with submit role", "GET", "/v1/letters", submitSecret, "", 403},
		{"list with read role", "GET", "/v1/letters", readSecret, "", 200},
		{"list with both roles", "GET", "/v1/letters", bothSecret, "", 200},
		{"lowercase bearer scheme", "GET", "/v1/letters", "", "bearer " + readSecret, 200},
		{"pdf without token", "GET", "/v1/letters/known.pdf", "", "", 401},
		{"pdf with submit role", "GET", "/v1/letters/known.pdf", submitSecret, "", 403},
		{"status without token", "GET", "/v1/jobs/known", "", "", 401},
		{"status with submit role", "GET", "/v1/jobs/known", submitSecret, "", 200},
		{"status with read role", "GET", "/v1/jobs/known", readSecret, "", 200},
		{"submit without token", "POST", "/v1/jobs", "", "", 401},
		{"submit with read role", "POST", "/v1/jobs", readSecret, "", 403},
		{"staff page without token", "GET", "/", "", "", 303},
		{"openapi is public", "GET", "/v1/openapi.yaml", "", "", 200},
		{"health is public", "GET", "/healthz", "", "", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body *strings.Reader
			if tc.method == "POST" {
				body = strings.NewReader(smallJob("auth-test"))
			} else {
				body = strings.NewReader("")
			}
			req, err := http.NewRequest(tc.method, h.url+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.secret != "" {
				req.Header.Set("Authorization", "Bearer "+tc.secret)
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
			}
			if tc.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if b := string(readAll(t, resp.Body)); tc.secret != "" && strings.Contains(b, tc.secret) {
				t.Errorf("response shows the secret: %s", b)
			}
		})
	}
}

func TestAnonymousOnlyOnLoopback(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	setupQueue(t, nc)
	srv, err := api.New(api.Config{NATS: nc, AllowAnonymous: true, Addr: "127.0.0.1:0", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tests := []struct {
		name   string
		local  string
		remote string
		want   int
	}{
		{"loopback both ends", "127.0.0.1:8080", "127.0.0.1:50000", 200},
		{"ipv6 loopback", "[::1]:8080", "[::1]:50000", 200},
		{"remote client", "127.0.0.1:8080", "192.0.2.7:50000", 401},
		{"public listener", "192.0.2.1:8080", "127.0.0.1:50000", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest("GET", "/v1/jobs/nothing-here", nil)
			req.RemoteAddr = tc.remote
			local, err := net.ResolveTCPAddr("tcp", tc.local)
			if err != nil {
				t.Fatal(err)
			}
			req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, local))
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			got := rec.Code
			if got == 404 { // authenticated; the job just does not exist
				got = 200
			}
			if got != tc.want {
				t.Errorf("anonymous GET from %s to %s = %d, want %d", tc.remote, tc.local, rec.Code, tc.want)
			}
		})
	}
}

func TestSubmit(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	kv := setupQueue(t, nc)
	h := startAPI(t, nc, api.Config{})
	h.waitReady(t)
	js, _ := jetstream.New(nc)
	stream, err := js.Stream(context.Background(), queue.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	msgs := func() uint64 {
		info, err := stream.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}

	t.Run("accepted then conflict", func(t *testing.T) {
		resp := h.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(smallJob("sub-1")))
		if resp.StatusCode != 202 {
			t.Fatalf("POST = %d %s, want 202", resp.StatusCode, readAll(t, resp.Body))
		}
		if loc := resp.Header.Get("Location"); loc != "/v1/jobs/sub-1" {
			t.Errorf("Location = %q, want /v1/jobs/sub-1", loc)
		}
		var st api.JobStatus
		decodeBody(t, resp, &st)
		if st.ID != "sub-1" || st.Status != "queued" {
			t.Errorf("body = %+v, want id sub-1 queued", st)
		}
		resp = h.do(t, "GET", "/v1/jobs/sub-1", submitSecret, nil)
		decodeBody(t, resp, &st)
		if resp.StatusCode != 200 || st.Status != "queued" {
			t.Errorf("GET status = %d %+v, want 200 queued", resp.StatusCode, st)
		}
		// The same id again, even with other content: 409, nothing queued.
		resp = h.do(t, "POST", "/v1/jobs", bothSecret, strings.NewReader(strings.Replace(smallJob("sub-1"), "summit", "other summit", 1)))
		if resp.StatusCode != 409 {
			t.Fatalf("second POST = %d, want 409", resp.StatusCode)
		}
		decodeBody(t, resp, &st)
		if st.Status != "queued" || st.Error == "" {
			t.Errorf("409 body = %+v, want status queued and an error", st)
		}
		if n := msgs(); n != 1 {
			t.Errorf("jobs stream has %d messages, want 1", n)
		}
	})

	t.Run("conflict with a recorded result", func(t *testing.T) {
		res := client.Result{ID: "sub-done", Status: client.StatusDone, Bucket: "b", Key: "letters/sub-done.pdf", SHA256: "ab", Bytes: 10, Pages: 1, FinishedAt: time.Now().UTC()}
		putResult(t, kv, res)
		resp := h.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(smallJob("sub-done")))
		if resp.StatusCode != 409 {
			t.Fatalf("POST = %d, want 409", resp.StatusCode)
		}
		var st api.JobStatus
		decodeBody(t, resp, &st)
		if st.Status != "done" || st.Result == nil || st.Result.SHA256 != "ab" || st.PDFURL != "/v1/letters/sub-done.pdf" {
			t.Errorf("409 body = %+v, want the done result", st)
		}
	})

	t.Run("conflict from the queue's dedupe window", func(t *testing.T) {
		// Another submitter (not this server) queued the id.
		c, err := client.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Submit(context.Background(), []byte(smallJob("sub-elsewhere"))); err != nil {
			t.Fatal(err)
		}
		before := msgs()
		resp := h.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(smallJob("sub-elsewhere")))
		if resp.StatusCode != 409 {
			t.Fatalf("POST = %d, want 409", resp.StatusCode)
		}
		if n := msgs(); n != before {
			t.Errorf("jobs stream went from %d to %d messages", before, n)
		}
	})

	t.Run("invalid job lists every field", func(t *testing.T) {
		bad := `{"schema":"letter/v1","id":"bad-1","letterhead":{"name":""},"letter":{"recipients":[],"salutation":"","body":[],"closing":"Yours,"}}`
		resp := h.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(bad))
		if resp.StatusCode != 400 {
			t.Fatalf("POST = %d, want 400", resp.StatusCode)
		}
		var e struct {
			Error  string              `json:"error"`
			Fields []client.FieldError `json:"fields"`
		}
		decodeBody(t, resp, &e)
		fields := map[string]bool{}
		for _, f := range e.Fields {
			fields[f.Field] = true
			if f.Message == "" {
				t.Errorf("field %s has no message", f.Field)
			}
		}
		for _, want := range []string{"letterhead.name", "letter.recipients", "letter.salutation", "letter.body"} {
			if !fields[want] {
				t.Errorf("fields %+v lack %s", e.Fields, want)
			}
		}
	})

	t.Run("malformed json", func(t *testing.T) {
		resp := h.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(`{"schema":`))
		if resp.StatusCode != 400 {
			t.Fatalf("POST = %d, want 400", resp.StatusCode)
		}
	})

	t.Run("over the size limit", func(t *testing.T) {
		big := bytes.Repeat([]byte(" "), job.MaxJobBytes+1)
		copy(big, smallJob("big-1"))
		resp := h.do(t, "POST", "/v1/jobs", submitSecret, bytes.NewReader(big))
		if resp.StatusCode != 413 {
			t.Fatalf("POST = %d, want 413", resp.StatusCode)
		}
	})

	t.Run("not json", func(t *testing.T) {
		req, _ := http.NewRequest("POST", h.url+"/v1/jobs", strings.NewReader("id=x"))
		req.Header.Set("Authorization", "Bearer "+submitSecret)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 415 {
			t.Fatalf("POST form = %d, want 415", resp.StatusCode)
		}
	})

	t.Run("unknown job", func(t *testing.T) {
		resp := h.do(t, "GET", "/v1/jobs/never-submitted", readSecret, nil)
		if resp.StatusCode != 404 {
			t.Fatalf("GET = %d, want 404", resp.StatusCode)
		}
	})

	t.Run("cross-site form post refused", func(t *testing.T) {
		req, _ := http.NewRequest("POST", h.url+"/v1/jobs", strings.NewReader(smallJob("csrf-1")))
		req.Header.Set("Authorization", "Bearer "+submitSecret)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("cross-site POST = %d, want 403", resp.StatusCode)
		}
	})
}

func TestNoQueue(t *testing.T) {
	t.Parallel()
	nc := startNATS(t) // no stream: no worker ever ran
	h := startAPI(t, nc, api.Config{})
	h.waitReady(t)
	resp := h.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(smallJob("lonely")))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("POST without a queue = %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The empty index still lists: no letters.
	var l api.LetterList
	resp = h.do(t, "GET", "/v1/letters", readSecret, nil)
	decodeBody(t, resp, &l)
	if resp.StatusCode != 200 || l.Total != 0 {
		t.Errorf("GET /v1/letters = %d %+v, want 200 and none", resp.StatusCode, l)
	}
}

func TestListLetters(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	kv := setupQueue(t, nc)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	seed := []client.Result{
		{ID: "nals-2023", Title: "North American Leaders' Summit", Recipients: []string{"Joseph R. Biden", "Andrés Manuel López Obrador", "Justin Trudeau"}},
		{ID: "fr-embassy", Title: "Lettre à l'ambassade", Recipients: []string{"Mélanie Joly"}},
		{ID: "comite-1", Title: "Comitė Ciudadano", Recipients: []string{"Ministerio de Salud"}},
		{ID: "broken-1", Title: "Broken", Recipients: []string{"Nobody"}, Status: client.StatusFailed},
		{ID: "same-time-a", Title: "Same time A"},
		{ID: "same-time-b", Title: "Same time B"},
		{ID: "oldest", Title: "Oldest letter", Recipients: []string{"Archive"}},
	}
	for i := range seed {
		r := &seed[i]
		if r.Status == "" {
			r.Status = client.StatusDone
			r.Bytes, r.Pages, r.Key = 1000, 1, "letters/"+r.ID+".pdf"
		} else {
			r.Error = &client.ResultError{Code: client.CodeRenderFailed, Message: "no font has U+1F600", Field: "letter.body[0].text"}
		}
		r.FinishedAt = base.Add(-time.Duration(i) * time.Hour)
	}
	seed[5].FinishedAt = seed[4].FinishedAt // a tie: ordered by id
	for _, r := range seed {
		putResult(t, kv, r)
	}
	h := startAPI(t, nc, api.Config{})
	h.waitReady(t)

	ids := func(l api.LetterList) string {
		var s []string
		for _, x := range l.Letters {
			s = append(s, x.ID)
		}
		return strings.Join(s, ",")
	}
	list := func(t *testing.T, query string) (api.LetterList, *http.Response) {
		t.Helper()
		resp := h.do(t, "GET", "/v1/letters"+query, readSecret, nil)
		var l api.LetterList
		if resp.StatusCode == 200 {
			decodeBody(t, resp, &l)
		}
		return l, resp
	}

	t.Run("pages walk every letter once, newest first", func(t *testing.T) {
		t.Parallel()
		var got []string
		q := "?limit=3"
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("more pages than letters")
			}
			l, resp := list(t, q)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s = %d", q, resp.StatusCode)
			}
			if l.Total != len(seed) {
				t.Errorf("total = %d, want %d", l.Total, len(seed))
			}
			got = append(got, ids(l))
			if l.NextCursor == "" {
				if strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
					t.Error("last page has a next link")
				}
				break
			}
			if !strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
				t.Errorf("Link = %q, want a next link", resp.Header.Get("Link"))
			}
			q = "?limit=3&cursor=" + url.QueryEscape(l.NextCursor)
		}
		want := "nals-2023,fr-embassy,comite-1|broken-1,same-time-a,same-time-b|oldest"
		if g := strings.Join(got, "|"); g != want {
			t.Errorf("pages = %s, want %s", g, want)
		}
	})

	t.Run("next link is followable", func(t *testing.T) {
		t.Parallel()
		l, _ := list(t, "?limit=6&q=e")
		if l.Next == "" {
			t.Fatalf("no next link: %+v", l)
		}
		resp := h.do(t, "GET", l.Next, readSecret, nil)
		var l2 api.LetterList
		decodeBody(t, resp, &l2)
		if len(l2.Letters) != l.Total-6 {
			t.Errorf("second page has %d letters, want %d", len(l2.Letters), l.Total-6)
		}
	})

	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"by id", "?q=fr-embassy", "fr-embassy"},
		{"by title, any case", "?q=SUMMIT", "nals-2023"},
		{"by recipient without accents", "?q=lopez+obrador", "nals-2023"},
		{"by recipient with accents", "?q=M%C3%A9lanie", "fr-embassy"},
		{"accented title from plain letters", "?q=comite+ciudadano", "comite-1"},
		{"every word must match", "?q=joly+biden", ""},
		{"no match", "?q=zzzz", ""},
		{"failed only", "?status=failed", "broken-1"},
		{"done and text", "?status=done&q=time", "same-time-a,same-time-b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, resp := list(t, tc.query)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s = %d", tc.query, resp.StatusCode)
			}
			if got := ids(l); got != tc.want {
				t.Errorf("GET %s = %q, want %q", tc.query, got, tc.want)
			}
			if l.Total != len(l.Letters) {
				t.Errorf("total %d != %d listed", l.Total, len(l.Letters))
			}
		})
	}

	bad := []struct{ name, query string }{
		{"bad cursor", "?cursor=!!!"},
		{"forged cursor", "?cursor=" + "bm90LWEtY3Vyc29y"},
		{"limit zero", "?limit=0"},
		{"limit too big", "?limit=201"},
		{"bad status", "?status=lost"},
		{"bad layout", "?layout=poster"},
		{"bad date", "?from=2023-13-01"},
		{"bad sort", "?sort=size"},
		{"cursor and before", "?cursor=YQBi&before=YQBi"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, resp := list(t, tc.query)
			if resp.StatusCode != 400 {
				t.Errorf("GET %s = %d, want 400", tc.query, resp.StatusCode)
			}
		})
	}

	t.Run("failed letters carry their error", func(t *testing.T) {
		t.Parallel()
		l, _ := list(t, "?q=broken-1")
		if len(l.Letters) != 1 || l.Letters[0].Error == nil || l.Letters[0].Error.Field != "letter.body[0].text" || l.Letters[0].PDFURL != "" {
			t.Errorf("broken-1 = %+v, want its error and no pdf_url", l.Letters)
		}
	})

}

func TestIndexFollowsBucket(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	kv := setupQueue(t, nc)
	h := startAPI(t, nc, api.Config{})
	h.waitReady(t)
	putResult(t, kv, client.Result{ID: "late-arrival", Status: client.StatusDone, Title: "Late", FinishedAt: time.Now().UTC()})
	h.waitListed(t, "late-arrival")
	// A result recorded again (a redelivery) replaces the old one.
	putResult(t, kv, client.Result{ID: "late-arrival", Status: client.StatusDone, Title: "Late again", FinishedAt: time.Now().UTC()})
	deadline := time.Now().Add(10 * time.Second)
	for {
		var l api.LetterList
		decodeBody(t, h.do(t, "GET", "/v1/letters", readSecret, nil), &l)
		if len(l.Letters) == 1 && l.Letters[0].Title == "Late again" {
			break
		}
		if len(l.Letters) > 1 {
			t.Fatalf("one id listed twice: %+v", l.Letters)
		}
		if time.Now().After(deadline) {
			t.Fatalf("update not seen: %+v", l.Letters)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A deleted key leaves the list.
	if err := kv.Delete(context.Background(), "late-arrival"); err != nil {
		t.Fatal(err)
	}
	for {
		var l api.LetterList
		decodeBody(t, h.do(t, "GET", "/v1/letters", readSecret, nil), &l)
		if l.Total == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deleted result still listed: %+v", l.Letters)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
