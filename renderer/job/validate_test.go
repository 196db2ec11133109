package job

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

func testPNG(t testing.TB, w, h int) string {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		m.Set(x, h/2, color.NRGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return PNGPrefix + base64.StdEncoding.EncodeToString(b.Bytes())
}

func testJPEG(t testing.TB, w, h int) string {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	return JPEGPrefix + base64.StdEncoding.EncodeToString(b.Bytes())
}

func entries(names ...string) []any {
	var es []any
	for _, n := range names {
		es = append(es, map[string]any{"name": n})
	}
	return es
}

func repeat(v any, n int) []any {
	s := make([]any, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// TestValidateRules changes the minimal job one way per scenario and
// checks the one problem that must come out, or that none does.
func TestValidateRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(m tree)
		field  string // "" with msg "" means the job must be valid
		msg    string
	}{
		{"minimal job is valid", func(tree) {}, "", ""},
		{"all optional fields set", func(m tree) {
			m["layout"] = "joint-statement"
			m["locale"] = "es-MX"
			m["page_size"] = "legal"
			m["title"] = "Carta abierta"
			set(m, "letterhead.lines", []any{"Ciudad de México", "prensa@example.org"})
			set(m, "letterhead.logo", testPNG(t, 40, 20))
			set(m, "letterhead.accent", "#1a2B3c")
			m["statement"] = map[string]any{"kicker": "DECLARACIÓN", "headline": "Titular", "date": "2024-02-29",
				"dateline": "CDMX", "paragraphs": []any{"Uno.", "Dos\ncon salto."}}
			set(m, "letter.date", "2023-01-09")
			set(m, "letter.reference", "Ref. 12/2023")
			set(m, "letter.recipients.0", map[string]any{"honorific": "Excmo. Sr.", "name": "Andrés Manuel López Obrador",
				"title": "Presidente", "organization": "Gobierno de México", "address": []any{"Palacio Nacional"}, "country": "México"})
			set(m, "letter.cc", []any{map[string]any{"name": "Marcelo Ebrard"}})
			set(m, "letter.subject", "Migración")
			set(m, "letter.body", []any{
				map[string]any{"heading": "Demandas"},
				map[string]any{"list": []any{"**Uno**", "*dos* \\* tres"}, "numbered": true},
				map[string]any{"list": []any{"x"}, "numbered": false},
				map[string]any{"text": "Gracias."},
			})
			set(m, "letter.signers", []any{map[string]any{"name": "Ana López", "title": "Directora",
				"organization": "Comitė Ciudadano", "signature": testJPEG(t, 30, 10)}})
			set(m, "letter.signatories", map[string]any{"heading": "Firman", "columns": 6, "sort": "alpha",
				"entries": []any{map[string]any{"name": "Red A", "members": []any{"Uno", "Dos"}, "note": "(coalición)"}}})
			m["contact"] = map[string]any{"heading": "Prensa", "lines": []any{"+52 55 0000 0000"}}
			m["output"] = map[string]any{"key": "cartas/2023/test-1.pdf"}
		}, "", ""},
		{"greek and cyrillic names print", func(m tree) {
			set(m, "letter.recipients.0.name", "Κυριάκος Μητσοτάκης")
			set(m, "letter.cc", []any{map[string]any{"name": "Володимир Зеленський"}, map[string]any{"name": "Nguyễn Phú Trọng"}})
		}, "", ""},
		{"empty output object uses the default key", func(m tree) { m["output"] = map[string]any{} }, "", ""},
		{"columns left out is the layout default", func(m tree) {
			set(m, "letter.signatories", map[string]any{"sort": "none", "entries": entries("A")})
		}, "", ""},
		{"signatories at the entry limit", func(m tree) {
			set(m, "letter.signatories", map[string]any{"entries": repeat(map[string]any{"name": "Org"}, MaxEntries)})
		}, "", ""},

		{"schema missing", func(m tree) { delete(m, "schema") }, "schema", "is required"},
		{"schema of another version", func(m tree) { m["schema"] = "letter/v2" }, "schema", `must be "letter/v1"`},
		{"id missing", func(m tree) { delete(m, "id") }, "id", "is required"},
		{"id starting with a dot", func(m tree) { m["id"] = ".x" }, "id", `must not start with "."`},
		{"id with a slash", func(m tree) { m["id"] = "a/b" }, "id", "may hold only"},
		{"id of 128 bytes", func(m tree) { m["id"] = strings.Repeat("a", 128) }, "", ""},
		{"id of 129 bytes", func(m tree) { m["id"] = strings.Repeat("a", 129) }, "id", "the limit is 128"},
		{"layout unknown", func(m tree) { m["layout"] = "memo" }, "layout", "must be one of"},
		{"locale with underscore", func(m tree) { m["locale"] = "fr_CA" }, "locale", `not "_"`},
		{"locale ill-formed", func(m tree) { m["locale"] = "e" }, "locale", "is not a BCP 47 language tag"},
		{"locale too long", func(m tree) { m["locale"] = "en-" + strings.Repeat("a-", 40) + "b" }, "locale", "the limit is 64"},
		{"page size unknown", func(m tree) { m["page_size"] = "tabloid" }, "page_size", "must be one of"},
		{"title blank", func(m tree) { m["title"] = "  " }, "title", "must not be blank"},
		{"title with a control character", func(m tree) { m["title"] = "a\x1bb" }, "title", "control character U+001B"},
		{"letterhead name missing", func(m tree) { del(m, "letterhead.name") }, "letterhead.name", "must not be empty"},
		{"letterhead line empty", func(m tree) { set(m, "letterhead.lines", []any{"a", ""}) }, "letterhead.lines[1]", "must not be empty"},
		{"letterhead lines over the limit", func(m tree) { set(m, "letterhead.lines", repeat("l", MaxLines+1)) }, "letterhead.lines", "the limit is 20"},
		{"logo not a data URL", func(m tree) { set(m, "letterhead.logo", "logo.png") }, "letterhead.logo", "must be a data: URL"},
		{"logo jpeg declared as png", func(m tree) {
			set(m, "letterhead.logo", PNGPrefix+strings.TrimPrefix(testJPEG(t, 4, 4), JPEGPrefix))
		}, "letterhead.logo", "is declared image/png but the data is a JPEG image"},
		{"logo at the pixel limit", func(m tree) { set(m, "letterhead.logo", testPNG(t, 2000, 2000)) }, "", ""},
		{"logo over the pixel limit", func(m tree) { set(m, "letterhead.logo", testPNG(t, 2001, 2000)) }, "letterhead.logo", "the limit is 4000000 pixels"},
		{"logo alt given", func(m tree) { set(m, "letterhead.logo_alt", "Emblem of the Centre") }, "", ""},
		{"logo alt with a newline", func(m tree) { set(m, "letterhead.logo_alt", "a\nb") }, "letterhead.logo_alt", ""},
		{"accent named colour", func(m tree) { set(m, "letterhead.accent", "red") }, "letterhead.accent", "#RRGGBB"},
		{"accent without hash", func(m tree) { set(m, "letterhead.accent", "112233") }, "letterhead.accent", "#RRGGBB"},
		{"statement date not real", func(m tree) { set(m, "statement.date", "2023-13-01") }, "statement.date", "not a real calendar date"},
		{"statement date on 29 February of a common year", func(m tree) { set(m, "statement.date", "2023-02-29") }, "statement.date", "not a real calendar date"},
		{"statement date with time", func(m tree) { set(m, "statement.date", "2023-01-09T10:00:00Z") }, "statement.date", "YYYY-MM-DD"},
		{"statement paragraph empty", func(m tree) { set(m, "statement.paragraphs", []any{"a", " "}) }, "statement.paragraphs[1]", "must not be empty"},
		{"statement paragraphs over the limit", func(m tree) { set(m, "statement.paragraphs", repeat("p", MaxParagraphs+1)) }, "statement.paragraphs", "the limit is 200"},
		{"statement headline multiline", func(m tree) { set(m, "statement.headline", "a\nb") }, "statement.headline", "must be a single line"},
		{"letter date not real", func(m tree) { set(m, "letter.date", "2023-04-31") }, "letter.date", "not a real calendar date"},
		{"no recipients", func(m tree) { set(m, "letter.recipients", []any{}) }, "letter.recipients", "at least one recipient is required"},
		{"recipient name empty", func(m tree) { set(m, "letter.recipients.0.name", "") }, "letter.recipients[0].name", "must not be empty"},
		{"recipient title multiline", func(m tree) { set(m, "letter.recipients.0.title", "a\nb") }, "letter.recipients[0].title", "must be a single line"},
		{"recipient address line empty", func(m tree) { set(m, "letter.recipients.0.address", []any{""}) }, "letter.recipients[0].address[0]", "must not be empty"},
		{"too many recipients", func(m tree) { set(m, "letter.recipients", repeat(map[string]any{"name": "A"}, MaxRecipients+1)) }, "letter.recipients", "the limit is 50"},
		{"too many cc", func(m tree) { set(m, "letter.cc", repeat(map[string]any{"name": "A"}, MaxRecipients+1)) }, "letter.cc", "the limit is 50"},
		{"cc name empty", func(m tree) { set(m, "letter.cc", []any{map[string]any{"title": "x"}}) }, "letter.cc[0].name", "must not be empty"},
		{"salutation empty", func(m tree) { set(m, "letter.salutation", "") }, "letter.salutation", "must not be empty"},
		{"salutation at the byte limit", func(m tree) { set(m, "letter.salutation", strings.Repeat("é", MaxStringBytes/2)) }, "", ""},
		{"salutation over the byte limit", func(m tree) { set(m, "letter.salutation", strings.Repeat("é", MaxStringBytes/2)+"a") }, "letter.salutation", "the limit is 4096"},
		{"no body", func(m tree) { del(m, "letter.body") }, "letter.body", "at least one block is required"},
		{"too many blocks", func(m tree) { set(m, "letter.body", repeat(map[string]any{"text": "a"}, MaxBlocks+1)) }, "letter.body", "the limit is 500"},
		{"block with text and list", func(m tree) { set(m, "letter.body.0.list", []any{"a"}) }, "letter.body[0]", "must have exactly one of text, list, heading"},
		{"paragraph empty", func(m tree) { set(m, "letter.body.0.text", "") }, "letter.body[0].text", "must not be empty"},
		{"paragraph with newline", func(m tree) { set(m, "letter.body.0.text", "a\nb") }, "", ""},
		{"paragraph at 16 KiB", func(m tree) { set(m, "letter.body.0.text", strings.Repeat("a", MaxParagraphBytes)) }, "", ""},
		{"paragraph over 16 KiB", func(m tree) { set(m, "letter.body.0.text", strings.Repeat("a", MaxParagraphBytes+1)) }, "letter.body[0].text", "the limit is 16384"},
		{"paragraph with unbalanced emphasis", func(m tree) { set(m, "letter.body.0.text", "5 * 3 = **15") }, "", ""},
		{"heading empty", func(m tree) { set(m, "letter.body", []any{map[string]any{"heading": ""}}) }, "letter.body[0].heading", "must not be empty"},
		{"list empty", func(m tree) { set(m, "letter.body", []any{map[string]any{"list": []any{}}}) }, "letter.body[0].list", "must have at least one item"},
		{"list item empty", func(m tree) { set(m, "letter.body", []any{map[string]any{"list": []any{"a", ""}}}) }, "letter.body[0].list[1]", "must not be empty"},
		{"list over the item limit", func(m tree) { set(m, "letter.body", []any{map[string]any{"list": repeat("i", MaxListItems+1)}}) }, "letter.body[0].list", "the limit is 200"},
		{"numbered heading", func(m tree) { set(m, "letter.body", []any{map[string]any{"heading": "h", "numbered": true}}) }, "letter.body[0].numbered", "is allowed only with list"},
		{"closing empty", func(m tree) { set(m, "letter.closing", "\t") }, "letter.closing", "must not be empty"},
		{"signer name empty", func(m tree) { set(m, "letter.signers", []any{map[string]any{"title": "x"}}) }, "letter.signers[0].name", "must not be empty"},
		{"signature alt with a control character", func(m tree) {
			set(m, "letter.signers", []any{map[string]any{"name": "Ana", "signature_alt": "a\x1bb"}})
		}, "letter.signers[0].signature_alt", "control character U+001B"},
		{"too many signers", func(m tree) { set(m, "letter.signers", repeat(map[string]any{"name": "A"}, MaxSigners+1)) }, "letter.signers", "the limit is 20"},
		{"signature not an image", func(m tree) {
			set(m, "letter.signers", []any{map[string]any{"name": "A", "signature": PNGPrefix + "aGVsbG8="}})
		}, "letter.signers[0].signature", "data is not a PNG or JPEG image"},
		{"signatories columns 7", func(m tree) { set(m, "letter.signatories", map[string]any{"columns": 7, "entries": entries("A")}) }, "letter.signatories.columns", "must be from 1 to 6"},
		{"signatories columns 0", func(m tree) { set(m, "letter.signatories", map[string]any{"columns": 0, "entries": entries("A")}) }, "letter.signatories.columns", "must be from 1 to 6 (or left out for the layout's default), not 0"},
		{"signatories sort unknown", func(m tree) { set(m, "letter.signatories", map[string]any{"sort": "ALPHA", "entries": entries("A")}) }, "letter.signatories.sort", "must be one of"},
		{"signatories without entries", func(m tree) { set(m, "letter.signatories", map[string]any{"entries": []any{}}) }, "letter.signatories.entries", "at least one entry is required"},
		{"signatories over the entry limit", func(m tree) {
			set(m, "letter.signatories", map[string]any{"entries": repeat(map[string]any{"name": "Org"}, MaxEntries+1)})
		}, "letter.signatories.entries", "the limit is 2000"},
		{"signatory entry name empty", func(m tree) { set(m, "letter.signatories", map[string]any{"entries": entries("A", "B", "")}) }, "letter.signatories.entries[2].name", "must not be empty"},
		{"signatory member empty", func(m tree) {
			set(m, "letter.signatories", map[string]any{"entries": []any{map[string]any{"name": "A", "members": []any{"x", " "}}}})
		}, "letter.signatories.entries[0].members[1]", "must not be empty"},
		{"signatory members over the limit", func(m tree) {
			set(m, "letter.signatories", map[string]any{"entries": []any{map[string]any{"name": "A", "members": repeat("m", MaxMembers+1)}}})
		}, "letter.signatories.entries[0].members", "the limit is 200"},
		{"signatory entry with emoji", func(m tree) {
			es := entries()
			for i := range 12 {
				es = append(es, map[string]any{"name": fmt.Sprintf("Org %d", i)})
			}
			es = append(es, map[string]any{"name": "Happy 🙂"})
			set(m, "letter.signatories", map[string]any{"entries": es})
		}, "letter.signatories.entries[12].name", `character "🙂" (U+1F642) is not in any bundled font`},
		{"signatory note multiline", func(m tree) {
			set(m, "letter.signatories", map[string]any{"entries": []any{map[string]any{"name": "A", "note": "a\nb"}}})
		}, "letter.signatories.entries[0].note", "must be a single line"},
		{"contact line empty", func(m tree) { m["contact"] = map[string]any{"lines": []any{""}} }, "contact.lines[0]", "must not be empty"},
		{"contact heading with noncharacter", func(m tree) { m["contact"] = map[string]any{"heading": "a\uFDD0"} }, "contact.heading", "noncharacter U+FDD0"},
		{"name with supplementary private use", func(m tree) { set(m, "letter.recipients.0.name", "a\U000F0000") }, "letter.recipients[0].name", "private-use character U+F0000"},
		{"name with right-to-left override", func(m tree) { set(m, "letter.recipients.0.name", "a\u202Eb") }, "letter.recipients[0].name", "U+202E"},
		{"name with C1 control", func(m tree) { set(m, "letter.recipients.0.name", "a\u009Bb") }, "letter.recipients[0].name", "control character U+009B"},
		{"key dot segment", func(m tree) { m["output"] = map[string]any{"key": "letters/./x.pdf"} }, "output.key", `"." or ".."`},
		{"key with dots inside a name", func(m tree) { m["output"] = map[string]any{"key": "letters/v1..final/test-1.pdf"} }, "", ""},
		{"key of 1024 bytes", func(m tree) { m["output"] = map[string]any{"key": strings.Repeat("a", 1013) + "/test-1.pdf"} }, "", ""},
		{"key of another letter", func(m tree) { m["output"] = map[string]any{"key": "letters/future-x.pdf"} }, "output.key", `such as "letters/2023/test-1.pdf"`},
		{"key without a folder", func(m tree) { m["output"] = map[string]any{"key": "test-1.pdf"} }, "output.key", "must be a folder and then the job's id"},
		{"key of another letter's copy", func(m tree) {
			m["id"] = "copy-01-ana"
			m["output"] = map[string]any{"key": "letters/future-x/copy-01-ana.pdf"}
		}, "output.key", `must be left out for a job whose id starts with "copy-"`},
		{"default key spelled out", func(m tree) { m["output"] = map[string]any{"key": "letters/test-1.pdf"} }, "", ""},
		{"key of 1025 bytes", func(m tree) { m["output"] = map[string]any{"key": strings.Repeat("a", 1021) + ".pdf"} }, "output.key", "the limit is 1024"},
		{"window layout with its paper", func(m tree) { m["layout"] = "din5008-a"; m["page_size"] = "a4" }, "", ""},
		{"window layout with another paper", func(m tree) { m["layout"] = "us-window"; m["page_size"] = "a4" }, "page_size", `must be "letter" for the us-window layout`},
		{"per-recipient copies", func(m tree) { m["output"] = map[string]any{"copies": "per-recipient"} }, "", ""},
		{"copies none", func(m tree) { m["output"] = map[string]any{"copies": "none"} }, "", ""},
		{"copies unknown", func(m tree) { m["output"] = map[string]any{"copies": "all"} }, "output.copies", `must be one of "none", "per-recipient"`},
		{"copies with a key of 967 bytes", func(m tree) {
			m["output"] = map[string]any{"key": strings.Repeat("a", 956) + "/test-1.pdf", "copies": "per-recipient"}
		}, "", ""},
		{"copies with a key of 968 bytes", func(m tree) {
			m["output"] = map[string]any{"key": strings.Repeat("a", 964) + ".pdf", "copies": "per-recipient"}
		}, "output.key", "with per-recipient copies the limit is 967"},
		{"key uppercase extension", func(m tree) { m["output"] = map[string]any{"key": "a.PDF"} }, "output.key", `must end in ".pdf"`},
		{"key with DEL", func(m tree) { m["output"] = map[string]any{"key": "a\x7f.pdf"} }, "output.key", "control character U+007F"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := minimalTree(t)
			tc.change(m)
			j, err := Decode(marshal(t, m))
			if tc.field == "" && tc.msg == "" {
				if err != nil {
					t.Fatalf("want a valid job, got:\n%v", err)
				}
				if j == nil {
					t.Fatal("Decode returned neither job nor error")
				}
				return
			}
			wantProblem(t, err, tc.field, tc.msg)
			if problems := problemsOf(t, err); len(problems) != 1 {
				t.Errorf("want exactly one problem, got:\n%v", err)
			}
		})
	}
}

