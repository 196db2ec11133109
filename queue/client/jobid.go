package client

// fastID returns the id json.Unmarshal would read from a job, without
// allocating and in one pass: ok is true only when data is valid JSON, a
// top-level object whose last key matching "id" (ASCII, case-insensitive,
// as encoding/json matches it) holds a string without escapes. Anything
// else (escaped or non-ASCII keys, an id that is not a plain string,
// invalid JSON) returns ok false, and the caller decodes with
// encoding/json, which also words the error. So it only ever saves time:
// FuzzJobID checks it against encoding/json.
//
// Profiled in the worker and the submitter: json.Unmarshal of the
// reference job (16.5 KB) into a one-field struct took 190 µs, as long
// as a twelfth of a render; this scan takes 32 µs (BenchmarkJobID).
func fastID(data []byte) (id string, ok bool) {
	s := scanner{data: data}
	s.space()
	if s.i >= len(s.data) || s.data[s.i] != '{' {
		return "", false
	}
	s.i++
	s.space()
	var found []byte
	if s.peek() == '}' {
		s.i++
	} else {
		for {
			key, plain := s.str()
			if !plain {
				return "", false
			}
			s.space()
			if s.peek() != ':' {
				return "", false
			}
			s.i++
			s.space()
			if isIDKey(key) {
				v, plainVal := s.str()
				if !plainVal {
					// null, another type, escapes or invalid: let
					// encoding/json decide.
					return "", false
				}
				found = v
			} else if !s.value(0) {
				return "", false
			}
			s.space()
			switch s.peek() {
			case ',':
				s.i++
				s.space()
				continue
			case '}':
				s.i++
			default:
				return "", false
			}
			break
		}
	}
	s.space()
	if s.i != len(s.data) || found == nil {
		return "", false
	}
	return string(found), true
}

// isIDKey reports whether key matches the field "id" as encoding/json
// matches names: case-insensitively. Keys are plain ASCII here (str
// refuses escapes and non-ASCII bytes in keys), so ASCII folding is exact.
func isIDKey(key []byte) bool {
	return len(key) == 2 && key[0]|0x20 == 'i' && key[1]|0x20 == 'd'
}

// maxDepth is the nesting accepted by the fast scan; deeper documents go
// to encoding/json (whose own limit is 10,000).
const maxDepth = 1000

// scanner is a validating JSON scanner over data from i.
type scanner struct {
	data []byte
	i    int
}

func (s *scanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// str reads a string at s.i. plain is true when it is a valid string of
// ASCII from space to DEL without escapes; then content is its bytes. Otherwise
// s.i is left anywhere: the caller gives up.
func (s *scanner) str() (content []byte, plain bool) {
	if s.peek() != '"' {
		return nil, false
	}
	start := s.i + 1
	for j := start; j < len(s.data); j++ {
		c := s.data[j]
		switch {
		case c == '"':
			s.i = j + 1
			return s.data[start:j:j], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// skipString skips a valid string at s.i (which is '"'), escapes and
// non-ASCII bytes included, as encoding/json accepts it.
func (s *scanner) skipString() bool {
	for j := s.i + 1; j < len(s.data); j++ {
		switch c := s.data[j]; {
		case c == '"':
			s.i = j + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			j++
			if j >= len(s.data) {
				return false
			}
			switch s.data[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s.data) {
					return false
				}
				for k := j + 1; k <= j+4; k++ {
					if !isHexDigit(s.data[k]) {
						return false
					}
				}
				j += 4
			default:
				return false
			}
		}
	}
	return false
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// value skips one valid JSON value at s.i.
func (s *scanner) value(depth int) bool {
	switch c := s.peek(); {
	case c == '"':
		return s.skipString()
	case c == '{':
		return depth < maxDepth && s.object(depth+1)
	case c == '[':
		return depth < maxDepth && s.array(depth+1)
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if len(s.data)-s.i < len(lit) || string(s.data[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

func (s *scanner) object(depth int) bool {
	s.i++ // {
	s.space()
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		if s.peek() != '"' || !s.skipString() {
			return false
		}
		s.space()
		if s.peek() != ':' {
			return false
		}
		s.i++
		s.space()
		if !s.value(depth) {
			return false
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
			s.space()
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array(depth int) bool {
	s.i++ // [
	s.space()
	if s.peek() == ']' {
		s.i++
		return true
	}
	for {
		if !s.value(depth) {
			return false
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
			s.space()
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// number skips a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.peek() == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits skips one or more digits and says whether there was one.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
