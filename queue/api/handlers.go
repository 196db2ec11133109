package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/renderer/job"
	"github.com/carta-letters/carta/renderer/preview"
)

// Job statuses of JobStatus.Status: a result's status, or StatusQueued.
const StatusQueued = "queued"

// JobStatus is the body of POST /v1/jobs and GET /v1/jobs/{id}.
type JobStatus struct {
	ID        string `json:"id"`
	Status    string `json:"status"`            // "queued", "done" or "failed"
	StatusURL string `json:"status_url"`        // /v1/jobs/{id}
	PDFURL    string `json:"pdf_url,omitempty"` // /v1/letters/{id}.pdf, once done
	// Copies are the per-recipient copies of a done job that asked for
	// them, each with its download URL; absent otherwise.
	Copies []CopyLink     `json:"copies,omitempty"`
	Result *client.Result `json:"result,omitempty"` // the result event, once there is one (while queued again: absent)
	// QueuedAt is when the job was queued through the API, while it is
	// queued.
	QueuedAt *time.Time `json:"queued_at,omitempty"`
	// History are the failed results of earlier submissions of this id,
	// oldest first; absent when there were none.
	History []client.Result `json:"history,omitempty"`
	// Problems say why a failed job failed, written for a person: each
	// problem once, with its field path, without the worker's internal
	// prefixes or hashes (Result.Error keeps the worker's words).
	Problems []client.FieldError `json:"problems,omitempty"`
	// Error, on a 409 answer only, says why nothing was queued.
	Error string `json:"error,omitempty"`
}

// Letter is one entry of GET /v1/letters: the result event and where to
// download its PDF.
type Letter struct {
	client.Result
	PDFURL string `json:"pdf_url,omitempty"` // /v1/letters/{id}.pdf, when done
	// QueuedAt is when a queued job (Status "queued") was queued.
	QueuedAt *time.Time `json:"queued_at,omitempty"`
	// EarlierFailures is how many submissions of this id failed before
	// the current one (its history); absent when none did.
	EarlierFailures int `json:"earlier_failures,omitempty"`
	// Problems say why a failed letter failed, as JobStatus.Problems.
	Problems []client.FieldError `json:"problems,omitempty"`
	// Copies are the event's copies (it replaces Result.Copies in the
	// JSON), each with its download URL; absent when there are none.
	Copies []CopyLink `json:"copies,omitempty"`
}

// CopyLink is one per-recipient copy of a letter (the result event's
// copy) and where to download it.
type CopyLink struct {
	client.Copy
	PDFURL string `json:"pdf_url"` // /v1/letters/{id}/copies/{name}.pdf
}

// copyLinks returns the copies of a done result with their URLs.
func copyLinks(res *client.Result) []CopyLink {
	if res == nil || res.Status != client.StatusDone || len(res.Copies) == 0 {
		return nil
	}
	out := make([]CopyLink, len(res.Copies))
	for i, c := range res.Copies {
		out[i] = CopyLink{Copy: c, PDFURL: copyURL(res.ID, c.Name)}
	}
	return out
}

// LetterList is the body of GET /v1/letters.
type LetterList struct {
	Letters    []Letter `json:"letters"`               // in the order asked for (sort), newest first by default
	Total      int      `json:"total"`                 // letters matching the filters, on all pages
	Offset     int      `json:"offset"`                // position of the first letter of this page among them, from 0
	NextCursor string   `json:"next_cursor,omitempty"` // pass as cursor for the next page; absent on the last
	Next       string   `json:"next,omitempty"`        // the URL of the next page
	PrevCursor string   `json:"prev_cursor,omitempty"` // pass as before for the previous page; absent on the first
	Prev       string   `json:"prev,omitempty"`        // the URL of the previous page
}

func statusURL(id string) string { return "/v1/jobs/" + url.PathEscape(id) }
func pdfURL(id string) string    { return "/v1/letters/" + url.PathEscape(id) + ".pdf" }

// copyURL is the download URL of the copy called name of letter id.
func copyURL(id, name string) string {
	return "/v1/letters/" + url.PathEscape(id) + "/copies/" + url.PathEscape(name) + ".pdf"
}

