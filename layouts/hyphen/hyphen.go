package hyphen

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

//go:embed patterns/*.tex
var files embed.FS

// Hyphenator hyphenates the words of one language.
type Hyphenator struct {
	lang     string            // the pattern file's tag, e.g. "en-us"
	pats     map[string][]byte // letters (with '.' for a word edge) -> inter-letter values
	maxLen   int               // longest pattern, in runes
	except   map[string][]int  // lowercased word -> rune positions of its breaks
	min      [2]int            // fewest runes before the first and after the last break
	initOnce sync.Once
}

// Lang returns the tag of the patterns, e.g. "en-us" or "de-1996".
func (h *Hyphenator) Lang() string { return h.lang }

// MinLeft and MinRight return the fewest characters kept before the
// first and after the last hyphen (the patterns' hyphenmins, e.g. 2 and
// 3 for English).
func (h *Hyphenator) MinLeft() int  { return h.min[0] }
func (h *Hyphenator) MinRight() int { return h.min[1] }

// byLang maps a BCP 47 primary language subtag to its pattern file.
var byLang = map[string]*Hyphenator{
	"en": {lang: "en-us"},
	"es": {lang: "es"},
	"fr": {lang: "fr"},
	"pt": {lang: "pt"},
	"de": {lang: "de-1996"},
}

// For returns the hyphenator of a BCP 47 locale ("en-US", "es-MX",
// "fr-CA", "pt-BR", "de-DE"), chosen by its language subtag, or nil when
// Carta has no patterns for the language. The patterns are parsed the
// first time a language is asked for.
func For(locale string) *Hyphenator {
	lang, _, _ := strings.Cut(locale, "-")
	lang, _, _ = strings.Cut(lang, "_")
	h := byLang[strings.ToLower(lang)]
	if h == nil {
		return nil
	}
	h.initOnce.Do(func() {
		b, err := files.ReadFile("patterns/hyph-" + h.lang + ".tex")
		if err == nil {
			err = h.parse(string(b))
		}
		if err != nil {
			// The patterns are compiled in: a failure is a build defect.
			panic(fmt.Sprintf("hyphen: patterns for %s: %v", h.lang, err))
		}
	})
	return h
}

// parse reads a hyph-utf8 .tex file: the hyphenmins header, the
// \patterns{...} block and the optional \hyphenation{...} block.
func (h *Hyphenator) parse(src string) error {
	h.min = [2]int{2, 3}
	h.pats = make(map[string][]byte, 8192)
	h.except = map[string][]int{}
	h.readMins(src)
	pat, ok := block(src, `\patterns{`)
	if !ok {
		return fmt.Errorf("no \\patterns block")
	}
	for _, p := range strings.Fields(pat) {
		h.addPattern(p)
	}
	if len(h.pats) == 0 {
		return fmt.Errorf("no patterns")
	}
	if ex, ok := block(src, `\hyphenation{`); ok {
		for _, w := range strings.Fields(ex) {
			var pos []int
			var word strings.Builder
			n := 0
			for _, r := range w {
				if r == '-' {
					pos = append(pos, n)
					continue
				}
				word.WriteRune(unicode.ToLower(r))
				n++
			}
			h.except[word.String()] = pos
		}
	}
	return nil
}

// readMins reads the header's hyphenmins, preferring the typesetting
// values to the generation ones:
//
//	% hyphenmins:
//	%     typesetting:
//	%         left: 2
//	%         right: 3
func (h *Hyphenator) readMins(src string) {
	i := strings.Index(src, "% hyphenmins:")
	if i < 0 {
		return
	}
	mins := map[string][2]int{}
	section := ""
	for _, l := range strings.Split(src[i:], "\n")[1:] {
		body, ok := strings.CutPrefix(l, "%")
		if !ok || !strings.HasPrefix(body, "  ") {
			break // the next top-level key
		}
		k, v, _ := strings.Cut(strings.TrimSpace(body), ":")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		switch {
		case err != nil:
			section = k
		case k == "left":
			m := mins[section]
			m[0] = n
			mins[section] = m
		case k == "right":
			m := mins[section]
			m[1] = n
			mins[section] = m
		}
	}
	for _, sec := range []string{"generation", "typesetting"} {
		if m := mins[sec]; m[0] > 0 && m[1] > 0 {
			h.min = m
		}
	}
}

