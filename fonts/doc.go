// Package fonts bundles the typefaces Carta prints with and answers the
// questions layout and the PDF writer ask of them: which characters a
// face covers, how wide they are, and a compact TrueType subset of the
// glyphs a document actually uses.
//
// The fonts come from published Go modules (Liberation and DejaVu) and,
// for Arabic, Hebrew, Chinese, Japanese and Korean, from Debian packages
// committed under debian/ (Noto Naskh Arabic, Noto Serif Hebrew, Droid
// Sans Fallback, Nanum Myeongjo; see debian/README.md and Licenses).
// Faces answer pair kerning from their kern tables (Kern), and give
// go-text/typesetting's parse of themselves for shaping (Shaper) and
// glyph subsets for CID fonts (SubsetGlyphs). They are parsed by this
// package's own TrueType reader once per process, the first time a family is asked for; after that every
// Face is immutable and safe for concurrent use.
//
// Every subset of a face carries the face's hinting tables and name table
// unchanged, right after its table directory (SharedTables), so that a
// PDF writer can compress them once per process.
package fonts
