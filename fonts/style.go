package fonts

// Style selects one of the four faces of a family.
type Style uint8

// The four styles of a family.
const (
	Regular Style = iota
	Bold
	Italic
	BoldItalic
)

// String returns the style's name: "regular", "bold", "italic" or
// "bold italic".
func (s Style) String() string {
	switch s {
	case Regular:
		return "regular"
	case Bold:
		return "bold"
	case Italic:
		return "italic"
	case BoldItalic:
		return "bold italic"
	}
	return "unknown style"
}

// Styles lists the four styles in order.
var Styles = [4]Style{Regular, Bold, Italic, BoldItalic}
