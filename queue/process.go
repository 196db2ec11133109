package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of a dead letter.
const (
	HeaderError    = "Carta-Error"    // the last error of the job
	HeaderAttempts = "Carta-Attempts" // deliveries made
	HeaderJobID    = "Carta-Job-Id"   // the job id, when known
)

// run is one delivery of one message.
type run struct {
	msg      jetstream.Msg
	data     []byte
	id       string // job id, "" when the body has none usable
	seq      uint64 // stream sequence
	attempt  int    // 1-based delivery count
	start    time.Time
	log      *slog.Logger
	job      *job.Job // set once decoded
	key      string   // object key, once known
	renderMS int64
	pending  chan renderOut // an abandoned render still running, if any
}

// failure is why a delivery did not end in a stored, reported PDF.
type failure struct {
	transient bool
	code      string
	err       error
	field     string
	fields    []client.FieldError
}

func permanent(code string, err error) *failure { return &failure{code: code, err: err} }
func transient(code string, err error) *failure {
	return &failure{transient: true, code: code, err: err}
}

// handle processes one message and settles it: ack, nak or term.
func (w *Worker) handle(ctx context.Context, msg jetstream.Msg) {
	r := &run{msg: msg, data: msg.Data(), attempt: 1, start: time.Now()}
	if md, err := msg.Metadata(); err == nil {
		r.attempt, r.seq = int(md.NumDelivered), md.Sequence.Stream
	}
	r.id = peekID(r.data, msg.Headers())
	r.log = w.log.With("job_id", r.id, "attempt", r.attempt, "seq", r.seq)
	w.m.inFlight.Inc()
	defer w.m.inFlight.Dec()
	if r.attempt > 1 {
		w.m.redeliveries.Inc()
	}

	hbCtx, stopHB := context.WithCancel(ctx)
	go w.heartbeat(hbCtx, msg, r.log)
	defer stopHB()

	jctx, cancel := context.WithTimeout(ctx, w.cfg.JobTimeout)
	status, f := w.process(jctx, r)
	cancel()
	if f == nil {
		w.ack(r)
		w.m.jobs.WithLabelValues(status).Inc()
		r.log.Info("job "+status, "key", r.key, "render_ms", r.renderMS, "total_ms", time.Since(r.start).Milliseconds())
	} else {
		w.settleFailure(ctx, r, f)
	}
	if r.pending != nil {
		// Keep the slot until the timed-out render really stops, so
		// renders never exceed Concurrency (unless shutdown gives up).
		select {
		case <-r.pending:
		case <-ctx.Done():
		}
	}
}

// heartbeat tells the server the job is still being worked on.
func (w *Worker) heartbeat(ctx context.Context, msg jetstream.Msg, log *slog.Logger) {
	t := time.NewTicker(max(w.cfg.AckWait/3, 50*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := msg.InProgress(); err != nil {
				log.Warn("send in-progress", "err", err)
			}
		}
	}
}

// process does the work of one delivery. It returns the status to count
// when the message is to be acked, or why it is not.
func (w *Worker) process(ctx context.Context, r *run) (string, *failure) {
	if r.id != "" {
		if done, f := w.republishIfDone(ctx, r); f != nil || done {
			return statusRepublished, f
		}
	}

	t0 := time.Now()
	j, res, err := w.render(ctx, r)
	r.renderMS = time.Since(t0).Milliseconds()
	w.m.render.Observe(time.Since(t0).Seconds())
	if err != nil {
		return "", w.renderFailure(ctx, err)
	}
	r.job = j
	if j.ID != r.id {
		r.id = j.ID
		r.log = w.log.With("job_id", r.id, "attempt", r.attempt, "seq", r.seq)
		if done, f := w.republishIfDone(ctx, r); f != nil || done {
			return statusRepublished, f
		}
	}

	r.key = "letters/" + j.ID + ".pdf"
	if j.Output != nil && j.Output.Key != "" {
		r.key = j.Output.Key
	}
	if msg := checkKey(r.key); msg != "" {
		return "", &failure{code: client.CodeInvalidJob, field: "output.key",
			err:    fmt.Errorf("output.key: %s", msg),
			fields: []client.FieldError{{Field: "output.key", Message: msg}}}
	}

	t1 := time.Now()
	err = w.store.PutIfAbsent(ctx, Object{
		Key:         r.key,
		Body:        res.PDF,
		ContentType: "application/pdf",
		Metadata: map[string]string{
			"carta-job-id":  j.ID,
			"carta-sha256":  res.SHA256,
			"carta-pages":   strconv.Itoa(res.Pages),
			"carta-version": renderer.Version,
		},
	})
	if errors.Is(err, ErrObjectExists) {
		// An earlier delivery stored it (or a different letter is there).
		meta, herr := w.store.Head(ctx, r.key)
		switch {
		case herr != nil:
			err = herr
		case meta["carta-sha256"] == res.SHA256:
			err = nil
		default:
			return "", permanent(client.CodeStorageFailed, fmt.Errorf(
				"store letter: %s already holds a different object (sha256 %q, this letter %s); left unchanged",
				r.key, meta["carta-sha256"], res.SHA256))
		}
	}
	w.m.upload.Observe(time.Since(t1).Seconds())
	if err != nil {
		return "", transient(client.CodeStorageFailed, fmt.Errorf("store letter: %w", err))
	}

	out := w.newResult(r, client.StatusDone)
	out.Key, out.SHA256, out.Bytes, out.Pages = r.key, res.SHA256, int64(len(res.PDF)), res.Pages
	if err := w.report(ctx, r, out); err != nil {
		return "", transient(client.CodeInternal, err)
	}
	return statusDone, nil
}