// block returns the text between start and its closing brace, with TeX
// comments removed.
func block(src, start string) (string, bool) {
	i := strings.Index(src, start)
	if i < 0 {
		return "", false
	}
	var b strings.Builder
	for _, l := range strings.Split(src[i+len(start):], "\n") {
		if c := strings.IndexByte(l, '%'); c >= 0 {
			l = l[:c]
		}
		if e := strings.IndexByte(l, '}'); e >= 0 {
			b.WriteString(l[:e])
			return b.String(), true
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return "", false
}

// addPattern stores one pattern, e.g. ".ach4" or "1b2l": its letters as
// the key and the digits between them as the values.
func (h *Hyphenator) addPattern(p string) {
	var letters strings.Builder
	vals := make([]byte, 1, len(p)+1)
	for _, r := range p {
		if r >= '0' && r <= '9' {
			vals[len(vals)-1] = byte(r - '0')
			continue
		}
		letters.WriteRune(r)
		vals = append(vals, 0)
	}
	k := letters.String()
	if n := utf8.RuneCountInString(k); n > h.maxLen {
		h.maxLen = n
	}
	h.pats[k] = vals
}

// Points appends to dst the positions, in runes of word, before which a
// hyphen may break it (1 ≤ p ≤ runes-1, at least MinLeft runes before
// and MinRight after), in increasing order, and returns dst. Word is one
// word of letters, in any case; a word with anything but letters,
// combining marks and apostrophes gets no points.
func (h *Hyphenator) Points(dst []int, word string) []int {
	n := utf8.RuneCountInString(word)
	if h == nil || n < h.min[0]+h.min[1] {
		return dst
	}
	// ".word." in lower case, with each rune's byte offset.
	var buf [128]byte
	var offs [66]int
	if n+2 > len(offs) {
		return dst
	}
	w := append(buf[:0], '.')
	k := 0
	for _, r := range word {
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) && r != '\'' && r != '\u2019' {
			return dst
		}
		if r == '\u2019' {
			r = '\''
		}
		k++
		offs[k] = len(w)
		w = utf8.AppendRune(w, unicode.ToLower(r))
	}
	offs[k+1] = len(w)
	w = append(w, '.')
	offs[k+2] = len(w)
	s := string(w)
	if ex, ok := h.except[s[1:len(s)-1]]; ok {
		for _, p := range ex {
			if p >= h.min[0] && p <= n-h.min[1] {
				dst = append(dst, p)
			}
		}
		return dst
	}
	// values[i] is the value between rune i-1 and rune i of ".word.".
	var values [67]byte
	m := n + 2
	for i := 0; i < m; i++ {
		for j := i + 1; j <= m && j-i <= h.maxLen; j++ {
			v, ok := h.pats[s[offs[i]:offs[j]]]
			if !ok {
				continue
			}
			for q, x := range v {
				if x > values[i+q] {
					values[i+q] = x
				}
			}
		}
	}
	// A break before rune p of word is values[p+1] (".word." has the dot
	// first), taken when odd.
	for p := h.min[0]; p <= n-h.min[1]; p++ {
		if values[p+1]%2 == 1 {
			dst = append(dst, p)
		}
	}
	return dst
}

// Hyphenate returns word with hyphens at its break points, e.g.
// "hy-phen-ation": a convenience for tests and tools.
func (h *Hyphenator) Hyphenate(word string) string {
	pts := h.Points(nil, word)
	var b strings.Builder
	i := 0
	for _, r := range word {
		if len(pts) > 0 && pts[0] == i {
			b.WriteByte('-')
			pts = pts[1:]
		}
		b.WriteRune(r)
		i++
	}
	return b.String()
}
