package job

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/carta-letters/carta/renderer/job/ids"
)

// Layouts are the layout names a job may ask for. The layouts package
// registers these names; a test in layouts keeps them equal.
var Layouts = []string{"letter", "joint-statement", "din5008-a", "din5008-b", "us-window"}

// LayoutPaper is the page size of the layouts that are made for one paper:
// the window-envelope layouts. A job with one of them either leaves
// page_size out or gives this size.
var LayoutPaper = map[string]string{"din5008-a": "a4", "din5008-b": "a4", "us-window": "letter"}

// Copies are the values of output.copies; "" means "none".
var Copies = []string{"none", "per-recipient"}

// PageNumbers are the values of output.page_numbers; "" means "auto".
var PageNumbers = []string{"auto", "always"}

// CopySlugBytes is the longest slug of a recipient's name in a copy's
// name and key (renderer.CopyName, renderer.CopyKey).
const CopySlugBytes = 40

// CopySuffixBytes is how much longer than the combined letter's key a
// copy's key may be: "/copy-NN-" (9 bytes), a slug of at most
// CopySlugBytes and ".pdf" (4), less the ".pdf" the combined key ends
// with, plus 8 bytes of room. With copies, output.key may be at most
// MaxKeyBytes - CopySuffixBytes long, so every copy's key stays within
// MaxKeyBytes.
const CopySuffixBytes = 9 + CopySlugBytes + 4 - 4 + 8

// PageSizes are the values of page_size.
var PageSizes = []string{"letter", "a4", "legal"}

// Sorts are the values of signatories.sort; "" means "none".
var Sorts = []string{"none", "alpha"}

