package layouts

import (
	"os"
	"testing"

	"github.com/carta-letters/carta/renderer/job"
)

// referenceJob is the reference job beside the job format, relative to
// this package's directory.
const referenceJob = "../../shared/jobs/nals-2023.json"

func loadJob(tb testing.TB, path string) *job.Job {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read job: %v", err)
	}
	j, err := job.Decode(data)
	if err != nil {
		tb.Fatalf("decode job %s: %v", path, err)
	}
	return j
}

func BenchmarkLay(b *testing.B) {
	j := loadJob(b, referenceJob)
	l, ok := Lookup(j.LayoutOrDefault())
	if !ok {
		b.Fatalf("no layout %q", j.LayoutOrDefault())
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Lay(j); err != nil {
			b.Fatal(err)
		}
	}
}
