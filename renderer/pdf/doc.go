// Package pdf writes a laid-out letter (a layouts.Document) as PDF bytes.
// It is the only package in Carta that uses the fpdf library.
//
// Every letter is PDF/A-1b (ISO 19005-1:2005, level B) and tagged PDF
// meeting the machine-checkable rules of PDF/UA-1 (ISO 14289-1); Apache
// PDFBox Preflight validates the former in the tests, poppler's pdfinfo
// -struct-text reads the latter back.
//
// Fonts are embedded as subset TrueType fonts with 8-bit codes: for
// every face a document uses, the characters drawn with it are given
// one-byte codes in chunks of up to 223 characters (code 32 is always the
// space), and each chunk becomes its own subset font. The fonts are
// symbolic, with no /Encoding and a single (3,0) cmap subtable mapping
// 0xF000+code to each glyph (fonts.Face.SubsetCodes), the form PDF/A-1
// accepts for codes of one's own; a /ToUnicode CMap per font makes text
// copied or extracted from the PDF come back as the characters drawn.
// Font files are deflated with Huffman coding only (zlibLevel), but for
// the tables every subset of a face shares (fonts.Face.SharedTables),
// which are deflated once per process at the best level and spliced into
// each font stream (compressSubset); the output depends only on the
// document.
//
// fpdf draws the pages; what it cannot write goes into one incremental
// update (PDF 32000-1:2008, 7.5.6) appended to its file, written with
// package renderer/internal/pdffile (see archive.go): the ToUnicode maps
// and font dictionaries without fpdf's /Encoding; the sRGB output intent
// (icc/sRGB2014.icc, the ICC's sRGB v2 profile, see icc/README.md); the
// XMP metadata with pdfaid (part 1, B), pdfuaid (part 1) and PDF/A
// extension schemas for the carta and pdfuaid namespaces; an information
// dictionary whose dates carry their time zone as the XMP's do ("Z" for
// UTC); a deterministic trailer /ID (a digest of fpdf's file); a catalog
// without fpdf's empty EmbeddedFiles name tree; and the structure tree
// (tagging.go). fpdf's header says %PDF-1.3 unless it used a 1.4 feature;
// it is set to 1.4, which PDF/A-1 is based on. fpdf's AddOutputIntent is
// not used: it moves the trailer's /Info onto the profile and adds a
// transparency group to every page.
//
// Tagging: every text run and image belongs to a structure element of
// the layout (layouts.Elem) or is an artifact. The drawer writes marked
// content (BDC/EMC through fpdf's RawWriteStr), one MCID per stretch of
// runs of one element; the update writes the StructTreeRoot, a Document
// element with the layout's elements in reading order, the ParentTree,
// /StructParents and /Tabs /S on every page, /MarkInfo, /Lang and
// /ViewerPreferences /DisplayDocTitle in the catalog. Figures carry their
// /Alt, lists their /ListNumbering, and an element in another language
// than the document's its /Lang (layouts.Elem.Lang, decided by layout). Running headers and page numbers are
// /Pagination artifacts; rules, fold and hole marks /Layout artifacts.
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
// transparency), PNGs with transparency (PDF/A-1 forbids the soft masks
// fpdf would write) and CMYK JPEGs (outside the sRGB output intent) are
// re-encoded as 8-bit RGB PNGs first, transparency flattened onto white.
// fpdf orders image objects by pixel width, so an image whose width an
// earlier one already has is padded on the right with white columns
// until its width is unique, and drawn in a box widened to match.
//
// The XMP metadata stream (ISO 16684-1), referred to by the catalog's
// /Metadata entry, repeats the document information (title, author,
// subject, language, keywords, creator, producer, dates); when
// Options.Provenance is set it also records which job, layout, fonts and
// Carta version made the file, in the namespace XMPNamespace; pdfinfo
// -meta prints it.
//
// Output is deterministic: the same Document and Options give the same
// bytes.
package pdf