var (
	accentPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
	datePattern   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// validator collects problems in document order.
type validator struct {
	problems
}

// Validate checks every rule of letter/v1 and returns a *ValidationError
// listing all problems in document order, or nil. It expects the
// strings to be NFC already (Decode sees to that; see Normalize). It
// does not change j and is safe to call more than once.
func (j *Job) Validate() error {
	var v validator
	v.job(j)
	return v.err()
}

func (v *validator) job(j *Job) {
	switch j.Schema {
	case "":
		v.add("schema", "is required (it must be %q)", Schema)
	case Schema:
	default:
		v.add("schema", "must be %q, not %s", Schema, quote(j.Schema))
	}
	v.id("id", j.ID)
	if j.Layout != "" && !slices.Contains(Layouts, j.Layout) {
		v.add("layout", "must be one of %s, not %s", list(Layouts), quote(j.Layout))
	}
	if j.Locale != "" {
		if msg := localeProblem(j.Locale); msg != "" {
			v.add("locale", "%s", msg)
		}
	}
	if j.PageSize != "" && !slices.Contains(PageSizes, j.PageSize) {
		v.add("page_size", "must be one of %s, not %s", list(PageSizes), quote(j.PageSize))
	} else if paper, ok := LayoutPaper[j.Layout]; ok && j.PageSize != "" && j.PageSize != paper {
		v.add("page_size", "must be %q for the %s layout (or left out), not %s", paper, j.Layout, quote(j.PageSize))
	}
	v.text("title", j.Title, meta, false)
	v.letterhead("letterhead", &j.Letterhead)
	if j.Statement != nil {
		v.statement("statement", j.Statement)
	}
	v.letter("letter", &j.Letter)
	if j.Contact != nil {
		v.text("contact.heading", j.Contact.Heading, line, false)
		v.lines("contact.lines", j.Contact.Lines)
	}
	if j.Output != nil && j.Output.Key != "" {
		if msg := keyProblem(j.Output.Key); msg != "" {
			v.add("output.key", "%s", msg)
		} else if j.PerRecipient() && len(j.Output.Key) > MaxKeyBytes-CopySuffixBytes {
			v.add("output.key", "is %d bytes long; with per-recipient copies the limit is %d, so that every copy's key fits in %d", len(j.Output.Key), MaxKeyBytes-CopySuffixBytes, MaxKeyBytes)
		} else if msg := keyOwnerProblem(j.ID, j.Output.Key); msg != "" {
			v.add("output.key", "%s", msg)
		}
	}
	if j.Output != nil && j.Output.Copies != "" && !slices.Contains(Copies, j.Output.Copies) {
		v.add("output.copies", "must be one of %s, not %s", list(Copies), quote(j.Output.Copies))
	}
	if j.Output != nil && j.Output.PageNumbers != "" && !slices.Contains(PageNumbers, j.Output.PageNumbers) {
		v.add("output.page_numbers", "must be one of %s, not %s", list(PageNumbers), quote(j.Output.PageNumbers))
	}
}

func (v *validator) id(path, id string) {
	switch {
	case id == "":
		v.add(path, "is required")
	case len(id) > MaxIDBytes:
		v.add(path, "is %d bytes long; the limit is %d", len(id), MaxIDBytes)
	case strings.HasPrefix(id, "."):
		v.add(path, "must not start with \".\"")
	case !ids.Chars(id):
		v.add(path, "may hold only A-Z, a-z, 0-9, \".\", \"_\" and \"-\", not %s", quote(id))
	}
}

func (v *validator) letterhead(path string, l *Letterhead) {
	v.text(field(path, "name"), l.Name, line, true)
	v.lines(field(path, "lines"), l.Lines)
	v.image(field(path, "logo"), l.Logo)
	v.text(field(path, "logo_alt"), l.LogoAlt, line, false)
	if l.Accent != "" && !accentPattern.MatchString(l.Accent) {
		v.add(field(path, "accent"), "must be a colour as #RRGGBB, not %s", quote(l.Accent))
	}
}

func (v *validator) statement(path string, s *Statement) {
	v.text(field(path, "kicker"), s.Kicker, line, false)
	v.text(field(path, "headline"), s.Headline, line, false)
	v.date(field(path, "date"), s.Date)
	v.text(field(path, "dateline"), s.Dateline, line, false)
	p := field(path, "paragraphs")
	v.count(p, "paragraphs", len(s.Paragraphs), MaxParagraphs)
	for i, t := range s.Paragraphs {
		v.text(index(p, i), t, para, true)
	}
}

func (v *validator) letter(path string, l *Letter) {
	v.date(field(path, "date"), l.Date)
	v.text(field(path, "reference"), l.Reference, line, false)

	p := field(path, "recipients")
	if len(l.Recipients) == 0 {
		v.add(p, "at least one recipient is required")
	}
	v.count(p, "recipients", len(l.Recipients), MaxRecipients)
	for i := range l.Recipients {
		v.person(index(p, i), &l.Recipients[i])
	}
	p = field(path, "cc")
	v.count(p, "people", len(l.CC), MaxRecipients)
	for i := range l.CC {
		v.person(index(p, i), &l.CC[i])
	}

	v.text(field(path, "subject"), l.Subject, line, false)
	v.text(field(path, "salutation"), l.Salutation, line, true)

	p = field(path, "body")
	if len(l.Body) == 0 {
		v.add(p, "at least one block is required")
	}
	v.count(p, "blocks", len(l.Body), MaxBlocks)
	for i := range l.Body {
		v.block(index(p, i), &l.Body[i])
	}

	v.text(field(path, "closing"), l.Closing, line, true)

	p = field(path, "signers")
	v.count(p, "signers", len(l.Signers), MaxSigners)
	for i := range l.Signers {
		s := &l.Signers[i]
		sp := index(p, i)
		v.text(field(sp, "name"), s.Name, line, true)
		v.text(field(sp, "title"), s.Title, line, false)
		v.text(field(sp, "organization"), s.Organization, line, false)
		v.image(field(sp, "signature"), s.Signature)
		v.text(field(sp, "signature_alt"), s.SignatureAlt, line, false)
	}
	if l.Signatories != nil {
		v.signatories(field(path, "signatories"), l.Signatories)
	}
}

func (v *validator) person(path string, p *Person) {
	v.text(field(path, "honorific"), p.Honorific, line, false)
	v.text(field(path, "name"), p.Name, line, true)
	v.text(field(path, "title"), p.Title, line, false)
	v.text(field(path, "organization"), p.Organization, line, false)
	v.lines(field(path, "address"), p.Address)
	v.text(field(path, "country"), p.Country, line, false)
}

func (v *validator) block(path string, b *Block) {
	n := 0
	for _, set := range []bool{b.Text != nil, b.List != nil, b.Heading != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		v.add(path, "must have exactly one of text, list, heading")
		return
	}
	switch {
	case b.Text != nil:
		v.text(field(path, "text"), *b.Text, para, true)
	case b.Heading != nil:
		v.text(field(path, "heading"), *b.Heading, line, true)
	default:
		p := field(path, "list")
		if len(b.List) == 0 {
			v.add(p, "must have at least one item")
		}
		v.count(p, "items", len(b.List), MaxListItems)
		for i, t := range b.List {
			v.text(index(p, i), t, para, true)
		}
	}
	if b.Numbered && b.List == nil {
		v.add(field(path, "numbered"), "is allowed only with list")
	}
}

// MaxColumns is the most columns a signatory list may ask for.
const MaxColumns = 6

// columnsProblem is the message for a signatories.columns of n, outside
// 1–MaxColumns. In JSON, 0 is refused by Decode (the contract says 1–6;
// leaving the field out asks for the layout's default); in a Job built in
// Go, 0 is the field left out.
func columnsProblem(n int) string {
	return fmt.Sprintf("must be from 1 to %d (or left out for the layout's default), not %d", MaxColumns, n)
}

func (v *validator) signatories(path string, s *Signatories) {
	v.text(field(path, "heading"), s.Heading, line, false)
	if s.Columns < 0 || s.Columns > MaxColumns {
		v.add(field(path, "columns"), "%s", columnsProblem(s.Columns))
	}
	if s.Sort != "" && !slices.Contains(Sorts, s.Sort) {
		v.add(field(path, "sort"), "must be one of %s, not %s", list(Sorts), quote(s.Sort))
	}
	p := field(path, "entries")
	if len(s.Entries) == 0 {
		v.add(p, "at least one entry is required")
	}
	v.count(p, "entries", len(s.Entries), MaxEntries)
	for i := range s.Entries {
		e := &s.Entries[i]
		ep := index(p, i)
		v.text(field(ep, "name"), e.Name, line, true)
		mp := field(ep, "members")
		v.count(mp, "members", len(e.Members), MaxMembers)
		for k, m := range e.Members {
			v.text(index(mp, k), m, line, true)
		}
		v.text(field(ep, "note"), e.Note, line, false)
	}
}

// lines checks an array of printed single lines: letterhead and contact
// lines, addresses.
func (v *validator) lines(path string, lines []string) {
	v.count(path, "lines", len(lines), MaxLines)
	for i, l := range lines {
		v.text(index(path, i), l, line, true)
	}
}

func (v *validator) count(path, what string, n, limit int) {
	if n > limit {
		v.add(path, "has %d %s; the limit is %d", n, what, limit)
	}
}

func (v *validator) date(path, s string) {
	if s == "" {
		return
	}
	if !datePattern.MatchString(s) {
		v.add(path, "must be a date as YYYY-MM-DD, not %s", quote(s))
		return
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		v.add(path, "is not a real calendar date: %s", quote(s))
	}
}

func (v *validator) image(path, s string) {
	if s == "" {
		return
	}
	if msg := imageProblem(s); msg != "" {
		v.add(path, "%s", msg)
	}
}

// localeProblem returns what is wrong with a non-empty locale, or "".
func localeProblem(s string) string {
	const most = 64
	if len(s) > most {
		return fmt.Sprintf("is %d bytes long; the limit is %d", len(s), most)
	}
	if strings.Contains(s, "_") {
		return fmt.Sprintf("must be a BCP 47 language tag such as \"en-US\" (with \"-\", not \"_\"), not %s", quote(s))
	}
	if _, err := language.Parse(s); err != nil {
		return fmt.Sprintf("is not a BCP 47 language tag (%s): %s", strings.TrimPrefix(err.Error(), "language: "), quote(s))
	}
	return ""
}

// keyOwnerProblem says why job id may not store its letter at key, or
// "". A key belongs to one id: it must be a folder and then "{id}.pdf"
// ("cartas/2023/{id}.pdf"), so that no job can take the key of another
// job's letter, and an id that looks like a copy's name ("copy-…") keeps
// the default key, so that no job can take the key of another job's
// per-recipient copy ("{folder}/{id}/copy-NN-slug.pdf").
func keyOwnerProblem(id, key string) string {
	if !ids.Valid(id) || key == "letters/"+id+".pdf" {
		return "" // a bad id is reported on its own; the default key is always allowed
	}
	if strings.HasPrefix(id, "copy-") {
		return fmt.Sprintf("must be left out for a job whose id starts with \"copy-\" (it would share its name with other letters' copies); the letter is stored at %s", quote("letters/"+id+".pdf"))
	}
	if !strings.HasSuffix(key, "/"+id+".pdf") {
		return fmt.Sprintf("must be a folder and then the job's id and \".pdf\", such as %s, so that no job can take another letter's key; not %s", quote("letters/2023/"+id+".pdf"), quote(key))
	}
	return ""
}

// keyProblem returns what is wrong with a non-empty output.key, or "".
func keyProblem(k string) string {
	switch {
	case len(k) > MaxKeyBytes:
		return fmt.Sprintf("is %d bytes long; the limit is %d", len(k), MaxKeyBytes)
	case !utf8.ValidString(k):
		return "is not valid UTF-8"
	case !norm.NFC.IsNormalString(k):
		return "is not in Unicode Normalization Form C (call Job.Normalize)"
	case strings.HasPrefix(k, "/"):
		return "must be relative: it must not start with \"/\""
	case strings.Contains(k, "\\"):
		return "must not contain a backslash"
	}
	for i, r := range k {
		if msg := runeProblem(r, true); msg != "" {
			return fmt.Sprintf("%s (at byte %d)", msg, i)
		}
	}
	for seg := range strings.SplitSeq(k, "/") {
		switch seg {
		case "":
			return "must not have empty path segments (\"//\" or a trailing \"/\")"
		case ".", "..":
			return "must not have \".\" or \"..\" path segments"
		}
	}
	if !strings.HasSuffix(k, ".pdf") {
		return "must end in \".pdf\""
	}
	return ""
}

// list formats names for a message: "a", "b", "c".
func list(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