// validCopyName reports whether name can be a copy's name: 1 to 64 of
// a-z 0-9 and "-" (renderer.CopyName gives "copy-NN-slug").
func validCopyName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func statusOf(id string, res *client.Result) JobStatus {
	st := JobStatus{ID: id, Status: StatusQueued, StatusURL: statusURL(id)}
	if res != nil {
		st.Status = string(res.Status)
		st.Result = res
		if res.Status == client.StatusDone {
			st.PDFURL = pdfURL(id)
			st.Copies = copyLinks(res)
		}
		st.Problems = problemsOf(res)
	}
	return st
}

// problemsOf is explain as field errors.
func problemsOf(res *client.Result) []client.FieldError {
	var out []client.FieldError
	for _, p := range explain(res) {
		out = append(out, client.FieldError{Field: p.Field, Message: p.Message})
	}
	return out
}

// statusWith is statusOf for what the buckets say of id: while a
// submission waits (queued, perhaps again after a failure) the status is
// queued with no result; the earlier failures are the history.
func statusWith(id string, res *client.Result, sub *Submission) JobStatus {
	if queuedNow(sub, res) {
		st := statusOf(id, nil)
		at := sub.QueuedAt
		st.QueuedAt = &at
		st.History = sub.Previous
		return st
	}
	st := statusOf(id, res)
	if sub != nil {
		st.History = sub.Previous
	}
	return st
}

// result finds the recorded result of id: in the index, else in the
// bucket itself (the index may lag a result by a moment). It returns nil
// and no error when there is none.
func (s *Server) result(ctx context.Context, id string) (*client.Result, error) {
	if res, ok := s.ix.get(id); ok {
		return &res, nil
	}
	res, err := s.client.Lookup(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("look up job %s: %w", id, err)
	}
	return res, nil
}

