package fonts

import (
	"bytes"
	_ "embed"
	"sync"

	gotext "github.com/go-text/typesetting/font"
)

// Arabic and Hebrew faces, from Debian's fonts-noto-core package (see
// debian/README.md). They have upright regular and bold styles only: the
// italic styles use them upright, as Arabic and Hebrew type has no
// italics.
var (
	//go:embed debian/NotoNaskhArabic-Regular.ttf
	naskhRegular []byte
	//go:embed debian/NotoNaskhArabic-Bold.ttf
	naskhBold []byte
	//go:embed debian/NotoSerifHebrew-Regular.ttf
	hebrewRegular []byte
	//go:embed debian/NotoSerifHebrew-Bold.ttf
	hebrewBold []byte

	naskh  = [2]func() *Face{bundled(naskhRegular), bundled(naskhBold)}
	hebrew = [2]func() *Face{bundled(hebrewRegular), bundled(hebrewBold)}
)

// NotoPackage is the Debian package the Arabic and Hebrew fonts come
// from, with its version, as recorded in debian/README.md.
const NotoPackage = "fonts-noto-core 20201225-1"

// IsArabic reports whether r is a character of the Arabic script
// (Arabic, Persian, Urdu and the other languages written in it),
// presentation forms included.
func IsArabic(r rune) bool {
	return r >= 0x0600 && r <= 0x06FF || r >= 0x0750 && r <= 0x077F || r >= 0x08A0 && r <= 0x08FF ||
		r >= 0xFB50 && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFF
}

// IsHebrew reports whether r is a character of the Hebrew script.
func IsHebrew(r rune) bool {
	return r >= 0x0590 && r <= 0x05FF || r >= 0xFB1D && r <= 0xFB4F
}

// NeedsShaping reports whether r is set with a shaping engine (joining
// forms, ligatures, mark positioning) rather than glyph by glyph: the
// Arabic and Hebrew scripts.
func NeedsShaping(r rune) bool {
	return r >= 0x0590 && (IsArabic(r) || IsHebrew(r))
}

// scriptFace returns the face that sets r in style st when r belongs to
// a script with its own faces (Arabic, Hebrew), nil otherwise.
func scriptFace(st Style, r rune) *Face {
	if r < 0x0590 || !NeedsShaping(r) {
		return nil
	}
	bold := 0
	if st == Bold || st == BoldItalic {
		bold = 1
	}
	var f *Face
	if IsHebrew(r) {
		f = hebrew[bold]()
	} else {
		f = naskh[bold]()
	}
	if !f.Has(r) {
		return nil
	}
	return f
}

// shaperFace is the face parsed by go-text/typesetting for shaping.
type shaperFace struct {
	once sync.Once
	face *gotext.Face
	err  error
}

// Shaper returns the face as go-text/typesetting parses it, for shaping
// with its HarfBuzz port. It is parsed once per face and process.
func (f *Face) Shaper() (*gotext.Face, error) {
	f.shaper.once.Do(func() {
		f.shaper.face, f.shaper.err = gotext.ParseTTF(bytes.NewReader(f.data))
	})
	return f.shaper.face, f.shaper.err
}

// IsShapedFace reports whether f is one of the bundled Arabic and Hebrew
// faces. Their ascent and descent leave room for stacked marks; layout
// places their lines by the Latin faces' metrics, which their letters'
// ink fits within at Carta's line spacing (layout tests check the ink).
func (f *Face) IsShapedFace() bool {
	return f == naskh[0]() || f == naskh[1]() || f == hebrew[0]() || f == hebrew[1]()
}
