package renderer_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/carta-letters/carta/layouts/markup"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// taggedLetters renders the letters the structure tests read: the
// reference letter, the test corpus, and every layout's letter with a
// logo, a signature and per-recipient copies (the combined letter and
// the last copy).
func taggedLetters(t *testing.T) map[string]struct {
	j   *job.Job
	pdf []byte
} {
	t.Helper()
	out := map[string]struct {
		j   *job.Job
		pdf []byte
	}{}
	for _, path := range []string{referenceJob, "testdata/jobs/fr-embassy.json", "testdata/jobs/scripts.json", "testdata/jobs/decomposed.json", "testdata/jobs/long-tokens.json"} {
		j, res, err := renderer.RenderJSON(readFile(t, path))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[strings.TrimSuffix(filepath.Base(path), ".json")] = struct {
			j   *job.Job
			pdf []byte
		}{j, res.PDF}
	}
	for _, layout := range []string{"letter", "joint-statement", "din5008-a", "din5008-b", "us-window"} {
		j := mustDecode(t, imagesJob(t, layout))
		outs, err := renderer.RenderAll(j)
		if err != nil {
			t.Fatalf("%s: %v", layout, err)
		}
		for _, o := range []renderer.Output{outs[0], outs[len(outs)-1]} {
			out[layout+"/"+o.Name] = struct {
				j   *job.Job
				pdf []byte
			}{j, o.PDF}
		}
	}
	return out
}

// jobStrings returns the texts of j that a letter shows as they are, in
// plain text (markup removed), each with its white space collapsed.
// ordered are those every layout shows in this order: the statement's
// and the letter's body.
func jobStrings(j *job.Job) (all, ordered []string) {
	plain := func(s string) string {
		var b strings.Builder
		for _, sp := range markup.Parse(nil, s) {
			b.WriteString(sp.Text)
		}
		return strings.Join(strings.Fields(b.String()), " ")
	}
	add := func(ss ...string) {
		for _, s := range ss {
			if s = plain(s); s != "" {
				all = append(all, s)
			}
		}
	}
	addOrdered := func(ss ...string) {
		for _, s := range ss {
			if s = plain(s); s != "" {
				all = append(all, s)
				ordered = append(ordered, s)
			}
		}
	}
	add(j.Letterhead.Name)
	add(j.Letterhead.Lines...)
	if s := j.Statement; s != nil {
		add(strings.ToUpper(s.Kicker), s.Headline, s.Dateline)
		addOrdered(s.Paragraphs...)
	}
	l := &j.Letter
	add(l.Reference, l.Subject, l.Salutation, l.Closing)
	for _, p := range append(append([]job.Person(nil), l.Recipients...), l.CC...) {
		add(p.Name, p.Title, p.Organization)
		add(p.Address...)
	}
	for _, b := range l.Body {
		if b.Text != nil {
			addOrdered(*b.Text)
		}
		if b.Heading != nil {
			addOrdered(*b.Heading)
		}
		addOrdered(b.List...)
	}
	for _, s := range l.Signers {
		add(s.Name, s.Title, s.Organization)
	}
	if sg := l.Signatories; sg != nil {
		add(sg.Heading)
		for _, e := range sg.Entries {
			add(e.Name, e.Note)
			add(e.Members...)
		}
	}
	if c := j.Contact; c != nil {
		add(c.Heading)
		add(c.Lines...)
	}
	return all, ordered
}

var structLine = regexp.MustCompile(`^(\s*)(?:"(.*)"|(\w+)(?: \((?:block|inline)\))?:?)$`)

