package job

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestDecodeReferenceJob(t *testing.T) {
	t.Parallel()
	j, err := Decode(readReference(t))
	if err != nil {
		t.Fatalf("reference job refused:\n%v", err)
	}
	if err := j.Validate(); err != nil {
		t.Fatalf("reference job does not re-validate:\n%v", err)
	}
	if got := len(j.Letter.Recipients); got != 3 {
		t.Errorf("recipients: got %d, want 3", got)
	}
	if got := j.Letter.Recipients[1].Name; got != "Andrés Manuel López Obrador" {
		t.Errorf("recipient 1: %q", got)
	}
	if j.Letter.Signatories == nil || len(j.Letter.Signatories.Entries) != 95 {
		t.Errorf("want 95 signatory entries")
	}
	if got := j.LayoutOrDefault(); got != "joint-statement" {
		t.Errorf("layout %q", got)
	}
}

func TestDecodeNormalisesToNFC(t *testing.T) {
	t.Parallel()
	m := minimalTree(t)
	set(m, "letter.recipients.0.name", "Me\u0301lanie Joly")            // e + combining acute
	set(m, "letter.body.0.text", "Comite\u0307 and A\u030A and \u212B") // ė, Å, Angstrom sign
	j, err := Decode(marshal(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if got := j.Letter.Recipients[0].Name; got != "M\u00e9lanie Joly" {
		t.Errorf("name: got %+q", got)
	}
	if got := *j.Letter.Body[0].Text; got != "Comit\u0117 and \u00c5 and \u00c5" {
		t.Errorf("text: got %+q", got)
	}
}

// TestDecodeSyntaxErrors checks where syntax errors are said to be.
func TestDecodeSyntaxErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"missing value on line 3", "{\n\"id\": \"x\",\n\"schema\": }", "parse job: invalid character '}' looking for beginning of value at line 3, column 11"},
		{"column counts characters", "{\"letter\": {\"closing\": \"Ç\"}, ]", "at line 1, column 30"},
		{"unterminated string", `{"id": "x`, "parse job: unexpected end of JSON at line 1, column 10"},
		{"trailing object", "{}\n{}", "parse job: trailing data after the job object at line 2, column 1"},
		{"trailing comma in array", `{"letterhead": {"lines": ["a",]}}`, "at line 1, column 31"},
		{"number with leading zero", `{"letter": {"signatories": {"columns": 03}}}`, "at line 1, column 41"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tc.in))
			p := problemsOf(t, err)
			if len(p) != 1 || p[0].Field != "" || !strings.Contains(p[0].Message, tc.want) {
				t.Errorf("got %q, want one problem containing %q", err, tc.want)
			}
		})
	}
}

// TestDecodeAllowsSurroundingWhitespace checks that white space around
// the job object is not trailing data.
func TestDecodeAllowsSurroundingWhitespace(t *testing.T) {
	t.Parallel()
	if _, err := Decode([]byte("\n\t " + minimal + "\r\n\n")); err != nil {
		t.Fatal(err)
	}
}

// TestDecodeCollectsStructuralProblems checks that unknown fields, wrong
// types and duplicate keys are reported together, in input order.
func TestDecodeCollectsStructuralProblems(t *testing.T) {
	t.Parallel()
	in := `{"schema": "letter/v1", "id": 7, "letterhead": {"name": "L", "nmae": "L"},
	"letter": {"recipients": [{"name": "A"}, {"name": ["B"]}], "salutation": "S", "salutation": "T",
	"body": [{"text": "a", "numbered": "no"}], "closing": "C", "signatories": {"columns": 2, "entries": {}}},
	"extra": {"deep": [1, 2, {"x": null}]}}`
	_, err := Decode([]byte(in))
	want := strings.Join([]string{
		"id: must be a string, not a number",
		"letterhead.nmae: unknown field",
		"letter.recipients[1].name: must be a string, not an array",
		"letter.salutation: duplicate key",
		"letter.body[0].numbered: must be true or false, not a string",
		"letter.signatories.entries: must be an array, not an object",
		"extra: unknown field",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

// TestDecodeGeneratedLimits builds inputs too large to keep in testdata.
func TestDecodeGeneratedLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		make  func(t *testing.T) []byte
		field string
		msg   string
	}{
		{"job over MaxJobBytes", func(t *testing.T) []byte {
			m := minimalTree(t)
			set(m, "letter.body", repeat(map[string]any{"text": strings.Repeat("a", 10000)}, MaxJobBytes/10000+1))
			return marshal(t, m)
		}, "", "the limit is 983040 (960 KiB)"},
		{"white space over MaxJobBytes", func(t *testing.T) []byte {
			return append([]byte(minimal), bytes.Repeat([]byte(" "), MaxJobBytes)...)
		}, "", "the limit is 983040"},
		{"1000 nested arrays", func(t *testing.T) []byte {
			return []byte(`{"letter": {"body": ` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}}`)
		}, "letter.body[0]", "must be an object, not an array"},
		{"deep nesting in an unknown field", func(t *testing.T) []byte {
			return []byte(`{"x": ` + strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000) + `}`)
		}, "x", "nesting is deeper than 16 levels"},
		{"100000 nested arrays", func(t *testing.T) []byte {
			return []byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000))
		}, "", "nesting is deeper than 16 levels at line 1, column 10001"},
		{"2001 signatory entries", func(t *testing.T) []byte {
			m := minimalTree(t)
			set(m, "letter.signatories", map[string]any{"entries": repeat(map[string]any{"name": "Organización"}, MaxEntries+1)})
			return marshal(t, m)
		}, "letter.signatories.entries", "has 2001 entries; the limit is 2000"},
		{"logo over MaxImageBytes", func(t *testing.T) []byte {
			m := minimalTree(t)
			set(m, "letterhead.logo", PNGPrefix+base64.StdEncoding.EncodeToString(make([]byte, MaxImageBytes+1)))
			return marshal(t, m)
		}, "letterhead.logo", "image is larger than 262144 bytes (256 KiB)"},
		{"paragraph of half a megabyte", func(t *testing.T) []byte {
			m := minimalTree(t)
			set(m, "letter.body.0.text", strings.Repeat("Ω", 1<<18))
			return marshal(t, m)
		}, "letter.body[0].text", "is 524288 bytes long; the limit is 16384"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j, err := Decode(tc.make(t))
			if j != nil {
				t.Error("Decode returned a job with an error")
			}
			wantProblem(t, err, tc.field, tc.msg)
		})
	}
}

func BenchmarkDecodeReference(b *testing.B) {
	data := readReference(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
