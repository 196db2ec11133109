package job

import "testing"

func TestPageSizeOrDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, locale, pageSize, want string
		layout                       string
	}{
		{"din5008-a is A4 in the US locale", "en-US", "", "a4", "din5008-a"},
		{"din5008-b is A4", "", "", "a4", "din5008-b"},
		{"us-window is Letter in Germany", "de-DE", "", "letter", "us-window"},
		{"letter layout follows the locale", "de-DE", "", "a4", "letter"},
		{"no locale is en-US", "", "", "letter", ""},
		{"page size given wins", "en-US", "a4", "a4", ""},
		{"Canadian French", "fr-CA", "", "letter", ""},
		{"Mexican Spanish", "es-MX", "", "letter", ""},
		{"Philippines", "fil-PH", "", "letter", ""},
		{"Chile", "es-CL", "", "letter", ""},
		{"Puerto Rico", "es-PR", "", "letter", ""},
		{"Spain", "es-ES", "", "a4", ""},
		{"bare es is likely Spain", "es", "", "a4", ""},
		{"bare en is likely the US", "en", "", "letter", ""},
		{"British English", "en-GB", "", "a4", ""},
		{"Lithuanian", "lt", "", "a4", ""},
		{"Brazilian Portuguese", "pt-BR", "", "a4", ""},
		{"Latin America region", "es-419", "", "a4", ""},
		{"legal given", "de-DE", "legal", "legal", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := &Job{Locale: tc.locale, PageSize: tc.pageSize, Layout: tc.layout}
			if got := j.PageSizeOrDefault(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	empty := &Job{ID: "abc-1"}
	if got := empty.LocaleOrDefault(); got != "en-US" {
		t.Errorf("LocaleOrDefault: %q", got)
	}
	if got := empty.LanguageTag().String(); got != "en-US" {
		t.Errorf("LanguageTag: %q", got)
	}
	if got := empty.LayoutOrDefault(); got != "letter" {
		t.Errorf("LayoutOrDefault: %q", got)
	}
	if got := empty.OutputKey(); got != "letters/abc-1.pdf" {
		t.Errorf("OutputKey: %q", got)
	}
	if got := (&Job{ID: "x", Output: &Output{}}).OutputKey(); got != "letters/x.pdf" {
		t.Errorf("OutputKey with empty output: %q", got)
	}
	set := &Job{ID: "x", Locale: "fr-FR", Layout: "joint-statement", Output: &Output{Key: "a/b.pdf"}}
	if set.LocaleOrDefault() != "fr-FR" || set.LayoutOrDefault() != "joint-statement" || set.OutputKey() != "a/b.pdf" {
		t.Errorf("given values not returned: %q %q %q", set.LocaleOrDefault(), set.LayoutOrDefault(), set.OutputKey())
	}
}

func TestDocTitle(t *testing.T) {
	t.Parallel()
	letter := Letter{Subject: "Subject", Recipients: []Person{{Name: "Mélanie Joly"}}}
	tests := []struct {
		name string
		job  Job
		want string
	}{
		{"title first", Job{Title: "Title", Statement: &Statement{Headline: "Headline"}, Letter: letter}, "Title"},
		{"then headline", Job{Statement: &Statement{Headline: "Headline"}, Letter: letter}, "Headline"},
		{"statement without headline", Job{Statement: &Statement{Kicker: "K"}, Letter: letter}, "Subject"},
		{"then subject", Job{Letter: letter}, "Subject"},
		{"then first recipient", Job{Letter: Letter{Recipients: []Person{{Name: "Mélanie Joly"}, {Name: "B"}}}}, "Mélanie Joly"},
		{"nothing", Job{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.job.DocTitle(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
