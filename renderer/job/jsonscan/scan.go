package jsonscan

// MaxDepth is the nesting Skip accepts; deeper values are refused (the
// callers then fall back to encoding/json, whose limit is 10,000).
const MaxDepth = 1000

// Scanner reads Data from Pos. A method that returns false leaves Pos
// anywhere: the caller gives up on the document.
type Scanner struct {
	Data []byte
	Pos  int
}

// Peek returns the byte at Pos, or 0 at the end.
func (s *Scanner) Peek() byte {
	if s.Pos < len(s.Data) {
		return s.Data[s.Pos]
	}
	return 0
}

// Space skips JSON whitespace.
func (s *Scanner) Space() {
	for s.Pos < len(s.Data) {
		switch s.Data[s.Pos] {
		case ' ', '\t', '\n', '\r':
			s.Pos++
		default:
			return
		}
	}
}

// String reads a string starting at Pos. ok is false when there is no
// valid JSON string there; content is its bytes when it has no escapes,
// nil when it has some.
func (s *Scanner) String() (content []byte, ok bool) {
	if s.Peek() != '"' {
		return nil, false
	}
	start, escaped := s.Pos+1, false
	for i := start; i < len(s.Data); {
		switch b := s.Data[i]; {
		case b == '"':
			s.Pos = i + 1
			if escaped {
				return nil, true
			}
			return s.Data[start:i:i], true
		case b == '\\':
			escaped = true
			if i+1 >= len(s.Data) {
				return nil, false
			}
			switch s.Data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s.Data) {
					return nil, false
				}
				for _, h := range s.Data[i+2 : i+6] {
					if !isHex(h) {
						return nil, false
					}
				}
				i += 6
			default:
				return nil, false
			}
		case b < 0x20:
			return nil, false
		default:
			i++
		}
	}
	return nil, false
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

// Literal reads lit (true, false or null) at Pos.
func (s *Scanner) Literal(lit string) bool {
	if len(s.Data)-s.Pos >= len(lit) && string(s.Data[s.Pos:s.Pos+len(lit)]) == lit {
		s.Pos += len(lit)
		return true
	}
	return false
}

// Number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *Scanner) Number() bool {
	if s.Peek() == '-' {
		s.Pos++
	}
	switch c := s.Peek(); {
	case c == '0':
		s.Pos++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.Peek() == '.' {
		s.Pos++
		if !s.digits() {
			return false
		}
	}
	if c := s.Peek(); c == 'e' || c == 'E' {
		s.Pos++
		if c := s.Peek(); c == '+' || c == '-' {
			s.Pos++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits skips digits and says whether there was one.
func (s *Scanner) digits() bool {
	start := s.Pos
	for s.Pos < len(s.Data) && '0' <= s.Data[s.Pos] && s.Data[s.Pos] <= '9' {
		s.Pos++
	}
	return s.Pos > start
}

// Next reads what follows a member of an object or array, after optional
// whitespace: a comma (more to come; whitespace after it skipped too) or
// the closing delimiter (done). Anything else is not ok.
func (s *Scanner) Next(closing byte) (more, ok bool) {
	s.Space()
	switch s.Peek() {
	case ',':
		s.Pos++
		s.Space()
		return true, true
	case closing:
		s.Pos++
		return false, true
	}
	return false, false
}

// Skip reads one value of any kind at Pos, nested at most MaxDepth deep.
func (s *Scanner) Skip() bool { return s.skip(0) }

func (s *Scanner) skip(depth int) bool {
	switch c := s.Peek(); {
	case c == '"':
		_, ok := s.String()
		return ok
	case c == '{', c == '[':
		if depth >= MaxDepth {
			return false
		}
		return s.container(c, depth+1)
	case c == '-' || '0' <= c && c <= '9':
		return s.Number()
	case c == 't':
		return s.Literal("true")
	case c == 'f':
		return s.Literal("false")
	case c == 'n':
		return s.Literal("null")
	}
	return false
}

// container skips an object ({) or array ([) at Pos.
func (s *Scanner) container(open byte, depth int) bool {
	closing := byte('}')
	if open == '[' {
		closing = ']'
	}
	s.Pos++
	s.Space()
	if s.Peek() == closing {
		s.Pos++
		return true
	}
	for {
		if open == '{' {
			if _, ok := s.String(); !ok {
				return false
			}
			s.Space()
			if s.Peek() != ':' {
				return false
			}
			s.Pos++
			s.Space()
		}
		if !s.skip(depth) {
			return false
		}
		if more, ok := s.Next(closing); !more {
			return ok
		}
	}
}
