package fonts

import (
	"sync"

	"github.com/go-fonts/liberation/liberationsansbold"
	"github.com/go-fonts/liberation/liberationsansbolditalic"
	"github.com/go-fonts/liberation/liberationsansitalic"
	"github.com/go-fonts/liberation/liberationsansregular"
)

// Liberation Sans is used by tests only (a second family to check fallback
// chains and shared faces with); it lives in a _test.go file so that its
// 1.6 MB of font data stay out of the carta binary.
var (
	libSans  = [4]func() *Face{bundled(liberationsansregular.TTF), bundled(liberationsansbold.TTF), bundled(liberationsansitalic.TTF), bundled(liberationsansbolditalic.TTF)}
	sansOnce = sync.OnceValue(func() *Family { return newFamily("Sans", libSans, dejaSans, cjkChain, hangulChain) })
)

// Sans returns the test family "Sans": Liberation Sans falling back to
// DejaVu Sans, prepared once per test process.
func Sans() *Family { return sansOnce() }