// submission reads the submission of id from the bucket (not the index,
// which may lag), with its revision; nil when there is none.
func (s *Server) submission(ctx context.Context, id string) (*Submission, uint64, error) {
	kv, err := s.openSubs(ctx)
	if err != nil {
		return nil, 0, err
	}
	e, err := kv.Get(ctx, client.Token(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("look up submission %s: %w", id, err)
	}
	var sub Submission
	if err := json.Unmarshal(e.Value(), &sub); err != nil {
		return nil, e.Revision(), nil // unreadable: replaced by the next submission
	}
	return &sub, e.Revision(), nil
}

// errAlreadyQueued is a submission that lost the race for an id.
var errAlreadyQueued = errors.New("already submitted")

// submitError is a refused submission: the HTTP status and the API error.
type submitError struct {
	status int
	msg    string
	fields []client.FieldError
	retry  string // Retry-After, if any
	// conflict is set for 409: the id's status.
	conflict *JobStatus
}

func (e *submitError) Error() string { return e.msg }

// submit decodes, checks and queues one job for the principal by, and
// records its submission. A failed id may be submitted again: the failed
// result goes into the submission's history. It refuses an id that is
// queued or done with 409.
func (s *Server) submit(ctx context.Context, body []byte, by string) (JobStatus, *submitError) {
	j, err := job.Decode(body)
	if err != nil {
		var ve *job.ValidationError
		if errors.As(err, &ve) {
			fields := make([]client.FieldError, len(ve.Problems))
			for i, p := range ve.Problems {
				fields[i] = client.FieldError{Field: p.Field, Message: p.Message}
			}
			return JobStatus{}, &submitError{status: http.StatusBadRequest, msg: problemCount(len(fields)), fields: fields}
		}
		return JobStatus{}, &submitError{status: http.StatusBadRequest, msg: "job is not valid: " + err.Error()}
	}
	if ve := s.layoutCheck(j); ve != nil {
		fields := make([]client.FieldError, len(ve.Problems))
		for i, p := range ve.Problems {
			fields[i] = client.FieldError{Field: p.Field, Message: p.Message}
		}
		return JobStatus{}, &submitError{status: http.StatusBadRequest, msg: problemCount(len(fields)), fields: fields}
	}
	id := j.ID
	unavailable := &submitError{status: http.StatusServiceUnavailable, msg: "the results bucket cannot be read; try again", retry: "5"}
	res, err := s.result(ctx, id)
	if err != nil {
		s.log.Error("submit job: look up earlier result", "job_id", id, "err", err)
		return JobStatus{}, unavailable
	}
	sub, rev, err := s.submission(ctx, id)
	if err != nil {
		s.log.Error("submit job: look up earlier submission", "job_id", id, "err", err)
		return JobStatus{}, unavailable
	}
	if (res != nil && res.Status != client.StatusFailed) || queuedNow(sub, res) {
		st := statusWith(id, res, sub)
		return JobStatus{}, &submitError{status: http.StatusConflict, conflict: &st,
			msg: fmt.Sprintf("job %s was already submitted and is %s; nothing new was queued", id, st.Status)}
	}
	next := Submission{ID: id, Title: j.DocTitle(), Recipients: []string{}, Date: j.Letter.Date, Layout: j.Layout,
		QueuedAt: time.Now().UTC().Truncate(time.Millisecond), By: by}
	if next.Date == "" && j.Statement != nil {
		next.Date = j.Statement.Date
	}
	for _, p := range j.Letter.Recipients {
		next.Recipients = append(next.Recipients, p.Name)
	}
	if sub != nil {
		next.Previous = append(next.Previous, sub.Previous...)
	}
	if res != nil { // failed: this is a resubmission
		next.Previous = append(next.Previous, *res)
	}
	// Published first, recorded after: the stream's dedupe (the id, or
	// the id and the failure it replaces; client.MsgID) makes two racing
	// requests queue the job once, and a job the queue refuses leaves no
	// record behind.
	ack, err := s.client.Publish(ctx, body)
	switch {
	case errors.Is(err, client.ErrBadID):
		return JobStatus{}, &submitError{status: http.StatusBadRequest, msg: problemCount(1),
			fields: []client.FieldError{{Field: "id", Message: strings.TrimPrefix(err.Error(), "submit job: bad job id: id: ")}}}
	case errors.Is(err, client.ErrJobTooLarge):
		return JobStatus{}, &submitError{status: http.StatusRequestEntityTooLarge, msg: "the job is larger than the queue accepts"}
	case errors.Is(err, client.ErrQueueFull):
		return JobStatus{}, &submitError{status: http.StatusServiceUnavailable, msg: "the queue is full; try again later", retry: "30"}
	case errors.Is(err, client.ErrNoQueue):
		return JobStatus{}, &submitError{status: http.StatusServiceUnavailable, msg: "no queue is listening: is a worker running?", retry: "10"}
	case err != nil:
		s.log.Error("submit job", "job_id", id, "err", err)
		return JobStatus{}, &submitError{status: http.StatusServiceUnavailable, msg: "the job could not be queued; try again", retry: "5"}
	case ack.Duplicate:
		// Queued just now by another request, or straight on NATS within
		// the duplicates window.
		res, _ := s.result(ctx, id)
		st := statusOf(id, res)
		return JobStatus{}, &submitError{status: http.StatusConflict, conflict: &st,
			msg: fmt.Sprintf("job %s was already submitted; nothing new was queued", id)}
	}
	if err := s.recordSubmission(ctx, next, rev); err != nil {
		// The job is queued: its result will show; only the queued row
		// and the history are missing.
		s.log.Error("submit job: record submission", "job_id", id, "err", err)
	} else {
		s.ix.putSub(next)
	}
	s.keepJob(id, body)
	s.log.Info("job queued", "job_id", id, "stream", ack.Stream, "seq", ack.Sequence, "principal", by,
		"resubmission", len(next.Previous) > 0)
	return statusWith(id, res, &next), nil
}

// keepJob stores the job's JSON for the detail page's preview; a
// failure costs only the preview.
func (s *Server) keepJob(id string, body []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := s.openJobs(ctx)
	if err == nil {
		_, err = kv.Put(ctx, client.JobKey(id), body)
	}
	if err != nil {
		s.log.Warn("keep job for its preview", "job_id", id, "err", err)
	}
}

// storedJob returns the JSON of job id kept by keepJob or by the worker
// that took it, or nil.
func (s *Server) storedJob(ctx context.Context, id string) []byte {
	kv, err := s.openJobs(ctx)
	if err != nil {
		return nil
	}
	e, err := kv.Get(ctx, client.JobKey(id))
	if err != nil {
		return nil
	}
	return e.Value()
}

// layoutChecks bounds the layout checks running at once.
var layoutChecks = make(chan struct{}, runtime.NumCPU())

// layoutCheckTimeout is the longest a submission waits for its layout
// check; a job that takes longer is queued and the worker decides.
const layoutCheckTimeout = 3 * time.Second

// layoutCheck lays the job out as the worker will (preview.Check) and
// returns the problems that would fail it there: an address too long for
// its window, too many pages. It returns nil when the job lays out, or
// when the check takes longer than layoutCheckTimeout or fails otherwise
// (the worker then decides, as before).
func (s *Server) layoutCheck(j *job.Job) *job.ValidationError {
	out := make(chan error, 1)
	t := time.NewTimer(layoutCheckTimeout)
	defer t.Stop()
	select {
	case layoutChecks <- struct{}{}:
	case <-t.C:
		return nil
	}
	go func() {
		defer func() { <-layoutChecks }()
		defer func() {
			if p := recover(); p != nil {
				out <- fmt.Errorf("layout check panicked: %v", p)
			}
		}()
		out <- preview.Check(j)
	}()
	select {
	case err := <-out:
		var ve *job.ValidationError
		if errors.As(err, &ve) {
			return ve
		}
		if err != nil {
			s.log.Warn("submit job: layout check", "job_id", j.ID, "err", err)
		}
		return nil
	case <-t.C:
		return nil
	}
}

// recordSubmission writes sub where the bucket had revision rev (0: no
// entry); errAlreadyQueued when another request wrote first.
func (s *Server) recordSubmission(ctx context.Context, sub Submission, rev uint64) error {
	kv, err := s.openSubs(ctx)
	if err != nil {
		return err
	}
	data, err := json.Marshal(sub)
	if err != nil {
		return fmt.Errorf("encode submission: %w", err)
	}
	if rev == 0 {
		_, err = kv.Create(ctx, client.Token(sub.ID), data)
	} else {
		_, err = kv.Update(ctx, client.Token(sub.ID), data, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return errAlreadyQueued
	}
	return err
}

func problemCount(n int) string {
	if n == 1 {
		return "job is not valid: 1 problem"
	}
	return fmt.Sprintf("job is not valid: %d problems", n)
}

func (s *Server) postJob(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "a job is sent as application/json", nil)
			return
		}
	}
	// A declared length over the cap is refused before reading a byte;
	// net/http then closes the connection rather than drain the body.
	// The MaxBytesReader below caps bodies of unknown length (chunked).
	if r.ContentLength > job.MaxJobBytes {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("a job may be at most %d bytes", job.MaxJobBytes), nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, job.MaxJobBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("a job may be at most %d bytes", job.MaxJobBytes), nil)
			return
		}
		writeError(w, http.StatusBadRequest, "read job: "+err.Error(), nil)
		return
	}
	st, serr := s.submit(r.Context(), body, principalFrom(r.Context()).name)
	if serr != nil {
		if serr.retry != "" {
			w.Header().Set("Retry-After", serr.retry)
		}
		if serr.conflict != nil {
			serr.conflict.Error = serr.msg
			w.Header().Set("Location", serr.conflict.StatusURL)
			writeJSON(w, http.StatusConflict, serr.conflict)
			return
		}
		writeError(w, serr.status, serr.msg, serr.fields)
		return
	}
	w.Header().Set("Location", statusURL(st.ID))
	writeJSON(w, http.StatusAccepted, st)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !client.ValidID(id) {
		writeError(w, http.StatusNotFound, "no job has that id: an id is 1 to 128 of A-Z a-z 0-9 . _ -", nil)
		return
	}
	res, err := s.result(r.Context(), id)
	var sub *Submission
	if err == nil {
		sub, _, err = s.submission(r.Context(), id)
	}
	if err != nil {
		s.log.Error("get job", "job_id", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the results bucket cannot be read; try again", nil)
		return
	}
	if res == nil && sub == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("job %s has no result and was not queued through this API", id), nil)
		return
	}
	writeJSON(w, http.StatusOK, statusWith(id, res, sub))
}

