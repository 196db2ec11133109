package renderer_test

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
	"golang.org/x/text/unicode/norm"
)

// pageWords reads the word boxes of every page of a PDF back with
// pdftotext -bbox: points from the top-left corner.
func pageWords(t *testing.T, pdf []byte) [][]word {
	t.Helper()
	path := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-bbox", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v", err)
	}
	var pages [][]word
	for _, pg := range pageRE.FindAllSubmatch(out, -1) {
		var ws []word
		for _, m := range wordRE.FindAllSubmatch(pg[1], -1) {
			f := func(b []byte) float64 { v, _ := strconv.ParseFloat(string(b), 64); return v }
			ws = append(ws, word{f(m[1]), f(m[2]), f(m[3]), f(m[4]), html.UnescapeString(string(m[5]))})
		}
		pages = append(pages, ws)
	}
	return pages
}

// squash normalises text for matching across line breaks: NFC, lower
// case, no white space, no hyphens (a word broken at a line end carries
// one).
func squash(s string) string {
	s = strings.ToLower(norm.NFC.String(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '-' || r == '\u2010' || r == '\u00ad' {
			return -1
		}
		return r
	}, s)
}

// colWord is a word of the signatory list with the column it lies in.
type colWord struct {
	word
	page, col int
}

// unit is one entry's name, one member or one note as found in the PDF.
type unit struct {
	s          string
	first, end int // its words: [first, end) in the list's words
}

// listWords returns the words of the signatory list in reading order
// (page, column, line, x) and the units of job j found in them in order.
func listWords(t *testing.T, j *job.Job, pages [][]word, height float64) ([]colWord, []unit) {
	t.Helper()
	sg := j.Letter.Signatories
	width := 612.0
	if j.PageSizeOrDefault() == "a4" {
		width = 595.28
	}
	n := sg.Columns
	if n == 0 {
		n = 3
	}
	textW := width - 144
	n = min(n, max(1, int((textW+14)/(96+14))))
	step := (textW-14*float64(n-1))/float64(n) + 14

	// The list starts under its heading on the page that has it.
	heading := sg.Heading
	if heading == "" {
		heading = "Signatories"
	}
	startPage, startY := -1, 0.0
	for p, ws := range pages {
		for _, w := range ws {
			if w.s == strings.Fields(heading)[0] && w.x0 < 73 {
				startPage, startY = p, w.y1
			}
		}
	}
	if startPage < 0 {
		t.Fatalf("signatory heading %q not found", heading)
	}
	var all []colWord
	for p := startPage; p < len(pages); p++ {
		var ws []colWord
		for _, w := range pages[p] {
			if (p == startPage && w.y0 < startY) || w.y0 < 60 || w.y1 > height-50 {
				continue // above the list, running header, footer
			}
			col := int(math.Floor((w.x0 - 72 + 1) / step))
			ws = append(ws, colWord{w, p, col})
		}
		// pdftotext reads columns in order already; sort to be sure.
		for i := 1; i < len(ws); i++ {
			for k := i; k > 0 && less(ws[k], ws[k-1]); k-- {
				ws[k], ws[k-1] = ws[k-1], ws[k]
			}
		}
		all = append(all, ws...)
	}
	// Find each name, member and note in order.
	var stream strings.Builder
	starts := make([]int, len(all)) // byte offset of word i in stream
	for i, w := range all {
		starts[i] = stream.Len()
		stream.WriteString(squash(w.s))
	}
	str := stream.String()
	wordAt := func(off int) int {
		i := 0
		for i+1 < len(starts) && starts[i+1] <= off {
			i++
		}
		return i
	}
	var units []unit
	cur := 0
	add := func(s string) {
		q := squash(s)
		k := strings.Index(str[cur:], q)
		if k < 0 {
			t.Fatalf("signatory %q not found in order in the PDF", s)
		}
		a := cur + k
		units = append(units, unit{s: s, first: wordAt(a), end: wordAt(a+len(q)-1) + 1})
		cur = a + len(q)
	}
	for _, e := range sg.Entries {
		add(e.Name)
		for _, m := range e.Members {
			add(m)
		}
		if e.Note != "" {
			add(e.Note)
		}
	}
	return all[:units[len(units)-1].end], units
}

func less(a, b colWord) bool {
	if a.page != b.page {
		return a.page < b.page
	}
	if a.col != b.col {
		return a.col < b.col
	}
	if math.Abs(a.y0-b.y0) > 2 {
		return a.y0 < b.y0
	}
	return a.x0 < b.x0
}

// columnReport is what checkColumnsRead measured.
type columnReport struct {
	pages    int     // pages the list spans
	maxHole  float64 // largest hole at the foot of a column, last page of the list excluded
	lastSpan float64 // spread of the column heights on the list's last page
}

