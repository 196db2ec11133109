package renderer

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer/job"
	"github.com/carta-letters/carta/renderer/pdf"
)

// Output is one PDF of a job: the combined letter, or one recipient's copy.
type Output struct {
	// Name is "letter" for the combined letter and "copy-NN-slug" for a
	// copy, NN the recipient's number from 01 and slug their name in
	// lower-case ASCII ("copy-02-andres-manuel-lopez-obrador").
	Name string
	// Recipient is the copy's index in letter.recipients, -1 for the
	// combined letter.
	Recipient int
	// Key is the object key to store the PDF under (see CopyKey).
	Key string
	*Result
}

// maxSlugBytes is the longest slug in a copy's name and key.
const maxSlugBytes = job.CopySlugBytes

// RenderAll renders every PDF a job asks for: the combined letter (exactly
// what Render gives), then, when output.copies is "per-recipient", one
// copy per recipient in the order of letter.recipients. Before rendering
// anything it checks that every address that goes in an envelope window
// fits it, so a job is refused whole, with a *job.ValidationError naming
// each recipient whose address does not fit. Like Render it is pure and
// deterministic: the same job always gives the same outputs, byte for
// byte, and the keys are unique within the job.
func RenderAll(j *job.Job) ([]Output, error) { return RenderAllWith(j, Options{}) }

// RenderAllWith is RenderAll with options (see RenderWith).
func RenderAllWith(j *job.Job, o Options) ([]Output, error) {
	if j.PerRecipient() {
		// Every copy's address at once, before anything is rendered (the
		// combined letter's own is checked as Render lays it out).
		all := make([]int, len(j.Letter.Recipients))
		for i := range all {
			all[i] = i
		}
		if err := layouts.CheckAddresses(j, all...); err != nil {
			return nil, fmt.Errorf("lay out letter %s: %w", j.ID, err)
		}
	}
	// Every copy names every recipient: the copies use the combined
	// letter's characters, so its font subsets serve them all.
	var fonts *pdf.FontCache
	if j.PerRecipient() {
		fonts = pdf.NewFontCache()
	}
	combined, err := render(j, o, fonts)
	if err != nil {
		return nil, err
	}
	outs := []Output{{Name: "letter", Recipient: -1, Key: j.OutputKey(), Result: combined}}
	if !j.PerRecipient() {
		return outs, nil
	}
	l, err := lookupLayout(j)
	if err != nil {
		return nil, err
	}
	_, window := layouts.AddressWindow(l.Name())
	for i := range j.Letter.Recipients {
		if i == 0 || !window {
			// Recipient 0's copy is the combined letter (layouts.LayCopy),
			// and so is every copy of a layout without a window, whose
			// copies keep the recipients in the job's order: the same
			// bytes, in a slice of its own so that a signer working in
			// place signs each output once.
			res := *combined
			res.PDF = bytes.Clone(combined.PDF)
			outs = append(outs, Output{Name: CopyName(j, i), Recipient: i, Key: CopyKey(j, i), Result: &res})
			continue
		}
		doc, err := layouts.LayCopy(l, j, i)
		if err != nil {
			return nil, fmt.Errorf("lay out copy %d of letter %s: %w", i+1, j.ID, err)
		}
		res, err := write(j, doc, combined.Provenance, combined.Date, fonts) // the job's provenance, computed once
		if err != nil {
			return nil, fmt.Errorf("copy %d: %w", i+1, err)
		}
		outs = append(outs, Output{Name: CopyName(j, i), Recipient: i, Key: CopyKey(j, i), Result: res})
	}
	return outs, nil
}

// CopyName returns the name of recipient i's copy: "copy-NN-slug", NN
// the recipient's number from 01 (two digits: a job has at most
// job.MaxRecipients) and slug their name folded to lower-case ASCII
// letters and digits joined by "-", at most 40 bytes, or "recipient" when
// nothing of the name is ASCII ("Κυριάκος Μητσοτάκης").
func CopyName(j *job.Job, i int) string {
	name := ""
	if i >= 0 && i < len(j.Letter.Recipients) {
		name = j.Letter.Recipients[i].Name
	}
	return fmt.Sprintf("copy-%02d-%s", i+1, slug(name))
}

// CopyKey returns the object key of recipient i's copy: the combined
// letter's key (job.OutputKey, "letters/{id}.pdf" by default) without
// ".pdf", then "/" and CopyName and ".pdf":
// "letters/{id}/copy-02-andres-manuel-lopez-obrador.pdf". Copies of one job
// share that prefix and differ by number, so their keys are unique; each
// is at most job.CopySuffixBytes longer than the combined key, which
// validation keeps within job.MaxKeyBytes, and it has only the segments
// of a valid key plus one of ASCII letters, digits and "-".
func CopyKey(j *job.Job, i int) string {
	dir := strings.TrimSuffix(j.OutputKey(), ".pdf")
	// A key such as ".pdf", "a/.pdf" or "..pdf" would leave an empty, "."
	// or ".." segment.
	last := dir[strings.LastIndexByte(dir, '/')+1:]
	if last == "" || last == "." || last == ".." {
		dir += "letter"
	}
	return dir + "/" + CopyName(j, i) + ".pdf"
}

// asciiFold spells the Latin letters that do not decompose into a base
// letter and marks.
var asciiFold = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d",
	'þ': "th", 'ı': "i", 'ħ': "h", 'ŧ': "t", 'ŋ': "ng", 'ĸ': "k",
}

// slug folds s to lower-case ASCII words joined by "-": accents dropped
// ("López" → "lopez"), other letters and digits of other scripts dropped,
// at most maxSlugBytes, cut at a word boundary when one falls in the
// second half; "recipient" if nothing remains.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		case asciiFold[r] != "":
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteString(asciiFold[r])
			dash = false
		default:
			dash = true
		}
	}
	out := b.String()
	if len(out) > maxSlugBytes {
		out = out[:maxSlugBytes]
		if k := strings.LastIndexByte(out, '-'); k >= maxSlugBytes/2 {
			out = out[:k]
		}
		out = strings.TrimRight(out, "-")
	}
	if out == "" {
		return "recipient"
	}
	return out
}