// parseListQuery reads q, status, layout, from, to, sort, cursor,
// before and limit.
func (s *Server) parseListQuery(v url.Values) (query, error) {
	q := query{text: strings.TrimSpace(v.Get("q")), status: v.Get("status"), layout: v.Get("layout"),
		from: v.Get("from"), to: v.Get("to"), sort: v.Get("sort"), limit: s.cfg.PageSize}
	if len(q.text) > 200 {
		return q, errors.New("q: at most 200 bytes")
	}
	switch q.status {
	case "", StatusQueued, "done", "failed":
	default:
		return q, errors.New(`status: want "queued", "done" or "failed"`)
	}
	if q.layout != "" && !slices.Contains(job.Layouts, q.layout) {
		return q, fmt.Errorf("layout: want one of %s", strings.Join(job.Layouts, ", "))
	}
	for _, d := range []struct{ name, v string }{{"from", q.from}, {"to", q.to}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.v); err != nil {
			return q, fmt.Errorf("%s: want a date as YYYY-MM-DD, not %q", d.name, d.v)
		}
	}
	if q.sort == "-stored" {
		q.sort = ""
	}
	if q.sort != "" && !slices.Contains(sortOrders, q.sort) {
		return q, fmt.Errorf("sort: want one of %s", strings.Join(sortOrders, ", "))
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxPageSize {
			return q, fmt.Errorf("limit: want a number from 1 to %d", MaxPageSize)
		}
		q.limit = n
	}
	if c := v.Get("cursor"); c != "" {
		cur, err := decodeCursor(c)
		if err != nil {
			return q, fmt.Errorf("cursor: %w", err)
		}
		q.after = cur
	}
	if c := v.Get("before"); c != "" {
		cur, err := decodeCursor(c)
		if err != nil {
			return q, fmt.Errorf("before: %w", err)
		}
		if q.after != nil {
			return q, errors.New("before: give cursor or before, not both")
		}
		q.before = cur
	}
	return q, nil
}

