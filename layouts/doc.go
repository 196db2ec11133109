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
//   - "joint-statement": the press statement under the letterhead, then
//     after a rule the letter, on the same page when its opening fits
//     there (from a new page with statement.letter_new_page), then the
//     press contact block.
//   - "din5008-a", "din5008-b": A4 letters for DL window envelopes after
//     DIN 5008 form A and form B. The letterhead fills the top 27 mm (A)
//     or 45 mm (B); under it, the 85 × 45 mm address field 20 mm from the
//     left edge holds a one-line return address (7 pt) at the foot of its
//     17.7 mm upper zone (the sender's name and postal address, the
//     letterhead's first line, 7 pt down to 6 pt, else that line alone;
//     refused when there is none or it does not fit) and the recipient's
//     address in its 27.3 mm
//     address zone, written 25 mm from the edge. The information block
//     (the letterhead's lines when the band has no room for them, the
//     reference, the date) starts 125 mm from the left edge. Fold marks
//     at 87 and 192 mm (A) or 105 and 210 mm (B), the hole mark at
//     148.5 mm. The text column is 25 mm from the left edge, 20 mm from
//     the right.
//   - "us-window": US Letter for a #10 window envelope (4.125 × 9.5 in,
//     window 4.5 × 1.125 in, 0.875 in from the left and 0.5 in from the
//     bottom of the envelope), Z-folded at the fold marks, 3.875 and 7.75
//     in from the top, the address panel outward. The folded sheet has
//     0.25 in of play up and down and 1 in across, and wherever it lies
//     the window shows the page from 0.875 to 4.375 in across and 2.5 to
//     3.375 in down (AddressWindow); the address keeps 1/8 in inside
//     that on every side (USPS DMM 601.6.3), centred vertically: five
//     lines at most.
//
// A window layout puts the first recipient's full address in the window
// (a copy's recipient, see LayCopy) and names the other recipients under
// "Also addressed to:" above the subject; a press statement in the job
// follows the letter on a new page. The address is set in 10 pt on a
// 12.9 pt line, shrunk in half-point steps to 8 pt, wrapping a long line
// only if nothing fits unwrapped; lines never overlap. An address that
// does not fit even so (more than 8 lines of Latin text in a DIN window,
// more than 5 in us-window) is refused with a *job.ValidationError naming the field
// ("letter.recipients[0].address: 9 lines do not fit the din5008-a
// address window (at most 8): the name, the title and 7 address lines",
// counting the lines as the job gives them), never clipped. AddressWindow gives each
// window's rectangle on the page, CheckAddresses checks addresses without
// laying out.
//
// # Copies
//
// LayCopy lays out one recipient's copy: on a window layout that
// recipient's full address fills the window and the others follow in the
// job's order; on the other layouts every copy keeps the recipients in
// the job's order, as the combined letter does. The first recipient's
// copy is the combined letter.
//
// # Structure
//
// Every text run and image carries the structure element it belongs to
// (Text.Elem, Image.Elem; Document.Elems lists the elements in reading
// order), so the PDF writer tags every layout with the same code: the
// subject or headline is an H1; headings (body headings, the signatory
// list's, the contact block's) H2; letterhead lines, addresses, date,
// reference, salutation, paragraphs and closing are each a P; a body list,
// the cc block and the signatory list are an L of LI with Lbl (the bullet,
// number or "cc:") and LBody, a group's members a nested L in its LBody,
// its note a P there; each signer is a Div holding the signature's Figure
// (Alt: the job's signature_alt, default "Signature of NAME") and a P per
// line; the logo is a Figure (Alt: letterhead.logo_alt, default "Logo of
// NAME"). Running headers and page numbers carry no element (artifacts of
// kind ArtifactPagination), nor do rules, fold and hole marks
// (ArtifactLayout). The composer sets the element as it creates runs: a
// paragraph (block) becomes a new element of its block.role ("" is P)
// under composer.group, or an LI of composer.list when that is set. A run
// that ends a line broken at a space or newline has Text.SpaceAfter, so
// the writer keeps the word boundary.
//
// Once the pages are laid out, each element whose own text (or a
// Figure's Alt) is mostly in a script that the document's language
// (Meta.Language) is not written in gets Elem.Lang from the script:
// Arabic "ar", Hebrew "he", Hangul "ko", kana with or without Han "ja",
// Han alone "zh", Greek "el"; none when the document's language is
// written in that script (an Arabic name in a Persian letter), and never
// for Latin or Cyrillic, which many languages share (lang.go has the
// rule and its limits).
//
// # Scripts
//
// Text is kerned with each face's kern table: layout adds the pair
// adjustments to the widths it breaks lines with and hands them to the
// writer in Text.Kern. Running text is hyphenated with the patterns of
// the job's language (package hyphen) where breaking at a space would
// leave more than hyphZone of the line empty; names and other plain
// strings only when one word is wider than its column (hyphenate.go).
// Lines of CJK text break between ideographs by UAX #14 (linebreak.go).
// Paragraphs with Arabic or Hebrew, and every paragraph of a job in a
// right-to-left language, go through the bidi algorithm and are shaped
// with go-text/typesetting (bidi.go): shaped runs carry their glyphs in
// Text.Glyphs; a right-to-left job's pages are mirrored (the window
// layouts' envelope window and information block in place).
//
// To add a layout, write a type with Name and Lay methods in its own file
// (the building blocks are the composer's methods: letterhead, statement,
// letter, contact, finish) and add one line to the registry in
// registry.go. Names must then match job.Layouts, which a test checks.
//
// # Typesetting
//
// Pages are Letter, A4 or Legal with 1 in side margins; no text comes
// within 0.4 in of an edge. Body text is 11 pt Liberation Serif on a 15
// pt line, ragged right, at most 34 ems wide (about 78 characters a
// line). A line breaks at spaces and after hyphens, dashes and slashes;
// a word wider than its column (a URL, an e-mail address) is broken
// between characters and the line ends with a hyphen (hyphen.go), so
// that it never overflows. Runes the primary
// face lacks are drawn with the family's fallback faces, each Text run
// holding only runes of its face.
//
// Paragraphs, list items and headings accept the inline markup of package
// markup (**bold**, *italic*, \* and \\). Page breaks leave at least two
// lines of a paragraph on each side, keep the subject with the
// salutation and the salutation with two lines of the body, headings with
// the two lines that follow, and the closing with the signers. Signers
// stand up to three a row in the given order, each name under 15.5 mm of
// clear space for a signature (signers.go).
//
// The signatory list flows in columns (3 by default, fewer on pages too
// narrow for 96 pt columns; columns.go): every page but the last fills
// its columns top to bottom; a column breaks only between entries or
// between a group's members, and a column continuing a group repeats its
// name marked "(cont.)" in the letter's language; the last page is
// balanced.
//
// The first page carries the letterhead; later pages a running header
// with the letterhead's name. Letters of two pages or more have a "Page i
// of N" footer on every page; a one-page letter only with
// output.page_numbers "always". A two-letter country code prints as the
// country's name in the letter's language (country.go).
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
