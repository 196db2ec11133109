package fonts

import (
	"fmt"
	"sync"
	"unicode"
	"unicode/utf8"
)

// UncoveredError reports a character Carta cannot print.
type UncoveredError struct {
	Rune   rune
	Reason string // e.g. "is not in any bundled font"
}

// Error returns e.g. `character "🙂" (U+1F642) is not in any bundled font`.
func (e *UncoveredError) Error() string {
	return fmt.Sprintf("character %q (U+%04X) %s", string(e.Rune), e.Rune, e.Reason)
}

// Reasons given by Check.
const (
	ReasonNoFont  = "is not in any bundled font"
	ReasonRTL     = "needs right-to-left shaping, which Carta does not support for this script"
	ReasonComplex = "needs complex-script shaping, which Carta does not support"
	ReasonControl = "is a control character, which cannot be printed"
)

// rtlScripts are written right to left; without bidi and shaping their
// text would print in the wrong order or with unjoined letters. Arabic
// and Hebrew are not among them: layout shapes them (NeedsShaping).
// Bidi controls stay refused: the order of a line comes from the text
// alone.
var rtlScripts = []*unicode.RangeTable{
	unicode.Syriac, unicode.Thaana, unicode.Nko,
	unicode.Samaritan, unicode.Mandaic, unicode.Adlam, unicode.Hanifi_Rohingya,
	unicode.Imperial_Aramaic, unicode.Phoenician, unicode.Kharoshthi,
	unicode.Old_South_Arabian, unicode.Old_North_Arabian, unicode.Avestan,
	unicode.Inscriptional_Parthian, unicode.Inscriptional_Pahlavi,
	unicode.Psalter_Pahlavi, unicode.Old_Turkic, unicode.Old_Hungarian,
	unicode.Lydian, unicode.Nabataean, unicode.Palmyrene, unicode.Hatran,
	unicode.Manichaean, unicode.Mende_Kikakui, unicode.Cypriot, unicode.Elymaic,
	unicode.Sogdian, unicode.Old_Sogdian, unicode.Chorasmian, unicode.Yezidi,
	unicode.Old_Uyghur,
	unicode.Bidi_Control,
}

// complexScripts need reordering, conjuncts or mark positioning from a
// shaping engine to print correctly.
var complexScripts = []*unicode.RangeTable{
	unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati,
	unicode.Oriya, unicode.Tamil, unicode.Telugu, unicode.Kannada,
	unicode.Malayalam, unicode.Sinhala, unicode.Thai, unicode.Lao,
	unicode.Tibetan, unicode.Myanmar, unicode.Khmer, unicode.Mongolian,
	unicode.Balinese, unicode.Javanese, unicode.Tai_Tham, unicode.Tai_Viet,
	unicode.New_Tai_Lue, unicode.Buginese, unicode.Batak, unicode.Sundanese,
	unicode.Lepcha, unicode.Limbu, unicode.Chakma, unicode.Brahmi,
	unicode.Grantha, unicode.Sharada, unicode.Tirhuta, unicode.Takri,
	unicode.Khojki, unicode.Khudawadi, unicode.Mahajani, unicode.Modi,
	unicode.Newa, unicode.Siddham, unicode.Dives_Akuru, unicode.Nandinagari,
	unicode.Zanabazar_Square, unicode.Soyombo, unicode.Dogra,
	unicode.Masaram_Gondi, unicode.Gunjala_Gondi, unicode.Kaithi,
	unicode.Syloti_Nagri, unicode.Saurashtra, unicode.Kayah_Li, unicode.Cham,
	unicode.Meetei_Mayek, unicode.Ahom, unicode.Bhaiksuki, unicode.Tagalog,
	unicode.Hanunoo, unicode.Buhid, unicode.Tagbanwa, unicode.Rejang,
	unicode.Tai_Le, unicode.Phags_Pa, unicode.Kawi,
}

// scriptReason returns why r cannot be printed without shaping, or "".
func scriptReason(r rune) string {
	if r < 0x0590 { // Latin, Greek, Cyrillic, Armenian...
		return ""
	}
	for _, t := range rtlScripts {
		if unicode.Is(t, r) {
			return ReasonRTL
		}
	}
	for _, t := range complexScripts {
		if unicode.Is(t, r) {
			return ReasonComplex
		}
	}
	return ""
}

// Check returns nil if every rune of s prints in all four styles of
// Serif(); otherwise an *UncoveredError for the first rune that does not.
// Newlines and spaces are always fine. Characters of right-to-left and
// complex scripts are refused even when a font has glyphs for them,
// because without shaping they would print wrong.
func Check(s string) error {
	return CheckFamily(Serif(), s)
}

// CheckFamily is Check for any family.
func CheckFamily(fam *Family, s string) error {
	cov := coverageOf(fam)
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			// ASCII, the common case.
			if cov.ok(rune(c)) {
				i++
				continue
			}
			return checkRune(fam, rune(c))
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r < 0x10000 && cov.ok(r) {
			continue
		}
		if err := checkRune(fam, r); err != nil {
			return err
		}
	}
	return nil
}

// coverage is, for one family, one bit per character of the Basic
// Multilingual Plane: set when checkRune passes it (newline and space
// included). It is built once per process and family, the first time
// the family is checked, and never changes after.
type coverage [0x10000 / 64]uint64

func (c *coverage) ok(r rune) bool { return c[r>>6]&(1<<(r&63)) != 0 }

// coverages holds a func() *coverage per *Family (a sync.OnceValue).
var coverages sync.Map

func coverageOf(fam *Family) *coverage {
	f, ok := coverages.Load(fam)
	if !ok {
		f, _ = coverages.LoadOrStore(fam, sync.OnceValue(func() *coverage { return newCoverage(fam) }))
	}
	return f.(func() *coverage)()
}

func newCoverage(fam *Family) *coverage {
	// What checkRune does, rune by rune, done table by table: glyphs in
	// every style, less control characters, less the scripts refused.
	c := new(coverage)
	for r := rune(0x20); r < 0x10000; r++ {
		if r >= 0x7f && r < 0xa0 || r >= 0xD800 && r <= 0xDFFF {
			continue // control characters; surrogates are never runes of a Go string
		}
		all := true
		for _, st := range Styles {
			if fam.FaceFor(st, r) == nil {
				all = false
				break
			}
		}
		if all {
			c[r>>6] |= 1 << (r & 63)
		}
	}
	for _, tables := range [][]*unicode.RangeTable{rtlScripts, complexScripts} {
		for _, t := range tables {
			for _, rg := range t.R16 {
				for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
					if r >= 0x0590 { // as scriptReason
						c[r>>6] &^= 1 << (r & 63)
					}
				}
			}
		}
	}
	c['\n'>>6] |= 1 << ('\n' & 63)
	c[' '>>6] |= 1 << (' ' & 63)
	return c
}

func checkRune(fam *Family, r rune) error {
	if r < 0x20 || (r >= 0x7f && r < 0xa0) {
		return &UncoveredError{Rune: r, Reason: ReasonControl}
	}
	if why := scriptReason(r); why != "" {
		return &UncoveredError{Rune: r, Reason: why}
	}
	// Fast path: the primary regular face has it and so do the others.
	var missing []Style
	for _, st := range Styles {
		if fam.FaceFor(st, r) == nil {
			missing = append(missing, st)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case len(Styles):
		return &UncoveredError{Rune: r, Reason: ReasonNoFont}
	default:
		return &UncoveredError{Rune: r, Reason: fmt.Sprintf("is not in the %s style of any bundled font", missing[0])}
	}
}
