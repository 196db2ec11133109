package layouts

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts/markup"
	"github.com/carta-letters/carta/renderer/job"
)

func TestLongDate(t *testing.T) {
	t.Parallel()
	tests := []struct{ lang, date, want string }{
		{"en", "2023-01-09", "January 9, 2023"},
		{"es", "2023-01-09", "9 de enero de 2023"},
		{"fr", "2023-01-09", "9 janvier 2023"},
		{"fr", "2024-03-01", "1er mars 2024"},
		{"pt", "2023-01-09", "9 de janeiro de 2023"},
		{"de", "2023-01-09", "9. Januar 2023"},
		{"de", "2023-12-31", "31. Dezember 2023"},
		{"ar", "2024-07-15", "15 يوليو 2024"},
		{"he", "2024-08-04", "4 באוגוסט 2024"},
		{"it", "2023-01-09", "2023-01-09"},
		{"en", "2023-13-09", "2023-13-09"},
		{"en", "not a date", "not a date"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+" "+tt.date, func(t *testing.T) {
			t.Parallel()
			if got := (locale{lang: tt.lang}).longDate(tt.date); got != tt.want {
				t.Errorf("longDate(%q) in %s = %q, want %q", tt.date, tt.lang, got, tt.want)
			}
		})
	}
}

func TestLocaleFromJob(t *testing.T) {
	t.Parallel()
	tests := []struct{ locale, lang, footer, cc string }{
		{"", "en", "Page 2 of 4", "cc:"},
		{"en-US", "en", "Page 2 of 4", "cc:"},
		{"es-MX", "es", "Página 2 de 4", "c.c.:"},
		{"fr-CA", "fr", "Page 2 sur 4", "c.c.\u00a0:"},
		{"pt-BR", "pt", "Página 2 de 4", "c/c:"},
		{"de-DE", "de", "Seite 2 von 4", "Kopie an:"},
		{"ar-EG", "ar", "الصفحة 2 من 4", "نسخة إلى:"},
		{"he-IL", "he", "עמוד 2 מתוך 4", "העתק:"},
		{"nl-NL", "nl", "Page 2 of 4", "cc:"},
	}
	for _, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			t.Parallel()
			l := newLocale(&job.Job{Locale: tt.locale})
			if l.lang != tt.lang {
				t.Errorf("language = %q, want %q", l.lang, tt.lang)
			}
			if got := string(l.pageOf(nil, 2, 4)); got != tt.footer {
				t.Errorf("footer = %q, want %q", got, tt.footer)
			}
			if got := l.ccLabel(); got != tt.cc {
				t.Errorf("cc label = %q, want %q", got, tt.cc)
			}
		})
	}
}

// setLines breaks s set in Liberation Serif 11 pt to width w.
func setLines(t *testing.T, s string, w float64) []string {
	t.Helper()
	c := &composer{fam: fonts.Serif()}
	c.spans = markup.Parse(nil, s)
	if err := c.shape(fonts.Regular, 11); err != nil {
		t.Fatal(err)
	}
	c.breakLines(w, w)
	var out []string
	for _, ln := range c.lines {
		var b strings.Builder
		for _, g := range c.glyphs[ln.a:ln.b] {
			b.WriteString(c.spans[g.span].Text[g.off : g.off+int32(g.n)])
		}
		if ln.hyph {
			b.WriteRune(hyphenRune)
		}
		got := b.String()
		if width := kernedWidth(got, 11); math.Abs(width-ln.w) > 1e-6 || (ln.w > w && ln.b-ln.a > 1) {
			t.Errorf("line %q: width %.3f, measured %.3f, limit %.1f", got, ln.w, width, w)
		}
		out = append(out, got)
	}
	return out
}

// kernedWidth is the width of s in the Serif family's regular style,
// fallback faces included, with pair kerning.
func kernedWidth(s string, size float64) float64 {
	return (&composer{fam: fonts.Serif()}).measure(s, fonts.Regular, size)
}

func TestBreakLines(t *testing.T) {
	t.Parallel()
	// The width is that of the widest wanted line, plus a little.
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"fits", "Dear Minister,", []string{"Dear Minister,"}},
		{"at spaces", "aaa bbb ccc ddd", []string{"aaa bbb", "ccc ddd"}},
		{"spaces collapse at breaks", "one   two", []string{"one", "two"}},
		{"after hyphen", "non-refoulement", []string{"non-", "refoulement"}},
		{"after slash", "Pop No'j/Guatemala", []string{"Pop No'j/", "Guatemala"}},
		{"after em dash", "pathway—including", []string{"pathway—", "including"}},
		{"not after a leading hyphen", "a -5 b", []string{"a", "-5", "b"}},
		{"by character, with a hyphen", strings.Repeat("x", 26), []string{strings.Repeat("x", 9) + "-", strings.Repeat("x", 9) + "-", strings.Repeat("x", 8)}},
		{"hyphen counted in the width", strings.Repeat("x", 20), []string{strings.Repeat("x", 8) + "-", strings.Repeat("x", 8) + "-", "xxxx"}},
		{"a word too long for any line starts where it is", "ab " + strings.Repeat("x", 30), []string{"ab xxxxxx-", strings.Repeat("x", 9) + "-", strings.Repeat("x", 9) + "-", "xxxxxx"}},
		{"no second hyphen after a dash", "aaaaaaaa–bbbbbbbbbbbbbbbbbbbb", []string{"aaaaaaaa–", "bbbbbbbbb-", "bbbbbbbbb-", "bb"}},
		{"newline", "first\nsecond", []string{"first", "second"}},
		{"between ideographs", "中华人民共和国外交部部长王毅", []string{"中华人民共和国", "外交部部长王毅"}},
		{"not before a full stop or after an opening bracket", "私たちは「外務省」に要請します。", []string{"私たちは「外務", "省」に要請しま", "す。"}},
		{"Latin words inside CJK text stay whole", "外務省 Ministry of Foreign Affairs", []string{"外務省 Ministry of", "Foreign Affairs"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := 0.0
			for _, l := range tt.want {
				w = max(w, kernedWidth(l, 11))
			}
			tt := struct {
				in   string
				w    float64
				want []string
			}{tt.in, w + 0.1, tt.want}
			if got := setLines(t, tt.in, tt.w); !slices.Equal(got, tt.want) {
				t.Errorf("lines of %q in %.0f pt = %q, want %q", tt.in, tt.w, got, tt.want)
			}
		})
	}
}

