package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"runtime/debug"
	"strconv"
	"strings"
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
	accepted time.Time // when JetStream stored the message: the job's acceptance
	log      *slog.Logger
	job      *job.Job // set once decoded
	key      string   // object key, once known
	renderMS int64
}

// failure is why a delivery did not end in a stored, reported PDF.
type failure struct {
	transient bool
	outage    bool // the object store is unavailable (an *UnavailableError): not the job's fault
	code      string
	err       error
	fields    []client.FieldError
}

// field is the first field named, "" when none.
func (f *failure) field() string {
	if len(f.fields) == 0 {
		return ""
	}
	return f.fields[0].Field
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
		r.accepted = md.Timestamp.UTC()
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

	if r.attempt > w.cfg.MaxDeliver {
		w.settleExhausted(ctx, r)
		return
	}
	status, f := w.process(ctx, r)
	if f == nil {
		w.ack(r)
		w.m.jobs.WithLabelValues(status).Inc()
		r.log.Info("job "+status, "key", r.key, "render_ms", r.renderMS, "total_ms", time.Since(r.start).Milliseconds())
	} else {
		w.settleFailure(ctx, r, f)
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
				if errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
					// Settled between the tick and the stop: nothing to extend.
					return
				}
				log.Warn("send in-progress", "err", err)
			}
		}
	}
}

