package job

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/carta-letters/carta/fonts"
)

// textKind says what a string field holds and so which rules apply.
type textKind int

const (
	// line is printed text on one line: names, titles, headings.
	line textKind = iota
	// para is printed text that may hold newlines: paragraphs, list items.
	para
	// meta is not printed but shown by PDF viewers: the title. It needs no
	// font coverage.
	meta
)

// text checks one string field and reports its first problem. An empty
// optional field is fine; required fields must hold more than white space.
func (v *validator) text(path, s string, k textKind, required bool) {
	if strings.TrimSpace(s) == "" {
		switch {
		case required:
			v.add(path, "must not be empty")
		case s != "":
			v.add(path, "must not be blank (leave it out instead)")
		}
		return
	}
	if msg := textProblem(s, k); msg != "" {
		v.add(path, "%s", msg)
	}
}

// textProblem returns what is wrong with a non-empty string, or "".
func textProblem(s string, k textKind) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	limit := MaxStringBytes
	if k == para {
		limit = MaxParagraphBytes
	}
	if len(s) > limit {
		return fmt.Sprintf("is %d bytes long; the limit is %d", len(s), limit)
	}
	if !norm.NFC.IsNormalString(s) {
		return "is not in Unicode Normalization Form C (call Job.Normalize)"
	}
	for i, r := range s {
		if msg := runeProblem(r, k != para); msg != "" {
			return fmt.Sprintf("%s (at byte %d)", msg, i)
		}
	}
	if k == meta {
		return ""
	}
	if err := fonts.Check(s); err != nil {
		var u *fonts.UncoveredError
		if errors.As(err, &u) {
			return u.Error()
		}
		return "check fonts: " + err.Error()
	}
	return ""
}

// runeProblem returns why r is refused in any string, or "".
func runeProblem(r rune, singleLine bool) string {
	switch {
	case r == '\n' && singleLine:
		return "must be a single line: it contains a newline"
	case r == '\n':
		return ""
	case r < 0x20 || r >= 0x7f && r < 0xa0:
		return fmt.Sprintf("contains control character U+%04X", r)
	case r == utf8.RuneError:
		return "contains U+FFFD REPLACEMENT CHARACTER, a sign the text was damaged before it was sent"
	case r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE:
		return fmt.Sprintf("contains noncharacter U+%04X", r)
	case r >= 0xE000 && r <= 0xF8FF || r >= 0xF0000:
		return fmt.Sprintf("contains private-use character U+%04X, which has no agreed meaning", r)
	}
	return ""
}

// quote quotes a value for a message, shortened to 40 characters.
func quote(s string) string {
	const most = 40
	if utf8.RuneCountInString(s) > most {
		s = string([]rune(s)[:most]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
