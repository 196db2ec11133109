package layouts

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/carta-letters/carta/renderer/job"
)

// bodyLines returns the full lines of body text of d (11 pt, black, wider
// than four fifths of the body measure), as strings.
func bodyLines(d *Document, measure float64) []string {
	var out []string
	for _, pg := range d.Pages {
		lines := map[float64][]Text{}
		for _, tx := range pg.Texts {
			if tx.Size == bodySize && tx.Color == black && !isFurniture(d, tx) {
				lines[tx.Y] = append(lines[tx.Y], tx)
			}
		}
		ys := make([]float64, 0, len(lines))
		for y := range lines {
			ys = append(ys, y)
		}
		sort.Float64s(ys)
		for _, y := range ys {
			ts := lines[y]
			sort.Slice(ts, func(a, b int) bool { return ts[a].X < ts[b].X })
			var b strings.Builder
			x0, x1 := math.Inf(1), 0.0
			for _, tx := range ts {
				b.WriteString(tx.S)
				x0, x1 = min(x0, tx.X), max(x1, textBox(tx).x1)
			}
			if x1-x0 > 0.8*measure {
				out = append(out, b.String())
			}
		}
	}
	return out
}

// TestBodyMeasure: at the default size, the body's full lines hold 65
// to 85 characters on average, none more than 90, on a leading of 1.35
// to 1.45.
func TestBodyMeasure(t *testing.T) {
	t.Parallel()
	if r := bodyLead / bodySize; r < 1.35 || r > 1.45 {
		t.Errorf("leading %.1f/%.1f = %.2f, want 1.35 to 1.45", bodySize, bodyLead, r)
	}
	for _, paper := range []string{"letter", "a4"} {
		j := loadJob(t, referenceJob)
		j.PageSize = paper
		d := lay(t, j)
		c, err := newComposer(j)
		if err != nil {
			t.Fatal(err)
		}
		lines := bodyLines(d, c.bodyWidth())
		if len(lines) < 40 {
			t.Fatalf("%s: only %d full body lines found", paper, len(lines))
		}
		total, most := 0, 0
		for _, l := range lines {
			n := utf8.RuneCountInString(l)
			total += n
			most = max(most, n)
		}
		avg := float64(total) / float64(len(lines))
		t.Logf("%s: %d full lines, %.1f characters a line on average, at most %d", paper, len(lines), avg, most)
		if avg < 65 || avg > 85 || most > 90 {
			t.Errorf("%s: %.1f characters a line on average (at most %d), want 65 to 85 (at most 90)", paper, avg, most)
		}
	}
}

// TestSignersSpaceAndOrder: at least 15 mm of clear space above every
// signer's name, signers side by side in the given order, left to right,
// then row by row; a signature image lies in that space.
func TestSignersSpaceAndOrder(t *testing.T) {
	t.Parallel()
	const mm15 = 15 * 72 / 25.4
	for _, n := range []int{1, 2, 3, 4, 5, 7} {
		j := baseJob()
		j.Letter.Closing = "Closing line,"
		for i := range n {
			s := job.Signer{Name: fmt.Sprintf("Signer%d Name", i+1), Title: "Title"}
			if i%2 == 0 {
				s.Signature = pngURL(200, 80)
			}
			j.Letter.Signers = append(j.Letter.Signers, s)
		}
		d := lay(t, decode(t, j))
		checkDoc(t, d)
		pg := d.Pages[0]
		var names []Text
		closing := Text{}
		for _, tx := range pg.Texts {
			if strings.HasPrefix(tx.S, "Signer") {
				names = append(names, tx)
			}
			if tx.S == "Closing line," {
				closing = tx
			}
		}
		if len(names) != n {
			t.Fatalf("%d signers: %d names on page 1", n, len(names))
		}
		// Everything drawn above each name in its column ends 15 mm higher.
		for i, nm := range names {
			if want := fmt.Sprintf("Signer%d", i+1); !strings.HasPrefix(nm.S, want) {
				t.Errorf("%d signers: name %d is %q, want %s", n, i+1, nm.S, want)
			}
			if i > 0 {
				prev := names[i-1]
				sameRow := math.Abs(prev.Y-nm.Y) < 0.01
				if !(sameRow && nm.X > prev.X) && !(nm.Y > prev.Y && nm.X <= prev.X) {
					t.Errorf("%d signers: %q at (%.1f, %.1f) after %q at (%.1f, %.1f): not in reading order", n, nm.S, nm.X, nm.Y, prev.S, prev.X, prev.Y)
				}
			}
			top := textBox(nm).y0
			nb := textBox(nm)
			for _, tx := range pg.Texts {
				b := textBox(tx)
				if b.y1 <= top && b.y1 > top-mm15 && b.x1 > nb.x0-1 && b.x0 < nb.x0+120 {
					t.Errorf("%d signers: %q ends %.1f pt above %q (want 15 mm = %.1f pt clear)", n, tx.S, top-b.y1, nm.S, mm15)
				}
			}
			if i == 0 && top-textBox(closing).y1 < mm15 {
				t.Errorf("%d signers: %.1f pt between the closing and the first name", n, top-textBox(closing).y1)
			}
		}
		for _, im := range pg.Images {
			k, _ := strconv.Atoi(strings.TrimPrefix(im.Name, "signature-"))
			nm := names[k-1]
			if im.Y+im.H > textBox(nm).y0 || im.Y < textBox(nm).y0-mm15-10 || math.Abs(im.X-nm.X) > 0.01 {
				t.Errorf("%d signers: %s at (%.1f, %.1f–%.1f), name %q top %.1f", n, im.Name, im.X, im.Y, im.Y+im.H, nm.S, textBox(nm).y0)
			}
		}
		perRow := 0
		for _, nm := range names {
			if math.Abs(nm.Y-names[0].Y) < 0.01 {
				perRow++
			}
		}
		if want := map[int]int{1: 1, 2: 2, 3: 3, 4: 2, 5: 3, 7: 3}[n]; perRow != want {
			t.Errorf("%d signers: %d in the first row, want %d", n, perRow, want)
		}
	}
}

