// Package fonts bundles the typefaces Carta prints with and answers the
// questions layout and the PDF writer ask of them: which characters a
// face covers, how wide they are, and a compact TrueType subset of the
// glyphs a document actually uses.
//
// The fonts come from published Go modules (Liberation and DejaVu, see
// Licenses). They are parsed by this package's own TrueType reader once
// per process, the first time a family is asked for; after that every
// Face is immutable and safe for concurrent use.
package fonts
