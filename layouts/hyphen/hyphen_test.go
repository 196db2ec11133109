package hyphen

import (
	"slices"
	"sync"
	"testing"
)

func TestHyphenate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		locale, word, want string
	}{
		{"en-US", "hyphenation", "hy-phen-ation"},
		{"en-GB", "Minister", "Min-is-ter"},
		{"en", "protection", "pro-tec-tion"},
		{"en-US", "at", "at"}, // shorter than left + right minimum
		{"es-MX", "migrantes", "mi-gran-tes"},
		{"es", "Guatemala", "Gua-te-ma-la"},
		{"fr-CA", "gouvernement", "gou-ver-ne-ment"},
		{"fr", "d’asile", "d’asile"},
		{"pt-BR", "fronteira", "fron-teira"}, // right minimum 3
		{"pt", "proteção", "pro-te-ção"},
		{"de-DE", "Menschenrechte", "Men-schen-rech-te"},
		{"de-AT", "Grenze", "Gren-ze"},
		{"en-US", "covid-19", "covid-19"}, // not one word of letters
	}
	for _, tt := range tests {
		t.Run(tt.locale+"/"+tt.word, func(t *testing.T) {
			t.Parallel()
			h := For(tt.locale)
			if h == nil {
				t.Fatalf("For(%q) = nil", tt.locale)
			}
			if got := h.Hyphenate(tt.word); got != tt.want {
				t.Errorf("Hyphenate(%q) = %q, want %q", tt.word, got, tt.want)
			}
		})
	}
}

func TestMinsFromHeaders(t *testing.T) {
	t.Parallel()
	want := map[string][2]int{"en": {2, 3}, "es": {2, 2}, "fr": {2, 2}, "pt": {2, 3}, "de": {2, 2}}
	for lang, m := range want {
		h := For(lang)
		if got := [2]int{h.MinLeft(), h.MinRight()}; got != m {
			t.Errorf("%s (%s): hyphenmins %v, want %v", lang, h.Lang(), got, m)
		}
	}
}

func TestUnknownLanguage(t *testing.T) {
	t.Parallel()
	for _, l := range []string{"nl-NL", "ar", "", "x"} {
		if h := For(l); h != nil {
			t.Errorf("For(%q) = %s, want nil", l, h.Lang())
		}
	}
	var h *Hyphenator
	if got := h.Points(nil, "hyphenation"); got != nil {
		t.Errorf("nil hyphenator gave %v", got)
	}
}

// The exceptions of the Portuguese file override its patterns.
func TestExceptions(t *testing.T) {
	t.Parallel()
	h := For("pt")
	if len(h.except) == 0 {
		t.Fatal("no exceptions read from hyph-pt.tex")
	}
	for w, pos := range h.except {
		got := h.Points(nil, w)
		var want []int
		for _, p := range pos {
			if p >= h.min[0] && p <= len([]rune(w))-h.min[1] {
				want = append(want, p)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("Points(%q) = %v, want the exception's %v", w, got, want)
		}
	}
}

func TestConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := For("fr").Hyphenate("internationale"); got != "in-ter-na-tio-nale" {
				t.Errorf("got %q", got)
			}
		}()
	}
	wg.Wait()
}

func BenchmarkPoints(b *testing.B) {
	h := For("en-US")
	var dst []int
	for b.Loop() {
		dst = h.Points(dst[:0], "responsibilities")
	}
}
