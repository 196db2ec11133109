// Package job decodes and validates letter/v1 render jobs, the contract
// described in job-format.md (shared/job-format.md) and by the JSON
// Schema in SchemaJSON (letter-v1.schema.json). TestContract reads
// job-format.md itself (its field tables, ranges, listed values, JSON
// examples and quoted errors) and holds both Decode and the schema to
// every case it states, so the three cannot drift apart unnoticed.
//
// Decode is the only way bytes become a *Job: it refuses malformed JSON,
// normalises every string to NFC and runs Validate. Every refusal is a
// *ValidationError whose Problems name the field by its path
// ("letter.signatories.entries[12].name") and say what is wrong; a
// problem with Field "" concerns the job as a whole (size, syntax). A job
// is refused whole: nothing is half-rendered.
//
// # Decoding
//
// Decode works in three passes over at most MaxJobBytes:
//
//  1. encoding/json checks the syntax. Errors give line and column
//     (columns count characters); data after the job object, a byte order
//     mark and invalid UTF-8 outside strings are refused here.
//  2. A walk over the JSON tokens compares the document with the Go types
//     through their json tags. It refuses, all in one error: unknown
//     fields (exact, case-sensitive names: "Schema" is unknown), duplicate
//     keys, values of the wrong type (null included: leave a field out
//     instead), integers with a fraction or out of range, and nesting
//     deeper than MaxDepth. Invalid UTF-8 inside a string stops the walk
//     with the byte offset, line, column and the field.
//  3. encoding/json fills the Job (DisallowUnknownFields), Normalize puts
//     every string in NFC ("e" + U+0301 becomes "é"), and Validate runs.
//
// # Validation
//
// Validate collects every problem, in document order (the order of the
// fields in letter/v1, then array order), at most MaxProblems. Beyond the
// shapes in the schema it checks: id (1–128 of A-Z a-z 0-9 . _ -, not
// starting with "."), layout (one of Layouts), locale (a well-formed,
// known BCP 47 tag, "-" not "_"), page_size, dates (YYYY-MM-DD and a real
// calendar date), accent (#RRGGBB), the count limits below, required
// strings (white space alone is empty), output.copies (one of Copies),
// page_size against a window layout's paper, body blocks (exactly one of
// text, list, heading; numbered only with list; lists not empty),
// signatories (columns 1–6, left out for the layout's default: an
// explicit "columns": 0 is refused, as the contract says; sort "", "none"
// or "alpha"; at least one entry), images and output.key.
//
// Text rules, for every string:
//   - Control characters are refused: C0 (tab and carriage return
//     included), DEL and C1. Newline is allowed only in paragraphs
//     (statement.paragraphs, body text) and list items, where it is a
//     line break; names, titles, headings, lines and every other field
//     are single lines.
//   - U+FFFD REPLACEMENT CHARACTER is refused: it means the text was
//     damaged before it reached us (a "\ud800" escape decodes to it too).
//   - Noncharacters (U+FDD0–U+FDEF, U+xxFFFE, U+xxFFFF) and private-use
//     characters (U+E000–U+F8FF, planes 15 and 16) are refused: they have
//     no agreed glyph.
//   - Every printed string must pass fonts.Check: the error names the
//     character, its code point and the field. Right-to-left and complex
//     scripts and bidi controls are refused there. The title is metadata,
//     not printed, and is not font-checked.
//   - Strings must be NFC; Decode guarantees it, a Job built in Go gets it
//     from Normalize.
//
// Markup: paragraphs and list items may use **bold**, *italic*, \* and \\.
// Validate does not check it. The decision (for the parser in package
// layouts) is that markup never fails a job: an unbalanced "*" and a
// backslash before any other character print literally.
//
// An image's text alternative (letterhead.logo_alt,
// signers[].signature_alt; optional, one line) is what screen readers
// read out for it in the tagged PDF; the layouts default it to "Logo of
// NAME" and "Signature of NAME".
//
// Images (letterhead.logo, signers[].signature) must be
// "data:image/png;base64,…" or "data:image/jpeg;base64,…" (lowercase, no
// other parameters), with standard padded base64 and no white space.
// The decoded bytes must be at most MaxImageBytes and really be the
// declared format (sniffed from the magic bytes, not trusted from the
// URL). The header's width × height must be at most MaxImagePixels and is
// checked before any pixel is decoded, so a decompression bomb (a tiny
// file declaring 100000 × 100000 pixels) costs nothing; only then is the
// image decoded in full, which refuses a file whose data does not match
// its header (truncated, or fewer rows than it claims).
//
// Window layouts: "din5008-a" and "din5008-b" are A4 and "us-window" is
// Letter (LayoutPaper); a job with one of them may leave page_size out
// (PageSizeOrDefault then gives the layout's paper, whatever the locale)
// or give that size; another size is refused ("page_size: must be "a4" for
// the din5008-a layout (or left out), not "letter""). Whether an address
// fits the window is checked by package layouts (layouts.CheckAddresses),
// since it takes font metrics; its refusal is a *ValidationError too.
//
// Copies (contract addition, optional, letter/v1 unchanged otherwise):
// output.copies is "none" (the default; also when left out) or
// "per-recipient": besides the combined letter, one copy per recipient,
// each with that recipient's full address in the address block (the
// envelope window on window layouts) and the other recipients named as
// in the letter. Each copy is stored under the combined letter's key
// without ".pdf", as "{prefix}/copy-NN-{slug}.pdf" (renderer.CopyKey);
// with copies, output.key may be at most MaxKeyBytes - CopySuffixBytes
// (967) bytes so that every copy's key stays within MaxKeyBytes.
//
// output.key must be relative (no leading "/"), with no backslash, no
// control character, no empty, "." or ".." segment, at most MaxKeyBytes,
// ending in ".pdf". The default, OutputKey, is "letters/{id}.pdf", which
// the id rules keep safe. A key belongs to its job's id: any other key
// must be a folder and then "{id}.pdf" ("cartas/2023/{id}.pdf"), and a
// job whose id starts with "copy-" keeps the default, so that no job can
// claim the key of another job's letter or of its per-recipient copies
// (which would make that letter fail, or shadow it).
//
// # Limits
//
// The limits bound memory and time per job and catch runaway input; each
// is far above what a real letter needs (the reference job, a joint
// letter with 95 signatories, is about 20 KiB):
//
//	MaxJobBytes       960 KiB whole job: a long letter plus a logo and signatures;
//	                          under NATS's default 1 MiB max_payload
//	MaxDepth          16      JSON nesting; letter/v1 itself needs 6
//	MaxStringBytes    4096    any single-line field, in UTF-8 bytes
//	MaxParagraphBytes 16 KiB  a paragraph or list item (about 2,500 words)
//	MaxRecipients     50      recipients, and separately cc
//	MaxSigners        20      signers
//	MaxBlocks         500     body blocks
//	MaxListItems      200     items in one list
//	MaxParagraphs     200     statement paragraphs
//	MaxEntries        2000    signatory entries (20 times the reference job)
//	MaxMembers        200     members of one entry
//	MaxLines          20      letterhead, contact and address lines
//	MaxIDBytes        128     id
//	MaxKeyBytes       1024    output.key (the S3 key limit)
//	MaxImageBytes     256 KiB one decoded image
//	MaxImagePixels    4 MP    one image's width × height (16 MiB as RGBA)
//	MaxProblems       100     problems listed in one error
//
// # Defaults
//
// LocaleOrDefault ("en-US"), LayoutOrDefault ("letter"),
// PageSizeOrDefault ("letter" for the Letter regions, else "a4"),
// OutputKey ("letters/{id}.pdf") and DocTitle (title, headline, subject,
// first recipient) give the values the layouts use when a job leaves a
// field out.
package job
