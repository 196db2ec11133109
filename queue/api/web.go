package api

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/carta-letters/carta/queue/client"
)

//go:embed web/*.html web/carta.css
var webFS embed.FS

func parseTemplates() (*template.Template, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"size":      humanSize,
		"when":      humanTime,
		"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"pdfURL":    pdfURL,
		"copyURL":   copyURL,
		"joinComma": func(s []string) string { return strings.Join(s, ", ") },
	}).ParseFS(webFS, "web/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse page templates: %w", err)
	}
	return t, nil
}

func serveCSS(w http.ResponseWriter, r *http.Request) {
	data, _ := webFS.ReadFile("web/carta.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(data) //nolint:errcheck // the client went away
}

// pageRow is one letter on the staff page.
type pageRow struct {
	client.Result
	DisplayTitle string
}

// lettersData is what web/letters.html shows.
type lettersData struct {
	Principal string
	Query     string
	Status    string
	Rows      []pageRow
	Total     int
	NextURL   string
	FirstURL  string // set when this is not the first page
	Loading   bool
	Error     string
}

func (s *Server) lettersPage(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q, err := s.parseListQuery(v)
	d := lettersData{Principal: principalFrom(r.Context()).name, Query: q.text, Status: q.status}
	status := http.StatusOK
	switch {
	case err != nil:
		d.Error = "That search could not be read (" + err.Error() + "). Showing the newest letters."
		q = query{limit: s.cfg.PageSize}
		d.Query, d.Status = "", ""
		status = http.StatusBadRequest
	case !s.ix.isSynced():
		d.Loading = true
	}
	if !d.Loading {
		pg := s.ix.list(q)
		d.Total = pg.total
		for _, res := range pg.items {
			title := res.Title
			if title == "" {
				title = res.ID
			}
			d.Rows = append(d.Rows, pageRow{Result: res, DisplayTitle: title})
		}
		if pg.next != nil {
			d.NextURL = nextURL("/", q, pg.next)
		}
		if q.after != nil {
			fv := url.Values{}
			if q.text != "" {
				fv.Set("q", q.text)
			}
			if q.status != "" {
				fv.Set("status", q.status)
			}
			d.FirstURL = "/?" + fv.Encode()
		}
	}
	s.render(w, status, "letters.html", d)
}

func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := s.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "the page could not be drawn", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(b.String())) //nolint:errcheck // the client went away
}

type loginData struct {
	Error string
}

func (s *Server) renderLogin(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	s.render(w, status, "login.html", loginData{Error: msg})
}

// login checks the token from the sign-in form and keeps it in an
// HttpOnly, SameSite=Strict cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, formBodyLimit)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, "The form could not be read. Try again.")
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	p, ok := s.auth.match(secret)
	if !ok {
		s.renderLogin(w, r, http.StatusUnauthorized, "That token is not recognised. Check it and try again.")
		return
	}
	setLogPrincipal(r, p.name)
	if p.roles&canRead == 0 {
		s.renderLogin(w, r, http.StatusForbidden, "This token may submit jobs but not read letters. Use a token with the read role.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    secret,
		Path:     "/",
		MaxAge:   int(DefaultCookieMaxAge / time.Second),
		HttpOnly: true,
		Secure:   s.cfg.SecureCookie || r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.cfg.SecureCookie || r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
