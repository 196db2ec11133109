package queue

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"

	"github.com/nats-io/nats.go"

	"github.com/carta-letters/carta/queue/client"
)

// ValidID reports whether id has the contract's syntax: 1 to 128 of
// A-Z a-z 0-9 . _ -, not starting with "." (client.ValidID).
func ValidID(id string) bool { return client.ValidID(id) }

// Token returns the form of a valid job id used in subjects and as a
// key-value key: the id itself, unless it ends with "." or contains "..",
// which NATS cannot carry; then every "." is written "=2E" (client.Token).
func Token(id string) string { return client.Token(id) }

// ResultSubject is the subject of the result event of job id under
// prefix (Config.ResultsSubject, "carta.results" by default): see
// client.ResultSubject.
func ResultSubject(prefix, id string) string { return client.ResultSubject(prefix, id) }

// peekID finds the job id of a message without validating the job: the
// body's "id" when it has the contract's syntax (read from the body's
// first JSON value, so that a job followed by trailing data still has
// its id, and its invalid_job failure reaches whoever waits on that id),
// else the Nats-Msg-Id header when that has it, else "".
func peekID(data []byte, h nats.Header) string {
	if id, err := client.JobID(data); err == nil {
		return id
	}
	var head struct {
		ID string `json:"id"`
	}
	if json.NewDecoder(bytes.NewReader(data)).Decode(&head) == nil && ValidID(head.ID) {
		return head.ID
	}
	if id := h.Get(nats.MsgIdHdr); ValidID(id) {
		return id
	}
	return ""
}

// checkKey returns what is wrong with an output key, or "".
func checkKey(key string) string {
	switch {
	case key == "":
		return "must not be empty"
	case len(key) > 1024:
		return "must be at most 1024 bytes"
	case strings.HasPrefix(key, "/"):
		return "must not start with \"/\""
	case hasDotSegment(key):
		return "must not have \".\" or \"..\" path segments"
	case strings.IndexFunc(key, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// hasDotSegment reports whether a "/"-separated key has a segment that is
// exactly "." or "..". Dots elsewhere ("a..b", "x..pdf") are fine.
func hasDotSegment(key string) bool {
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
