package fonts

import (
	"sync"

	"github.com/go-fonts/dejavu/dejavusans"
	"github.com/go-fonts/dejavu/dejavusansbold"
	"github.com/go-fonts/dejavu/dejavusansboldoblique"
	"github.com/go-fonts/dejavu/dejavusansoblique"
	"github.com/go-fonts/dejavu/dejavuserif"
	"github.com/go-fonts/dejavu/dejavuserifbold"
	"github.com/go-fonts/dejavu/dejavuserifbolditalic"
	"github.com/go-fonts/dejavu/dejavuserifitalic"
	"github.com/go-fonts/liberation/liberationserifbold"
	"github.com/go-fonts/liberation/liberationserifbolditalic"
	"github.com/go-fonts/liberation/liberationserifitalic"
	"github.com/go-fonts/liberation/liberationserifregular"
)

// Family is a set of four styles, each a chain of faces: the primary face
// first, then fallbacks consulted for characters it lacks.
type Family struct {
	name   string
	chains [4][]*Face
}

// Name returns the family's name, e.g. "Serif".
func (fam *Family) Name() string { return fam.name }

// Face returns the primary face of style st.
func (fam *Family) Face(st Style) *Face { return fam.chains[st&3][0] }

// Faces returns the fallback chain of style st, primary face first. The
// slice must not be modified.
func (fam *Family) Faces(st Style) []*Face { return fam.chains[st&3] }

// FaceFor returns the face that draws r in style st: for Arabic and
// Hebrew (see NeedsShaping) the script's own face, otherwise the first
// face of style st's fallback chain that has r; nil if none has.
func (fam *Family) FaceFor(st Style, r rune) *Face {
	if f := scriptFace(st, r); f != nil {
		return f
	}
	for _, f := range fam.chains[st&3] {
		if f.Has(r) {
			return f
		}
	}
	return nil
}

// bundled parses one embedded font file once per process.
func bundled(data []byte) func() *Face {
	return sync.OnceValue(func() *Face {
		f, err := Parse(data)
		if err != nil {
			// The fonts are compiled in: a failure is a build defect.
			panic("fonts: bundled font: " + err.Error())
		}
		return f
	})
}

var (
	libSerif  = [4]func() *Face{bundled(liberationserifregular.TTF), bundled(liberationserifbold.TTF), bundled(liberationserifitalic.TTF), bundled(liberationserifbolditalic.TTF)}
	dejaSerif = [4]func() *Face{bundled(dejavuserif.TTF), bundled(dejavuserifbold.TTF), bundled(dejavuserifitalic.TTF), bundled(dejavuserifbolditalic.TTF)}
	dejaSans  = [4]func() *Face{bundled(dejavusans.TTF), bundled(dejavusansbold.TTF), bundled(dejavusansoblique.TTF), bundled(dejavusansboldoblique.TTF)}
	serifOnce = sync.OnceValue(func() *Family { return newFamily("Serif", libSerif, dejaSerif, dejaSans, cjkChain, hangulChain) })
)

// newFamily parses the faces of each chain concurrently with the other
// styles (parsing is the only expensive step, done once per process).
func newFamily(name string, chains ...[4]func() *Face) *Family {
	fam := &Family{name: name}
	var wg sync.WaitGroup
	for st := range fam.chains {
		fam.chains[st] = make([]*Face, len(chains))
		for i, c := range chains {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fam.chains[st][i] = c[st]()
			}()
		}
	}
	wg.Wait()
	return fam
}

// Serif returns the text family "Serif": Liberation Serif, falling back
// to DejaVu Serif, DejaVu Sans and, for Chinese, Japanese and Korean,
// Droid Sans Fallback and Nanum Myeongjo (Hangul). It is prepared
// once per process; later calls are cheap.
func Serif() *Family { return serifOnce() }