// values are q's filters and sort as URL parameters (no position).
func (q query) values() url.Values {
	v := url.Values{}
	for _, p := range [][2]string{{"q", q.text}, {"status", q.status}, {"layout", q.layout},
		{"from", q.from}, {"to", q.to}, {"sort", q.sort}} {
		if p[1] != "" {
			v.Set(p[0], p[1])
		}
	}
	return v
}

// pageURL is the URL of the page of q after (param "cursor") or before
// (param "before") c.
func pageURL(base string, q query, param string, c *cursor, withLimit bool) string {
	v := q.values()
	if withLimit {
		v.Set("limit", strconv.Itoa(q.limit))
	}
	if c != nil {
		v.Set(param, c.encode())
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

func (s *Server) listLetters(w http.ResponseWriter, r *http.Request) {
	q, err := s.parseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad query: "+err.Error(), nil)
		return
	}
	if !s.ix.waitSynced(r.Context(), 2*time.Second) {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "the letters index is still loading", nil)
		return
	}
	pg := s.ix.list(q)
	out := LetterList{Letters: make([]Letter, len(pg.items)), Total: pg.total, Offset: pg.start}
	for i, it := range pg.items {
		res := it.row
		out.Letters[i] = Letter{Result: res, Copies: copyLinks(&res), Problems: problemsOf(&res)}
		if res.Status == client.StatusDone {
			out.Letters[i].PDFURL = pdfURL(res.ID)
		}
		if res.Status == statusQueued {
			at := it.at
			out.Letters[i].QueuedAt = &at
		}
		if it.sub != nil {
			out.Letters[i].EarlierFailures = len(it.sub.Previous)
		}
	}
	var links []string
	if pg.next != nil {
		out.NextCursor = pg.next.encode()
		out.Next = pageURL("/v1/letters", q, "cursor", pg.next, true)
		links = append(links, "<"+out.Next+`>; rel="next"`)
	}
	if pg.prev != nil {
		out.PrevCursor = pg.prev.encode()
		out.Prev = pageURL("/v1/letters", q, "before", pg.prev, true)
		links = append(links, "<"+out.Prev+`>; rel="prev"`)
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getPDF(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".pdf")
	if !ok || !client.ValidID(id) {
		writeError(w, http.StatusNotFound, "no such letter: ask for /v1/letters/{id}.pdf", nil)
		return
	}
	res, ok := s.doneResult(w, r, id)
	if !ok {
		return
	}
	s.serveObject(w, r, id, res.Bucket, res.Key, fileName(id, res.Title, ""), res.SHA256)
}

// getCopy serves one per-recipient copy of a letter, as getPDF serves
// the combined letter.
func (s *Server) getCopy(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	name, ok := strings.CutSuffix(r.PathValue("file"), ".pdf")
	if !ok || !client.ValidID(id) || !validCopyName(name) {
		writeError(w, http.StatusNotFound, "no such copy: ask for /v1/letters/{id}/copies/{name}.pdf", nil)
		return
	}
	res, ok := s.doneResult(w, r, id)
	if !ok {
		return
	}
	for _, c := range res.Copies {
		if c.Name == name {
			s.serveObject(w, r, id, res.Bucket, c.Key, id+"-"+name+".pdf", c.SHA256)
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("letter %s has no copy %s", id, name), nil)
}

// doneResult finds the done result of id, or answers why there is none.
func (s *Server) doneResult(w http.ResponseWriter, r *http.Request, id string) (*client.Result, bool) {
	res, err := s.result(r.Context(), id)
	switch {
	case err != nil:
		s.log.Error("get pdf", "job_id", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the results bucket cannot be read; try again", nil)
		return nil, false
	case res == nil:
		writeError(w, http.StatusNotFound, fmt.Sprintf("letter %s has no result (yet)", id), nil)
		return nil, false
	case res.Status != client.StatusDone:
		writeError(w, http.StatusNotFound, fmt.Sprintf("letter %s has no PDF: %v", id, res.Err()), nil)
		return nil, false
	}
	return res, true
}

// maxStreamBytes caps a PDF streamed through Carta (it is read into
// memory so that http.ServeContent can answer Range requests).
const maxStreamBytes = 64 << 20

// serveObject redirects to a presigned URL of bucket/key, or streams it
// when the server is configured to, as a file called filename: inline
// ("open in the browser") with ?inline=1, else as an attachment.
// Streamed PDFs go through http.ServeContent, so Range, If-Range,
// If-None-Match (the ETag is the sha256) and HEAD work.
func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, id, bucket, key, filename, sum string) {
	if s.cfg.Objects == nil {
		writeError(w, http.StatusServiceUnavailable, "downloads are not configured on this server", nil)
		return
	}
	inline := r.URL.Query().Get("inline") == "1"
	ctx := r.Context()
	if !s.cfg.Stream {
		u, err := s.cfg.Objects.PresignGet(ctx, bucket, key, contentDisposition(inline, filename), s.cfg.LinkExpiry)
		if err != nil {
			s.log.Error("get pdf: presign", "job_id", id, "key", key, "err", err)
			writeError(w, http.StatusServiceUnavailable, "the download link cannot be made; try again", nil)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	body, size, err := s.cfg.Objects.Open(ctx, bucket, key)
	if err != nil {
		s.log.Error("get pdf: open object", "job_id", id, "key", key, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the letter cannot be read from storage; try again", nil)
		return
	}
	defer body.Close()
	if size > maxStreamBytes {
		writeError(w, http.StatusInsufficientStorage, "the letter is too large to stream; ask for a download link instead", nil)
		return
	}
	data, err := io.ReadAll(io.LimitReader(body, maxStreamBytes+1))
	if err != nil {
		s.log.Error("get pdf: read object", "job_id", id, "key", key, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the letter cannot be read from storage; try again", nil)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", contentDisposition(inline, filename))
	h.Set("Cache-Control", "private, no-cache")
	if sum != "" {
		h.Set("ETag", `"`+sum+`"`)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// contentDisposition is the Content-Disposition of a PDF called
// filename: "inline" or "attachment" with a quoted ASCII filename and,
// when the name is not plain ASCII, an RFC 5987 filename* with the UTF-8
// name (the ASCII one then has "_" for each other character).
func contentDisposition(inline bool, filename string) string {
	kind := "attachment"
	if inline {
		kind = "inline"
	}
	ascii := []rune(filename)
	plain := true
	for i, r := range ascii {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			ascii[i], plain = '_', false
		}
	}
	v := kind + `; filename="` + string(ascii) + `"`
	if !plain {
		if ext := mime.FormatMediaType("x", map[string]string{"filename": filename}); ext != "" {
			v += ";" + strings.TrimPrefix(ext, "x;")
		}
	}
	return v
}

// fileName is a PDF's download name: the job id, then the title cut to
// 60 characters, made safe for every file system ("nals-2023 - Joint
// letter to the heads of state.pdf"); suffix is added after the id.
func fileName(id, title, suffix string) string {
	var b strings.Builder
	for _, r := range title {
		switch {
		case b.Len() >= 60:
		case r < 0x20 || r == 0x7f || strings.ContainsRune(`/\:*?"<>|`, r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	t := strings.Join(strings.Fields(b.String()), " ")
	name := id + suffix
	if t != "" && t != id {
		name += " - " + strings.TrimRight(t, ". ")
	}
	return name + ".pdf"
}