// fill returns n copies of v.
func fill(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestBalance(t *testing.T) {
	t.Parallel()
	ones := func(n int) []float64 {
		hs := make([]float64, n)
		for i := range hs {
			hs[i] = 10
		}
		return hs
	}
	tests := []struct {
		name   string
		hs     []float64
		ncol   int
		avail  float64
		ok     bool
		splits []int
	}{
		{"even", ones(9), 3, 500, true, []int{0, 3, 6, 9}},
		{"remainder goes first", ones(10), 3, 500, true, []int{0, 4, 7, 10}},
		{"fewer than columns", ones(2), 3, 500, true, []int{0, 1, 2, 2}},
		{"tall entries spread", []float64{30, 30, 30, 30}, 3, 500, true, []int{0, 2, 3, 4}},
		{"does not fit", ones(10), 2, 30, false, nil},
		{"entry taller than the page", []float64{10, 600}, 3, 500, false, nil},
		{"one column", ones(4), 1, 500, true, []int{0, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := len(tt.hs)
			splits, _, ok := balance(tt.hs, fill(n, 2), fill(n, 0), tt.ncol, tt.avail)
			if ok != tt.ok || !slices.Equal(splits, tt.splits) {
				t.Errorf("balance = %v, %v; want %v, %v", splits, ok, tt.splits, tt.ok)
			}
		})
	}
}

func TestBalanceWithinOneLine(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 60; n++ {
		for ncol := 1; ncol <= 6; ncol++ {
			hs := make([]float64, n)
			for i := range hs {
				hs[i] = 10
			}
			splits, _, ok := balance(hs, fill(n, 2), fill(n, 0), ncol, 1000)
			if !ok {
				t.Fatalf("%d entries in %d columns: do not fit", n, ncol)
			}
			lo, hi := n, 0
			for k := range ncol {
				lo, hi = min(lo, splits[k+1]-splits[k]), max(hi, splits[k+1]-splits[k])
			}
			if hi-lo > 1 {
				t.Errorf("%d entries in %d columns: split %v", n, ncol, splits)
			}
		}
	}
}

// TestAlphaSortCollation: sort "alpha" collates by the job's locale, with
// accents after their base letter and numbers in numeric order.
func TestAlphaSortCollation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		locale string
		in     []string
		want   []string
	}{
		{"numbers in numeric order", "es-MX",
			[]string{"Número 10", "Número 9", "Número 100", "Número 1"},
			[]string{"Número 1", "Número 9", "Número 10", "Número 100"}},
		{"accented initials beside their letter in French", "fr-FR",
			[]string{"Zèbre", "Élan", "Œuvre", "Amnesty", "Ecole"},
			[]string{"Amnesty", "Ecole", "Élan", "Œuvre", "Zèbre"}},
		{"Lithuanian y sorts with i", "lt-LT",
			[]string{"Zeta", "Yra", "Jonas", "Ieva"},
			[]string{"Ieva", "Yra", "Jonas", "Zeta"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			entries := make([]job.Entry, len(tc.in))
			for i, n := range tc.in {
				entries[i] = job.Entry{Name: n}
			}
			text := "Body"
			j := &job.Job{Schema: job.Schema, ID: "sort", Locale: tc.locale, Letterhead: job.Letterhead{Name: "Coalition"},
				Letter: job.Letter{Recipients: []job.Person{{Name: "Minister"}}, Salutation: "Dear Minister,",
					Body: []job.Block{{Text: &text}}, Closing: "Sincerely,",
					Signatories: &job.Signatories{Columns: 1, Sort: "alpha", Entries: entries}}}
			l, _ := Lookup("letter")
			d, err := l.Lay(j)
			if err != nil {
				t.Fatal(err)
			}
			s := stream(d)
			last := -1
			for _, w := range tc.want {
				i := strings.Index(s, fold(w))
				if i < 0 || i < last {
					t.Fatalf("order of %q wrong in %q; want %q", w, s, tc.want)
				}
				last = i
			}
		})
	}
}