// process does the work of one delivery. It returns the status to count
// when the message is to be acked, or why it is not. The job's time
// limit (JobTimeout) starts once it has a render slot; the render slot
// is given back as soon as the renderer returns, so that storing and
// reporting overlap the next render.
func (w *Worker) process(ctx context.Context, r *run) (string, *failure) {
	if r.id != "" {
		if done, f := w.republishIfDone(ctx, r); f != nil || done {
			return statusRepublished, f
		}
		// The job is laid out: its JSON is what the preview must show.
		w.keepJob(w.keepCtx, r.id, r.data)
	}

	if !w.acquireRender(ctx) {
		// Only shutdown cancels ctx: the job goes back for redelivery.
		return "", transient(client.CodeInternal, errShutdown)
	}
	jobsCtx := ctx
	var limit jobLimit
	defer limit.stop()
	ctx = limit.renew(jobsCtx, w.cfg.JobTimeout)
	t0 := time.Now()
	j, outs, err := w.render(ctx, r)
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
		w.keepJob(w.keepCtx, r.id, r.data)
	}

	r.key = outs[0].Key
	for _, o := range outs {
		if msg := checkKey(o.Key); msg != "" {
			return "", &failure{code: client.CodeInvalidJob,
				err:    fmt.Errorf("output.key: %s", msg),
				fields: []client.FieldError{{Field: "output.key", Message: msg}}}
		}
	}
	// The renderer computed it already for the PDF's provenance (the
	// same value: renderer.CanonicalJobSHA256); a renderer that left it
	// out (tests) has it computed here.
	jobSHA := outs[0].Provenance.JobSHA256
	if jobSHA == "" {
		if jobSHA, err = renderer.CanonicalJobSHA256(j); err != nil {
			return "", permanent(client.CodeInternal, err)
		}
	}

	// Each body and its sha256: the renderer's, unless a signer changes
	// the body (then hashed again; a signer may even write into the
	// renderer's slice).
	bodies, sums := make([][]byte, len(outs)), make([]string, len(outs))
	signedBy := ""
	for i, o := range outs {
		bodies[i], sums[i] = o.PDF, o.SHA256
		if sums[i] == "" { // a renderer that left it out (tests)
			sums[i] = sha256Hex(o.PDF)
		}
	}
	if s := w.cfg.Signer; s != nil {
		// A signing failure is a configuration problem (certificate
		// expired, revoked or unreadable, key or TSA credentials
		// refused), not one of the job: retried with backoff so that no
		// job is lost while an operator fixes it, and dead-lettered
		// after MaxDeliver. An outage of a service the signer depends
		// on (SignerOutage: TSA, OCSP, CRL down) is not even that: the
		// job is held like in a storage outage (signeroutage.go) and
		// signed again once the service answers.
		signedBy = s.Name()
		for i := range bodies {
			for {
				signed, err := signPDF(s, bodies[i])
				if err == nil {
					bodies[i], sums[i] = signed, sha256Hex(signed)
					break
				}
				err = fmt.Errorf("sign %s: %w", outs[i].Key, err)
				if signerOutage(err) == nil {
					return "", transient(client.CodeInternal, err)
				}
				if !w.sg.hold(jobsCtx, r, err) {
					return "", transient(client.CodeInternal, fmt.Errorf("%w while a signing service was unavailable: %w", errShutdown, err))
				}
				ctx = limit.renew(jobsCtx, w.cfg.JobTimeout)
			}
		}
	}

	t1 := time.Now()
	stored := make([]storedPDF, len(outs))
	for i, o := range outs {
		for {
			st, f := w.storePDF(ctx, r, j, jobSHA, o, bodies[i], sums[i], signedBy)
			if f == nil {
				stored[i] = st
				break
			}
			if !f.outage {
				return "", f
			}
			// A storage outage is not the job's fault: hold the job (its
			// PDFs in memory, heartbeats going) until the store answers,
			// then store it with a new time limit. No delivery is spent
			// and nothing is rendered again.
			if !w.st.hold(jobsCtx, r, f.err) {
				return "", transient(client.CodeStorageFailed, fmt.Errorf("%w while the object store was unavailable: %w", errShutdown, f.err))
			}
			ctx = limit.renew(jobsCtx, w.cfg.JobTimeout)
		}
	}
	w.m.upload.Observe(time.Since(t1).Seconds())

	out := w.newResult(r, client.StatusDone)
	out.Key, out.SHA256, out.Bytes, out.Pages, out.SignedBy = r.key, stored[0].sha256, stored[0].bytes, stored[0].pages, stored[0].signedBy
	out.SignatureLevel = stored[0].level
	for i, o := range outs[1:] {
		c := client.Copy{Name: o.Name, Key: o.Key, SHA256: stored[i+1].sha256, Bytes: stored[i+1].bytes,
			Pages: stored[i+1].pages, SignedBy: stored[i+1].signedBy, SignatureLevel: stored[i+1].level}
		if o.Recipient >= 0 && o.Recipient < len(j.Letter.Recipients) {
			c.Recipient = j.Letter.Recipients[o.Recipient].Name
		}
		out.Copies = append(out.Copies, c)
	}
	if err := w.report(ctx, r, out); err != nil {
		return "", transient(client.CodeInternal, err)
	}
	return statusDone, nil
}

// jobLimit is a job's time limit, renewed after a storage outage held
// the job.
type jobLimit struct{ cancel context.CancelFunc }

// renew stops the current limit and starts a new one of d under parent.
func (l *jobLimit) renew(parent context.Context, d time.Duration) context.Context {
	l.stop()
	ctx, cancel := context.WithTimeout(parent, d)
	l.cancel = cancel
	return ctx
}

func (l *jobLimit) stop() {
	if l.cancel != nil {
		l.cancel()
	}
}

// Object metadata keys. Values that are not printable ASCII (a signer
// named "Comitė Ciudadano") are written as RFC 2047 encoded words
// ("=?utf-8?b?...?="), the form S3 itself uses for such values; read
// them with MetadataValue.
const (
	MetaJobID         = "carta-job-id"         // the job id
	MetaSHA256        = "carta-sha256"         // lowercase hex sha256 of the object, as stored (signed, if signed)
	MetaBytes         = "carta-bytes"          // size of the object in bytes
	MetaPages         = "carta-pages"          // pages of the PDF
	MetaVersion       = "carta-version"        // renderer.Version of the worker that stored it
	MetaJobSHA256     = "carta-job-sha256"     // sha256 of the canonical job (renderer.CanonicalJobSHA256)
	MetaLayout        = "carta-layout"         // layout name, e.g. "letter"
	MetaLayoutVersion = "carta-layout-version" // layout version
	MetaFonts         = "carta-fonts"          // font families and versions, e.g. "Liberation Serif 2.1.4, DejaVu Sans 2.37"
	MetaSignedBy      = "carta-signed-by"      // the signer's name, only on signed PDFs
	// MetaSignatureLevel is the PAdES level of the signature (B-B, B-T,
	// B-LT or B-LTA), only on signed PDFs whose signer tells it.
	MetaSignatureLevel = "carta-signature-level"
)

