// Package layouts typesets letter/v1 jobs: it turns a decoded, validated
// job into a Document of pages of positioned text runs, rules and images,
// which the PDF writer draws as they are. Text is measured here, with the
// metrics of package fonts it is drawn with, so nothing is measured twice.
//
// # Layouts
//
// A Layout is looked up by the name a job gives in its "layout" field:
//
//   - "letter": letterhead, date, reference, recipients, subject,
//     salutation, body, closing, signers, cc block and the signatory list.
//     A statement or contact block in the job is not dropped: the statement
//     comes first, closed by a rule, and the contact block last.
//   - "joint-statement": the press statement under the letterhead, the
//     letter from a new page, then the press contact block.
//
// To add a layout, write a type with Name and Lay methods in its own file
// (the building blocks are the composer's methods: letterhead, statement,
// letter, contact, finish) and add one line to the registry in
// registry.go. Names must then match job.Layouts, which a test checks.
//
// # Typesetting
//
// Pages are Letter, A4 or Legal with 1 in side margins; no text comes
// within 0.4 in of an edge. Body text is 11 pt Liberation Serif on a 14.3
// pt line, ragged right. A line breaks at spaces and after hyphens, dashes
// and slashes; a word wider than its column (a URL, an e-mail address) is
// broken between characters so that it never overflows. Runes the primary
// face lacks are drawn with the family's fallback faces, each Text run
// holding only runes of its face.
//
// Paragraphs, list items and headings accept the inline markup of package
// markup (**bold**, *italic*, \* and \\). Page breaks leave at least two
// lines of a paragraph on each side, keep headings with what follows and
// the closing with the signers. The signatory list flows in columns (3 by
// default, fewer on pages too narrow for 96 pt columns) and is balanced on
// its last page.
//
// The first page carries the letterhead; later pages a running header
// with the letterhead's name. Every page has a "Page i of N" footer.
//
// # Locales
//
// Dates print in the long form of the job's language: English "January 9,
// 2023", Spanish "9 de enero de 2023", French "9 janvier 2023" ("1er" on
// the first), Portuguese "9 de janeiro de 2023", German "9. Januar 2023".
// Other languages get the ISO date as written ("2023-01-09"). Footers, the
// cc label and the default signatory heading are localised for the same
// five languages, English otherwise. sort: "alpha" collates by the job's
// locale.
//
// Laying out is pure: no I/O, no clock, no shared mutable state; the same
// job always gives the same Document.
package layouts
