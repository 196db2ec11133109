// Package markup parses the inline markup of letter/v1 paragraphs and list
// items: **bold**, *italic*, \* for a literal asterisk and \\ for a literal
// backslash. Every other character, including a marker that has no partner,
// prints as written.
//
// Delimiters follow a small subset of the CommonMark rules: a run of
// asterisks can open emphasis only when the next character is not white
// space, and close it only when the previous character is not white space,
// so "2 * 3 * 4" stays literal. A run of one asterisk is italic, two is
// bold, three is bold italic (or closes both). Markers that are opened but
// never closed, or closed with nothing open, print literally; when a marker
// closes over an inner one that is still open, the inner one prints
// literally.
package markup