// structTree runs pdfinfo -struct-text and returns the text of the
// structure tree in its order, white space collapsed, and the structure
// types in order.
func structTree(t *testing.T, pdf []byte) (text string, roles []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "letter.pdf")
	writeFile(t, path, pdf)
	out, err := exec.Command("pdfinfo", "-struct-text", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo -struct-text: %v\n%s", err, out)
	}
	var b strings.Builder
	for _, ln := range strings.Split(string(out), "\n") {
		m := structLine.FindStringSubmatch(ln)
		switch {
		case m == nil:
		case m[3] != "":
			roles = append(roles, m[3])
			b.WriteByte(' ') // elements are separate; the lines of one are not
		default:
			// The content keeps the space at a line broken at a space, and
			// a hyphen layout adds at a broken word is an artifact, so the
			// lines of an element join as they are.
			b.WriteString(m[2])
		}
	}
	return strings.Join(strings.Fields(b.String()), " "), roles
}

// TestStructureTree reads each letter's structure tree back with
// poppler's pdfinfo -struct-text: every text of the job is in it, the
// bodies in the job's order.
func TestStructureTree(t *testing.T) {
	t.Parallel()
	requireTools(t)
	for name, l := range taggedLetters(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text, roles := structTree(t, l.pdf)
			if len(roles) == 0 || roles[0] != "Document" {
				t.Fatalf("structure tree does not start with a Document element: %v", roles[:min(3, len(roles))])
			}
			all, ordered := jobStrings(l.j)
			for _, s := range all {
				if !strings.Contains(text, s) {
					t.Errorf("the structure tree lacks %q", s)
				}
			}
			at := 0
			for _, s := range ordered {
				i := strings.Index(text[at:], s)
				if i < 0 {
					t.Errorf("%q is not in the structure tree after the text before it", s)
					continue
				}
				at += i + len(s)
			}
			if l.j.Statement != nil && l.j.Statement.Headline != "" || l.j.Letter.Subject != "" {
				if !contains(roles, "H1") {
					t.Error("no H1 for the headline or subject")
				}
			}
			if l.j.Letter.Signatories != nil && !contains(roles, "H2") && !contains(roles, "H1") {
				t.Error("no heading for the signatories")
			}
			for _, r := range roles {
				if r == "H1" || r == "H2" {
					if r != "H1" {
						t.Errorf("the first heading is %s, not H1", r)
					}
					break
				}
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// TestTaggedContent checks the rules of PDF/UA-1 (ISO 14289-1) that no
// validator here checks: all page content is either marked content of
// the structure tree or an artifact; every Figure has an /Alt; the
// catalog marks the file tagged, names its language, shows the title;
// every page has /StructParents and /Tabs /S; the XMP says PDF/UA-1.
func TestTaggedContent(t *testing.T) {
	t.Parallel()
	requireTools(t)
	for name, l := range taggedLetters(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pdf := l.pdf
			// Carta's update, after fpdf's file: the catalog, pages
			// and metadata.
			upd := pdf[bytes.Index(pdf, []byte("%%EOF\n")):]
			for _, want := range []string{"/MarkInfo <</Marked true>>", "/StructTreeRoot ", "/DisplayDocTitle true", "/Lang <", "<pdfuaid:part>1</pdfuaid:part>", "<dc:title>"} {
				if !bytes.Contains(upd, []byte(want)) {
					t.Errorf("the update lacks %q", want)
				}
			}
			pages := pageCount(t, pdf)
			if n := bytes.Count(upd, []byte("/Tabs /S")); n != pages {
				t.Errorf("%d pages have /Tabs /S, want %d", n, pages)
			}
			if n := bytes.Count(upd, []byte("\n/StructParents ")); n != pages {
				t.Errorf("%d pages have /StructParents, want %d", n, pages)
			}
			figures := regexp.MustCompile(`<</S /Figure [^\n]*`).FindAll(upd, -1)
			if len(figures) < 1 && strings.Contains(name, "/") {
				t.Error("no Figure for the logo and the signature")
			}
			for _, f := range figures {
				if !bytes.Contains(f, []byte("/Alt <")) {
					t.Errorf("Figure without /Alt: %s", f)
				}
			}
			// Every painting operator inside marked content.
			depth, painted := 0, 0
			for _, ln := range contentLines(t, pdf) {
				switch {
				case strings.HasSuffix(ln, " BDC"):
					depth++
				case ln == "EMC":
					depth--
				case strings.HasSuffix(ln, "Tj") || strings.HasSuffix(ln, " S") || strings.Contains(ln, " Do"):
					painted++
					if depth <= 0 {
						t.Errorf("content outside marked content: %q", ln)
					}
				}
			}
			if depth != 0 || painted == 0 {
				t.Errorf("marked content unbalanced (%d) or no content (%d)", depth, painted)
			}
		})
	}
}

// contentLines returns the lines of every page content stream of pdf
// (qpdf --qdf writes them uncompressed, one operator per line).
func contentLines(t *testing.T, pdf []byte) []string {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "qdf.pdf")
	writeFile(t, in, pdf)
	if b, err := exec.Command("qpdf", "--qdf", "--object-streams=disable", in, out).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --qdf: %v\n%s", err, b)
	}
	q := string(readFile(t, out))
	var lines []string
	for _, part := range strings.Split(q, "%% Contents for page ")[1:] {
		s := part[strings.Index(part, "stream\n")+len("stream\n"):]
		s = s[:strings.Index(s, "\nendstream")]
		lines = append(lines, strings.Split(s, "\n")...)
	}
	if len(lines) == 0 {
		t.Fatal("no page content found")
	}
	return lines
}

