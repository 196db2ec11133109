package job

// Schema is the only value of Job.Schema this package accepts.
const Schema = "letter/v1"

// Job is one letter/v1 render job, as described in job-format.md.
// Decode fills it, refusing unknown fields; Validate checks it.
type Job struct {
	Schema     string     `json:"schema"`
	ID         string     `json:"id"`
	Layout     string     `json:"layout,omitempty"`
	Locale     string     `json:"locale,omitempty"`
	PageSize   string     `json:"page_size,omitempty"`
	Title      string     `json:"title,omitempty"`
	Letterhead Letterhead `json:"letterhead"`
	Statement  *Statement `json:"statement,omitempty"`
	Letter     Letter     `json:"letter"`
	Contact    *Contact   `json:"contact,omitempty"`
	Output     *Output    `json:"output,omitempty"`
}

// Letterhead is the sender block printed at the top of the first page.
type Letterhead struct {
	Name   string   `json:"name"`
	Lines  []string `json:"lines,omitempty"`
	Logo   string   `json:"logo,omitempty"`   // data: URL, PNG or JPEG
	Accent string   `json:"accent,omitempty"` // #RRGGBB
	// LogoAlt is the logo's text alternative, read out by screen
	// readers (the PDF's Figure /Alt). Default: "Logo of " and the
	// name.
	LogoAlt string `json:"logo_alt,omitempty"`
}

// Statement is a press statement printed before the letter.
type Statement struct {
	Kicker     string   `json:"kicker,omitempty"`
	Headline   string   `json:"headline,omitempty"`
	Date       string   `json:"date,omitempty"` // YYYY-MM-DD
	Dateline   string   `json:"dateline,omitempty"`
	Paragraphs []string `json:"paragraphs,omitempty"`
	// LetterNewPage starts the letter that follows the statement on a
	// new page (layout joint-statement); by default the letter follows
	// on the same page when its opening fits there.
	LetterNewPage bool `json:"letter_new_page,omitempty"`
}

// Letter is the letter itself.
type Letter struct {
	Date        string       `json:"date,omitempty"` // YYYY-MM-DD
	Reference   string       `json:"reference,omitempty"`
	Recipients  []Person     `json:"recipients"`
	CC          []Person     `json:"cc,omitempty"`
	Subject     string       `json:"subject,omitempty"`
	Salutation  string       `json:"salutation"`
	Body        []Block      `json:"body"`
	Closing     string       `json:"closing"`
	Signers     []Signer     `json:"signers,omitempty"`
	Signatories *Signatories `json:"signatories,omitempty"`
}

// Person is a recipient or a cc.
type Person struct {
	Honorific    string   `json:"honorific,omitempty"`
	Name         string   `json:"name"`
	Title        string   `json:"title,omitempty"`
	Organization string   `json:"organization,omitempty"`
	Address      []string `json:"address,omitempty"`
	Country      string   `json:"country,omitempty"`
}

// Block is one body block: exactly one of Text, List or Heading is set.
type Block struct {
	Text     *string  `json:"text,omitempty"`
	List     []string `json:"list,omitempty"`
	Numbered bool     `json:"numbered,omitempty"`
	Heading  *string  `json:"heading,omitempty"`
}

// Signer is a person who signs the letter.
type Signer struct {
	Name         string `json:"name"`
	Title        string `json:"title,omitempty"`
	Organization string `json:"organization,omitempty"`
	Signature    string `json:"signature,omitempty"` // data: URL image
	// SignatureAlt is the signature image's text alternative (the
	// PDF's Figure /Alt). Default: "Signature of " and the name.
	SignatureAlt string `json:"signature_alt,omitempty"`
}

// Signatories is the list of signing organisations.
type Signatories struct {
	Heading string  `json:"heading,omitempty"`
	Columns int     `json:"columns,omitempty"` // 1–6 (MaxColumns); 0: left out, the layout's default ("columns": 0 in JSON is refused)
	Sort    string  `json:"sort,omitempty"`    // "none" (default) or "alpha"
	Entries []Entry `json:"entries"`
}

// Entry is one signing organisation, optionally a group with members.
type Entry struct {
	Name    string   `json:"name"`
	Members []string `json:"members,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// Contact is the closing press/contact block.
type Contact struct {
	Heading string   `json:"heading,omitempty"`
	Lines   []string `json:"lines,omitempty"`
}

// Output says where the rendered PDF is stored, and whether one copy per
// recipient is made besides the combined letter.
type Output struct {
	Key string `json:"key,omitempty"`
	// Copies is "none" (the default, also when empty): one PDF, the
	// combined letter; or "per-recipient": the combined letter plus one
	// copy per recipient: on window layouts with that recipient's full
	// address in the envelope window and the others named after it; on
	// the other layouts the combined letter itself, every recipient named
	// in the job's order. See Copies and CopySuffixBytes.
	Copies string `json:"copies,omitempty"`
	// PageNumbers is "auto" (the default, also when empty): a "Page i of
	// N" footer on letters of two pages or more, none on a one-page
	// letter; or "always": on every letter. See PageNumbers.
	PageNumbers string `json:"page_numbers,omitempty"`
}
