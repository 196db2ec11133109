// Package ids is the contract's job id syntax: 1 to MaxBytes of A-Z a-z
// 0-9 . _ -, not starting with ".". The validator (renderer/job) words
// what is wrong with an id; the queue and its client (queue/client) only
// need yes or no. It imports nothing, so that the small client package
// can use it.
package ids

// MaxBytes is the longest id: 128.
const MaxBytes = 128

// Valid reports whether id has the contract's syntax.
func Valid(id string) bool {
	return id != "" && len(id) <= MaxBytes && id[0] != '.' && Chars(id)
}

// Chars reports whether every byte of id is one of A-Z a-z 0-9 . _ -.
func Chars(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
