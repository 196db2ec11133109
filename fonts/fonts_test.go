package fonts

import (
	"errors"
	"strings"
	"testing"
)

func TestSerifChains(t *testing.T) {
	t.Parallel()
	want := map[Style][]string{
		Regular:    {"LiberationSerif", "DejaVuSerif", "DejaVuSans", "DroidSansFallback", "NanumMyeongjo"},
		Bold:       {"LiberationSerif-Bold", "DejaVuSerif-Bold", "DejaVuSans-Bold", "DroidSansFallback", "NanumMyeongjo"},
		Italic:     {"LiberationSerif-Italic", "DejaVuSerif-Italic", "DejaVuSans-Oblique", "DroidSansFallback", "NanumMyeongjo"},
		BoldItalic: {"LiberationSerif-BoldItalic", "DejaVuSerif-BoldItalic", "DejaVuSans-BoldOblique", "DroidSansFallback", "NanumMyeongjo"},
	}
	fam := Serif()
	if fam != Serif() {
		t.Fatal("Serif() returned a different family on the second call")
	}
	if fam.Name() != "Serif" {
		t.Errorf("Name() = %q, want Serif", fam.Name())
	}
	for st, names := range want {
		t.Run(st.String(), func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, f := range fam.Faces(st) {
				got = append(got, f.Name())
			}
			if strings.Join(got, ",") != strings.Join(names, ",") {
				t.Errorf("chain = %v, want %v", got, names)
			}
			if fam.Face(st) != fam.Faces(st)[0] {
				t.Error("Face(st) is not the first face of the chain")
			}
			f := fam.Face(st)
			if f.IsBold() != (st == Bold || st == BoldItalic) {
				t.Errorf("IsBold() = %v", f.IsBold())
			}
			if f.IsItalic() != (st == Italic || st == BoldItalic) {
				t.Errorf("IsItalic() = %v", f.IsItalic())
			}
		})
	}
}

func TestSansChain(t *testing.T) {
	t.Parallel()
	fam := Sans()
	if got := fam.Face(Bold).Name(); got != "LiberationSans-Bold" {
		t.Errorf("Sans bold = %q", got)
	}
	if got := fam.Faces(Italic)[1].Name(); got != "DejaVuSans-Oblique" {
		t.Errorf("Sans italic fallback = %q", got)
	}
	// DejaVu Sans is parsed once and shared by both families.
	if Sans().Faces(Regular)[1] != Serif().Faces(Regular)[2] {
		t.Error("DejaVu Sans parsed twice")
	}
}