// MetadataValue decodes a metadata value written by the worker (see the
// Meta* keys): RFC 2047 encoded words are decoded, other values returned
// as they are.
func MetadataValue(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// metaValue encodes v for object metadata: printable ASCII as it is,
// anything else as an RFC 2047 encoded word.
func metaValue(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return mime.BEncoding.Encode("utf-8", v)
		}
	}
	return v
}

// storedPDF is what is stored at one key, as the result event reports it.
type storedPDF struct {
	sha256   string
	bytes    int64
	pages    int
	signedBy string
	level    string // PAdES level of the signature, when signed
}

// signatureLevel is the PAdES level of s's signatures, when s tells it
// (*sign.Signer does, with a Level method); "" otherwise.
func signatureLevel(s Signer) string {
	if l, ok := s.(interface{ Level() string }); ok {
		return l.Level()
	}
	return ""
}

// storePDF uploads one PDF of job j (body: o.PDF, signed when signedBy is
// set; sum: the body's lowercase hex sha256) with If-None-Match semantics. An object already at the key counts
// as stored when it has the same sha256, or when its carta-job-sha256 is
// this job's (an earlier delivery of the same job stored it, signed at
// another moment): then the stored object's sha256, size and signer are
// reported. Any other object fails the job and is left alone.
func (w *Worker) storePDF(ctx context.Context, r *run, j *job.Job, jobSHA string, o renderer.Output, body []byte, sum, signedBy string) (storedPDF, *failure) {
	st := storedPDF{sha256: sum, bytes: int64(len(body)), pages: o.Pages, signedBy: signedBy}
	if signedBy != "" {
		st.level = signatureLevel(w.cfg.Signer)
	}
	meta := map[string]string{
		MetaJobID:     j.ID,
		MetaSHA256:    st.sha256,
		MetaBytes:     strconv.FormatInt(st.bytes, 10),
		MetaPages:     strconv.Itoa(o.Pages),
		MetaVersion:   renderer.Version,
		MetaJobSHA256: jobSHA,
	}
	pv := o.Provenance
	for k, v := range map[string]string{MetaLayout: pv.Layout, MetaLayoutVersion: pv.LayoutVersion, MetaFonts: pv.Fonts, MetaSignedBy: signedBy, MetaSignatureLevel: st.level} {
		if v != "" {
			meta[k] = metaValue(v)
		}
	}
	err := w.store.PutIfAbsent(ctx, Object{Key: o.Key, Body: body, ContentType: "application/pdf", Metadata: meta, SHA256: st.sha256})
	if errors.Is(err, ErrObjectExists) {
		// An earlier delivery stored it (or a different letter is there).
		have, herr := w.store.Head(ctx, o.Key)
		n, nerr := strconv.ParseInt(have[MetaBytes], 10, 64)
		pages, perr := strconv.Atoi(have[MetaPages])
		switch {
		case herr != nil:
			err = herr
		case have[MetaSHA256] == st.sha256:
			return st, nil
		case jobSHA != "" && have[MetaJobSHA256] == jobSHA && have[MetaSHA256] != "" && nerr == nil && perr == nil:
			r.log.Info("object already stored by an earlier delivery of this job: kept", "key", o.Key, "sha256", have[MetaSHA256])
			return storedPDF{sha256: have[MetaSHA256], bytes: n, pages: pages, signedBy: MetadataValue(have[MetaSignedBy]), level: have[MetaSignatureLevel]}, nil
		default:
			return st, permanent(client.CodeStorageFailed, fmt.Errorf(
				"store letter: %s already holds a different object (sha256 %q, this letter %s); left unchanged",
				o.Key, have[MetaSHA256], st.sha256))
		}
	}
	if err != nil {
		f := transient(client.CodeStorageFailed, fmt.Errorf("store letter: %w", err))
		f.outage = errors.Is(err, ErrStoreUnavailable)
		return st, f
	}
	return st, nil
}

