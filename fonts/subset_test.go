package fonts

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

func TestSubset(t *testing.T) {
	t.Parallel()
	serif := Serif()
	tests := []struct {
		name  string
		face  *Face
		runes string
	}{
		{"ascii", serif.Face(Regular), " Hello, world!"},
		{"latin extended composites", serif.Face(Regular), " ėąșțőĄŠŽ éàçñ"},
		{"vietnamese bold", serif.Face(Bold), " Nguyễn Thị Ánh"},
		{"greek and cyrillic italic", serif.Face(Italic), " ΕλληνικάУкраїнськаРусский"},
		{"typography bold italic", serif.Face(BoldItalic), " “”‘’—–…€"},
		{"fallback dejavu serif", serif.Faces(Regular)[1], " ͰͱϏ"},
		{"astral in dejavu sans", serif.Faces(Regular)[2], " ※\U00010300\U00010301a"},
		{"only notdef", serif.Face(Regular), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runes := []rune(tc.runes)
			sub, err := tc.face.Subset(runes)
			if err != nil {
				t.Fatal(err)
			}
			again, err := tc.face.Subset(runes)
			if err != nil || !bytes.Equal(sub, again) {
				t.Fatal("Subset is not deterministic")
			}
			checkSums(t, sub)

			// Our own parser.
			mine, err := Parse(sub)
			if err != nil {
				t.Fatalf("re-parse subset: %v", err)
			}
			if mine.Name() != tc.face.Name() || mine.UnitsPerEm() != tc.face.UnitsPerEm() {
				t.Errorf("subset is %s/%d, want %s/%d", mine.Name(), mine.UnitsPerEm(), tc.face.Name(), tc.face.UnitsPerEm())
			}
			distinct := map[rune]bool{}
			for _, r := range runes {
				distinct[r] = true
				if got, want := mine.Advance(r), tc.face.Advance(r); got != want || want == 0 {
					t.Errorf("subset Advance(%U) = %d, want %d", r, got, want)
				}
			}
			if mine.NumRunes() != len(distinct) {
				t.Errorf("subset maps %d runes, want %d", mine.NumRunes(), len(distinct))
			}
			if mine.Has('Q') && !strings.ContainsRune(tc.runes, 'Q') {
				t.Error("subset has a rune it was not asked for")
			}

			// golang.org/x/image/font/sfnt, comparing outlines with the original.
			orig, err := sfnt.Parse(tc.face.data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := sfnt.Parse(sub)
			if err != nil {
				t.Fatalf("sfnt.Parse(subset): %v", err)
			}
			if got.NumGlyphs() != mine.NumGlyphs() {
				t.Errorf("sfnt sees %d glyphs, we see %d", got.NumGlyphs(), mine.NumGlyphs())
			}
			var b1, b2 sfnt.Buffer
			ppem := fixed.I(tc.face.UnitsPerEm())
			for r := range distinct {
				g1, err1 := orig.GlyphIndex(&b1, r)
				g2, err2 := got.GlyphIndex(&b2, r)
				if err1 != nil || err2 != nil || g2 == 0 {
					t.Fatalf("GlyphIndex(%U) = %d, %v / %v", r, g2, err1, err2)
				}
				a1, _ := orig.GlyphAdvance(&b1, g1, ppem, font.HintingNone)
				a2, err := got.GlyphAdvance(&b2, g2, ppem, font.HintingNone)
				if err != nil || a1 != a2 {
					t.Errorf("advance of %U: %v, want %v (%v)", r, a2, a1, err)
				}
				s1, err1 := orig.LoadGlyph(&b1, g1, ppem, nil)
				s1 = append(sfnt.Segments(nil), s1...)
				s2, err2 := got.LoadGlyph(&b2, g2, ppem, nil)
				if err1 != nil || err2 != nil {
					t.Fatalf("LoadGlyph(%U): %v / %v", r, err1, err2)
				}
				if (len(s1) != 0 || len(s2) != 0) && !reflect.DeepEqual(s1, s2) {
					t.Errorf("outline of %U differs in the subset", r)
				}
				name, err := got.GlyphName(&b2, g2)
				if err != nil || name != GlyphName(r) {
					t.Errorf("post name of %U = %q (%v), want %q", r, name, err, GlyphName(r))
				}
			}
		})
	}
}

func TestSubsetKeepsCompositeComponents(t *testing.T) {
	t.Parallel()
	f := Serif().Face(Regular)
	// Find a composite glyph among the accented letters.
	for _, r := range "ėąșțőéàçñ" {
		d, _ := f.glyphData(int(f.glyph(r)))
		if len(d) < 10 || int16(binary.BigEndian.Uint16(d)) >= 0 {
			continue
		}
		sub, err := f.Subset([]rune{r})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := Parse(sub)
		if s.NumGlyphs() <= 2 {
			t.Errorf("subset of composite %U has %d glyphs, want its components too", r, s.NumGlyphs())
		}
		return
	}
	t.Fatal("no composite glyph found among the accented letters")
}

func TestSubsetMissingRune(t *testing.T) {
	t.Parallel()
	_, err := Serif().Face(Regular).Subset([]rune{'a', '🙂'})
	if err == nil || !strings.Contains(err.Error(), "no glyph for U+1F642") || !strings.HasPrefix(err.Error(), "subset font LiberationSerif: ") {
		t.Errorf("error = %v", err)
	}
}

// checkSums verifies every table checksum and head.checkSumAdjustment.
func checkSums(t *testing.T, b []byte) {
	t.Helper()
	n := int(binary.BigEndian.Uint16(b[4:]))
	for i := 0; i < n; i++ {
		rec := b[12+16*i:]
		tag := string(rec[:4])
		sum, off, ln := binary.BigEndian.Uint32(rec[4:]), binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if off%4 != 0 {
			t.Errorf("%s table not 4-byte aligned", tag)
		}
		d := append([]byte(nil), b[off:off+ln]...)
		if tag == "head" {
			binary.BigEndian.PutUint32(d[8:], 0)
		}
		if got := checksum(d); got != sum {
			t.Errorf("%s table checksum %08x, recorded %08x", tag, got, sum)
		}
	}
	if got := checksum(b); got != 0xB1B0AFBA {
		t.Errorf("file checksum %08x, want b1b0afba", got)
	}
}

func BenchmarkSubset(b *testing.B) {
	f := Serif().Face(Regular)
	runes := []rune(" abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:“”’—–éèàçėąș")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Subset(runes); err != nil {
			b.Fatal(err)
		}
	}
}
