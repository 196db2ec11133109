package renderer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer/job"
	"github.com/carta-letters/carta/renderer/pdf"
)

// Version is Carta's version, written into each PDF's metadata and each
// stored object's metadata.
const Version = "0.1.0"

// MaxPages is the most pages one letter may have: 200. A job within every
// limit of package job can still ask for thousands of pages (paragraphs of
// blank lines, say); such a job is refused as invalid rather than written.
// The reference letter has 4 pages; the same letter with 640 signatories
// in four columns has 10.
const MaxPages = 200

// Result is one rendered letter.
type Result struct {
	PDF    []byte // the PDF file
	Pages  int    // number of pages
	SHA256 string // lowercase hex sha256 of PDF
	// Provenance is what the PDF's XMP metadata records of the job,
	// layout, fonts and Carta version that made it.
	Provenance Provenance
	// Date is the document's date (the PDF's creation date): the
	// letter's date, else the statement's, else the acceptance date
	// (Options.Accepted, as a UTC day); zero when none of them is given.
	Date time.Time
}

// Options are what a render depends on besides the job. The same job
// with the same options gives the same bytes.
type Options struct {
	// Accepted is when the job was accepted: by a worker, the time
	// JetStream stored its message (the same on every redelivery); by
	// carta render, the time it was run, or its -accepted flag. It dates
	// a job that gives no date (letter.date, else statement.date): the
	// PDF's dates are that day, 00:00 UTC, so Result.Date and a worker's
	// result (accepted_at) record what a re-render needs. Zero: no
	// acceptance date; an undated job then gets the PDF writer's fixed
	// default date.
	Accepted time.Time
}

// Render lays out and writes a decoded, validated job (see job.Decode). It
// is a pure function: it does no I/O, reads no clock and changes no global
// state, and the same job always gives byte-identical bytes.
func Render(j *job.Job) (*Result, error) { return render(j, Options{}, nil) }

// RenderWith is Render with options: an undated job is dated with the
// acceptance date o.Accepted.
func RenderWith(j *job.Job, o Options) (*Result, error) { return render(j, o, nil) }

// render is Render with options and a font cache (nil: none) that
// RenderAll shares with the copies.
func render(j *job.Job, o Options, fonts *pdf.FontCache) (*Result, error) {
	l, err := lookupLayout(j)
	if err != nil {
		return nil, err
	}
	doc, err := l.Lay(j)
	if err != nil {
		return nil, fmt.Errorf("lay out letter %s: %w", j.ID, err)
	}
	pv, err := jobProvenance(j, l)
	if err != nil {
		return nil, fmt.Errorf("record provenance of %s: %w", j.ID, err)
	}
	return write(j, doc, pv, documentDate(j, o), fonts)
}

// lookupLayout returns the layout j asks for (or the default), or a
// *job.ValidationError naming the field.
func lookupLayout(j *job.Job) (layouts.Layout, error) {
	name := j.LayoutOrDefault()
	l, ok := layouts.Lookup(name)
	if !ok {
		return nil, &job.ValidationError{Problems: []job.Problem{{Field: "layout", Message: fmt.Sprintf("unknown layout %q", name)}}}
	}
	return l, nil
}

// write draws a laid-out document of job j: the one step after layout that
// the combined letter and every per-recipient copy share. pv is the job's
// provenance (jobProvenance); write adds the fonts doc uses. fonts, when
// set, keeps and reuses font subsets across the documents of one job.
func write(j *job.Job, doc *layouts.Document, pv Provenance, date time.Time, fonts *pdf.FontCache) (*Result, error) {
	if len(doc.Pages) > MaxPages {
		return nil, &job.ValidationError{Problems: []job.Problem{{Field: "letter",
			Message: fmt.Sprintf("the letter needs %d pages; the limit is %d", len(doc.Pages), MaxPages)}}}
	}
	pv.Fonts = fontsUsed(doc)
	out, err := pdf.Write(doc, pdf.Options{Creator: "Carta " + Version, Date: date, Provenance: &pv, Fonts: fonts})
	if err != nil {
		return nil, fmt.Errorf("render letter %s: %w", j.ID, err) // err says "write pdf: …"
	}
	sum := sha256.Sum256(out)
	return &Result{PDF: out, Pages: len(doc.Pages), SHA256: hex.EncodeToString(sum[:]), Provenance: pv, Date: date}, nil
}

// RenderJSON decodes, validates and renders a job given as JSON bytes. An
// invalid job returns a *job.ValidationError naming every bad field, and
// nothing is rendered.
func RenderJSON(data []byte) (*job.Job, *Result, error) {
	j, err := job.Decode(data)
	if err != nil {
		return nil, nil, err
	}
	res, err := Render(j)
	if err != nil {
		return j, nil, err
	}
	return j, res, nil
}

// documentDate is the PDF's creation date: the letter's date, else the
// statement's, else the day the job was accepted (UTC), else zero (the
// writer's fixed default). It comes from the job and its options, never
// from the clock, so the same job gives the same bytes.
func documentDate(j *job.Job, o Options) time.Time {
	d := j.Letter.Date
	if d == "" && j.Statement != nil {
		d = j.Statement.Date
	}
	if t, err := time.Parse(time.DateOnly, d); err == nil {
		return t
	}
	if o.Accepted.IsZero() {
		return time.Time{}
	}
	y, m, day := o.Accepted.UTC().Date()
	return time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
}
