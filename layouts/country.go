package layouts

import (
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/carta-letters/carta/renderer/job"
)

// country returns how a recipient's country prints: a two-letter ISO
// 3166-1 code in capitals ("MX", "DE") as the country's name in the
// letter's language ("México" in a Spanish letter, "Mexique" in a French
// one, "Mexico" in English), from the CLDR names of golang.org/x/text;
// anything else, a name or an unknown code, as written.
func (c *composer) country(s string) string {
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return s
	}
	r, err := language.ParseRegion(s)
	if err != nil || !r.IsCountry() {
		return s
	}
	if name := display.Regions(c.j.LanguageTag()).Name(r); name != "" {
		return name
	}
	return s
}

// personLines returns the lines of a recipient as printed (see the
// function personLines), the country named in the letter's language.
func (c *composer) personLines(p *job.Person) []string {
	out := personLines(p)
	if p.Country != "" {
		out[len(out)-1] = c.country(p.Country)
	}
	return out
}
