package job

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// decodeOnly are the fields whose refusals in TestContract no JSON Schema
// can state (font coverage, control characters inside paragraphs, which
// the schema leaves to the validator); for the others the schema must
// refuse what the contract refuses.
var decodeOnly = map[string]bool{}

// contractDoc is the job contract, in the shared folder beside the
// repository.
const contractDoc = "../../../shared/job-format.md"

// contractRow is one row of a field table of the contract: the field's
// JSON path, whether it is required, and the meaning column.
type contractRow struct {
	path     string // e.g. "letter.recipients"
	required string // "yes", "yes, ≥ 1", "no"
	meaning  string
}

// readContract parses the field tables of job-format.md: the "Top level"
// table (paths as they are) and the table of each "## `x`" section
// (paths under x).
func readContract(t *testing.T) (rows []contractRow, text string) {
	t.Helper()
	data, err := os.ReadFile(contractDoc)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("read the contract: %v", err)
		}
		t.Skipf("read the contract: %v", err)
	}
	text = string(data)
	section := regexp.MustCompile("^## `([a-z_]+)`")
	cell := regexp.MustCompile("^`([a-z_]+)`$")
	prefix := ""
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, "## ") {
			prefix = ""
			if m := section.FindStringSubmatch(line); m != nil {
				prefix = m[1] + "."
			}
			continue
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cols) != 4 {
			t.Fatalf("contract table row with %d columns, want 4: %s", len(cols), line)
		}
		m := cell.FindStringSubmatch(strings.TrimSpace(cols[0]))
		if m == nil {
			t.Fatalf("contract table row without a field name: %s", line)
		}
		rows = append(rows, contractRow{path: prefix + m[1], required: strings.TrimSpace(cols[2]), meaning: strings.TrimSpace(cols[3])})
	}
	if len(rows) < 20 {
		t.Fatalf("read %d field rows from %s; the tables' format changed?", len(rows), contractDoc)
	}
	return rows, text
}