// republishIfDone publishes the recorded result of r.id again if it is
// "done", and says so.
func (w *Worker) republishIfDone(ctx context.Context, r *run) (bool, *failure) {
	rec, err := w.lookup(ctx, r.id)
	if err != nil {
		return false, transient(client.CodeInternal, err)
	}
	if rec == nil || !isDone(rec) {
		return false, nil
	}
	if err := w.nc.Publish(ResultSubject(w.cfg.ResultsSubject, r.id), rec); err != nil {
		return false, transient(client.CodeInternal, fmt.Errorf("publish result: %w", err))
	}
	r.log.Info("job already done: recorded result published again")
	return true, nil
}

func isDone(rec []byte) bool {
	var head struct {
		Status client.Status `json:"status"`
	}
	return json.Unmarshal(rec, &head) == nil && head.Status == client.StatusDone
}

// lookup returns the recorded result of id, or nil.
func (w *Worker) lookup(ctx context.Context, id string) ([]byte, error) {
	e, err := w.results().Get(ctx, Token(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up result: %w", err)
	}
	return e.Value(), nil
}

type renderOut struct {
	j   *job.Job
	res *renderer.Result
	err error
}

// errPanic marks a renderer panic.
var errPanic = errors.New("renderer panicked")

// render runs the renderer in its own goroutine, turning a panic into an
// error and giving up when ctx is done.
func (w *Worker) render(ctx context.Context, r *run) (*job.Job, *renderer.Result, error) {
	ch := make(chan renderOut, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("renderer panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				ch <- renderOut{err: fmt.Errorf("render letter: %w: %v", errPanic, p)}
			}
		}()
		j, res, err := w.cfg.Render(r.data)
		if err == nil && (j == nil || res == nil) {
			err = errors.New("render letter: renderer returned no letter and no error")
		}
		ch <- renderOut{j, res, err}
	}()
	select {
	case o := <-ch:
		return o.j, o.res, o.err
	case <-ctx.Done():
		r.pending = ch
		if context.Cause(ctx) == errShutdown {
			return nil, nil, errShutdown
		}
		return nil, nil, fmt.Errorf("render letter: timed out after %v", w.cfg.JobTimeout)
	}
}

// renderFailure classifies a render error; every one is permanent, since
// rendering is deterministic.
func (w *Worker) renderFailure(ctx context.Context, err error) *failure {
	var verr *job.ValidationError
	switch {
	case errors.Is(err, errShutdown):
		return transient(client.CodeInternal, err)
	case errors.As(err, &verr):
		f := permanent(client.CodeInvalidJob, err)
		for _, p := range verr.Problems {
			f.fields = append(f.fields, client.FieldError{Field: p.Field, Message: p.Message})
		}
		if len(f.fields) > 0 {
			f.field = f.fields[0].Field
		}
		return f
	case errors.Is(err, errPanic):
		return permanent(client.CodeInternal, err)
	default:
		return permanent(client.CodeRenderFailed, err)
	}
}

// newResult fills the fields every result has.
func (w *Worker) newResult(r *run, status client.Status) *client.Result {
	out := &client.Result{
		ID:           r.id,
		Status:       status,
		Bucket:       w.store.Bucket(),
		Key:          r.key,
		Attempts:     r.attempt,
		RenderMS:     r.renderMS,
		TotalMS:      time.Since(r.start).Milliseconds(),
		CartaVersion: renderer.Version,
		FinishedAt:   time.Now().UTC().Truncate(time.Millisecond),
		Recipients:   []string{},
	}
	if j := r.job; j != nil {
		out.Title = title(j)
		for _, p := range j.Letter.Recipients {
			out.Recipients = append(out.Recipients, p.Name)
		}
	}
	return out
}

// title is the job's document title as the job format defines it.
func title(j *job.Job) string {
	switch {
	case j.Title != "":
		return j.Title
	case j.Statement != nil && j.Statement.Headline != "":
		return j.Statement.Headline
	case j.Letter.Subject != "":
		return j.Letter.Subject
	case len(j.Letter.Recipients) > 0:
		return j.Letter.Recipients[0].Name
	}
	return ""
}

