package preview

import (
	"fmt"

	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// Check lays a valid job out as the worker will, without writing a PDF,
// and returns the *job.ValidationError the worker would fail it with:
// an address that does not fit its window (for every copy, with
// per-recipient copies), or more than renderer.MaxPages pages. The API
// runs it before queueing, so such a job is refused at once with its
// field instead of failing later. Layout is pure and takes about a
// millisecond for the reference letter.
func Check(j *job.Job) error {
	if j.PerRecipient() {
		all := make([]int, len(j.Letter.Recipients))
		for i := range all {
			all[i] = i
		}
		if err := layouts.CheckAddresses(j, all...); err != nil {
			return err
		}
	}
	l, ok := layouts.Lookup(j.LayoutOrDefault())
	if !ok {
		return &job.ValidationError{Problems: []job.Problem{{Field: "layout", Message: fmt.Sprintf("unknown layout %q", j.LayoutOrDefault())}}}
	}
	doc, err := l.Lay(j)
	if err != nil {
		return err
	}
	if len(doc.Pages) > renderer.MaxPages {
		return &job.ValidationError{Problems: []job.Problem{{Field: "letter",
			Message: fmt.Sprintf("the letter needs %d pages; the limit is %d", len(doc.Pages), renderer.MaxPages)}}}
	}
	return nil
}
