package job

import (
	"reflect"
	"sync"
	"unicode/utf8"
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
	kind   byte                   // 'o' object, 'a' array, 's' string, 'i' integer, 'b' true or false
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
			s.fields[name] = &shapeField{bit: 1 << s.nbits, shape: shapeOf(ft, done)}
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
	c := checker{data: data}
	c.space()
	if !c.value(jobShape()) {
		return false
	}
	c.space()
	return c.i == len(data)
}

// checker is the state of one fast check.
type checker struct {
	data []byte
	i    int
}

func (c *checker) space() {
	for c.i < len(c.data) {
		switch c.data[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// value checks one value of shape s, starting at c.i (no space before it).
// The schema bounds the nesting, so no depth check is needed: anything
// deeper than the schema is an unknown field or a wrong type, refused.
func (c *checker) value(s *shape) bool {
	if c.i >= len(c.data) {
		return false
	}
	switch s.kind {
	case 'o':
		return c.data[c.i] == '{' && c.object(s)
	case 'a':
		return c.data[c.i] == '[' && c.array(s.elem)
	case 's':
		_, ok := c.str()
		return ok
	case 'i':
		return c.integer()
	case 'b':
		return c.literal("true") || c.literal("false")
	}
	return false
}

func (c *checker) object(s *shape) bool {
	c.i++ // '{'
	c.space()
	if c.i < len(c.data) && c.data[c.i] == '}' {
		c.i++
		return true
	}
	var seen uint64
	for {
		if c.i >= len(c.data) || c.data[c.i] != '"' {
			return false
		}
		key, ok := c.str()
		if !ok || key == nil {
			return false // escaped key: let the walker compare it decoded
		}
		f := s.fields[string(key)]
		if f == nil || seen&f.bit != 0 {
			return false
		}
		seen |= f.bit
		c.space()
		if c.i >= len(c.data) || c.data[c.i] != ':' {
			return false
		}
		c.i++
		c.space()
		if !c.value(f.shape) {
			return false
		}
		if more, ok := c.next('}'); !more {
			return ok
		}
	}
}

func (c *checker) array(elem *shape) bool {
	c.i++ // '['
	c.space()
	if c.i < len(c.data) && c.data[c.i] == ']' {
		c.i++
		return true
	}
	for {
		if !c.value(elem) {
			return false
		}
		if more, ok := c.next(']'); !more {
			return ok
		}
	}
}

// next reads what follows a member of an object or array: a comma (more
// to come) or the closing delimiter (done); anything else is not ok.
func (c *checker) next(closing byte) (more, ok bool) {
	c.space()
	if c.i >= len(c.data) {
		return false, false
	}
	switch c.data[c.i] {
	case ',':
		c.i++
		c.space()
		return true, true
	case closing:
		c.i++
		return false, true
	}
	return false, false
}

// str checks a string starting at c.i. It returns its content when it
// has no escapes, nil when it has some, and false when it is not a valid
// JSON string. UTF-8 was checked for the whole job already.
func (c *checker) str() ([]byte, bool) {
	if c.i >= len(c.data) || c.data[c.i] != '"' {
		return nil, false
	}
	c.i++
	start, escaped := c.i, false
	for c.i < len(c.data) {
		b := c.data[c.i]
		switch {
		case b == '"':
			c.i++
			if escaped {
				return nil, true
			}
			return c.data[start : c.i-1], true
		case b == '\\':
			escaped = true
			if c.i+1 >= len(c.data) {
				return nil, false
			}
			switch c.data[c.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				c.i += 2
			case 'u':
				if c.i+6 > len(c.data) {
					return nil, false
				}
				for _, h := range c.data[c.i+2 : c.i+6] {
					if !isHex(h) {
						return nil, false
					}
				}
				c.i += 6
			default:
				return nil, false
			}
		case b < 0x20:
			return nil, false
		default:
			c.i++
		}
	}
	return nil, false
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

// integer checks a JSON number that is a plain integer (no fraction, no
// exponent) in the range of int32, as the walker requires.
func (c *checker) integer() bool {
	neg := false
	if c.i < len(c.data) && c.data[c.i] == '-' {
		neg = true
		c.i++
	}
	start := c.i
	var n int64
	for c.i < len(c.data) && '0' <= c.data[c.i] && c.data[c.i] <= '9' {
		n = n*10 + int64(c.data[c.i]-'0')
		c.i++
		if c.i-start > 10 {
			return false
		}
	}
	digits := c.i - start
	switch {
	case digits == 0, digits > 1 && c.data[start] == '0':
		return false
	case c.i < len(c.data) && (c.data[c.i] == '.' || c.data[c.i] == 'e' || c.data[c.i] == 'E'):
		return false
	case neg:
		return n <= 1<<31
	}
	return n < 1<<31
}

func (c *checker) literal(lit string) bool {
	if len(c.data)-c.i >= len(lit) && string(c.data[c.i:c.i+len(lit)]) == lit {
		c.i += len(lit)
		return true
	}
	return false
}
