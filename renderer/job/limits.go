package job

import "github.com/carta-letters/carta/renderer/job/ids"

// Limits on a job. A job over any of them is refused with a *ValidationError
// naming the field. doc.go explains how each number was chosen.
const (
	// MaxJobBytes is the largest job Decode reads: 960 KiB. The reference
	// job is about 20 KiB; the rest is room for a logo and a few signatures.
	// It stays under NATS's default 1 MiB max_payload with room for headers,
	// so any job Carta accepts can travel on a default NATS server.
	MaxJobBytes = 960 << 10

	// MaxDepth is the deepest nesting of JSON objects and arrays: 16. The
	// schema itself nests at most 6 deep (job → letter → signatories →
	// entries → entry → members).
	MaxDepth = 16

	// MaxStringBytes is the longest single string field, in bytes of UTF-8: 4096.
	MaxStringBytes = 4096

	// MaxParagraphBytes is the longest paragraph or list item: 16 KiB.
	MaxParagraphBytes = 16 << 10

	// MaxRecipients is the most recipients, and separately the most cc: 50.
	MaxRecipients = 50

	// MaxSigners is the most people who sign: 20.
	MaxSigners = 20

	// MaxBlocks is the most blocks in letter.body: 500.
	MaxBlocks = 500

	// MaxListItems is the most items in one list block: 200.
	MaxListItems = 200

	// MaxParagraphs is the most paragraphs in statement.paragraphs: 200.
	MaxParagraphs = 200

	// MaxEntries is the most signatory entries: 2000.
	MaxEntries = 2000

	// MaxMembers is the most members of one signatory entry: 200.
	MaxMembers = 200

	// MaxLines is the most lines in letterhead.lines, contact.lines and
	// a person's address: 20.
	MaxLines = 20

	// MaxIDBytes is the longest id: 128.
	MaxIDBytes = ids.MaxBytes

	// MaxKeyBytes is the longest output.key: 1024, the S3 limit.
	MaxKeyBytes = 1024

	// MaxImageBytes is the largest decoded logo or signature image: 256 KiB
	// (about 342 KiB once base64-encoded in the job).
	MaxImageBytes = 256 << 10

	// MaxImagePixels is the most pixels (width × height) of a logo or
	// signature image: 4 megapixels, 16 MiB as 8-bit RGBA once decoded.
	MaxImagePixels = 4_000_000

	// MaxProblems is the most problems a *ValidationError lists; any more
	// are summed up in one last problem.
	MaxProblems = 100
)