// TestValidateCollectsAllProblemsInOrder checks that one call reports
// every problem, in document order.
func TestValidateCollectsAllProblemsInOrder(t *testing.T) {
	t.Parallel()
	j := &Job{
		Schema: "letter/v2",
		ID:     "",
		Letter: Letter{
			Recipients: []Person{{Name: "A"}, {Name: ""}},
			Body:       []Block{{}, {List: []string{}}},
			Closing:    "Yours,",
		},
		Output: &Output{Key: "../x.pdf"},
	}
	err := j.Validate()
	want := strings.Join([]string{
		`schema: must be "letter/v1", not "letter/v2"`,
		`id: is required`,
		`letterhead.name: must not be empty`,
		`letter.recipients[1].name: must not be empty`,
		`letter.salutation: must not be empty`,
		`letter.body[0]: must have exactly one of text, list, heading`,
		`letter.body[1].list: must have at least one item`,
		`output.key: must not have "." or ".." path segments`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

// TestValidateCapsProblems checks that a job with thousands of problems
// lists MaxProblems of them, the last one counting the rest.
func TestValidateCapsProblems(t *testing.T) {
	t.Parallel()
	j := &Job{Schema: Schema, ID: "x", Letterhead: Letterhead{Name: "L"},
		Letter: Letter{Recipients: []Person{{Name: "A"}}, Salutation: "S", Body: []Block{{Heading: new("H")}}, Closing: "C",
			Signatories: &Signatories{Entries: make([]Entry, 1500)}}}
	problems := problemsOf(t, j.Validate())
	if len(problems) != MaxProblems {
		t.Fatalf("got %d problems, want %d", len(problems), MaxProblems)
	}
	if got := problems[0].String(); got != "letter.signatories.entries[0].name: must not be empty" {
		t.Errorf("first problem: %s", got)
	}
	if last := problems[MaxProblems-1]; last.Field != "" || last.Message != "… and 1401 more problems" {
		t.Errorf("last problem: %+v", last)
	}
}

func TestValidateRefusesNonNFC(t *testing.T) {
	t.Parallel()
	j := &Job{Schema: Schema, ID: "x", Letterhead: Letterhead{Name: "L"},
		Letter: Letter{Recipients: []Person{{Name: "Me\u0301lanie"}}, Salutation: "S", Body: []Block{{Heading: new("H")}}, Closing: "C"}}
	wantProblem(t, j.Validate(), "letter.recipients[0].name", "Normalization Form C")
	j.Normalize()
	if err := j.Validate(); err != nil {
		t.Errorf("after Normalize: %v", err)
	}
	if got := j.Letter.Recipients[0].Name; got != "Mélanie" {
		t.Errorf("Normalize gave %q", got)
	}
}

func TestValidationErrorFormat(t *testing.T) {
	t.Parallel()
	e := &ValidationError{Problems: []Problem{
		{Field: "letter.recipients", Message: "at least one recipient is required"},
		{Message: "job is empty"},
	}}
	want := "letter.recipients: at least one recipient is required\njob is empty"
	if e.Error() != want {
		t.Errorf("got %q, want %q", e.Error(), want)
	}
}

func BenchmarkValidateLogoAtPixelLimit(b *testing.B) {
	j := &Job{Schema: Schema, ID: "x", Letterhead: Letterhead{Name: "L", Logo: testPNG(b, 2000, 2000)},
		Letter: Letter{Recipients: []Person{{Name: "A"}}, Salutation: "S", Body: []Block{{Heading: new("H")}}, Closing: "C"}}
	for b.Loop() {
		if err := j.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
