package renderer_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer"
)

// langElem is a structure element as read back: its type, its /Lang and
// the text of its own marked content.
type langElem struct{ role, lang, text string }

// langTree reads the structure tree of pdf in reading order with two
// readers and zips them: qpdf's JSON gives each element's /S and /Lang,
// poppler's pdfinfo -struct-text each element's text, in the same
// depth-first order.
func langTree(t *testing.T, pdf []byte) []langElem {
	t.Helper()
	path := filepath.Join(t.TempDir(), "letter.pdf")
	writeFile(t, path, pdf)

	out, err := exec.Command("qpdf", "--json", "--json-key=qpdf", path).Output()
	if err != nil {
		t.Fatalf("qpdf --json: %v", err)
	}
	var doc struct {
		QPDF [2]json.RawMessage `json:"qpdf"` // header, objects
	}
	var objs map[string]struct {
		Value any `json:"value"` // a dictionary, array, number, …
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("read qpdf --json: %v", err)
	}
	if err := json.Unmarshal(doc.QPDF[1], &objs); err != nil {
		t.Fatalf("read qpdf --json objects: %v", err)
	}
	obj := func(ref any) map[string]any {
		s, _ := ref.(string)
		d, _ := objs["obj:"+s].Value.(map[string]any)
		return d
	}
	trailer, _ := objs["trailer"].Value.(map[string]any)
	root := obj(trailer["/Root"])
	treeRoot := obj(root["/StructTreeRoot"])
	if treeRoot == nil {
		t.Fatal("no /StructTreeRoot")
	}
	var elems []langElem
	var walk func(e map[string]any)
	walk = func(e map[string]any) {
		role, _ := e["/S"].(string)
		lang, _ := e["/Lang"].(string)
		elems = append(elems, langElem{role: strings.TrimPrefix(role, "/"), lang: strings.TrimPrefix(lang, "u:")})
		kids, ok := e["/K"].([]any)
		if !ok {
			kids = []any{e["/K"]}
		}
		for _, k := range kids {
			if s, ok := k.(string); ok && strings.HasSuffix(s, " R") {
				walk(obj(s))
			}
		}
	}
	walk(obj(treeRoot["/K"]))

	out, err = exec.Command("pdfinfo", "-struct-text", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo -struct-text: %v\n%s", err, out)
	}
	type open struct{ indent, i int }
	var stack []open
	i := -1
	roleLine := regexp.MustCompile(`^( *)(\w+)(?: \((?:block|inline)\))?:?$`)
	textLine := regexp.MustCompile(`^( *)"(.*)"$`)
	for _, ln := range strings.Split(string(out), "\n") {
		if m := roleLine.FindStringSubmatch(ln); m != nil {
			i++
			if i >= len(elems) || elems[i].role != m[2] {
				t.Fatalf("element %d: pdfinfo reads %s, qpdf %v", i, m[2], elems[min(i, len(elems)-1)])
			}
			for len(stack) > 0 && stack[len(stack)-1].indent >= len(m[1]) {
				stack = stack[:len(stack)-1]
			}
			stack = append(stack, open{len(m[1]), i})
		} else if m := textLine.FindStringSubmatch(ln); m != nil {
			for len(stack) > 0 && stack[len(stack)-1].indent >= len(m[1]) {
				stack = stack[:len(stack)-1]
			}
			if len(stack) == 0 {
				t.Fatalf("text outside the structure tree: %q", ln)
			}
			elems[stack[len(stack)-1].i].text += m[2]
		}
	}
	if i != len(elems)-1 {
		t.Fatalf("pdfinfo reads %d elements, qpdf %d", i+1, len(elems))
	}
	return elems
}

// runeKey identifies a text by its characters, whatever their order:
// pdfinfo gives right-to-left text in visual order.
func runeKey(s string) string {
	rs := []rune(strings.Join(strings.Fields(s), ""))
	slices.Sort(rs)
	return string(rs)
}

// TestElementLanguages reads the structure tree back: an element whose
// text is in another script than the document language's has that
// script's /Lang, every other element none.
func TestElementLanguages(t *testing.T) {
	t.Parallel()
	requireTools(t)
	mixed := string(readFile(t, "testdata/jobs/mixed-signatories.json"))
	// A Japanese recipient whose given name is in hiragana.
	cjk := strings.Replace(string(readFile(t, "testdata/jobs/cjk.json")), "山田 太郎", "山田 さくら", 1)
	cjkJa := strings.Replace(cjk, `"locale": "en-US"`, `"locale": "ja-JP"`, 1)
	cjkJaPara := "私たちは、国境における庇護申請者の保護について、貴国政府の一層のご尽力をお願い申し上げます。本書簡は、アジア太平洋地域の市民社会団体の連名によるものです。"
	for _, c := range []struct {
		name string
		job  string
		want map[string]string // element text -> /Lang; any other element: none
	}{
		{"Arabic and Chinese signatories in an English letter", mixed, map[string]string{
			"أحمد بن محمد الخطيب":             "ar",
			"الشبكة العربية لحقوق اللاجئين":   "ar", // signer's organisation and signatory
			"مركز عمّان لدراسات حقوق الإنسان": "ar",
			"王小明":    "zh",
			"亚洲难民中心": "zh",
		}},
		{"Japanese, Chinese and Korean names in an English letter", cjk, map[string]string{
			"H.E. 山田 さくら": "ja", // honorific and name: one line
			cjkJaPara:     "ja",
			"李明华":         "zh",
			"亚洲移民权利中心":    "zh",
			"김민준":         "ko",
			"난민인권센터":      "ko",
			"中国移民与难民权益保护协会": "zh",
			"難民支援協会（JAR）":   "zh", // Han alone: read as Chinese (see layouts/lang.go)
			"대한민국 난민인권네트워크": "ko",
			"全国難民弁護団連絡会議":   "zh",
		}},
		{"the same names in a Japanese letter", cjkJa, map[string]string{
			"김민준":           "ko",
			"난민인권센터":        "ko",
			"대한민국 난민인권네트워크": "ko",
		}},
		{"an Arabic letter", string(readFile(t, "testdata/jobs/arabic.json")), map[string]string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, res, err := renderer.RenderJSON([]byte(c.job))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for s, l := range c.want {
				want[runeKey(s)] = l
			}
			seen := map[string]bool{}
			for _, e := range langTree(t, res.PDF) {
				k := runeKey(e.text)
				if e.lang != want[k] {
					t.Errorf("%s %q: /Lang %q, want %q", e.role, e.text, e.lang, want[k])
				}
				seen[k] = true
			}
			for s := range c.want {
				if !seen[runeKey(s)] {
					t.Errorf("no element reads %q", s)
				}
			}
		})
	}
}
