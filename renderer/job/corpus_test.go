package job

import (
	"testing"

	"github.com/carta-letters/carta/renderer/job/jobtest"
)

// TestInvalidCorpus decodes every job in testdata/invalid and checks that
// it is refused with the field and message cases.json expects.
func TestInvalidCorpus(t *testing.T) {
	t.Parallel()
	for _, c := range jobtest.Corpus(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			j, err := Decode(c.Data)
			if j != nil {
				t.Errorf("Decode returned a job with the error")
			}
			wantProblem(t, err, c.Field, c.Message)
		})
	}
}