// TestContract walks job-format.md and checks the validator agrees with
// each thing it states: every field it lists exists, required fields are
// required and optional ones optional, every range (1–128 of …, 1–6,
// ≥ 1) holds at both ends and is refused just past them, every listed
// value is accepted and an unlisted one refused, every JSON example
// decodes, and every error it quotes is the error Decode gives. A change
// on either side that the other does not make fails here.
func TestContract(t *testing.T) {
	rows, text := readContract(t)
	ref := func(t *testing.T) tree {
		t.Helper()
		var m tree
		if err := json.Unmarshal(readReference(t), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	decode := func(m tree) error {
		_, err := Decode(marshal(t, m))
		return err
	}
	schema := compileSchema(t)
	// schemaOK reports whether the JSON Schema accepts m: the contract
	// test holds the schema to every case it holds Decode to.
	schemaOK := func(t *testing.T, m tree) bool {
		t.Helper()
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(marshal(t, m)))
		if err != nil {
			t.Fatal(err)
		}
		return schema.Validate(inst) == nil
	}
	valid := func(t *testing.T, what string, m tree) {
		t.Helper()
		if err := decode(m); err != nil {
			t.Errorf("%s: refused, the contract allows it: %v", what, err)
		}
		if !schemaOK(t, m) {
			t.Errorf("%s: the JSON Schema refuses it, the contract allows it", what)
		}
	}
	refused := func(t *testing.T, what string, m tree, field string) {
		t.Helper()
		if schemaOK(t, m) && !decodeOnly[field] {
			t.Errorf("%s: the JSON Schema accepts it, the contract refuses it", what)
		}
		err := decode(m)
		if err == nil {
			t.Errorf("%s: accepted, the contract refuses it", what)
			return
		}
		for _, p := range problemsOf(t, err) {
			if p.Field == field || strings.HasPrefix(p.Field, field+".") || strings.HasPrefix(p.Field, field+"[") {
				return
			}
		}
		t.Errorf("%s: refused without naming %s (or a field in it): %v", what, field, err)
	}
	// holder returns a job in which the object holding path exists: the
	// reference job has every object of the contract except "output".
	holder := func(t *testing.T) tree {
		m := ref(t)
		m["output"] = map[string]any{}
		return m
	}

	fields := map[string]bool{}
	for _, r := range rows {
		fields[r.path] = true
	}

	t.Run("every field exists", func(t *testing.T) {
		for _, r := range rows {
			m := minimalTree(t)
			// An object or a value of the wrong type: the validator
			// names a type problem, never "unknown field".
			set(m, r.path, 12345.5)
			for _, p := range problemsOf(t, decode(m)) {
				if p.Field == r.path && p.Message == "unknown field" {
					t.Errorf("%s: the contract lists it, the validator does not know it", r.path)
				}
			}
		}
	})

	t.Run("required and optional", func(t *testing.T) {
		for _, r := range rows {
			m := holder(t)
			del(m, r.path)
			switch {
			case strings.HasPrefix(r.required, "yes"):
				refused(t, r.path+" left out", m, r.path)
			case r.required == "no":
				valid(t, r.path+" left out", m)
			default:
				t.Errorf("%s: required column %q is neither yes nor no", r.path, r.required)
			}
		}
	})

	t.Run("at least one", func(t *testing.T) {
		n := 0
		for _, r := range rows {
			if !strings.Contains(r.required, "≥ 1") {
				continue
			}
			n++
			m := holder(t)
			set(m, r.path, []any{})
			refused(t, r.path+" empty", m, r.path)
		}
		if n == 0 {
			t.Fatal("the contract states no ≥ 1; the table format changed?")
		}
	})

	t.Run("ranges", func(t *testing.T) {
		// "1–128 of `A-Z a-z 0-9 . _ -`" on the row's own string field,
		// and "`columns` (1–6" on an integer field inside the row's
		// object.
		own := regexp.MustCompile(`^(\d+)–(\d+) of `)
		sub := regexp.MustCompile("`([a-z_]+)` \\((\\d+)–(\\d+)")
		n := 0
		for _, r := range rows {
			if m := own.FindStringSubmatch(r.meaning); m != nil {
				n++
				lo, hi := atoi(m[1]), atoi(m[2])
				for _, tc := range []struct {
					length int
					ok     bool
				}{{lo, true}, {hi, true}, {lo - 1, false}, {hi + 1, false}} {
					j := ref(t)
					set(j, r.path, strings.Repeat("a", tc.length))
					what := r.path + " of " + strconv.Itoa(tc.length) + " characters"
					if tc.ok {
						valid(t, what, j)
					} else {
						refused(t, what, j, r.path)
					}
				}
			}
			for _, m := range sub.FindAllStringSubmatch(r.meaning, -1) {
				n++
				path := r.path + "." + m[1]
				lo, hi := atoi(m[2]), atoi(m[3])
				for _, tc := range []struct {
					v  int
					ok bool
				}{{lo, true}, {hi, true}, {lo - 1, false}, {hi + 1, false}} {
					j := ref(t)
					set(j, path, tc.v)
					what := path + " = " + strconv.Itoa(tc.v)
					if tc.ok {
						valid(t, what, j)
					} else {
						refused(t, what, j, path)
					}
				}
			}
		}
		if n < 2 {
			t.Fatalf("found %d ranges in the contract, want the id's and the columns'", n)
		}
	})

	t.Run("id characters", func(t *testing.T) {
		m := regexp.MustCompile("of `([^`]+)`, not starting with `(.)`").FindStringSubmatch(rowOf(t, rows, "id").meaning)
		if m == nil {
			t.Fatal("the id's character rule is not where it was in the contract")
		}
		allowed := ""
		for _, part := range strings.Fields(m[1]) {
			if len(part) == 3 && part[1] == '-' {
				for c := part[0]; c <= part[2]; c++ {
					allowed += string(c)
				}
			} else {
				allowed += part
			}
		}
		j := ref(t)
		set(j, "id", "x"+allowed)
		valid(t, "an id of every allowed character", j)
		for _, bad := range []string{m[2] + "abc", "a/b", "a b", "ñ", "a:b"} {
			j := ref(t)
			set(j, "id", bad)
			refused(t, "id "+strconv.Quote(bad), j, "id")
		}
	})

	t.Run("listed values", func(t *testing.T) {
		cases := []struct {
			path  string
			field string // the row
			re    string // where the values are in its meaning
			bad   string
		}{
			{"page_size", "page_size", "^((?:`[a-z0-9]+`(?:, | or )?)+);", "a5"},
			{"layout", "layout", "^(.*)\\)$", "memo"},
			{"letter.signatories.sort", "letter.signatories", "`sort` \\(([^()]*(?:\\([^()]*\\))?[^()]*)\\)", "random"},
		}
		tick := regexp.MustCompile("`([a-z0-9-]+)`")
		for _, tc := range cases {
			m := regexp.MustCompile(tc.re).FindStringSubmatch(rowOf(t, rows, tc.field).meaning)
			if m == nil {
				t.Fatalf("%s: the listed values are not where they were in the contract", tc.path)
			}
			var values []string
			for _, v := range tick.FindAllStringSubmatch(m[1], -1) {
				if v[1] != "sort" {
					values = append(values, v[1])
				}
			}
			if len(values) < 2 {
				t.Fatalf("%s: found values %q in the contract", tc.path, values)
			}
			for _, v := range values {
				j := ref(t)
				set(j, tc.path, v)
				if tc.path == "layout" && v == "letter" {
					delete(j, "statement")
					delete(j, "contact")
				}
				valid(t, tc.path+" = "+v, j)
			}
			j := ref(t)
			set(j, tc.path, tc.bad)
			refused(t, tc.path+" = "+tc.bad, j, tc.path)
		}
	})

	t.Run("formats", func(t *testing.T) {
		for _, tc := range []struct {
			path, good, bad string
		}{
			{"letter.date", "2023-01-09", "01/09/2023"},
			{"statement.date", "2024-02-29", "2023-02-29"},
			{"letterhead.accent", "#1A2b3C", "#12345"},
		} {
			// The contract names the format the field takes.
			row := rowOf(t, rows, strings.Split(tc.path, ".")[0])
			if tc.path != "letter.date" && !strings.Contains(row.meaning, "`"+strings.Split(tc.path, ".")[1]+"`") {
				t.Errorf("%s: not in the contract", tc.path)
			}
			j := ref(t)
			set(j, tc.path, tc.good)
			valid(t, tc.path+" = "+tc.good, j)
			j = ref(t)
			set(j, tc.path, tc.bad)
			refused(t, tc.path+" = "+tc.bad, j, tc.path)
		}
		if !strings.Contains(text, "`YYYY-MM-DD`") || !strings.Contains(text, "`#RRGGBB`") {
			t.Error("the contract no longer states YYYY-MM-DD and #RRGGBB")
		}
	})

	t.Run("json examples", func(t *testing.T) {
		// Every backticked JSON object in the contract (the body blocks,
		// with … standing for any text) is a valid body block.
		span := regexp.MustCompile("`(\\{[^`]*\\})`")
		n := 0
		for _, m := range span.FindAllStringSubmatch(text, -1) {
			example := strings.ReplaceAll(m[1], ", …]", "]")
			example = strings.ReplaceAll(example, "…", "We demand an answer.")
			var block any
			if err := json.Unmarshal([]byte(example), &block); err != nil {
				continue // a shape such as {name, members?: [names], note?}
			}
			n++
			j := ref(t)
			set(j, "letter.body", []any{block})
			valid(t, "body block "+m[1], j)
		}
		if n < 3 {
			t.Fatalf("found %d JSON examples in the contract, want the three body blocks", n)
		}
	})

	t.Run("quoted errors", func(t *testing.T) {
		// "`letter.recipients: at least one recipient is required`".
		m := regexp.MustCompile("`([a-z_]+\\.[a-z_.]+): ([^`]+)`").FindStringSubmatch(text)
		if m == nil {
			t.Fatal("the contract quotes no error")
		}
		m[2] = strings.Join(strings.Fields(m[2]), " ") // the quote may wrap
		j := ref(t)
		set(j, m[1], []any{})
		wantProblem(t, decode(j), m[1], m[2])
		for _, p := range problemsOf(t, decode(j)) {
			if p.Field == m[1] && p.Message != m[2] {
				t.Errorf("%s: message %q, the contract quotes %q", m[1], p.Message, m[2])
			}
		}
		// A character no bundled font has names the character, its code
		// point and the field, as in the contract's example path.
		path := regexp.MustCompile("`(letter\\.signatories\\.entries\\[(\\d+)\\]\\.name)`").FindStringSubmatch(text)
		if path == nil {
			t.Fatal("the contract's example field path is gone")
		}
		j = ref(t)
		set(j, "letter.signatories.entries."+path[2]+".name", "Comitė 🙂")
		wantProblem(t, decode(j), path[1], `character "🙂" (U+1F642) is not in any bundled font`)
	})

	t.Run("text", func(t *testing.T) {
		// NFC: e + combining acute is é.
		j := ref(t)
		set(j, "letter.closing", "Atentamente, Ame\u0301rica")
		got, err := Decode(marshal(t, j))
		if err != nil || got.Letter.Closing != "Atentamente, América" {
			t.Errorf("NFC: %q, %v", got.Letter.Closing, err)
		}
		// Control characters other than newline are refused; newline in
		// a paragraph is allowed.
		j = ref(t)
		set(j, "letter.body", []any{map[string]any{"text": "line one\nline two"}})
		valid(t, "a newline in a paragraph", j)
		for _, c := range []string{"\t", "\r", "\x00", "\x7f", "\u0085"} {
			j := ref(t)
			set(j, "letter.body", []any{map[string]any{"text": "a" + c + "b"}})
			refused(t, "control character "+strconv.Quote(c), j, "letter.body[0].text")
		}
		// Latin Extended, Vietnamese, Greek and Cyrillic print.
		j = ref(t)
		set(j, "letter.signatories.entries.0.name", "Nguyễn Phú Trọng, Ελληνικά, Володимир Зеленський, Łódź, Ǆ")
		valid(t, "Latin Extended, Vietnamese, Greek and Cyrillic", j)
	})

	if !fields["letter.signatories"] || !fields["output"] {
		t.Error("the contract's tables lost letter.signatories or output")
	}
}

func rowOf(t *testing.T, rows []contractRow, path string) contractRow {
	t.Helper()
	for _, r := range rows {
		if r.path == path {
			return r
		}
	}
	t.Fatalf("the contract has no row for %s", path)
	return contractRow{}
}
