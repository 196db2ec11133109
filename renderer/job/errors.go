package job

import (
	"fmt"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a job.
type Problem struct {
	// Field is the path of the field in the job, as in
	// "letter.recipients[0].name"; "" means the job as a whole.
	Field string
	// Message says what is wrong, e.g. "must not be empty".
	Message string
}

// String returns "field: message", or just the message when Field is "".
func (p Problem) String() string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

// ValidationError is a job refused because of its content: everything in
// it is the submitter's to fix, and retrying the same job fails the same
// way. Problems are in document order (the order of the fields in the
// letter/v1 format), at most MaxProblems of them.
type ValidationError struct {
	Problems []Problem
}

// Error returns one line per problem, "field: message".
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems in the order they are found.
type problems struct {
	list []Problem
}

func (ps *problems) add(field, format string, args ...any) {
	ps.list = append(ps.list, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns the collected problems as a *ValidationError, or nil.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	list := ps.list
	if len(list) > MaxProblems {
		more := len(list) - (MaxProblems - 1)
		list = append(list[:MaxProblems-1:MaxProblems-1], Problem{
			Message: fmt.Sprintf("… and %d more problems", more),
		})
	}
	return &ValidationError{Problems: list}
}

// path helpers: field("letter", "recipients") = "letter.recipients",
// index("letter.recipients", 0) = "letter.recipients[0]".
func field(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func index(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}
