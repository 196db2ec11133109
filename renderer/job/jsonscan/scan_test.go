package jsonscan_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/job/jsonscan"
)

// valid reports whether Skip reads all of data as one value.
func valid(data []byte) bool {
	s := jsonscan.Scanner{Data: data}
	s.Space()
	if !s.Skip() {
		return false
	}
	s.Space()
	return s.Pos == len(data)
}

var skipCases = []struct{ name, json string }{
	{"object", ` {"a": [1, -2.5e+3, true, false, null, "s\u00e9\n"], "b": {}} `},
	{"empty array", `[]`},
	{"string with every escape", `"\" \\ \/ \b \f \n \r \t \u12aF"`},
	{"invalid UTF-8 in a string", "\"\xff\""},
	{"zero", `0`},
	{"leading zero", `01`},
	{"bare minus", `-`},
	{"dot without digits", `1.`},
	{"exponent without digits", `1e+`},
	{"bad escape", `"\q"`},
	{"short unicode escape", `"\u12"`},
	{"control character", "\"\x01\""},
	{"trailing comma", `[1,]`},
	{"missing colon", `{"a" 1}`},
	{"non-string key", `{1:2}`},
	{"single quotes", `'a'`},
	{"misspelt literal", `nul`},
	{"unclosed", `{"a":[1,2`},
	{"two values", `1 2`},
	{"empty", ``},
	{"1000 levels", strings.Repeat("[", 1000) + strings.Repeat("]", 1000)},
}

// TestSkipAgreesWithEncodingJSON: Skip accepts exactly what json.Valid
// accepts, up to MaxDepth.
func TestSkipAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range skipCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, want := valid([]byte(tc.json)), json.Valid([]byte(tc.json)); got != want {
				t.Fatalf("Skip accepts = %v, json.Valid = %v", got, want)
			}
		})
	}
}

func TestSkipRefusesDeeperThanMaxDepth(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", jsonscan.MaxDepth+1) + strings.Repeat("]", jsonscan.MaxDepth+1)
	if valid([]byte(deep)) {
		t.Fatal("Skip accepted a value nested deeper than MaxDepth")
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, content string
		plain, ok         bool
		pos               int
	}{
		{"plain", `"abc" x`, "abc", true, true, 5},
		{"escaped", `"a\nb"`, "", false, true, 6},
		{"not a string", `abc`, "", false, false, 0},
		{"unterminated", `"abc`, "", false, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := jsonscan.Scanner{Data: []byte(tc.in)}
			content, ok := s.String()
			if ok != tc.ok || (content != nil) != tc.plain || string(content) != tc.content || (ok && s.Pos != tc.pos) {
				t.Fatalf("String = %q, %v at %d; want %q, plain %v, ok %v at %d", content, ok, s.Pos, tc.content, tc.plain, tc.ok, tc.pos)
			}
		})
	}
}

// FuzzSkip checks Skip against json.Valid on any input not nested
// deeper than MaxDepth.
func FuzzSkip(f *testing.F) {
	for _, tc := range skipCases {
		f.Add([]byte(tc.json))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if strings.Count(string(data), "[")+strings.Count(string(data), "{") > jsonscan.MaxDepth {
			return
		}
		if got, want := valid(data), json.Valid(data); got != want {
			t.Fatalf("Skip accepts %q = %v, json.Valid = %v", data, got, want)
		}
	})
}