// TestDINReturnLine: the DIN return address is always a postal address:
// name and first letterhead line, shrunk down to 6 pt, else that line
// alone; a letterhead without lines, or with a first line too long even
// alone, is refused naming the field.
func TestDINReturnLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		head       string
		lines      []string
		want       string  // the return line drawn
		size       float64 // at this size
		field, msg string  // or refused
	}{
		{"name and address at 7 pt", "Red Migrante", []string{"Calle 5 de Mayo 12, 06000 Ciudad de México", "+52 55 1234 5678"}, "Red Migrante · Calle 5 de Mayo 12, 06000 Ciudad de México", 7, "", ""},
		{"shrunk to keep the address", "Coordinadora de Organizaciones", []string{"Calle 5 de Mayo 12, 06000 Ciudad de México"}, "Coordinadora de Organizaciones · Calle 5 de Mayo 12, 06000 Ciudad de México", 6.5, "", ""},
		{"the address alone", strings.Repeat("Coordinadora Nacional de Organizaciones ", 3), []string{"Calle 5 de Mayo 12, 06000 Ciudad de México"}, "Calle 5 de Mayo 12, 06000 Ciudad de México", 7, "", ""},
		{"no lines", "Red Migrante", nil, "", 0, "letterhead.lines", "must give the sender's postal address"},
		{"address too long", "Red Migrante", []string{strings.Repeat("Avenida de los Insurgentes Sur ", 5)}, "", 0, "letterhead.lines[0]", "is too long for the din5008-a return address line (80 mm) even alone at 6 pt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := windowJob("din5008-a", 4)
			j.Letterhead.Name, j.Letterhead.Lines = tt.head, tt.lines
			j = decode(t, j)
			l, _ := Lookup("din5008-a")
			d, err := l.Lay(j)
			if tt.field != "" {
				var verr *job.ValidationError
				if !errors.As(err, &verr) || verr.Problems[0].Field != tt.field || !strings.Contains(verr.Problems[0].Message, tt.msg) {
					t.Fatalf("got %v, want %s: %s", err, tt.field, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			win, _ := AddressWindow("din5008-a")
			var got []Text
			for _, tx := range d.Pages[0].Texts {
				if tx.Y > win.Y && tx.Y < win.Y+17.7*mm && tx.X < win.X+win.W {
					got = append(got, tx)
				}
			}
			if len(got) != 1 || got[0].S != tt.want || got[0].Size != tt.size {
				t.Fatalf("return line %+v, want %q at %g pt", got, tt.want, tt.size)
			}
			if b := textBox(got[0]); b.x1 > win.X+win.W {
				t.Errorf("return line ends at %.1f, past the field's edge %.1f", b.x1, win.X+win.W)
			}
		})
	}
}

// TestHyphenInNarrowColumns: a name broken inside a word in a narrow
// signatory column ends each broken line with a hyphen, and the name
// reads back whole without them.
func TestHyphenInNarrowColumns(t *testing.T) {
	t.Parallel()
	long := "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft"
	j := baseJob()
	j.Letter.Signatories = &job.Signatories{Columns: 4, Entries: []job.Entry{{Name: long}, {Name: "Kurz"}}}
	d := lay(t, decode(t, j))
	var lines []string
	for _, tx := range signatoryTexts(d, 0) {
		if tx.S == "-" {
			lines[len(lines)-1] += "-" // the hyphen is a run of its own after the line's text
			continue
		}
		if tx.S != "Kurz" {
			lines = append(lines, tx.S)
		}
	}
	if len(lines) < 3 {
		t.Fatalf("lines %q: the name is not broken", lines)
	}
	for i, l := range lines[:len(lines)-1] {
		if !strings.HasSuffix(l, "-") {
			t.Errorf("line %d %q of a broken word has no hyphen", i+1, l)
		}
	}
	if got := strings.ReplaceAll(strings.Join(lines, ""), "-", ""); got != long {
		t.Errorf("reads back %q", got)
	}
}
