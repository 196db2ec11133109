// Package pdf writes a laid-out letter (a layouts.Document) as PDF bytes.
// It is the only package in Carta that uses the fpdf library.
//
// Fonts are embedded as subset TrueType fonts with 8-bit encodings: for
// every face a document uses, the characters drawn with it are given
// one-byte codes in chunks of up to 223 characters (code 32 is always the
// space), each chunk becomes its own subset font whose encoding's
// Differences name every glyph after its Unicode value, so text copied or
// extracted from the PDF comes back as the characters that were drawn.
//
// Output is deterministic: the same Document and Options give the same
// bytes.
package pdf
