package job

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

const referenceJob = "../../../shared/jobs/nals-2023.json"

// readReference returns the reference job's bytes, from the shared/
// folder beside the repository, else the copy in testdata/valid.
func readReference(t testing.TB) []byte {
	t.Helper()
	for _, p := range []string{referenceJob, "testdata/valid/nals-2023.json"} {
		if data, err := os.ReadFile(p); err == nil {
			return data
		}
	}
	t.Fatalf("read reference job: not found at %s", referenceJob)
	return nil
}

// minimal is the smallest valid job, as JSON.
const minimal = `{"schema":"letter/v1","id":"test-1","letterhead":{"name":"Comitė Ciudadano"},
"letter":{"recipients":[{"name":"Mélanie Joly"}],"salutation":"Dear Minister Joly:",
"body":[{"text":"We write to you."}],"closing":"Sincerely,"}}`

// tree is a JSON document as maps and slices, for tests to change.
type tree = map[string]any

func minimalTree(t testing.TB) tree {
	t.Helper()
	var m tree
	if err := json.Unmarshal([]byte(minimal), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// set sets the value at a dotted path such as "letter.recipients.0.name",
// creating objects on the way; a numeric segment indexes an array.
func set(m tree, path string, v any) {
	var cur any = m
	segs := strings.Split(path, ".")
	for i, s := range segs {
		last := i == len(segs)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[s] = v
				return
			}
			if _, ok := c[s]; !ok {
				c[s] = map[string]any{}
			}
			cur = c[s]
		case []any:
			n := atoi(s)
			if last {
				c[n] = v
				return
			}
			cur = c[n]
		}
	}
}

// del deletes the field at a dotted path.
func del(m tree, path string) {
	parent, key := path, ""
	if i := strings.LastIndex(path, "."); i >= 0 {
		parent, key = path[:i], path[i+1:]
	} else {
		delete(m, path)
		return
	}
	var cur any = m
	for s := range strings.SplitSeq(parent, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[s]
		case []any:
			cur = c[atoi(s)]
		}
	}
	delete(cur.(map[string]any), key)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// problemsOf returns the problems of err, failing if err is not a
// *ValidationError.
func problemsOf(t testing.TB, err error) []Problem {
	t.Helper()
	if err == nil {
		t.Fatal("want a *ValidationError, got nil")
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *ValidationError, got %T: %v", err, err)
	}
	if len(ve.Problems) == 0 {
		t.Fatal("*ValidationError with no problems")
	}
	return ve.Problems
}

// wantProblem fails unless err has a problem at field whose message
// contains msg.
func wantProblem(t testing.TB, err error, field, msg string) {
	t.Helper()
	for _, p := range problemsOf(t, err) {
		if p.Field == field && strings.Contains(p.Message, msg) {
			return
		}
	}
	t.Errorf("want a problem %q containing %q; got:\n%v", field, msg, err)
}
