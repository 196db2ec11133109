package api

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
	"github.com/carta-letters/carta/renderer/preview"
)

//go:embed web/*.html web/carta.css web/favicon.svg
var webFS embed.FS

func parseTemplates() (*template.Template, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"size":       humanSize,
		"when":       humanTime,
		"short":      shortTime,
		"letterDate": letterDate,
		"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"pdfURL":     pdfURL,
		"copyURL":    copyURL,
		"detailURL":  func(id string) string { return "/letters/" + url.PathEscape(id) },
		"joinComma":  func(s []string) string { return strings.Join(s, ", ") },
		"problems":   func(r client.Result) []problem { return explain(&r) },
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
		"add": func(a, b int) int { return a + b },
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

func serveFavicon(w http.ResponseWriter, r *http.Request) {
	data, _ := webFS.ReadFile("web/favicon.svg")
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(data) //nolint:errcheck // the client went away
}

// pageRow is one letter on the staff page.
type pageRow struct {
	client.Result
	DisplayTitle string
	Stored       time.Time // when the result was recorded, or queued
	Earlier      int       // failed submissions before this one
}

// sortLink is a column header's link: the sort it sets and the
// aria-sort of the column now.
type sortLink struct {
	URL  string
	Aria string // "ascending", "descending" or "none"
}

// formQuery is a query as the filter form shows it.
type formQuery struct{ Text, Status, Layout, From, To, Sort string }

// lettersData is what web/letters.html shows.
type lettersData struct {
	Principal string
	Q         formQuery
	Rows      []pageRow
	Total     int
	From, To  int // position of the first and last row shown, from 1
	NextURL   string
	PrevURL   string
	FirstURL  string // set when this is not the first page
	Filtered  bool   // any filter is set
	Layouts   []string
	Sorts     map[string]sortLink
	Loading   bool
	Error     string
	Page      int // page number, from 1
	Pages     int
}

func (s *Server) lettersPage(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q, err := s.parseListQuery(v)
	d := lettersData{Principal: principalFrom(r.Context()).name, Layouts: job.Layouts}
	status := http.StatusOK
	switch {
	case err != nil:
		d.Error = "That search could not be read (" + err.Error() + "). Showing the newest letters."
		q = query{limit: s.cfg.PageSize}
		status = http.StatusBadRequest
	case !s.ix.waitSynced(r.Context(), 2*time.Second):
		d.Loading = true
	}
	d.Q = formQuery{Text: q.text, Status: q.status, Layout: q.layout, From: q.from, To: q.to, Sort: q.sort}
	d.Filtered = len(q.values()) > 0 && !(len(q.values()) == 1 && q.sort != "")
	d.Sorts = map[string]sortLink{}
	for _, col := range []string{"title", "date", "stored"} {
		cur := strings.TrimPrefix(q.sort, "-")
		if q.sort == "" {
			cur = "stored"
		}
		desc := q.sort == "" || strings.HasPrefix(q.sort, "-")
		l := sortLink{Aria: "none"}
		next := col
		if col != "title" {
			next = "-" + col // dates: newest first on the first click
		}
		if cur == col {
			l.Aria = map[bool]string{true: "descending", false: "ascending"}[desc]
			if desc {
				next = col
			} else {
				next = "-" + col
			}
		}
		nq := q
		nq.sort = next
		if next == "-stored" {
			nq.sort = ""
		}
		l.URL = pageURL("/", nq, "", nil, false)
		d.Sorts[col] = l
	}
	if !d.Loading {
		pg := s.ix.list(q)
		d.Total = pg.total
		for _, it := range pg.items {
			res := it.row
			title := res.Title
			if title == "" {
				title = res.ID
			}
			row := pageRow{Result: res, DisplayTitle: title, Stored: it.at}
			if it.sub != nil {
				row.Earlier = len(it.sub.Previous)
			}
			d.Rows = append(d.Rows, row)
		}
		if len(d.Rows) > 0 {
			d.From, d.To = pg.start+1, pg.start+len(d.Rows)
			d.Page = pg.start/q.limit + 1
			d.Pages = (pg.total + q.limit - 1) / q.limit
			if pg.start%q.limit != 0 {
				d.Page++ // a page reached from a cursor can start anywhere
			}
		}
		if pg.next != nil {
			d.NextURL = pageURL("/", q, "cursor", pg.next, q.limit != s.cfg.PageSize)
		}
		if pg.prev != nil {
			d.PrevURL = pageURL("/", q, "before", pg.prev, q.limit != s.cfg.PageSize)
			d.FirstURL = pageURL("/", q, "", nil, q.limit != s.cfg.PageSize)
		}
	}
	s.render(w, status, "letters.html", d)
}

// detailData is what web/letter.html shows.
type detailData struct {
	Principal string
	CanSubmit bool
	Row       client.Result
	Result    *client.Result // nil while queued for the first time
	Sub       *Submission
	Queued    bool
	QueuedAt  time.Time
	Copies    []CopyLink
	Problems  []problem
	History   []client.Result
	// Resubmission form
	JobText      string
	SubmitError  string
	SubmitFields []problem
	Submitted    bool
	HasPreview   bool // the job's JSON is kept: the first page can be drawn
}

func (s *Server) letterPage(w http.ResponseWriter, r *http.Request) {
	s.renderDetail(w, r, http.StatusOK, detailData{Submitted: r.URL.Query().Get("resubmitted") == "1"})
}

func (s *Server) renderDetail(w http.ResponseWriter, r *http.Request, status int, d detailData) {
	id := r.PathValue("id")
	p := principalFrom(r.Context())
	d.Principal, d.CanSubmit = p.name, p.roles&canSubmit != 0
	if !client.ValidID(id) {
		s.render(w, http.StatusNotFound, "notfound.html", d)
		return
	}
	row, res, sub, ok := s.ix.getView(id)
	if !ok {
		// The index may lag the bucket by a moment.
		lres, err := s.client.Lookup(r.Context(), id)
		if err != nil || lres == nil {
			s.render(w, http.StatusNotFound, "notfound.html", d)
			return
		}
		row, res = *lres, lres
	}
	d.Row, d.Result, d.Sub = row, res, sub
	d.Queued = row.Status == statusQueued
	if sub != nil {
		d.QueuedAt = sub.QueuedAt
		d.History = sub.Previous
	}
	d.HasPreview = (d.Queued || row.Status == client.StatusDone) && s.storedJob(r.Context(), id) != nil
	if !d.Queued && res != nil {
		d.Copies = copyLinks(res)
		if res.Status == client.StatusFailed {
			d.Problems = explain(res)
		}
	}
	s.render(w, status, "letter.html", d)
}

// resubmitPage takes a corrected job for a failed letter from the
// detail page's form and queues it (roles read and submit).
func (s *Server) resubmitPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p := principalFrom(r.Context())
	d := detailData{}
	if p.roles&canSubmit == 0 {
		d.SubmitError = "Your token may read letters but not submit them. Ask for a token with the submit role."
		s.renderDetail(w, r, http.StatusForbidden, d)
		return
	}
	// A form-encoded job grows by up to 3 times (percent-encoding).
	r.Body = http.MaxBytesReader(w, r.Body, 3*job.MaxJobBytes+formBodyLimit)
	if err := r.ParseForm(); err != nil {
		d.SubmitError = fmt.Sprintf("The form could not be read: a job may be at most %d bytes.", job.MaxJobBytes)
		s.renderDetail(w, r, http.StatusRequestEntityTooLarge, d)
		return
	}
	text := r.PostForm.Get("job")
	d.JobText = text
	if len(text) > job.MaxJobBytes {
		d.SubmitError = fmt.Sprintf("The job is %d bytes; a job may be at most %d bytes.", len(text), job.MaxJobBytes)
		s.renderDetail(w, r, http.StatusRequestEntityTooLarge, d)
		return
	}
	if jid, err := client.JobID([]byte(text)); err == nil && jid != id {
		d.SubmitError = fmt.Sprintf("This job's id is %q, not %q. To submit another letter, use the API.", jid, id)
		s.renderDetail(w, r, http.StatusBadRequest, d)
		return
	}
	_, serr := s.submit(r.Context(), []byte(text), p.name)
	if serr != nil {
		d.SubmitError = serr.msg
		for _, f := range serr.fields {
			d.SubmitFields = append(d.SubmitFields, problem{Field: f.Field, Message: trimField(f.Field, f.Message)})
		}
		s.renderDetail(w, r, serr.status, d)
		return
	}
	http.Redirect(w, r, "/letters/"+url.PathEscape(id)+"?resubmitted=1", http.StatusSeeOther)
}

