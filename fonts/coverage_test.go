package fonts

import "testing"

// TestCoverageMatchesCheckRune: the coverage bitmap CheckFamily consults
// agrees with checkRune on every character of the Basic Multilingual
// Plane, for every bundled family.
func TestCoverageMatchesCheckRune(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fam  *Family
	}{{"serif", Serif()}, {"sans", Sans()}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cov := coverageOf(tc.fam)
			wrong := 0
			for r := rune(0); r < 0x10000; r++ {
				if r >= 0xD800 && r <= 0xDFFF {
					continue
				}
				want := r == '\n' || r == ' ' || checkRune(tc.fam, r) == nil
				if cov.ok(r) != want {
					if wrong++; wrong <= 5 {
						t.Errorf("%U: bitmap says %v, checkRune says %v", r, cov.ok(r), want)
					}
				}
			}
			if wrong > 5 {
				t.Errorf("… and %d more", wrong-5)
			}
		})
	}
}

func BenchmarkCheckReferenceNames(b *testing.B) {
	s := "Comitė Ciudadano, López Obrador, Mélanie Joly, Zoë Ærøskøbing, Łódź — “quoted” 2023"
	Serif()
	for b.Loop() {
		if err := Check(s); err != nil {
			b.Fatal(err)
		}
	}
}
