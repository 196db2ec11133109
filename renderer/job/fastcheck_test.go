package job

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// detailedProblems runs Decode's detailed checks (checkSyntax and the
// walker) and returns what they find, "" when nothing.
func detailedProblems(data []byte) string {
	if len(data) > MaxJobBytes {
		return "too big"
	}
	if err := checkSyntax(data); err != nil {
		return err.Error()
	}
	w := walker{dec: json.NewDecoder(bytes.NewReader(data)), badUTF8: -1, data: data}
	w.dec.UseNumber()
	if i := firstInvalidUTF8(data); i >= 0 {
		w.badUTF8 = i
	}
	w.value("", reflect.TypeFor[Job](), 0)
	if err := w.ps.err(); err != nil {
		return err.Error()
	}
	return ""
}

// checkFastAgrees fails when the fast check accepts what the detailed
// checks refuse, or decodes differently.
func checkFastAgrees(t *testing.T, data []byte) {
	t.Helper()
	if !fastCheck(data) {
		return
	}
	if p := detailedProblems(data); p != "" {
		t.Fatalf("fast check accepted a job the detailed checks refuse (%s):\n%s", p, data)
	}
	var fast, slow Job
	if err := json.Unmarshal(data, &fast); err != nil {
		t.Fatalf("fast check accepted a job json.Unmarshal refuses: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&slow); err != nil {
		t.Fatalf("fast check accepted a job the strict decoder refuses: %v", err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decoded differently:\n%+v\n%+v", fast, slow)
	}
}

func TestFastCheckAgreesWithDetailedChecks(t *testing.T) {
	t.Parallel()
	m := strings.TrimSuffix(minimal, "}")
	cases := []struct {
		name   string
		job    string
		accept bool // the fast check takes it (else the detailed checks decide)
	}{
		{"minimal job", minimal, true},
		{"surrounded by white space", " \t\r\n" + minimal + "\n ", true},
		{"escapes in values", m + `,"title":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"}`, true},
		{"columns in range", m[:len(m)-1] + `,"signatories":{"columns":6,"entries":[{"name":"A"}]}}}`, true},
		{"columns negative", m[:len(m)-1] + `,"signatories":{"columns":-3,"entries":[{"name":"A"}]}}}`, true},
		{"columns zero (refused by the walker)", m[:len(m)-1] + `,"signatories":{"columns":0,"entries":[{"name":"A"}]}}}`, false},
		{"columns minus zero", m[:len(m)-1] + `,"signatories":{"columns":-0,"entries":[{"name":"A"}]}}}`, false},
		{"numbered true", strings.Replace(minimal, `{"text":"We write to you."}`, `{"list":["a"],"numbered":true}`, 1), true},
		{"empty arrays and objects", m + `,"contact":{"lines":[]},"output":{}}`, true},
		{"byte order mark", "\xef\xbb\xbf" + minimal, false},
		{"empty", "", false},
		{"only space", "  ", false},
		{"trailing data", minimal + "{}", false},
		{"trailing comma in object", m + `,}`, false},
		{"trailing comma in array", strings.Replace(minimal, `"body":[{"text":"We write to you."}]`, `"body":[{"text":"We write to you."},]`, 1), false},
		{"unknown field", m + `,"extra":1}`, false},
		{"field in another case", m + `,"Title":"x"}`, false},
		{"duplicate key", m + `,"id":"again"}`, false},
		{"escaped key", m + `,"t\u0069tle":"x"}`, false},
		{"null", m + `,"title":null}`, false},
		{"number for a string", m + `,"title":1}`, false},
		{"string for an integer", m[:len(m)-1] + `,"signatories":{"columns":"2","entries":[{"name":"A"}]}}}`, false},
		{"fraction for an integer", m[:len(m)-1] + `,"signatories":{"columns":2.0,"entries":[{"name":"A"}]}}}`, false},
		{"exponent for an integer", m[:len(m)-1] + `,"signatories":{"columns":2e0,"entries":[{"name":"A"}]}}}`, false},
		{"integer past int32", m[:len(m)-1] + `,"signatories":{"columns":2147483648,"entries":[{"name":"A"}]}}}`, false},
		{"integer with a leading zero", m[:len(m)-1] + `,"signatories":{"columns":02,"entries":[{"name":"A"}]}}}`, false},
		{"control character in a string", m + ",\"title\":\"a\tb\"}", false},
		{"bad escape", m + `,"title":"a\x"}`, false},
		{"short unicode escape", m + `,"title":"a\u00e"}`, false},
		{"invalid UTF-8", m + ",\"title\":\"a\xffb\"}", false},
		{"unterminated", minimal[:len(minimal)-1], false},
		{"array for the job", "[" + minimal + "]", false},
		{"misspelled literal", strings.Replace(minimal, `{"text":"We write to you."}`, `{"list":["a"],"numbered":tru}`, 1), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tc.job)
			if got := fastCheck(data); got != tc.accept {
				t.Errorf("fastCheck = %v, want %v", got, tc.accept)
			}
			checkFastAgrees(t, data)
		})
	}
}

func TestFastCheckAgreesOnTestdata(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for _, f := range append(files, referenceJob) {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		checkFastAgrees(t, data)
		if fastCheck(data) {
			accepted++
		}
	}
	if !fastCheck(readReference(t)) {
		t.Error("the fast check does not take the reference job")
	}
	if accepted == 0 {
		t.Error("the fast check took no job of testdata")
	}
}

// FuzzFastCheck checks that the fast check never accepts what the
// detailed checks refuse.
func FuzzFastCheck(f *testing.F) {
	f.Add(readReference(f))
	f.Add([]byte(minimal))
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastAgrees(t, data)
	})
}
