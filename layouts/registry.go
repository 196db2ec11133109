package layouts

import (
	"errors"
	"fmt"

	"github.com/carta-letters/carta/renderer/job"
)

// Layout turns a decoded, validated job into a laid-out Document.
// Implementations are stateless and safe for concurrent use.
type Layout interface {
	// Name is the name a job gives in its "layout" field.
	Name() string
	// Version is the layout's version, a decimal number starting at "1"
	// and written into each PDF's provenance. It changes whenever the
	// layout's output changes, so that a PDF tells which revision of the
	// layout made it (see version.go).
	Version() string
	// Lay lays out the job. It is pure: no I/O, no clock, and the same
	// job always gives the same Document.
	Lay(j *job.Job) (*Document, error)
}

// registry lists every layout, in the order Names returns them. To add a
// layout, write it in its own file and add one line here.
var registry = [...]Layout{
	letterLayout{},
	jointStatement{},
	din5008A,
	din5008B,
	usWindow,
}

// copyLayout is a layout that can lay out one recipient's copy. Every
// layout in the registry is one.
type copyLayout interface {
	layFor(j *job.Job, first int) (*Document, error)
}

// LayCopy lays out recipient i's copy of j (i indexes letter.recipients).
// On a window layout that recipient's full address fills the envelope
// window and the others are named after it in the job's order; on the
// other layouts the address block keeps every recipient in the job's
// order (the sender's order of precedence), so the copy reads as the
// combined letter does. Recipient 0's
// copy is the combined letter, laid out as l.Lay(j) does. Like Lay it is
// pure, and refuses an address that does not fit the window with a
// *job.ValidationError.
func LayCopy(l Layout, j *job.Job, i int) (*Document, error) {
	if i < 0 || i >= len(j.Letter.Recipients) {
		return nil, fmt.Errorf("lay out copy: recipient %d: the letter has %d recipients", i, len(j.Letter.Recipients))
	}
	cl, ok := l.(copyLayout)
	if !ok {
		return nil, fmt.Errorf("lay out copy: layout %q cannot lay out copies", l.Name())
	}
	return cl.layFor(j, i)
}

// CheckAddresses checks, without laying out the letter, that the address
// of each recipient listed (indexes into letter.recipients) fits the
// window of j's layout, and returns a *job.ValidationError naming the
// field of every one that does not. Layouts without a window accept every
// address. Check the first recipient for the combined letter, and every
// recipient when the job asks for per-recipient copies.
func CheckAddresses(j *job.Job, recipients ...int) error {
	l, ok := Lookup(j.LayoutOrDefault())
	if !ok {
		return nil
	}
	w, ok := l.(windowLayout)
	if !ok {
		return nil
	}
	c, err := newComposer(j)
	if err != nil {
		return err
	}
	var problems []job.Problem
	for _, i := range recipients {
		if i < 0 || i >= len(j.Letter.Recipients) {
			continue
		}
		_, err := c.fitAddress(&w.spec, i)
		var verr *job.ValidationError
		switch {
		case errors.As(err, &verr):
			problems = append(problems, verr.Problems...)
		case err != nil:
			return err
		}
	}
	if len(problems) > 0 {
		return &job.ValidationError{Problems: problems}
	}
	return nil
}

// Lookup returns the layout called name.
func Lookup(name string) (Layout, bool) {
	for _, l := range registry {
		if l.Name() == name {
			return l, true
		}
	}
	return nil, false
}

// Names returns the names of all layouts, in registration order.
func Names() []string {
	names := make([]string, len(registry))
	for i, l := range registry {
		names[i] = l.Name()
	}
	return names
}