// sha256Hex is the lowercase hex sha256 of b.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// signPDF signs one PDF, turning a panic of the signer into an error.
func signPDF(s Signer, pdf []byte) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("signer panicked: %v", p)
		}
	}()
	out, err = s.Sign(pdf)
	if err == nil && len(out) == 0 {
		err = errors.New("signer returned no PDF and no error")
	}
	return out, err
}

// republishIfDone publishes the recorded result of r.id again if it is
// "done", and says so, within JobTimeout.
func (w *Worker) republishIfDone(ctx context.Context, r *run) (bool, *failure) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.JobTimeout)
	defer cancel()
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
	e, err := w.kvGet(ctx, Token(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up result: %w", err)
	}
	return e.Value(), nil
}

// kvGet is kv.Get through natsCall; ErrKeyNotFound is returned as it is.
func (w *Worker) kvGet(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	var e jetstream.KeyValueEntry
	err := w.natsCall(ctx, "get "+key, func(ctx context.Context) error {
		var err error
		e, err = w.kv.Get(ctx, key)
		return err
	})
	return e, err
}

type renderOut struct {
	j    *job.Job
	outs []renderer.Output
	err  error
}

// errPanic marks a renderer panic.
var errPanic = errors.New("renderer panicked")

// render runs the renderer in its own goroutine, turning a panic into an
// error and giving up when ctx is done. The caller holds a render slot
// (acquireRender); the goroutine frees it when the renderer returns, so
// a render that outlives its job still counts against Concurrency.
func (w *Worker) render(ctx context.Context, r *run) (*job.Job, []renderer.Output, error) {
	ch := make(chan renderOut, 1)
	active := w.startRender(r.id)
	go func() {
		defer w.endRender(active)
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("renderer panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				ch <- renderOut{err: fmt.Errorf("render letter: %w: %v", errPanic, p)}
			}
		}()
		j, outs, err := w.cfg.RenderAll(r.data, r.accepted)
		if err == nil {
			err = checkOutputs(j, outs)
		}
		ch <- renderOut{j, outs, err}
	}()
	select {
	case o := <-ch:
		return o.j, o.outs, o.err
	case <-ctx.Done():
		if context.Cause(ctx) == errShutdown {
			return nil, nil, errShutdown
		}
		return nil, nil, fmt.Errorf("render letter: timed out after %v", w.cfg.JobTimeout)
	}
}

// checkOutputs checks what a renderer returned without an error: a job
// and at least the combined letter, first.
func checkOutputs(j *job.Job, outs []renderer.Output) error {
	if j == nil || len(outs) == 0 {
		return errors.New("render letter: renderer returned no letter and no error")
	}
	if outs[0].Recipient >= 0 {
		return errors.New("render letter: renderer returned a copy before the combined letter")
	}
	for _, o := range outs {
		if o.Result == nil || len(o.PDF) == 0 {
			return fmt.Errorf("render letter: renderer returned no PDF for %s", o.Key)
		}
	}
	return nil
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
		AcceptedAt:   r.accepted.Truncate(time.Millisecond),
		Recipients:   []string{},
	}
	if j := r.job; j != nil {
		out.Title = j.DocTitle()
		for _, p := range j.Letter.Recipients {
			out.Recipients = append(out.Recipients, p.Name)
		}
		out.Layout, out.Date = j.Layout, j.Letter.Date
		if out.Date == "" && j.Statement != nil {
			out.Date = j.Statement.Date
		}
	} else if sum := client.Summarize(r.data); sum.Title != "" || len(sum.Recipients) > 0 {
		// The job failed before it decoded (or during layout): say which
		// letter it was, read leniently from its JSON.
		out.Title, out.Recipients, out.Date, out.Layout = sum.Title, sum.Recipients, sum.Date, sum.Layout
	}
	return out
}