// report records a result in the bucket (unless the job has no id) and
// then publishes it. A failed result never replaces a done one: the done
// one is published instead.
func (w *Worker) report(ctx context.Context, r *run, out *client.Result) error {
	data, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	subject := w.cfg.ResultsSubject
	if r.id != "" {
		subject = ResultSubject(w.cfg.ResultsSubject, r.id)
		if out.Status != client.StatusDone {
			rec, err := w.lookup(ctx, r.id)
			if err != nil {
				return err
			}
			if rec != nil && isDone(rec) {
				data = rec
				goto publish
			}
		}
		if _, err := w.results().Put(ctx, Token(r.id), data); err != nil {
			return fmt.Errorf("record result: %w", err)
		}
	}
publish:
	if err := w.nc.Publish(subject, data); err != nil {
		return fmt.Errorf("publish result: %w", err)
	}
	return nil
}

// ack acknowledges a finished job and waits for the server to confirm.
// A lost ack only means a redelivery, which republishes the recorded
// result.
func (w *Worker) ack(r *run) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.msg.DoubleAck(ctx); err != nil {
		r.log.Warn("ack job", "err", err)
	}
}

// settleFailure decides, once, between retry, term and dead letter.
func (w *Worker) settleFailure(ctx context.Context, r *run, f *failure) {
	if context.Cause(ctx) == errShutdown {
		_ = r.msg.Nak()
		w.m.jobs.WithLabelValues(statusAbandoned).Inc()
		r.log.Warn("job abandoned at shutdown: returned for redelivery", "err", f.err)
		return
	}
	last := r.attempt >= w.cfg.MaxDeliver
	if f.transient && !last {
		delay := w.cfg.backoff(r.attempt)
		if err := r.msg.NakWithDelay(delay); err != nil {
			r.log.Warn("nak job", "err", err)
		}
		w.m.jobs.WithLabelValues(statusRetried).Inc()
		r.log.Warn("job failed, will retry", "err", f.err, "code", f.code, "retry_in", delay.String())
		return
	}

	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	out := w.newResult(r, client.StatusFailed)
	out.Error = &client.ResultError{Code: f.code, Message: f.err.Error(), Field: f.field, Fields: f.fields}

	if f.code == client.CodeInvalidJob {
		err := w.report(octx, r, out)
		if err == nil {
			w.term(r, f)
			return
		}
		if !last {
			_ = r.msg.NakWithDelay(w.cfg.backoff(r.attempt))
			w.m.jobs.WithLabelValues(statusRetried).Inc()
			r.log.Warn("report invalid job, will retry", "err", err)
			return
		}
		// Last delivery and the result cannot be recorded: keep the job
		// in the dead-letter stream so it is not lost silently.
		f = &failure{code: f.code, err: fmt.Errorf("%w; then %w", f.err, err)}
	}

	if err := w.deadLetter(octx, r, f); err != nil {
		if !last {
			_ = r.msg.NakWithDelay(w.cfg.backoff(r.attempt))
			w.m.jobs.WithLabelValues(statusRetried).Inc()
			r.log.Error("dead-letter job, will retry", "err", err, "job_err", f.err)
			return
		}
		// Not terminated: the job stays in the jobs stream.
		r.log.Error("dead-letter job failed on the last delivery: job left in the jobs stream", "err", err, "job_err", f.err)
		return
	}
	if err := w.report(octx, r, out); err != nil {
		r.log.Error("report failed job (it is in the dead-letter stream)", "err", err)
	}
	w.term(r, f)
}

func (w *Worker) term(r *run, f *failure) {
	if err := r.msg.TermWithReason(f.code); err != nil {
		r.log.Warn("term job", "err", err)
	}
	w.m.jobs.WithLabelValues(statusFailed).Inc()
	args := []any{"code", f.code, "err", f.err.Error()}
	if f.field != "" {
		args = append(args, "field", f.field)
	}
	r.log.Error("job failed", args...)
}

// deadLetter copies the job, with its original body, to the dead-letter
// stream and waits for the stream to store it.
func (w *Worker) deadLetter(ctx context.Context, r *run, f *failure) error {
	tok := "=" + strconv.FormatUint(r.seq, 10)
	if r.id != "" {
		tok = Token(r.id)
	}
	m := nats.NewMsg(w.cfg.DeadSubject + "." + tok)
	m.Data = r.data
	m.Header.Set(HeaderError, f.code+": "+f.err.Error())
	m.Header.Set(HeaderAttempts, strconv.Itoa(r.attempt))
	if r.id != "" {
		m.Header.Set(HeaderJobID, r.id)
	}
	if _, err := w.js.PublishMsg(ctx, m, jetstream.WithMsgID(fmt.Sprintf("%s:%d", w.cfg.Stream, r.seq))); err != nil {
		return fmt.Errorf("publish dead letter: %w", err)
	}
	w.m.deadLetters.Inc()
	return nil
}
