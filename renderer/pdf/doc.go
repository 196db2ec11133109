// Package pdf writes a laid-out letter (a layouts.Document) as PDF bytes.
// It is the only package in Carta that uses the fpdf library.
//
// Fonts are embedded as subset TrueType fonts with 8-bit encodings: for
// every face a document uses, the characters drawn with it are given
// one-byte codes in chunks of up to 223 characters (code 32 is always the
// space), each chunk becomes its own subset font whose encoding's
// Differences name every glyph after its Unicode value, so text copied or
// extracted from the PDF comes back as the characters that were drawn.
// fpdf writes no ToUnicode map for such fonts, so Write appends an
// incremental update (PDF 32000-1:2008, 7.5.6) to fpdf's file that gives
// every font dictionary a /ToUnicode CMap as well.
//
// Kerned runs (layouts.Text.Kern) are drawn with TJ arrays holding the
// same adjustments layout measured. Shaped runs (layouts.Text.Glyphs:
// Arabic, Hebrew, anything set right to left) are drawn glyph by glyph
// with Type 0 fonts, Identity-H over CIDFontType2, written by Carta in a
// second incremental update (cid.go): CIDs are the glyphs of a subset
// font (CIDToGIDMap /Identity), one per distinct glyph and text, with
// /W, /CIDSet and a ToUnicode map from the shaped clusters.
//
// Images are registered once per distinct content. PNG files fpdf cannot
// take as they are (interlaced, 16-bit, grey with alpha, paletted with
// transparency) are re-encoded as 8-bit RGB or RGBA PNGs first. fpdf
// orders image objects by pixel width, so an image whose width an
// earlier one already has is padded on the right with transparent (or,
// for an opaque image, white) columns until its width is unique, and
// drawn in a box widened to match.
//
// When Options.Provenance is set, the document also gets an XMP
// metadata stream (ISO 16684-1), referred to by the catalog's /Metadata
// entry, that repeats the document information (title, author, subject,
// language, keywords, creator, producer, dates) and records which job,
// layout, fonts and Carta version made the file, in the namespace
// XMPNamespace; pdfinfo -meta prints it.
//
// Output is deterministic: the same Document and Options give the same
// bytes.
package pdf
