package job

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that Decode never panics and that it returns either a
// *ValidationError or a job that validates again with no problem.
func FuzzDecode(f *testing.F) {
	f.Add(readReference(f))
	f.Add([]byte(minimal))
	files, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*.json"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := Decode(data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error is not a *ValidationError with problems: %T %v", err, err)
			}
			if j != nil {
				t.Fatal("job returned with an error")
			}
			return
		}
		if err := j.Validate(); err != nil {
			t.Fatalf("decoded job does not re-validate: %v", err)
		}
		_ = j.PageSizeOrDefault()
		_ = j.DocTitle()
		_ = j.OutputKey()
	})
}