func pageCount(t *testing.T, pdf []byte) int {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.pdf")
	writeFile(t, path, pdf)
	out, err := exec.Command("pdfinfo", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo: no page count:\n%s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pdfjsDir holds the script that prints the structure tree as pdf.js
// reads it; .ci/run installs pdfjs-dist there with npm.
const pdfjsDir = "testdata/pdfjs"

// TestStructureTreePDFJS reads the structure trees back with a second
// reader, pdf.js (Firefox's PDF engine): every text of the job is in
// them, the bodies in the job's order. pdf.js reports line ends rather
// than the spaces at them, so white space is ignored here; the pdfinfo
// test checks the words' spaces.
func TestStructureTreePDFJS(t *testing.T) {
	t.Parallel()
	_, errNode := exec.LookPath("node")
	_, errMod := os.Stat(filepath.Join(pdfjsDir, "node_modules", "pdfjs-dist"))
	if errNode != nil || errMod != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node or pdfjs-dist missing (%v, %v); .ci/run installs them", errNode, errMod)
		}
		t.Skipf("node or pdfjs-dist missing: cd %s && npm ci", pdfjsDir)
	}
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	for name, l := range taggedLetters(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "letter.pdf")
			writeFile(t, path, l.pdf)
			abs, err := filepath.Abs(path)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("node", "struct.mjs", abs)
			cmd.Dir = pdfjsDir
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node struct.mjs: %v\n%s", err, out)
			}
			var b strings.Builder
			documents := 0
			for _, ln := range strings.Split(string(out), "\n") {
				ln = strings.TrimSpace(ln)
				switch {
				case strings.HasPrefix(ln, `"`):
					var s string
					if err := json.Unmarshal([]byte(ln), &s); err != nil {
						t.Fatalf("pdf.js output line %q: %v", ln, err)
					}
					b.WriteString(s)
				case ln == "Document":
					documents++
				}
			}
			if documents == 0 {
				t.Fatalf("pdf.js finds no Document element:\n%.500s", out)
			}
			text := squash(b.String())
			all, ordered := jobStrings(l.j)
			for _, s := range all {
				if !strings.Contains(text, squash(s)) {
					t.Errorf("pdf.js: the structure tree lacks %q", s)
				}
			}
			at := 0
			for _, s := range ordered {
				i := strings.Index(text[at:], squash(s))
				if i < 0 {
					t.Errorf("pdf.js: %q is not in the structure tree after the text before it", s)
					continue
				}
				at += i + len(squash(s))
			}
		})
	}
}
