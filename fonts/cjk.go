package fonts

import (
	_ "embed"
	"unicode"
)

// droidSansFallback is Droid Sans Fallback from Debian's
// fonts-droid-fallback package (see debian/README.md): the face for
// Chinese, Japanese and Korean.
//
//go:embed debian/DroidSansFallbackFull.ttf
var droidSansFallback []byte

// nanumMyeongjo is Nanum Myeongjo from Debian's fonts-nanum package:
// the face for Korean Hangul syllables, which Droid Sans Fallback lacks.
//
//go:embed debian/NanumMyeongjo.ttf
var nanumMyeongjo []byte

var (
	cjk    = bundled(droidSansFallback)
	hangul = bundled(nanumMyeongjo)
)

// cjkChain and hangulChain are the CJK faces for each style: each font
// has one style, used for all four (CJK type has no italics; bold CJK
// text is set in the regular weight).
var (
	cjkChain    = [4]func() *Face{cjk, cjk, cjk, cjk}
	hangulChain = [4]func() *Face{hangul, hangul, hangul, hangul}
)

// IsCJK reports whether r is a character of Chinese, Japanese or Korean
// writing (Han, Hiragana, Katakana, Hangul, Bopomofo, CJK symbols and
// punctuation, full-width forms), which lines may break between.
func IsCJK(r rune) bool {
	if r < 0x1100 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo) ||
		r >= 0x3000 && r < 0x3040 || r >= 0xFF00 && r < 0xFFF0 || r >= 0x31F0 && r < 0x3200
}

// IsCJKFace reports whether f is the bundled CJK face. Its ideographs
// (about 0.88 em above the baseline and 0.12 below) lie within the Latin
// faces' ascent and descent, so layout leaves its taller hhea metrics out
// of line placement.
func (f *Face) IsCJKFace() bool { return f == cjk() || f == hangul() }

// GlyphInkBounds is InkBounds for glyph ids.
func (f *Face) GlyphInkBounds(gids []uint16) (yMin, yMax int) {
	for _, g := range gids {
		d, err := f.glyphData(int(g))
		if g == 0 || err != nil || len(d) < 10 {
			continue
		}
		yMin, yMax = min(yMin, i16(d, 4)), max(yMax, i16(d, 8))
	}
	return yMin, yMax
}

// InkBounds returns the lowest and highest extent of the outlines of s's
// runes, in font units (yMin ≤ 0 ≤ yMax for most text): the ink box,
// where Ascent and Descent are the line's box.
func (f *Face) InkBounds(s string) (yMin, yMax int) {
	for _, r := range s {
		g := f.glyph(r)
		if g == 0 {
			continue
		}
		d, err := f.glyphData(int(g))
		if err != nil || len(d) < 10 {
			continue
		}
		yMin, yMax = min(yMin, i16(d, 4)), max(yMax, i16(d, 8))
	}
	return yMin, yMax
}
