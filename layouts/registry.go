package layouts

import "github.com/carta-letters/carta/renderer/job"

// Layout turns a decoded, validated job into a laid-out Document.
// Implementations are stateless and safe for concurrent use.
type Layout interface {
	// Name is the name a job gives in its "layout" field.
	Name() string
	// Lay lays out the job. It is pure: no I/O, no clock, and the same
	// job always gives the same Document.
	Lay(j *job.Job) (*Document, error)
}

// registry lists every layout, in the order Names returns them. To add a
// layout, write it in its own file and add one line here.
var registry = [...]Layout{
	letterLayout{},
	jointStatement{},
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