func TestLiberationSerifMetrics(t *testing.T) {
	t.Parallel()
	f := Serif().Face(Regular)
	// Values from the font's head, hhea and OS/2 tables.
	checks := []struct {
		name      string
		got, want int
	}{
		{"UnitsPerEm", f.UnitsPerEm(), 2048},
		{"Ascent", f.Ascent(), 1825},
		{"Descent", f.Descent(), -443},
		{"CapHeight", f.CapHeight(), 1341},
		{"Advance(A)", f.Advance('A'), 1479},
		{"Advance(space)", f.Advance(' '), 512},
		{"Advance(missing)", f.Advance('🙂'), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if got, want := f.Width("AA", 10), 2*1479*10/2048.0; got != want {
		t.Errorf("Width(AA, 10) = %v, want %v", got, want)
	}
	if got := Serif().Face(Italic).ItalicAngle(); got > -10 || got < -20 {
		t.Errorf("italic angle = %v, want about -16", got)
	}
}

func TestFaceFor(t *testing.T) {
	t.Parallel()
	fam := Serif()
	tests := []struct {
		name string
		r    rune
		want string // PostScript name of the regular face found, "" for nil
	}{
		{"latin in primary", 'é', "LiberationSerif"},
		{"romanian comma below in primary", 'ș', "LiberationSerif"},
		{"vietnamese in primary", 'ễ', "LiberationSerif"},
		{"greek heta in dejavu serif", 'Ͱ', "DejaVuSerif"},
		{"reference mark in dejavu sans", '※', "DejaVuSans"},
		{"old italic above BMP in dejavu sans", 0x10300, "DejaVuSans"},
		{"emoji nowhere", '🙂', ""},
		{"negative rune nowhere", -1, ""},
		{"beyond unicode nowhere", 0x110000, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := fam.FaceFor(Regular, tc.r)
			got := ""
			if f != nil {
				got = f.Name()
				if !f.Has(tc.r) || f.Advance(tc.r) <= 0 {
					t.Errorf("%s: Has/Advance disagree for %U", got, tc.r)
				}
			}
			if got != tc.want {
				t.Errorf("FaceFor(%U) = %q, want %q", tc.r, got, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		s       string
		badRune rune   // 0: Check must succeed
		reason  string // expected reason
	}{
		{"empty", "", 0, ""},
		{"latin with newline", "Comitė Ciudadano\nLópez Obrador, Mélanie Joly", 0, ""},
		{"vietnamese", "Nguyễn Thị Ánh", 0, ""},
		{"greek and cyrillic", "Ελληνικά Українська Русский", 0, ""},
		{"romanian and hungarian", "ș ț Ș Ț ő Ű ą ė", 0, ""},
		{"typography", "“ ” ‘ ’ — – … € №", 0, ""},
		{"emoji", "ok 🙂", '🙂', ReasonNoFont},
		{"hebrew", "שלום", 0, ""},
		{"hebrew with points", "שָׁלוֹם", 0, ""},
		{"arabic", "مرحبا", 0, ""},
		{"persian and urdu letters", "پچژگ ہے", 0, ""},
		{"syriac", "ܫܠܡܐ", 'ܫ', ReasonRTL},
		{"thaana", "ދިވެހި", 'ދ', ReasonRTL},
		{"nko", "ߒߞߏ", 'ߒ', ReasonRTL},
		{"right to left mark", "a\u200Fb", '\u200F', ReasonRTL},
		{"devanagari", "नमस्ते", 'न', ReasonComplex},
		{"thai", "สวัสดี", 'ส', ReasonComplex},
		{"khmer", "ខ្មែរ", 'ខ', ReasonComplex},
		{"control character", "a\x07", '\x07', ReasonControl},
		{"Chinese", "中华人民共和国外交部", 0, ""},
		{"Japanese", "山田 太郎 やまだ タロウ、「外務省」", 0, ""},
		{"Korean", "대한민국 외교부", 0, ""},
		{"CJK extension B", "\U00020000", '\U00020000', ReasonNoFont},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Check(tc.s)
			if tc.badRune == 0 {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tc.s, err)
				}
				return
			}
			var ue *UncoveredError
			if !errors.As(err, &ue) {
				t.Fatalf("Check(%q) = %v, want *UncoveredError", tc.s, err)
			}
			if ue.Rune != tc.badRune || ue.Reason != tc.reason {
				t.Errorf("Check(%q) = {%U, %q}, want {%U, %q}", tc.s, ue.Rune, ue.Reason, tc.badRune, tc.reason)
			}
		})
	}
}

func TestUncoveredErrorMessage(t *testing.T) {
	t.Parallel()
	err := Check("🙂")
	want := `character "🙂" (U+1F642) is not in any bundled font`
	if err == nil || err.Error() != want {
		t.Errorf("Check(🙂) = %v, want %s", err, want)
	}
}

func TestGlyphName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    rune
		want string
	}{
		{' ', "space"}, {'a', "a"}, {'~', "asciitilde"}, {'é', "eacute"},
		{'ė', "edotaccent"}, {'ő', "ohungarumlaut"}, {'ș', "uni0219"},
		{'“', "quotedblleft"}, {'—', "emdash"}, {'€', "Euro"},
		{'Ж', "uni0416"}, {0x10300, "u10300"}, {0xA0, "uni00A0"},
	}
	for _, tc := range tests {
		if got := GlyphName(tc.r); got != tc.want {
			t.Errorf("GlyphName(%U) = %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestLicenses(t *testing.T) {
	t.Parallel()
	l := Licenses()
	for name, phrase := range map[string]string{
		"Liberation": "SIL Open Font License",
		"DejaVu":     "Bitstream",
		"Droid":      "Apache License",
		"Nanum":      "SIL Open Font License",
		"Noto":       "SIL Open Font License",
	} {
		if !strings.Contains(l[name], phrase) {
			t.Errorf("licence %q does not mention %q", name, phrase)
		}
	}
	if len(l) != 5 {
		t.Errorf("got %d licences, want 5", len(l))
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"otto", append([]byte("OTTO"), make([]byte, 20)...)},
		{"truncated directory", []byte{0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0}},
		{"truncated font", Serif().Face(Regular).data[:1000]},
	}
	for _, tc := range tests {
		if _, err := Parse(tc.data); err == nil || !strings.HasPrefix(err.Error(), "parse font: ") {
			t.Errorf("%s: Parse error = %v", tc.name, err)
		}
	}
}

func BenchmarkWidth(b *testing.B) {
	f := Serif().Face(Regular)
	s := "Comitė Ciudadano, López Obrador — “Mélanie Joly” Nguyễn Thị Ánh"
	b.ReportAllocs()
	for b.Loop() {
		f.Width(s, 11)
	}
}
