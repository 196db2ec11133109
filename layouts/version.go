package layouts

// Each layout's version, written into every PDF's provenance with the
// layout's name. A version is a decimal number, starting at "1".
//
// A layout's version must change whenever its output changes: anything
// that moves, adds, drops or restyles a mark on the page for some job,
// including a change of fonts or of the shared composition code it uses.
// TestVersionsTrackOutput holds each version to a fingerprint of the
// layout's output (testdata/versions.txt): when a layout's output
// changes, bump its number here and run go test ./layouts -update.
const (
	letterVersion         = "3"
	jointStatementVersion = "3"
	din5008AVersion       = "3"
	din5008BVersion       = "3"
	usWindowVersion       = "3"
)

// Version returns the layout's version (see Layout.Version).
func (letterLayout) Version() string { return letterVersion }

// Version returns the layout's version (see Layout.Version).
func (jointStatement) Version() string { return jointStatementVersion }

// Version returns the layout's version (see Layout.Version).
func (l windowLayout) Version() string {
	switch l.spec.name {
	case "din5008-a":
		return din5008AVersion
	case "din5008-b":
		return din5008BVersion
	case "us-window":
		return usWindowVersion
	}
	return ""
}
