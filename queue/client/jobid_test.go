package client

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// slowID is what fastID must agree with: encoding/json's reading.
func slowID(data []byte) (string, bool) {
	var head struct {
		ID *string `json:"id"`
	}
	if json.Unmarshal(data, &head) != nil || head.ID == nil {
		return "", false
	}
	return *head.ID, true
}

// jobIDCases are inputs where a hand-written scanner could disagree with
// encoding/json; they seed FuzzJobID too.
var jobIDCases = []struct {
	name, json string
	fast       bool // fastID answers (ok true) rather than deferring to encoding/json
}{
	{"plain", `{"id":"nals-2023"}`, true},
	{"spaces everywhere", " \t\r\n{ \"id\" : \"a\" , \"x\" : [ 1 , { } , [ ] ] } \n", true},
	{"id after nested values", `{"letter":{"id":"inner","a":[1,-2.5e+3,true,false,null,"s\u00e9\n"]},"id":"outer"}`, true},
	{"upper-case key", `{"ID":"a"}`, true},
	{"mixed-case key", `{"Id":"a"}`, true},
	{"last duplicate wins", `{"id":"a","id":"b"}`, true},
	{"non-ASCII value", `{"id":"café"}`, false},
	{"escaped value", `{"id":"a\u0062"}`, false},
	{"escaped key", `{"\u0069d":"a"}`, false},
	{"kelvin-sign key", `{"\u212a":"a","id":"b"}`, false},
	{"null id", `{"id":null}`, false},
	{"null after string", `{"id":"a","id":null}`, false},
	{"number id", `{"id":7}`, false},
	{"no id", `{"schema":"letter/v1"}`, false},
	{"empty object", `{}`, false},
	{"top-level null", `null`, false},
	{"top-level array", `["a"]`, false},
	{"trailing garbage", `{"id":"a"}x`, false},
	{"two values", `{"id":"a"}{}`, false},
	{"truncated", `{"id":"a","x":[1,2`, false},
	{"leading zero", `{"id":"a","x":01}`, false},
	{"bare minus", `{"id":"a","x":-}`, false},
	{"dot without digits", `{"id":"a","x":1.}`, false},
	{"exponent without digits", `{"id":"a","x":1e+}`, false},
	{"bad escape elsewhere", `{"id":"a","x":"\q"}`, false},
	{"short unicode escape", `{"id":"a","x":"\u12"}`, false},
	{"control character elsewhere", "{\"id\":\"a\",\"x\":\"\x01\"}", false},
	{"invalid UTF-8 elsewhere", "{\"id\":\"a\",\"x\":\"\xff\"}", true},
	{"trailing comma", `{"id":"a",}`, false},
	{"missing colon", `{"id" "a"}`, false},
	{"single quotes", `{'id':'a'}`, false},
	{"misspelt literal", `{"id":"a","x":nul}`, false},
	{"byte-order mark", "\ufeff{\"id\":\"a\"}", false},
	{"deep nesting", `{"x":` + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + `,"id":"a"}`, false},
}

func TestFastIDAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range jobIDCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id, ok := fastID([]byte(tc.json))
			if ok != tc.fast {
				t.Fatalf("fastID ok = %v, want %v", ok, tc.fast)
			}
			if want, wantOK := slowID([]byte(tc.json)); ok && (!wantOK || id != want) {
				t.Fatalf("fastID = %q; encoding/json reads %q (found %v)", id, want, wantOK)
			}
		})
	}
}

func TestFastIDReferenceJob(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../../shared/jobs/nals-2023.json")
	if err != nil {
		t.Skipf("reference job not beside the repository: %v", err)
	}
	id, ok := fastID(data)
	want, _ := slowID(data)
	if !ok || id != want {
		t.Fatalf("fastID = %q, %v; want %q", id, ok, want)
	}
}

// FuzzJobID checks that JobID's fast path never disagrees with
// encoding/json: whenever fastID answers, encoding/json reads the same id.
func FuzzJobID(f *testing.F) {
	for _, tc := range jobIDCases {
		f.Add([]byte(tc.json))
	}
	if data, err := os.ReadFile("../../../shared/jobs/nals-2023.json"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		id, ok := fastID(data)
		if !ok {
			return
		}
		want, wantOK := slowID(data)
		if !wantOK || id != want {
			t.Fatalf("fastID(%q) = %q; encoding/json reads %q (found %v)", data, id, want, wantOK)
		}
	})
}

func BenchmarkJobID(b *testing.B) {
	data, err := os.ReadFile("../../../shared/jobs/nals-2023.json")
	if err != nil {
		b.Skipf("reference job not beside the repository: %v", err)
	}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, err := JobID(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, ok := slowID(data); !ok {
				b.Fatal("no id")
			}
		}
	})
}
