package renderer

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer/job"
)

// TestCopiesSameWithoutFontCache: the copies RenderAll writes with the
// combined letter's font subsets are byte for byte the ones written
// without any cache, in a plain letter and a window layout.
func TestCopiesSameWithoutFontCache(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../shared/jobs/nals-2023.json")
	if err != nil {
		t.Skipf("reference job not beside the repository: %v", err)
	}
	for _, layout := range []string{"", "din5008-b"} {
		name := layout
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			m["output"] = map[string]any{"copies": "per-recipient"}
			if layout != "" {
				m["layout"], m["page_size"] = layout, "a4"
			}
			raw, _ := json.Marshal(m)
			j, err := job.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			outs, err := RenderAll(j)
			if err != nil {
				t.Fatal(err)
			}
			if len(outs) < 3 {
				t.Fatalf("%d outputs; the test wants at least two recipients", len(outs))
			}
			l, _ := lookupLayout(j)
			for _, o := range outs[1:] {
				doc, err := layouts.LayCopy(l, j, o.Recipient)
				if err != nil {
					t.Fatal(err)
				}
				plain, err := write(j, doc, outs[0].Provenance, outs[0].Date, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(plain.PDF, o.PDF) {
					t.Errorf("%s differs from the copy written without the font cache", o.Name)
				}
			}
		})
	}
}

// BenchmarkRenderAllCopies renders the reference letter with one copy
// per recipient.
func BenchmarkRenderAllCopies(b *testing.B) {
	data, err := os.ReadFile("../../shared/jobs/nals-2023.json")
	if err != nil {
		b.Skipf("reference job not beside the repository: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		b.Fatal(err)
	}
	m["output"] = map[string]any{"copies": "per-recipient"}
	raw, _ := json.Marshal(m)
	j, err := job.Decode(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderAll(j); err != nil {
			b.Fatal(err)
		}
	}
}
