package layouts

import (
	"slices"
	"strings"
	"testing"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts/hyphen"
	"github.com/carta-letters/carta/layouts/markup"
)

// hyphenLines breaks s (11 pt Liberation Serif) to width w with the
// patterns of locale, as running text or as names, and returns the lines
// with the added hyphens shown as "-".
func hyphenLines(t *testing.T, locale, s string, w float64, names bool) []string {
	t.Helper()
	c := &composer{fam: fonts.Serif()}
	c.hyph.h, c.hyph.running = hyphen.For(locale), !names
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
			b.WriteByte('-')
		}
		got := b.String()
		if ln.w > w+1e-6 {
			t.Errorf("line %q is %.2f pt wide, more than %.2f", got, ln.w, w)
		}
		if want := kernedWidth(strings.TrimSuffix(got, "-"), 11); ln.hyph {
			want += kernedWidth("-", 11)
			if d := ln.w - want; d > 0.5 || d < -0.5 {
				t.Errorf("hyphenated line %q: width %.2f, measured %.2f", got, ln.w, want)
			}
		}
		out = append(out, got)
	}
	return out
}

func TestHyphenation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, locale, in string
		w                float64
		names            bool
		want             []string
	}{
		{"running text breaks at a pattern point", "en-US", "The summit provides an opportune forum", kernedWidth("The summit provides an oppor-", 11) + 0.5, false,
			[]string{"The summit provides an oppor-", "tune forum"}},
		{"the job's language chooses the patterns", "es-MX", "los derechos de las personas migrantes", kernedWidth("los derechos de las personas mi-", 11) + 0.5, false,
			[]string{"los derechos de las personas mi-", "grantes"}},
		{"German patterns", "de-DE", "Schutz der Menschenrechte", kernedWidth("Schutz der Menschen-", 11) + 0.5, false,
			[]string{"Schutz der Menschen-", "rechte"}},
		{"no hyphen when the line is nearly full", "en-US", "The summit provides an opportune forum", kernedWidth("The summit provides an", 11) + 5, false,
			[]string{"The summit provides an", "opportune forum"}},
		{"names break at spaces only", "en-US", "Coalition Internationale pour les Migrations", kernedWidth("Coalition Internationale pour les Migra-", 11) + 0.5, true,
			[]string{"Coalition Internationale pour les", "Migrations"}},
		{"a name wider than its column breaks at a pattern point", "de-DE", "Menschenrechtsorganisation", kernedWidth("Menschenrechts-", 11) + 0.5, true,
			[]string{"Menschenrechts-", "organisation"}},
		{"URLs are never hyphenated", "en-US", "see https://example.org/protection/information", kernedWidth("see https://example.org/protec", 11), false,
			[]string{"see https://example.org/", "protection/information"}},
		{"acronyms are left whole", "en-US", "The UNHCR ACNUR ORGANIZATION", kernedWidth("The UNHCR ACNUR ORGANI", 11), false,
			[]string{"The UNHCR ACNUR", "ORGANIZATION"}},
		{"no patterns for the language", "nl-NL", "The summit provides an opportune forum", kernedWidth("The summit provides an oppor-", 11) + 0.5, false,
			[]string{"The summit provides an", "opportune forum"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := hyphenLines(t, tt.locale, tt.in, tt.w, tt.names)
			if !slices.Equal(got, tt.want) {
				t.Errorf("lines of %q in %.1f pt = %q, want %q", tt.in, tt.w, got, tt.want)
			}
		})
	}
}

// In a narrow column many lines could end in a hyphen; never more than
// maxHyphenated in a row do.
func TestHyphenLadder(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("Humanitarian organizations acknowledge comprehensive responsibilities internationally. ", 12)
	lines := hyphenLines(t, "en-US", text, 90, false)
	run, most, total := 0, 0, 0
	for _, l := range lines {
		if strings.HasSuffix(l, "-") {
			run++
			total++
		} else {
			run = 0
		}
		most = max(most, run)
	}
	// Without the limit this text sets four hyphenated lines in a row.
	if total == 0 || most != maxHyphenated {
		t.Errorf("%d hyphenated lines, at most %d in a row (limit %d):\n%s", total, most, maxHyphenated, strings.Join(lines, "\n"))
	}
}
