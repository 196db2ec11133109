package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/queue/client"
)

func TestStaffPage(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	kv := setupQueue(t, nc)
	now := time.Now().UTC()
	putResult(t, kv, client.Result{ID: "nals-2023", Status: client.StatusDone, Title: "North American Leaders' Summit",
		Recipients: []string{"Andrés Manuel López Obrador", "Justin Trudeau"}, Pages: 4, Bytes: 95400, Key: "letters/nals-2023.pdf", FinishedAt: now})
	putResult(t, kv, client.Result{ID: "bad-font", Status: client.StatusFailed, Title: "Emoji letter", FinishedAt: now.Add(-time.Minute),
		Error: &client.ResultError{Code: client.CodeInvalidJob, Message: "character 😀 (U+1F600) is in no bundled font", Field: "letter.body[2].text"}})
	putResult(t, kv, client.Result{ID: "xss", Status: client.StatusDone, Title: `<script>alert("x")</script>`, FinishedAt: now.Add(-2 * time.Minute)})
	h := startAPI(t, nc, api.Config{})
	h.waitReady(t)

	browser := func(t *testing.T) *http.Client {
		return &http.Client{Jar: newJar(t), Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	login := func(t *testing.T, c *http.Client, secret string) *http.Response {
		t.Helper()
		resp, err := c.PostForm(h.url+"/login", url.Values{"token": {secret}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	page := func(t *testing.T, c *http.Client, path string) (int, string) {
		t.Helper()
		resp, err := c.Get(h.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, string(readAll(t, resp.Body))
	}

	t.Run("signed out goes to the sign-in form", func(t *testing.T) {
		t.Parallel()
		resp := h.do(t, "GET", "/", "", nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("GET / = %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
		}
		code, body := page(t, browser(t), "/login")
		for _, want := range []string{`<label for="token">`, `id="token"`, `type="password"`, `<main id="main"`, `lang="en"`} {
			if code != 200 || !strings.Contains(body, want) {
				t.Errorf("sign-in page (%d) lacks %s", code, want)
			}
		}
	})

	t.Run("wrong token is refused", func(t *testing.T) {
		t.Parallel()
		c := browser(t)
		resp := login(t, c, "wrong-token-0000000000")
		body := string(readAll(t, resp.Body))
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `role="alert"`) {
			t.Errorf("POST /login wrong = %d, want 401 with an alert", resp.StatusCode)
		}
		if len(resp.Cookies()) != 0 {
			t.Errorf("wrong token got cookies %v", resp.Cookies())
		}
	})

	t.Run("submit-only token cannot read", func(t *testing.T) {
		t.Parallel()
		resp := login(t, browser(t), submitSecret)
		if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
			t.Errorf("POST /login submit-only = %d with %d cookies, want 403 and none", resp.StatusCode, len(resp.Cookies()))
		}
	})

	t.Run("sign in keeps the token in a strict http-only cookie", func(t *testing.T) {
		t.Parallel()
		c := browser(t)
		resp := login(t, c, readSecret)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("POST /login = %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
		}
		sc := resp.Header.Get("Set-Cookie")
		for _, want := range []string{"carta_session=staff.", "HttpOnly", "SameSite=Strict", "Path=/"} {
			if !strings.Contains(sc, want) {
				t.Errorf("Set-Cookie %q lacks %s", sc, want)
			}
		}
		if strings.Contains(sc, readSecret) {
			t.Errorf("Set-Cookie %q holds the token", sc)
		}
		code, body := page(t, c, "/")
		if code != 200 {
			t.Fatalf("GET / = %d", code)
		}
		for _, want := range []string{
			"<caption", `>Title</a></th>`, `scope="row"`, "North American Leaders&#39; Summit",
			"Andrés Manuel López Obrador, Justin Trudeau", `href="/v1/letters/nals-2023.pdf"`,
			"Failed", "letter.body[2].text: Character 😀 (U&#43;1F600) is in no bundled font", `<label for="q">`, "<search>",
			`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`, "of <strong>3</strong>",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("letters page lacks %q", want)
			}
		}
		if strings.Contains(body, `<script>alert`) {
			t.Error("a title was not escaped")
		}
		if strings.Contains(body, readSecret) {
			t.Error("the page shows the token")
		}
		// Search.
		_, body = page(t, c, "/?q=lopez")
		if !strings.Contains(body, "nals-2023") || strings.Contains(body, "bad-font") || !strings.Contains(body, "of <strong>1</strong> matching") {
			t.Errorf("search lopez shows the wrong letters")
		}
		// Sign out clears the cookie.
		resp, err := c.PostForm(h.url+"/logout", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if code, _ := page(t, c, "/"); code != http.StatusSeeOther {
			t.Errorf("GET / after sign-out = %d, want 303", code)
		}
	})

	t.Run("cross-site sign-in is refused", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest("POST", h.url+"/login", strings.NewReader("token="+readSecret))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST /login = %d, want 403", resp.StatusCode)
		}
	})

	t.Run("security headers", func(t *testing.T) {
		t.Parallel()
		resp := h.do(t, "GET", "/login", "", nil)
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("CSP = %q", resp.Header.Get("Content-Security-Policy"))
		}
	})

	t.Run("stylesheet", func(t *testing.T) {
		t.Parallel()
		resp := h.do(t, "GET", "/static/carta.css", "", nil)
		body := string(readAll(t, resp.Body))
		if resp.StatusCode != 200 || !strings.Contains(body, ":focus-visible") || !strings.Contains(body, "@media") {
			t.Errorf("GET carta.css = %d, want focus and responsive rules", resp.StatusCode)
		}
	})
}
