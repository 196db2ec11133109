package api

import (
	"reflect"
	"testing"

	"github.com/carta-letters/carta/queue/client"
)

func TestExplain(t *testing.T) {
	t.Parallel()
	hash := "4a3f0c1d2e5b6a798877665544332211ffeeddccbbaa99887766554433221100"
	tests := []struct {
		name string
		err  client.ResultError
		want []problem
	}{
		{"fields with the field repeated in the message",
			client.ResultError{Code: client.CodeInvalidJob, Message: "letter.x: unknown field", Field: "letter.x",
				Fields: []client.FieldError{{Field: "letter.x", Message: "letter.x: unknown field"}, {Field: "id", Message: "must not be empty"}}},
			[]problem{{"letter.x", "Unknown field"}, {"id", "Must not be empty"}}},
		{"internal prefixes of a layout failure",
			client.ResultError{Code: client.CodeInvalidJob, Message: "lay out letter render-fail-din: letter.recipients[0].address: 9 lines do not fit the din5008-a address window (at most 8)"},
			[]problem{{"letter.recipients[0].address", "9 lines do not fit the din5008-a address window (at most 8)"}}},
		{"another letter at the key, with hashes",
			client.ResultError{Code: client.CodeStorageFailed, Message: `store letter: letters/future-x.pdf already holds a different object (sha256 "` + hash + `", this letter ` + hash + `); left unchanged`},
			[]problem{{"", "Another letter is already stored at letters/future-x.pdf; it was left unchanged"}}},
		{"a bare hash",
			client.ResultError{Code: client.CodeInternal, Message: "render letter x: object " + hash + " vanished"},
			[]problem{{"", "Object vanished"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := explain(&client.Result{Status: client.StatusFailed, Error: &tc.err})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("explain = %q, want %q", got, tc.want)
			}
		})
	}
}
