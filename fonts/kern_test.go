package fonts

import (
	"math"
	"testing"
)

// rawKern scans the face's kern table linearly for the pair (l, r): an
// independent reading of the table to hold Kern to.
func rawKern(f *Face, l, r rune) int {
	t := f.tables["kern"]
	sub := t[4:]
	pairs := int(u16(sub, 6))
	gl, gr := f.glyph(l), f.glyph(r)
	for p := 0; p < pairs; p++ {
		rec := sub[14+6*p:]
		if u16(rec, 0) == gl && u16(rec, 2) == gr {
			return int(int16(u16(rec, 4)))
		}
	}
	return 0
}

func TestKernAgainstTable(t *testing.T) {
	t.Parallel()
	serif := Serif().Face(Regular)
	if got := serif.KernPairs(); got != 867 {
		t.Errorf("Liberation Serif has %d kern pairs, want 867", got)
	}
	tests := []struct {
		name   string
		face   *Face
		l, r   rune
		closes float64 // points at 11 pt; 0: no pair
	}{
		{"AV closes 1.42 pt", serif, 'A', 'V', 1.42},
		{"To closes 0.77 pt", serif, 'T', 'o', 0.77},
		{"Av in bold", Serif().Face(Bold), 'A', 'V', -1},
		{"no pair for ab", serif, 'a', 'b', 0},
		{"Cyrillic pair", serif, 'Б', 'А', -1},
		{"Greek pair", serif, 'Γ', ',', -1},
		{"DejaVu Serif pair", Serif().Faces(Regular)[1], 'A', 'V', -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, want := tt.face.Kern(tt.l, tt.r), rawKern(tt.face, tt.l, tt.r)
			if got != want {
				t.Fatalf("Kern(%q, %q) = %d, the table says %d", tt.l, tt.r, got, want)
			}
			pt := -float64(got) * 11 / float64(tt.face.UnitsPerEm())
			switch {
			case tt.closes > 0 && math.Abs(pt-tt.closes) > 0.005:
				t.Errorf("Kern(%q, %q) closes %.3f pt at 11 pt, want %.2f", tt.l, tt.r, pt, tt.closes)
			case tt.closes < 0 && got >= 0:
				t.Errorf("Kern(%q, %q) = %d, want a negative pair", tt.l, tt.r, got)
			case tt.closes == 0 && got != 0:
				t.Errorf("Kern(%q, %q) = %d, want 0", tt.l, tt.r, got)
			}
		})
	}
}

func TestKernedUnits(t *testing.T) {
	t.Parallel()
	f := Serif().Face(Regular)
	s := "AVATAR To"
	want := f.Units(s)
	prev := rune(-1)
	for _, r := range s {
		if prev >= 0 {
			want += rawKern(f, prev, r)
		}
		prev = r
	}
	if got := f.KernedUnits(s); got != want || got >= f.Units(s) {
		t.Errorf("KernedUnits(%q) = %d, want %d (unkerned %d)", s, got, want, f.Units(s))
	}
	// Scripts outside Latin, Greek and Cyrillic are never kerned here.
	if Kernable('\u05D0') || Kernable('\u4E2D') || !Kernable('é') || !Kernable('\u2019') {
		t.Error("Kernable misclassifies a script")
	}
}
