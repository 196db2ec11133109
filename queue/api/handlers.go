package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/renderer/job"
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
	Result *client.Result `json:"result,omitempty"` // the result event, once there is one
	// Error, on a 409 answer only, says why nothing was queued.
	Error string `json:"error,omitempty"`
}

// Letter is one entry of GET /v1/letters: the result event and where to
// download its PDF.
type Letter struct {
	client.Result
	PDFURL string `json:"pdf_url,omitempty"` // /v1/letters/{id}.pdf, when done
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
	Letters    []Letter `json:"letters"`               // newest first
	Total      int      `json:"total"`                 // letters matching q and status, on all pages
	NextCursor string   `json:"next_cursor,omitempty"` // pass as cursor for the next page; absent on the last
	Next       string   `json:"next,omitempty"`        // the URL of the next page
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
	j, err := job.Decode(body)
	if err != nil {
		var ve *job.ValidationError
		if errors.As(err, &ve) {
			fields := make([]client.FieldError, len(ve.Problems))
			for i, p := range ve.Problems {
				fields[i] = client.FieldError{Field: p.Field, Message: p.Message}
			}
			writeError(w, http.StatusBadRequest, fmt.Sprintf("job is not valid: %d problem(s)", len(fields)), fields)
			return
		}
		writeError(w, http.StatusBadRequest, "job is not valid: "+err.Error(), nil)
		return
	}
	id := j.ID
	ctx := r.Context()
	if res, err := s.result(ctx, id); err != nil {
		s.log.Error("submit job: look up earlier result", "job_id", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the results bucket cannot be read; try again", nil)
		return
	} else if res != nil {
		s.conflict(w, id, res)
		return
	}
	if _, ok := s.pending.has(id); ok {
		s.conflict(w, id, nil)
		return
	}
	ack, err := s.client.Publish(ctx, body)
	switch {
	case errors.Is(err, client.ErrBadID):
		writeError(w, http.StatusBadRequest, "job is not valid: 1 problem(s)",
			[]client.FieldError{{Field: "id", Message: strings.TrimPrefix(err.Error(), "submit job: bad job id: id: ")}})
		return
	case errors.Is(err, client.ErrJobTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "the job is larger than the queue accepts", nil)
		return
	case errors.Is(err, client.ErrQueueFull):
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusServiceUnavailable, "the queue is full; try again later", nil)
		return
	case errors.Is(err, client.ErrNoQueue):
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "no queue is listening: is a worker running?", nil)
		return
	case err != nil:
		s.log.Error("submit job", "job_id", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the job could not be queued; try again", nil)
		return
	}
	if ack.Duplicate {
		res, _ := s.result(ctx, id)
		s.conflict(w, id, res)
		return
	}
	s.pending.add(id)
	if _, ok := s.ix.get(id); ok { // finished while we were publishing
		s.pending.remove(id)
	}
	s.log.Info("job queued", "job_id", id, "stream", ack.Stream, "seq", ack.Sequence, "principal", principalFrom(ctx).name)
	w.Header().Set("Location", statusURL(id))
	writeJSON(w, http.StatusAccepted, statusOf(id, nil))
}

// conflict answers 409 for an id already submitted, with what is known
// of it.
func (s *Server) conflict(w http.ResponseWriter, id string, res *client.Result) {
	st := statusOf(id, res)
	st.Error = fmt.Sprintf("job %s was already submitted; nothing new was queued", id)
	w.Header().Set("Location", statusURL(id))
	writeJSON(w, http.StatusConflict, st)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !client.ValidID(id) {
		writeError(w, http.StatusNotFound, "no job has that id: an id is 1 to 128 of A-Z a-z 0-9 . _ -", nil)
		return
	}
	res, err := s.result(r.Context(), id)
	if err != nil {
		s.log.Error("get job", "job_id", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the results bucket cannot be read; try again", nil)
		return
	}
	if res == nil {
		if _, ok := s.pending.has(id); !ok {
			writeError(w, http.StatusNotFound, fmt.Sprintf("job %s has no result and was not queued through this server", id), nil)
			return
		}
	}
	writeJSON(w, http.StatusOK, statusOf(id, res))
}

// parseListQuery reads q, status, cursor and limit.
func (s *Server) parseListQuery(v url.Values) (query, error) {
	q := query{text: v.Get("q"), status: v.Get("status"), limit: s.cfg.PageSize}
	if len(q.text) > 200 {
		return q, errors.New("q: at most 200 bytes")
	}
	switch q.status {
	case "", "done", "failed":
	default:
		return q, errors.New(`status: want "done" or "failed"`)
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
	return q, nil
}

func nextURL(base string, q query, next *cursor) string {
	v := url.Values{}
	if q.text != "" {
		v.Set("q", q.text)
	}
	if q.status != "" {
		v.Set("status", q.status)
	}
	v.Set("limit", strconv.Itoa(q.limit))
	v.Set("cursor", next.encode())
	return base + "?" + v.Encode()
}

func (s *Server) listLetters(w http.ResponseWriter, r *http.Request) {
	q, err := s.parseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad query: "+err.Error(), nil)
		return
	}
	if !s.ix.isSynced() {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "the letters index is still loading", nil)
		return
	}
	pg := s.ix.list(q)
	out := LetterList{Letters: make([]Letter, len(pg.items)), Total: pg.total}
	for i, res := range pg.items {
		out.Letters[i] = Letter{Result: res, Copies: copyLinks(&res)}
		if res.Status == client.StatusDone {
			out.Letters[i].PDFURL = pdfURL(res.ID)
		}
	}
	if pg.next != nil {
		out.NextCursor = pg.next.encode()
		out.Next = nextURL("/v1/letters", q, pg.next)
		w.Header().Set("Link", "<"+out.Next+`>; rel="next"`)
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
	s.serveObject(w, r, id, res.Bucket, res.Key, id+".pdf", res.SHA256)
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

// serveObject redirects to a presigned URL of bucket/key, or streams it
// when the server is configured to, as a download called filename.
func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, id, bucket, key, filename, sum string) {
	if s.cfg.Objects == nil {
		writeError(w, http.StatusServiceUnavailable, "downloads are not configured on this server", nil)
		return
	}
	ctx := r.Context()
	if !s.cfg.Stream {
		u, err := s.cfg.Objects.PresignGet(ctx, bucket, key, filename, s.cfg.LinkExpiry)
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
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "private, no-store")
	if size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(size, 10))
	}
	if sum != "" {
		h.Set("ETag", `"`+sum+`"`)
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, body); err != nil {
		s.log.Warn("get pdf: send", "job_id", id, "key", key, "err", err)
	}
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

// humanTime formats a finish time for the page, in UTC.
func humanTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}
