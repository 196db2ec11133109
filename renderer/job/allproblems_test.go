package job_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/job"
)

// TestDecodeListsEveryProblem: an unknown field or a value of the wrong
// type does not hide the job's other problems; a field of the wrong type
// is not also reported as empty.
func TestDecodeListsEveryProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
		want []string
		not  []string
	}{
		{"unknown field beside five problems",
			`{"schema":"letter/v1","id":"a b","letterhead":{"name":""},"letter":{"x":1,"date":"2023-02-30","recipients":[{"name":""}],"salutation":"","body":[{"text":"Hi"}],"closing":"Yours"}}`,
			[]string{"letter.x: unknown field", "id: ", "letterhead.name: ", "letter.date: ", "letter.recipients[0].name: ", "letter.salutation: "}, nil},
		{"wrong type is not also empty",
			`{"schema":"letter/v1","id":"ok-1","letterhead":{"name":"A"},"letter":{"recipients":"Mélanie","salutation":"","body":[{"text":"Hi"}],"closing":"Yours"}}`,
			[]string{"letter.recipients: must be an array", "letter.salutation: "}, []string{"at least one"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := job.Decode([]byte(tc.json))
			var ve *job.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Decode error = %v, want a ValidationError", err)
			}
			got := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("problems lack %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("problems have %q:\n%s", n, got)
				}
			}
			seen := map[string]bool{}
			for _, p := range ve.Problems {
				if seen[p.Field] && p.Field != "" {
					t.Errorf("field %s reported twice:\n%s", p.Field, got)
				}
				seen[p.Field] = true
			}
		})
	}
}