// report records a result in the bucket (unless the job has no id) and
// then publishes it. A failed result never replaces a done one, even one
// recorded at the same moment by another delivery: it is written only
// where no result is (Create) or over the revision it read (Update), and
// when the bucket has a done result instead, that one is published.
func (w *Worker) report(ctx context.Context, r *run, out *client.Result) error {
	data, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	subject := w.cfg.ResultsSubject
	if r.id != "" {
		subject = ResultSubject(w.cfg.ResultsSubject, r.id)
		if out.Status == client.StatusDone {
			if err := w.natsCall(ctx, "record result", func(ctx context.Context) error {
				_, err := w.kv.Put(ctx, Token(r.id), data)
				return err
			}); err != nil {
				return err
			}
		} else if data, err = w.recordFailed(ctx, Token(r.id), data); err != nil {
			return err
		}
	}
	if err := w.nc.Publish(subject, data); err != nil {
		return fmt.Errorf("publish result: %w", err)
	}
	return nil
}

// recordFailed records the failed result data under key unless the
// bucket holds a done result there, and returns what is to be published:
// data, or the done result.
func (w *Worker) recordFailed(ctx context.Context, key string, data []byte) ([]byte, error) {
	kv := w.kv
	var err error
	for range 5 {
		var e jetstream.KeyValueEntry
		e, err = w.kvGet(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			err = w.natsCall(ctx, "create "+key, func(ctx context.Context) error {
				_, err := kv.Create(ctx, key, data)
				return err
			})
		case err != nil:
			return nil, fmt.Errorf("look up result: %w", err)
		case isDone(e.Value()):
			return e.Value(), nil
		default:
			err = w.natsCall(ctx, "update "+key, func(ctx context.Context) error {
				_, err := kv.Update(ctx, key, data, e.Revision())
				return err
			})
		}
		if err == nil {
			return data, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return nil, fmt.Errorf("record result: %w", err)
		}
		// Another delivery wrote a result in between: read it again.
	}
	return nil, fmt.Errorf("record result: key %s changed under every attempt: %w", key, err)
}

// ack acknowledges a finished job and waits for the server to confirm,
// trying again after a lost connection (natsCall). A lost ack only means
// a redelivery, which republishes the recorded result.
func (w *Worker) ack(r *run) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*w.cfg.NATSTimeout)
	defer cancel()
	if err := w.natsCall(ctx, "ack job", r.msg.DoubleAck); err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		r.log.Warn("ack job", "err", err)
	}
}

// settleFailure decides, once, between retry, term and dead letter.
func (w *Worker) settleFailure(ctx context.Context, r *run, f *failure) {
	if context.Cause(ctx) == errShutdown || errors.Is(f.err, errShutdown) {
		_ = r.msg.Nak()
		w.m.jobs.WithLabelValues(statusAbandoned).Inc()
		r.log.Warn("job abandoned at shutdown: returned for redelivery", "err", f.err)
		return
	}
	last := r.attempt >= w.cfg.MaxDeliver
	if f.transient && !last {
		w.retryLater(r, slog.LevelWarn, "job failed, will retry", "err", f.err, "code", f.code)
		return
	}

	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	out := w.newResult(r, client.StatusFailed)
	out.Error = &client.ResultError{Code: f.code, Message: f.err.Error(), Field: f.field(), Fields: f.fields}

	if f.code == client.CodeInvalidJob {
		err := w.report(octx, r, out)
		if err == nil {
			w.term(r, f)
			return
		}
		if !last {
			w.retryLater(r, slog.LevelWarn, "report invalid job, will retry", "err", err)
			return
		}
		// Last delivery and the result cannot be recorded: keep the job
		// in the dead-letter stream so it is not lost silently.
		f = &failure{code: f.code, err: fmt.Errorf("%w; then %w", f.err, err)}
	}

	if err := w.deadLetter(octx, r, f); err != nil {
		if !last {
			w.retryLater(r, slog.LevelError, "dead-letter job, will retry", "err", err, "job_err", f.err)
			return
		}
		// Not terminated: the next delivery (beyond MaxDeliver) tries
		// the dead letter again (settleExhausted).
		w.nakDeadLetterFailed(r, err, f)
		return
	}
	if err := w.report(octx, r, out); err != nil {
		r.log.Error("report failed job (it is in the dead-letter stream)", "err", err)
	}
	w.term(r, f)
}

