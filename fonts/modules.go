package fonts

// The Go modules the bundled font files come from, each with the version
// go.mod requires. They are recorded in each PDF's provenance next to the
// fonts' own versions (Face.Version). A test checks them against go.mod:
// update them whenever those requirements change.
const (
	// LiberationModule provides Liberation Serif and Liberation Sans.
	LiberationModule = "github.com/go-fonts/liberation v0.3.3"
	// DejaVuModule provides the DejaVu Serif and DejaVu Sans fallbacks.
	DejaVuModule = "github.com/go-fonts/dejavu v0.3.2"
	// Modules lists both, comma-separated: "github.com/go-fonts/liberation
	// v0.3.3, github.com/go-fonts/dejavu v0.3.2".
	Modules = LiberationModule + ", " + DejaVuModule
)