// checkColumnsRead reads the signatory list of a rendered job back from
// the PDF and asserts: no name, member or note split across columns; no
// column (except on the list's last page) ending higher above the page's
// longest column than the height of the unit that opens the next column
// (with its continued heading) and an entry gap; on the last page the
// column heights within one unit's height (plus the gap) of each other.
func checkColumnsRead(t *testing.T, j *job.Job, pdf []byte) columnReport {
	t.Helper()
	height := 792.0
	if j.PageSizeOrDefault() == "a4" {
		height = 841.89
	}
	ws, units := listWords(t, j, pageWords(t, pdf), height)
	const gap, tol = 3.0, 1.0
	key := func(w colWord) [2]int { return [2]int{w.page, w.col} }
	for _, u := range units {
		a, b := ws[u.first], ws[u.end-1]
		if key(a) != key(b) {
			t.Errorf("%q split across columns: page %d column %d to page %d column %d", u.s, a.page+1, a.col+1, b.page+1, b.col+1)
		}
	}
	// Columns in order, with their top, bottom and the height of the
	// first unit they hold (from the column's top, so a continued
	// heading counts).
	type column struct {
		page, col         int
		top, bottom, head float64
		tallest           float64
	}
	var cols []column
	for _, u := range units {
		a := ws[u.first]
		if len(cols) == 0 || key(a) != [2]int{cols[len(cols)-1].page, cols[len(cols)-1].col} {
			top := a.y0
			for _, w := range ws {
				if key(w) == key(a) {
					top = min(top, w.y0)
				}
			}
			cols = append(cols, column{page: a.page, col: a.col, top: top, head: ws[u.end-1].y1 - top})
		}
		c := &cols[len(cols)-1]
		c.tallest = max(c.tallest, ws[u.end-1].y1-a.y0)
		for _, w := range ws[u.first:u.end] {
			c.bottom = max(c.bottom, w.y1)
		}
	}
	var rep columnReport
	last := cols[len(cols)-1].page
	rep.pages = last - cols[0].page + 1
	for i, c := range cols {
		if c.page == last {
			continue
		}
		low := 0.0
		for _, d := range cols {
			if d.page == c.page {
				low = max(low, d.bottom)
			}
		}
		hole := low - c.bottom
		rep.maxHole = max(rep.maxHole, hole)
		if next := cols[i+1]; hole > next.head+gap+tol {
			t.Errorf("page %d column %d ends %.1f pt above the page's longest column; the next column opens with a unit of %.1f pt", c.page+1, c.col+1, hole, next.head)
		}
	}
	// No column of a page empty while a later page holds entries.
	n := 0
	for _, c := range cols {
		if c.page == cols[0].page {
			n = max(n, c.col+1)
		}
	}
	perPage := map[int]int{}
	for _, c := range cols {
		perPage[c.page]++
	}
	ncol := max(n, perPage[last])
	for p := cols[0].page; p < last; p++ {
		if perPage[p] < ncol {
			t.Errorf("page %d uses %d of %d columns while page %d holds entries", p+1, perPage[p], ncol, last+1)
		}
	}
	// The last page balanced.
	lo, hi, tallest := math.Inf(1), 0.0, 0.0
	for _, c := range cols {
		if c.page == last {
			h := c.bottom - c.top
			lo, hi, tallest = min(lo, h), max(hi, h), max(tallest, c.tallest)
		}
	}
	if perPage[last] == ncol || perPage[last] > 1 {
		rep.lastSpan = hi - lo
		// A unit's word boxes are about 10 pt of its 11.2 pt line: allow
		// the difference beside the gap.
		if hi-lo > tallest+gap+3 {
			t.Errorf("page %d: columns unbalanced, heights from %.1f to %.1f pt, tallest unit %.1f pt", last+1, lo, hi, tallest)
		}
	}
	return rep
}

// groupJob is an A4 letter whose signatory list has a group of 70
// members, some with long names, in four columns between other entries.
func groupJob(t *testing.T) *job.Job {
	var m map[string]any
	if err := json.Unmarshal(readFile(t, referenceJob), &m); err != nil {
		t.Fatal(err)
	}
	m["id"], m["page_size"], m["locale"] = "group-70", "a4", "es-MX"
	letter := m["letter"].(map[string]any)
	var entries []any
	for i := range 30 {
		entries = append(entries, map[string]any{"name": fmt.Sprintf("Organización %d de la Sociedad Civil", i+1)})
	}
	var members []any
	for i := range 70 {
		s := fmt.Sprintf("Miembro %d", i+1)
		if i%9 == 4 {
			s = fmt.Sprintf("Servicio Albergue para Personas Refugiadas y Solicitantes de Asilo A.C. %d", i+1)
		}
		members = append(members, s)
	}
	entries = append(entries, map[string]any{"name": "Red Regional de Organizaciones por la Protección de Personas Migrantes", "members": members, "note": "Secretaría Técnica: Claudia Martínez."})
	for i := range 25 {
		entries = append(entries, map[string]any{"name": fmt.Sprintf("Colectivo %d", i+1)})
	}
	letter["signatories"] = map[string]any{"columns": 4, "entries": entries, "heading": "Organizaciones firmantes"}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	j, err := job.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestSignatoryColumnsReadBack reads the signatory columns back from the
// PDF (pdftotext -bbox) for the reference letter and for a 70-member
// group in four columns on A4.
func TestSignatoryColumnsReadBack(t *testing.T) {
	requireTools(t)
	ref, err := job.Decode(readFile(t, referenceJob))
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []*job.Job{ref, groupJob(t)} {
		t.Run(j.ID, func(t *testing.T) {
			res, err := renderer.Render(j)
			if err != nil {
				t.Fatal(err)
			}
			rep := checkColumnsRead(t, j, res.PDF)
			t.Logf("%d pages; the list spans %d; largest column hole before its last page %.1f pt; last page column spread %.1f pt", res.Pages, rep.pages, rep.maxHole, rep.lastSpan)
			if j.ID == ref.ID && res.Pages != 4 {
				t.Errorf("the reference letter has %d pages, want 4", res.Pages)
			}
		})
	}
}