// settleExhausted settles a delivery beyond MaxDeliver: the last
// delivery did not finish (its worker was killed or shut down, or its
// dead-letter copy failed). Unless the job is recorded done (then that
// result is published again and the message acked), it is copied to the
// dead-letter stream, a failed result is recorded and published, and the
// message terminated, without rendering. When the results bucket cannot
// be read or the dead-letter copy fails, the message is nak'ed with a
// delay and tried again.
func (w *Worker) settleExhausted(ctx context.Context, r *run) {
	if r.id != "" {
		done, f := w.republishIfDone(ctx, r)
		if f != nil {
			// Whether it is done is unknown: ask again later.
			w.retryLater(r, slog.LevelWarn, "look up result of job beyond max deliver, will retry", "err", f.err)
			return
		}
		if done {
			w.ack(r)
			w.m.jobs.WithLabelValues(statusRepublished).Inc()
			return
		}
	}
	f := permanent(client.CodeInternal, fmt.Errorf(
		"process job: delivery %d is beyond the limit of %d deliveries: the last one did not finish", r.attempt, w.cfg.MaxDeliver))
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.deadLetter(octx, r, f); err != nil {
		w.nakDeadLetterFailed(r, err, f)
		return
	}
	out := w.newResult(r, client.StatusFailed)
	out.Error = &client.ResultError{Code: f.code, Message: f.err.Error()}
	if err := w.report(octx, r, out); err != nil {
		r.log.Error("report failed job (it is in the dead-letter stream)", "err", err)
	}
	w.term(r, f)
}

// nakDeadLetterFailed returns a job whose dead-letter copy failed for
// another delivery, after a delay: it is never left unsettled.
func (w *Worker) nakDeadLetterFailed(r *run, err error, f *failure) {
	w.retryLater(r, slog.LevelError, "dead-letter job failed: job returned for another delivery", "err", err, "job_err", f.err)
}

// retryLater returns r's message for another delivery after the backoff
// of its attempt, counts it as retried and logs msg with args and the
// delay (retry_in).
func (w *Worker) retryLater(r *run, level slog.Level, msg string, args ...any) {
	delay := w.cfg.backoff(r.attempt)
	if err := r.msg.NakWithDelay(delay); err != nil {
		r.log.Warn("nak job", "err", err)
	}
	w.m.jobs.WithLabelValues(statusRetried).Inc()
	r.log.Log(context.Background(), level, msg, append(args, "retry_in", delay.String())...)
}

func (w *Worker) term(r *run, f *failure) {
	if err := r.msg.TermWithReason(f.code); err != nil {
		r.log.Warn("term job", "err", err)
	}
	w.m.jobs.WithLabelValues(statusFailed).Inc()
	args := []any{"code", f.code, "err", f.err.Error()}
	if field := f.field(); field != "" {
		args = append(args, "field", field)
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
	if err := w.natsCall(ctx, "publish dead letter", func(ctx context.Context) error {
		_, err := w.js.PublishMsg(ctx, m, jetstream.WithMsgID(fmt.Sprintf("%s:%d", w.cfg.Stream, r.seq)))
		return err
	}); err != nil {
		return err
	}
	w.m.deadLetters.Inc()
	return nil
}
