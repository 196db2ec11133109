package layouts

import "github.com/carta-letters/carta/fonts"

// Document is a laid-out letter: pages of positioned items, in PDF points,
// with the origin at the top-left corner of the page and y growing down.
// The PDF writer draws it as it is and measures nothing.
type Document struct {
	Width, Height float64 // page size in points
	Pages         []Page
	Meta          Meta
	// Elems are the elements of the document's logical structure, in
	// reading order, every parent before its children. The PDF writer
	// tags each text, rule and image with its element (see Text.Elem)
	// and writes the structure tree; an item with no element is an
	// artifact (page furniture, decoration).
	Elems []*Elem
}

// Elem is an element of the document's logical structure (PDF
// 32000-1:2008, 14.7), one of the standard structure types of 14.8.4.
type Elem struct {
	// Role is the standard structure type: "H1", "H2", "P", "L", "LI",
	// "Lbl", "LBody", "Figure" or "Div".
	Role string
	// Parent is the enclosing element; nil: a child of the document.
	Parent *Elem
	// Alt is a Figure's alternate description, read by screen readers.
	Alt string
	// ListNumbering is an L's numbering: "Disc" or "Decimal".
	ListNumbering string
	// Lang is the BCP 47 language of the element's text when it differs
	// from the document's (Meta.Language), e.g. "ar" for an Arabic name
	// in an English letter; "": the document's language (or that of the
	// enclosing element). Set from the script of the element's text, see
	// markLangs.
	Lang string
}

// Artifact kinds of untagged items (PDF 32000-1:2008, 14.8.2.2).
const (
	// ArtifactPagination is page furniture: running headers, page
	// numbers.
	ArtifactPagination = "Pagination"
	// ArtifactLayout is decoration: rules, fold and hole marks.
	ArtifactLayout = "Layout"
)

// Meta is the document metadata written into the PDF.
type Meta struct {
	Title    string
	Author   string // the letterhead's name
	Subject  string
	Language string // BCP 47 tag, e.g. "en-US"
	Keywords string
}

// Page is one page of positioned items, drawn in order.
type Page struct {
	Texts  []Text
	Rules  []Rule
	Images []Image
}

// Text is a run of characters drawn with one face at one size, its
// baseline starting at (X, Y). Every rune of S is covered by Face.
//
// Kern, when not nil, has one entry per rune of S: the pair kerning in
// Face's font units added after that rune (Face.Kern of it and the next
// rune; the last entry is 0). Each rune then starts at the sum of the
// advances and kerns before it. Nil: no kerning in the run.
type Text struct {
	X, Y  float64
	Size  float64 // font size in points
	Face  *fonts.Face
	S     string
	Kern  []int16
	Color RGB
	// Elem is the structure element the run belongs to; nil: an
	// artifact of kind ArtifactPagination.
	Elem *Elem
	// SpaceAfter is set on the last run of a line that was broken at
	// a space or a newline: the writer draws a space after it, so text extraction
	// and screen readers see the word boundary.
	SpaceAfter bool
	// Hyphen marks the hyphen layout adds where it breaks a word at the
	// end of a line: it is not a character of the job's text (S is "-").
	Hyphen bool
	// Glyphs, when not nil, is the run shaped (Arabic, Hebrew, and any
	// run set right to left): the glyphs to draw from X, left to right,
	// each with its advance. S is then the run's text in logical order
	// and Kern is nil.
	Glyphs []Glyph
}

// Glyph is one glyph of a shaped run, in font units of its Text's Face.
type Glyph struct {
	ID         uint16 // glyph id in the face
	Advance    int32  // horizontal advance
	XOff, YOff int32  // offset from the pen position (y up)
	// Text is what the glyph stands for in the job's text, in logical
	// order: a cluster's characters on its first glyph ("لا" on the
	// lam-alef ligature), "" on the cluster's other glyphs.
	Text string
}

// Rule is a straight line from (X1, Y1) to (X2, Y2).
type Rule struct {
	X1, Y1, X2, Y2 float64
	Width          float64
	Color          RGB
	// Rules are always artifacts of kind ArtifactLayout.
}

// Image is a decoded-and-checked PNG or JPEG placed in the box (X, Y, W, H).
type Image struct {
	X, Y, W, H float64
	Data       []byte // the original PNG or JPEG bytes
	Format     string // "png" or "jpeg"
	Name       string // a stable name, unique within the document
	// Elem is the Figure the image is; nil: an artifact of kind
	// ArtifactLayout.
	Elem *Elem
}

// RGB is a colour with 8-bit channels.
type RGB struct{ R, G, B uint8 }

// Width returns the width of the run as drawn, in points: the advances
// of its runes plus its kerning.
func (t *Text) Width() float64 {
	if t.Glyphs != nil {
		u := 0
		for _, g := range t.Glyphs {
			u += int(g.Advance)
		}
		return float64(u) * t.Size / float64(t.Face.UnitsPerEm())
	}
	u := t.Face.Units(t.S)
	for _, k := range t.Kern {
		u += int(k)
	}
	return float64(u) * t.Size / float64(t.Face.UnitsPerEm())
}
