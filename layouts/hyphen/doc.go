// Package hyphen finds the points where a word may be hyphenated, with
// Frank Liang's algorithm (Word Hy-phen-a-tion by Com-put-er, 1983) and
// the TeX hyph-utf8 patterns for English (US), Spanish, French,
// Portuguese and German (reformed spelling) in patterns/ (see
// patterns/README.md for where they come from and their licences).
//
// The code is Carta's own: no Go module with Liang's algorithm is served
// by the module proxy this project builds from, and the algorithm is
// short. Each language's patterns are parsed once per process, the first
// time the language is asked for; a Hyphenator is immutable after that
// and safe for concurrent use.
package hyphen
