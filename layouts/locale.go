package layouts

import (
	"strconv"

	"github.com/carta-letters/carta/renderer/job"
)

// locale holds the few localised strings and formats a layout prints.
// Languages with a table here: English (the fallback), Spanish, French,
// Portuguese, German, Arabic and Hebrew.
type locale struct {
	lang string // ISO 639 language, lower case: "en", "es", ...
}

func newLocale(j *job.Job) locale {
	base, _ := j.LanguageTag().Base()
	return locale{lang: base.String()}
}

var months = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"es": {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	"pt": {"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
	"ar": {"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"},
	"he": {"ינואר", "פברואר", "מרץ", "אפריל", "מאי", "יוני", "יולי", "אוגוסט", "ספטמבר", "אוקטובר", "נובמבר", "דצמבר"},
}

// longDate formats a YYYY-MM-DD date in the locale's long form:
// en "January 9, 2023", es "9 de enero de 2023", fr "9 janvier 2023"
// ("1er janvier 2023" on the first), pt "9 de janeiro de 2023",
// de "9. Januar 2023", ar "9 يناير 2023", he "9 בינואר 2023". Other
// languages get the ISO 8601 date as written,
// which every reader can parse; so does a malformed date.
func (l locale) longDate(d string) string {
	if len(d) != 10 || d[4] != '-' || d[7] != '-' {
		return d
	}
	y, err1 := strconv.Atoi(d[:4])
	m, err2 := strconv.Atoi(d[5:7])
	day, err3 := strconv.Atoi(d[8:])
	if err1 != nil || err2 != nil || err3 != nil || m < 1 || m > 12 || day < 1 || day > 31 {
		return d
	}
	names, ok := months[l.lang]
	if !ok {
		return d
	}
	month, ys, ds := names[m-1], strconv.Itoa(y), strconv.Itoa(day)
	switch l.lang {
	case "es", "pt":
		return ds + " de " + month + " de " + ys
	case "fr":
		if day == 1 {
			ds = "1er"
		}
		return ds + " " + month + " " + ys
	case "de":
		return ds + ". " + month + " " + ys
	case "ar":
		return ds + " " + month + " " + ys
	case "he":
		return ds + " ב" + month + " " + ys
	}
	return month + " " + ds + ", " + ys
}

// pageOf appends the footer "Page i of N" in the locale's words.
func (l locale) pageOf(dst []byte, i, n int) []byte {
	word, of := "Page ", " of "
	switch l.lang {
	case "es":
		word, of = "Página ", " de "
	case "pt":
		word, of = "Página ", " de "
	case "fr":
		of = " sur "
	case "de":
		word, of = "Seite ", " von "
	case "ar":
		word, of = "الصفحة ", " من "
	case "he":
		word, of = "עמוד ", " מתוך "
	}
	dst = append(dst, word...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	dst = append(dst, of...)
	return strconv.AppendInt(dst, int64(n), 10)
}

// ccLabel returns the label of the copies block.
func (l locale) ccLabel() string {
	switch l.lang {
	case "es":
		return "c.c.:"
	case "fr":
		return "c.c.\u00a0:"
	case "pt":
		return "c/c:"
	case "de":
		return "Kopie an:"
	case "ar":
		return "نسخة إلى:"
	case "he":
		return "העתק:"
	}
	return "cc:"
}

// signatoriesHeading is the default heading of the signatory list.
func (l locale) signatoriesHeading() string {
	switch l.lang {
	case "es":
		return "Firmantes"
	case "fr":
		return "Signataires"
	case "pt":
		return "Signatários"
	case "de":
		return "Unterzeichner"
	case "ar":
		return "المنظمات الموقّعة"
	case "he":
		return "החותמים"
	}
	return "Signatories"
}

// addresseesLabel introduces the other recipients of a window letter,
// whose window shows one of them.
func (l locale) addresseesLabel() string {
	switch l.lang {
	case "es":
		return "También dirigida a:"
	case "fr":
		return "Également adressée à\u00a0:"
	case "pt":
		return "Também dirigida a:"
	case "de":
		return "Gleichlautend an:"
	case "ar":
		return "موجّهة أيضًا إلى:"
	case "he":
		return "נשלח גם אל:"
	}
	return "Also addressed to:"
}

// continued marks a signatory group's name repeated at the top of a
// column that continues it: "(cont.)", "(continuación)", "(suite)".
func (l locale) continued() string {
	switch l.lang {
	case "es":
		return "(continuación)"
	case "fr":
		return "(suite)"
	case "pt":
		return "(continuação)"
	case "de":
		return "(Forts.)"
	}
	return "(cont.)"
}
