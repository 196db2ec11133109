package client

import (
	"strings"
	"time"
)

// Status is the outcome of a job: StatusDone or StatusFailed.
type Status string

// The two statuses a result event carries.
const (
	StatusDone   Status = "done"   // the PDF is stored at Bucket/Key
	StatusFailed Status = "failed" // the job failed for good; see Result.Error
)

// Error codes a failed result carries in ResultError.Code.
const (
	CodeInvalidJob    = "invalid_job"    // the job is not valid; resubmitting it unchanged fails again
	CodeRenderFailed  = "render_failed"  // the renderer failed on a valid job
	CodeStorageFailed = "storage_failed" // the PDF could not be stored after the last attempt
	CodeInternal      = "internal"       // anything else
)

// Result is the result event of one job, exactly as the worker publishes
// it on "carta.results.<id>" and records it in the "carta_results"
// key-value bucket under the key <id>. It is the one Go type of that JSON
// event: the worker encodes it, clients decode it.
//
// Key, SHA256, Bytes and Pages describe the combined letter. A job with
// output.copies "per-recipient" also lists its copies, one per recipient
// in the order of Recipients, in Copies. SignedBy is set when the stored
// letter is signed. SHA256 and Bytes are always those of the stored
// object, signed or not: when a redelivered job finds its PDF already
// stored (an earlier delivery of the same job, signed at another time),
// the event reports the stored object's sha256 and signer, not those of
// the PDF this delivery made and discarded.
type Result struct {
	ID           string       `json:"id"`            // the job id
	Status       Status       `json:"status"`        // "done" or "failed"
	Bucket       string       `json:"bucket"`        // S3 bucket of the PDF
	Key          string       `json:"key"`           // S3 object key of the PDF (letters/<id>.pdf by default)
	SHA256       string       `json:"sha256"`        // lowercase hex sha256 of the PDF; empty when failed
	Bytes        int64        `json:"bytes"`         // size of the PDF in bytes; 0 when failed
	Pages        int          `json:"pages"`         // pages of the PDF; 0 when failed
	Attempts     int          `json:"attempts"`      // deliveries of the job, 1 on the first try
	RenderMS     int64        `json:"render_ms"`     // milliseconds spent rendering
	TotalMS      int64        `json:"total_ms"`      // milliseconds from receipt by the worker to the result
	CartaVersion string       `json:"carta_version"` // renderer.Version of the worker
	Title        string       `json:"title"`         // the document title, when the job decoded
	Recipients   []string     `json:"recipients"`    // recipient names, when the job decoded
	FinishedAt   time.Time    `json:"finished_at"`   // when the result was decided, RFC 3339, UTC
	Error        *ResultError `json:"error,omitempty"`
	// AcceptedAt is when the job was accepted: the time JetStream stored
	// its message, the same on every redelivery. A job that gives no
	// date (letter.date, else statement.date) is dated that day, UTC
	// (renderer.Options), so "carta render -accepted" with this value
	// renders the same bytes again. Absent when unknown.
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
	// SignedBy is the signer's name (sign.Signer.Name) when the stored
	// letter carries a digital signature; absent when it is unsigned.
	SignedBy string `json:"signed_by,omitempty"`
	// SignatureLevel is the PAdES baseline level of that signature
	// (sign.Signer.Level): "B-B", "B-T" (with a trusted timestamp),
	// "B-LT" (with the validation data too) or "B-LTA" (and a document
	// timestamp); absent when unsigned.
	SignatureLevel string `json:"signature_level,omitempty"`
	// Copies are the per-recipient copies, when the job asked for them
	// (output.copies "per-recipient"); absent otherwise.
	Copies []Copy `json:"copies,omitempty"`
	// Date is the letter's own date as the job gives it (letter.date,
	// else statement.date), YYYY-MM-DD; absent when the job has none.
	// Like Title and Recipients it is read leniently (Summarize) from a
	// job that failed before it decoded.
	Date string `json:"date,omitempty"`
	// Layout is the layout the job names ("din5008-a"); absent for the
	// default letter layout.
	Layout string `json:"layout,omitempty"`
}

// Copy is one per-recipient copy of a letter, stored next to the
// combined letter.
type Copy struct {
	// Name is "copy-NN-slug": NN the recipient's number from 01, slug
	// their name in lower-case ASCII ("copy-01-andres-manuel-lopez-obrador").
	// It is unique within the job.
	Name string `json:"name"`
	// Key is the copy's S3 object key, in Result.Bucket: the combined
	// letter's key without ".pdf", "/", Name, ".pdf"
	// ("letters/<id>/copy-01-andres-manuel-lopez-obrador.pdf").
	Key       string `json:"key"`
	SHA256    string `json:"sha256"`              // lowercase hex sha256 of the stored copy
	Bytes     int64  `json:"bytes"`               // size of the stored copy in bytes
	Pages     int    `json:"pages"`               // pages of the copy
	Recipient string `json:"recipient"`           // the name of the recipient the copy is addressed to
	SignedBy  string `json:"signed_by,omitempty"` // the signer's name when the stored copy is signed
	// SignatureLevel is the PAdES level of the copy's signature, as Result.SignatureLevel.
	SignatureLevel string `json:"signature_level,omitempty"`
}

// ResultError says why a job failed.
type ResultError struct {
	Code    string       `json:"code"`             // one of the Code* constants
	Message string       `json:"message"`          // human-readable cause
	Field   string       `json:"field,omitempty"`  // first bad field path, e.g. letter.recipients
	Fields  []FieldError `json:"fields,omitempty"` // every problem found, for an invalid job
}

// FieldError is one problem of an invalid job.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error formats the failure as "code: field: message" (the field only when
// the message does not already name it).
func (e *ResultError) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Field != "" && !strings.Contains(e.Message, e.Field) {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Err returns nil for a done job and the *ResultError of a failed one
// (a generic internal error if the event carries none).
func (r *Result) Err() error {
	if r.Status == StatusDone {
		return nil
	}
	if r.Error != nil {
		return r.Error
	}
	return &ResultError{Code: CodeInternal, Message: "job ended with status " + string(r.Status) + " and no error"}
}
