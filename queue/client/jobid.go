package client

import "github.com/carta-letters/carta/renderer/job/jsonscan"

// fastID returns the id json.Unmarshal would read from a job, without
// allocating and in one pass: ok is true only when data is valid JSON, a
// top-level object whose last key matching "id" (ASCII, case-insensitive,
// as encoding/json matches it) holds an ASCII string without escapes.
// Anything else (escaped or non-ASCII keys, an id that is not such a
// string, invalid JSON) returns ok false, and the caller decodes with
// encoding/json, which also words the error. So it only ever saves time:
// FuzzJobID checks it against encoding/json.
//
// Profiled in the worker and the submitter: json.Unmarshal of the
// reference job (16.5 KB) into a one-field struct took 190 µs, as long
// as a twelfth of a render; this scan takes 32 µs (BenchmarkJobID).
func fastID(data []byte) (id string, ok bool) {
	s := jsonscan.Scanner{Data: data}
	s.Space()
	if s.Peek() != '{' {
		return "", false
	}
	s.Pos++
	s.Space()
	var found []byte
	more := s.Peek() != '}'
	if !more {
		s.Pos++
	}
	for more {
		key, ok := s.String()
		if !ok || !isASCII(key) {
			return "", false // escaped or non-ASCII: encoding/json folds it
		}
		s.Space()
		if s.Peek() != ':' {
			return "", false
		}
		s.Pos++
		s.Space()
		if isIDKey(key) {
			v, ok := s.String()
			if !ok || !isASCII(v) {
				// null, another type, escapes, non-ASCII or invalid: let
				// encoding/json decide.
				return "", false
			}
			found = v
		} else if !s.Skip() {
			return "", false
		}
		if more, ok = s.Next('}'); !ok {
			return "", false
		}
	}
	s.Space()
	if s.Pos != len(data) || found == nil {
		return "", false
	}
	return string(found), true
}

// isASCII reports whether b is non-nil (a string without escapes) and
// ASCII only.
func isASCII(b []byte) bool {
	if b == nil {
		return false
	}
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// isIDKey reports whether key matches the field "id" as encoding/json
// matches names: case-insensitively. Keys are plain ASCII here, so ASCII
// folding is exact.
func isIDKey(key []byte) bool {
	return len(key) == 2 && key[0]|0x20 == 'i' && key[1]|0x20 == 'd'
}
