// Package preview draws the first page of a letter as a raster image,
// from the same layout geometry (layouts.Document) and the same TrueType
// fonts the PDF is written with, so staff can check a letter on the
// staff page before they send it: no PDF viewer, no headless browser.
//
// Text runs are drawn with golang.org/x/image/font/opentype at their
// positions from the layout (the glyph outlines of the embedded faces,
// anti-aliased, unhinted), rules as filled quadrilaterals with
// golang.org/x/image/vector, images scaled into their boxes. It is a
// preview, not a proof: the PDF stays the letter of record. Glyph
// advances inside a run come from the font's own horizontal metrics, as
// in the PDF, so line ends fall where the PDF has them to within a
// pixel or so at preview sizes.
package preview
