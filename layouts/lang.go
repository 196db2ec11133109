package layouts

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Element languages (Elem.Lang). A screen reader reads a letter with the
// voice of the document's language (Meta.Language); an Arabic, Hebrew,
// Chinese, Japanese, Korean or Greek name in it, read with an English
// voice, is nonsense. So an element whose own text is mostly in one of
// those scripts, when the document's language is not written in it, gets
// the language the script implies:
//
//	Arabic script                  "ar" (none in an Arabic-script letter: ar, fa, ur, ps, sd, ckb, …)
//	Hebrew                         "he" (none in a Hebrew-script letter: he, yi)
//	Hangul, with or without Han    "ko" (none in a Korean letter)
//	Hiragana or Katakana, ± Han    "ja" (none in a Japanese letter)
//	Han alone                      "zh" (none in a Chinese, Japanese or Korean letter)
//	Greek                          "el" (none in a Greek letter)
//
// "Mostly" is more than half of the element's letters (digits,
// punctuation and spaces do not count), counting the text of its own
// runs, or a Figure's Alt. Latin and Cyrillic text is never tagged: each
// is written in many languages, and a guess ("ru" for a Ukrainian name,
// "en" for a Polish one) would be read worse than the document's voice
// reads it. The rule is a guess from the script only: a Persian name in
// an English letter is tagged "ar", and a name in Han characters alone
// (山田 太郎) "zh" even when it is Japanese. Text in another script inside
// an element mostly in the document's language (a Chinese organisation
// name in brackets in an English paragraph) is not tagged.

// script classes counted by elemLang.
const (
	scOther = iota // letters of a script that is never tagged (Latin, Cyrillic, …)
	scArab
	scHebr
	scHang
	scKana
	scHan
	scGrek
	nScripts
)

// markLangs sets Lang on the elements of doc whose text is mostly in a
// script other than that of the document's language (see above).
func markLangs(doc *Document) {
	if len(doc.Elems) == 0 {
		return
	}
	docScript := "Latn"
	if s, conf := language.Make(doc.Meta.Language).Script(); conf != language.No {
		docScript = s.String()
	}
	index := make(map[*Elem]int, len(doc.Elems))
	for i, e := range doc.Elems {
		index[e] = i
	}
	counts := make([][nScripts]int32, len(doc.Elems))
	var last *Elem
	var n *[nScripts]int32
	for p := range doc.Pages {
		for i := range doc.Pages[p].Texts {
			t := &doc.Pages[p].Texts[i]
			if t.Elem == nil || t.Hyphen {
				continue
			}
			if t.Elem != last {
				k, ok := index[t.Elem]
				if !ok {
					continue // not in the document's list: the writer refuses it
				}
				last, n = t.Elem, &counts[k]
			}
			countScripts(n, t.S)
		}
	}
	for i, e := range doc.Elems {
		if e.Alt != "" {
			countScripts(&counts[i], e.Alt)
		}
		e.Lang = scriptLang(&counts[i], docScript)
	}
}

// countScripts adds the letters of s to n by script class.
func countScripts(n *[nScripts]int32, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c|0x20 && c|0x20 <= 'z' {
				n[scOther]++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if !unicode.IsLetter(r) {
			continue
		}
		switch {
		case r < 0x370: // Latin
			n[scOther]++
		case unicode.Is(unicode.Arabic, r):
			n[scArab]++
		case unicode.Is(unicode.Hebrew, r):
			n[scHebr]++
		case unicode.Is(unicode.Hangul, r):
			n[scHang]++
		case unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r):
			n[scKana]++
		case unicode.Is(unicode.Han, r):
			n[scHan]++
		case unicode.Is(unicode.Greek, r):
			n[scGrek]++
		default:
			n[scOther]++
		}
	}
}

// scriptLang returns the language to tag an element with letters n in a
// document whose language is written in docScript (an ISO 15924 code as
// golang.org/x/text gives it: "Latn", "Arab", "Jpan", "Kore", "Hans", …),
// or "" for the document's language.
func scriptLang(n *[nScripts]int32, docScript string) string {
	total := int32(0)
	for _, k := range n {
		total += k
	}
	// Han counts with kana as Japanese, with Hangul as Korean.
	cjk, lang := n[scHan], "zh"
	switch {
	case n[scKana] > 0:
		cjk, lang = n[scKana]+n[scHan], "ja"
	case n[scHang] > 0:
		cjk, lang = n[scHang]+n[scHan], "ko"
	}
	letters := cjk
	for _, c := range [...]struct {
		sc   int
		lang string
	}{{scArab, "ar"}, {scHebr, "he"}, {scGrek, "el"}} {
		if n[c.sc] > letters {
			letters, lang = n[c.sc], c.lang
		}
	}
	if 2*letters <= total {
		return ""
	}
	// None when the document's language is written in the script.
	switch lang + " " + docScript {
	case "ar Arab", "he Hebr", "el Grek", "ja Jpan", "ko Kore",
		"zh Hans", "zh Hant", "zh Jpan", "zh Kore":
		return ""
	}
	return lang
}
