package job

import (
	"reflect"
	"sync"
	"unicode/utf8"

	"github.com/carta-letters/carta/renderer/job/jsonscan"
)

// The fast check accepts, in one pass over the bytes and without
// allocating, the jobs Decode's detailed checks (checkSyntax and the
// walker) would accept: syntactically valid JSON, valid UTF-8, and values
// of the type the field wants, no unknown field, no duplicate key. It
// does not say what is wrong: anything it does not accept (including
// things that are fine but unusual, such as an escaped key or an integer
// written with an exponent) goes through the detailed checks, which give
// the messages. So it only ever saves time; it never decides a message.

// shape is the JSON shape a Go type decodes from.
type shape struct {
	kind   byte                   // 'o' object, 'a' array, 's' string, 'i' integer, 'z' integer other than 0, 'b' true or false
	fields map[string]*shapeField // object: JSON name → field
	nbits  int                    // object: number of fields
	elem   *shape                 // array: shape of the elements
}

type shapeField struct {
	bit   uint64 // 1 << index of the field in its object
	shape *shape
}

// jobShape is the shape of Job, built once.
var jobShape = sync.OnceValue(func() *shape { return shapeOf(reflect.TypeFor[Job](), map[reflect.Type]*shape{}) })

func shapeOf(t reflect.Type, done map[reflect.Type]*shape) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := done[t]; ok {
		return s
	}
	s := &shape{}
	done[t] = s
	switch t.Kind() {
	case reflect.Struct:
		s.kind = 'o'
		fields := jsonFields(t)
		if len(fields) > 64 {
			panic("job: fast check: more than 64 fields in " + t.String())
		}
		s.fields = make(map[string]*shapeField, len(fields))
		for name, ft := range fields {
			fs := shapeOf(ft, done)
			if zeroRefused(t, name) {
				fs = &shape{kind: 'z'}
			}
			s.fields[name] = &shapeField{bit: 1 << s.nbits, shape: fs}
			s.nbits++
		}
	case reflect.Slice:
		s.kind = 'a'
		s.elem = shapeOf(t.Elem(), done)
	case reflect.String:
		s.kind = 's'
	case reflect.Int, reflect.Int64, reflect.Int32:
		s.kind = 'i'
	case reflect.Bool:
		s.kind = 'b'
	default:
		panic("job: no JSON kind for " + t.String())
	}
	return s
}

// fastCheck reports whether data is a job the detailed checks accept.
// data is at most MaxJobBytes long.
func fastCheck(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	c := checker{Scanner: jsonscan.Scanner{Data: data}}
	c.Space()
	if !c.value(jobShape()) {
		return false
	}
	c.Space()
	return c.Pos == len(data)
}

// checker is the state of one fast check: a scanner driven by shapes.
type checker struct {
	jsonscan.Scanner
}

// value checks one value of shape s, starting at c.Pos (no space before
// it). The schema bounds the nesting, so no depth check is needed:
// anything deeper than the schema is an unknown field or a wrong type,
// refused.
func (c *checker) value(s *shape) bool {
	switch s.kind {
	case 'o':
		return c.Peek() == '{' && c.object(s)
	case 'a':
		return c.Peek() == '[' && c.array(s.elem)
	case 's':
		_, ok := c.String()
		return ok
	case 'i':
		return c.integer()
	case 'z':
		start := c.Pos
		return c.integer() && string(c.Data[start:c.Pos]) != "0" && string(c.Data[start:c.Pos]) != "-0"
	case 'b':
		return c.Literal("true") || c.Literal("false")
	}
	return false
}

func (c *checker) object(s *shape) bool {
	c.Pos++ // '{'
	c.Space()
	if c.Peek() == '}' {
		c.Pos++
		return true
	}
	var seen uint64
	for {
		key, ok := c.String()
		if !ok || key == nil {
			return false // escaped key: let the walker compare it decoded
		}
		f := s.fields[string(key)]
		if f == nil || seen&f.bit != 0 {
			return false
		}
		seen |= f.bit
		c.Space()
		if c.Peek() != ':' {
			return false
		}
		c.Pos++
		c.Space()
		if !c.value(f.shape) {
			return false
		}
		if more, ok := c.Next('}'); !more {
			return ok
		}
	}
}

func (c *checker) array(elem *shape) bool {
	c.Pos++ // '['
	c.Space()
	if c.Peek() == ']' {
		c.Pos++
		return true
	}
	for {
		if !c.value(elem) {
			return false
		}
		if more, ok := c.Next(']'); !more {
			return ok
		}
	}
}

// integer checks a JSON number that is a plain integer (no fraction, no
// exponent) in the range of int32, as the walker requires.
func (c *checker) integer() bool {
	data := c.Data
	neg := false
	if c.Peek() == '-' {
		neg = true
		c.Pos++
	}
	start := c.Pos
	var n int64
	for c.Pos < len(data) && '0' <= data[c.Pos] && data[c.Pos] <= '9' {
		n = n*10 + int64(data[c.Pos]-'0')
		c.Pos++
		if c.Pos-start > 10 {
			return false
		}
	}
	digits := c.Pos - start
	switch {
	case digits == 0, digits > 1 && data[start] == '0':
		return false
	case c.Pos < len(data) && (data[c.Pos] == '.' || data[c.Pos] == 'e' || data[c.Pos] == 'E'):
		return false
	case neg:
		return n <= 1<<31
	}
	return n < 1<<31
}
