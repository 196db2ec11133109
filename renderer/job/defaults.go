package job

import (
	"slices"

	"golang.org/x/text/language"
)

// DefaultLocale is the locale of a job that names none.
const DefaultLocale = "en-US"

// DefaultLayout is the layout of a job that names none.
const DefaultLayout = "letter"

// letterRegions use US Letter paper; every other region uses A4.
var letterRegions = []string{
	"US", "CA", "MX", "PH", "CL", "CO", "VE", "CR", "GT", "PR", "DO", "PA", "SV", "NI", "HN",
}

// LocaleOrDefault returns the job's locale, or DefaultLocale ("en-US").
func (j *Job) LocaleOrDefault() string {
	if j.Locale == "" {
		return DefaultLocale
	}
	return j.Locale
}

// LanguageTag returns the job's locale parsed, en-US if it has none or
// it does not parse (a validated job always parses).
func (j *Job) LanguageTag() language.Tag {
	tag, err := language.Parse(j.LocaleOrDefault())
	if err != nil {
		return language.AmericanEnglish
	}
	return tag
}

// LayoutOrDefault returns the job's layout, or DefaultLayout ("letter").
func (j *Job) LayoutOrDefault() string {
	if j.Layout == "" {
		return DefaultLayout
	}
	return j.Layout
}

// PageSizeOrDefault returns the job's page_size; else the paper of its
// layout if the layout is made for one (LayoutPaper: "a4" for din5008-a
// and din5008-b, "letter" for us-window); else "letter" when the locale's
// region (given or, as for "en" or "es", the most likely one) is one of
// the Letter countries (US, CA, MX, PH, CL, CO, VE, CR, GT, PR, DO, PA, SV,
// NI, HN), and "a4" everywhere else.
func (j *Job) PageSizeOrDefault() string {
	if j.PageSize != "" {
		return j.PageSize
	}
	if paper, ok := LayoutPaper[j.Layout]; ok {
		return paper
	}
	region, _ := j.LanguageTag().Region()
	if slices.Contains(letterRegions, region.String()) {
		return "letter"
	}
	return "a4"
}

// OutputKey returns output.key, or "letters/{id}.pdf" when it is not set.
func (j *Job) OutputKey() string {
	if j.Output != nil && j.Output.Key != "" {
		return j.Output.Key
	}
	return "letters/" + j.ID + ".pdf"
}

// PageNumbersAlways reports whether output.page_numbers asks for a page
// number on every letter, one-page letters included.
func (j *Job) PageNumbersAlways() bool {
	return j.Output != nil && j.Output.PageNumbers == "always"
}

// PerRecipient reports whether the job asks for one copy per recipient
// (output.copies is "per-recipient").
func (j *Job) PerRecipient() bool {
	return j.Output != nil && j.Output.Copies == "per-recipient"
}

// DocTitle returns the document title for the PDF metadata: title, else
// the statement headline, else the letter's subject, else the first
// recipient's name, else "".
func (j *Job) DocTitle() string {
	switch {
	case j.Title != "":
		return j.Title
	case j.Statement != nil && j.Statement.Headline != "":
		return j.Statement.Headline
	case j.Letter.Subject != "":
		return j.Letter.Subject
	case len(j.Letter.Recipients) > 0:
		return j.Letter.Recipients[0].Name
	}
	return ""
}