// previewPNG draws the first page of a job from its JSON in the jobs
// bucket, kept by the API when it queued the job and by the worker that
// took it, however it was submitted (renderer/preview), 800 pixels wide.
func (s *Server) previewPNG(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !client.ValidID(id) {
		http.NotFound(w, r)
		return
	}
	data := s.storedJob(r.Context(), id)
	if data == nil {
		http.Error(w, "no preview: the job's JSON is not kept (no worker has taken it yet, or it expired)", http.StatusNotFound)
		return
	}
	sum := sha256.Sum256(data)
	etag := `"` + hex.EncodeToString(sum[:16]) + "-" + renderer.Version + `"`
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	j, err := job.Decode(data)
	var img []byte
	if err == nil {
		img, err = preview.FirstPage(j, preview.DefaultWidth)
	}
	if err != nil {
		http.Error(w, "no preview: the letter cannot be laid out", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("ETag", etag)
	w.Write(img) //nolint:errcheck // the client went away
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

// login checks the token from the sign-in form and sets a signed
// session cookie (HttpOnly, SameSite=Strict; see session.go). Failed
// sign-ins count against the client's address (see limiter).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if wait, ok := s.limit.allow(r); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(int(wait.Round(time.Second)/time.Second), 1)))
		s.renderLogin(w, r, http.StatusTooManyRequests, "Too many failed sign-ins from this address. Wait a minute and try again.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, formBodyLimit)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, "The form could not be read. Try again.")
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	p, ok := s.auth.match(secret)
	if !ok {
		s.authFailed(r, "sign-in with a token not recognised")
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
		Value:    s.auth.newSession(p.name, time.Now().Add(DefaultCookieMaxAge)),
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

// problem is one thing wrong with a failed job, for a person.
type problem struct {
	Field   string
	Message string
}

var (
	// internal prefixes of worker errors ("verb noun[ id]: ")
	internalPrefix = regexp.MustCompile(`^(render letter|render job|lay out letter|lay out|store letter|process job|decode job|validate job|sign|look up result|record result|publish result)( [^:]*)?: `)
	hashes         = regexp.MustCompile(`\s*\(sha256[^)]*\)|\b[0-9a-f]{64}\b`)
	fieldAtStart   = regexp.MustCompile(`^((?:id|schema|layout|locale|page_size|title|letterhead|statement|letter|contact|output)(?:\.[a-z_]+|\[\d+\])*): `)
	differentObj   = regexp.MustCompile(`^(.+) already holds a different object.*$`)
)

// trimField drops a repeated field path from the start of msg.
func trimField(field, msg string) string {
	if field != "" {
		msg = strings.TrimPrefix(msg, field+": ")
		msg = strings.TrimPrefix(msg, "`"+field+"`: ")
	}
	return msg
}

// explain turns a failed result's error into problems written for a
// person: the field path once, without the worker's internal prefixes
// ("lay out letter x: ") or hashes.
func explain(res *client.Result) []problem {
	if res == nil || res.Status != client.StatusFailed {
		return nil
	}
	e := res.Error
	if e == nil {
		return []problem{{Message: "The job failed and the worker gave no reason."}}
	}
	if len(e.Fields) > 0 {
		out := make([]problem, len(e.Fields))
		for i, f := range e.Fields {
			out[i] = problem{Field: f.Field, Message: cleanMessage(trimField(f.Field, f.Message))}
		}
		return out
	}
	msg := e.Message
	for {
		m := internalPrefix.FindStringIndex(msg)
		if m == nil {
			break
		}
		msg = msg[m[1]:]
	}
	field := e.Field
	if m := fieldAtStart.FindStringSubmatch(msg); m != nil {
		if field == "" {
			field = m[1]
		}
		msg = msg[len(m[0]):]
	}
	msg = trimField(field, msg)
	if m := differentObj.FindStringSubmatch(msg); m != nil && e.Code == client.CodeStorageFailed {
		msg = "another letter is already stored at " + m[1] + "; it was left unchanged"
	}
	return []problem{{Field: field, Message: cleanMessage(msg)}}
}

func cleanMessage(msg string) string {
	msg = strings.Join(strings.Fields(hashes.ReplaceAllString(msg, "")), " ")
	if msg == "" {
		return "The job failed."
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

// humanSize formats a byte count for people: "812 B", "95.4 KB", "1.2 MB".
func humanSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f KB", float64(n)/1000)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
}

// humanTime formats a time for the page, in UTC.
func humanTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// shortTime formats a time for a list row, in UTC: "9 Jan 14:05", with
// the year when it is not this year's.
func shortTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.UTC()
	if t.Year() != time.Now().UTC().Year() {
		return t.Format("2 Jan 2006")
	}
	return t.Format("2 Jan 15:04")
}

// letterDate formats a letter's YYYY-MM-DD date: "9 Jan 2023"; other
// text as it is.
func letterDate(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Format("2 Jan 2006")
}
