package layouts

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/job"
)

// windowLayouts are the window-envelope layouts and their paper.
var windowLayouts = []struct{ name, paper string }{
	{"din5008-a", "a4"}, {"din5008-b", "a4"}, {"us-window", "letter"},
}

// TestAddressWindowNumbers pins the windows to the published numbers,
// written here in the units of their sources: DIN 5008 address field
// 85 × 45 mm, 20 mm from the left edge, 27 mm (form A) or 45 mm (form B)
// from the top; #10 window 4.5 × 1.125 in, 0.875 in from the envelope's
// left and 0.5 in from its bottom: with the Letter sheet Z-folded at 3.875
// in, the part of the page the window shows wherever the sheet moves in
// the 4.125 × 9.5 in envelope.
func TestAddressWindowNumbers(t *testing.T) {
	t.Parallel()
	const in = 72.0
	play, slide := 4.125-3.875, 9.5-8.5 // how far the folded sheet moves in the envelope
	tests := []struct {
		layout string
		want   Rect
		folds  []float64
	}{
		{"din5008-a", Rect{20 * mm, 27 * mm, 85 * mm, 45 * mm}, []float64{87 * mm, 148.5 * mm, 192 * mm}},
		{"din5008-b", Rect{20 * mm, 45 * mm, 85 * mm, 45 * mm}, []float64{105 * mm, 148.5 * mm, 210 * mm}},
		{"us-window", Rect{0.875 * in, (4.125 - 0.5 - 1.125) * in, (4.5 - slide) * in, (1.125 - play) * in}, []float64{3.875 * in, 7.75 * in}},
	}
	for _, tt := range tests {
		t.Run(tt.layout, func(t *testing.T) {
			t.Parallel()
			got, ok := AddressWindow(tt.layout)
			if !ok {
				t.Fatalf("AddressWindow(%q) found no window", tt.layout)
			}
			if math.Abs(got.X-tt.want.X)+math.Abs(got.Y-tt.want.Y)+math.Abs(got.W-tt.want.W)+math.Abs(got.H-tt.want.H) > 0.01 {
				t.Errorf("window %+v, want %+v", got, tt.want)
			}
			j := windowJob(tt.layout, 4)
			d := lay(t, decode(t, j))
			var marks []float64
			for _, r := range d.Pages[0].Rules {
				if r.X1 < 20 && r.Y1 == r.Y2 {
					marks = append(marks, r.Y1)
				}
			}
			if len(marks) != len(tt.folds) {
				t.Fatalf("fold marks at %v, want %v", marks, tt.folds)
			}
			for _, f := range tt.folds {
				found := false
				for _, m := range marks {
					found = found || math.Abs(m-f) < 0.01
				}
				if !found {
					t.Errorf("no fold mark at %.2f pt; marks at %v", f, marks)
				}
			}
		})
	}
	if _, ok := AddressWindow("letter"); ok {
		t.Error(`AddressWindow("letter") found a window`)
	}
}

// windowJob is a letter in layout with a first recipient of n lines (name,
// title, organization, n-3 address lines... as n asks) and two more
// recipients.
func windowJob(layout string, n int) *job.Job {
	n = min(n, windowMaxLines(layout))
	j := baseJob()
	j.Layout = layout
	if layout == "us-window" {
		j.Locale = "en-US"
	} else {
		j.Locale = "de-DE"
	}
	p := job.Person{Honorific: "Son Excellence", Name: "Monsieur Stéphane Séjourné"}
	extra := []string{"Ambassadeur", "Ambassade de France au Mexique", "Campos Elíseos 339", "Col. Polanco", "11560 Ciudad de México", "CDMX", "Mexique", "Bureau 12"}
	for k := 1; k < n; k++ {
		switch k {
		case 1:
			p.Title = extra[0]
		case 2:
			p.Organization = extra[1]
		default:
			p.Address = append(p.Address, extra[k-1])
		}
	}
	j.Letter.Recipients = []job.Person{p,
		{Name: "Annalena Baerbock", Title: "Bundesministerin des Auswärtigen", Organization: "Auswärtiges Amt", Address: []string{"Werderscher Markt 1", "10117 Berlin"}, Country: "Deutschland"},
		{Name: "Mélanie Joly", Title: "Minister of Foreign Affairs", Address: []string{"125 Sussex Drive", "Ottawa, ON K1A 0G2"}, Country: "Canada"},
	}
	if layout == "us-window" {
		j.Letter.Recipients[1].Title = "" // five lines, as many as the window holds
	}
	j.Letter.Reference = "Unser Zeichen: RSM/2024/017"
	j.Letter.CC = []job.Person{{Name: "Mélanie Joly", Title: "Ministre des Affaires étrangères"}}
	j.Letter.Signatories = &job.Signatories{Entries: entries(12)}
	return j
}

// windowMaxLines is the most lines of Latin text a layout's window takes.
func windowMaxLines(layout string) int {
	if layout == "us-window" {
		return 5
	}
	return 8
}

// windowTexts returns the runs drawn inside r on the first page.
func windowTexts(d *Document, r Rect) []Text {
	var out []Text
	for _, tx := range d.Pages[0].Texts {
		b := textBox(tx)
		if b.x1 > r.X && b.x0 < r.X+r.W && b.y1 > r.Y && b.y0 < r.Y+r.H {
			out = append(out, tx)
		}
	}
	return out
}

// checkWindow asserts that the lines of recipient i are drawn, in order,
// as the address in the window, every box entirely inside it, and that
// every run of the first page is either wholly inside or wholly outside.
func checkWindow(t *testing.T, j *job.Job, d *Document, i int) {
	t.Helper()
	r, _ := AddressWindow(j.Layout)
	const eps = 1e-6
	var got strings.Builder
	for _, tx := range windowTexts(d, r) {
		b := textBox(tx)
		if b.x0 < r.X-eps || b.x1 > r.X+r.W+eps || b.y0 < r.Y-eps || b.y1 > r.Y+r.H+eps {
			t.Errorf("%q spans x %.2f–%.2f, y %.2f–%.2f: across the window's edge %+v", tx.S, b.x0, b.x1, b.y0, b.y1, r)
		}
		if tx.Size == 7 {
			continue // the return address
		}
		if tx.Size < addrMinSize {
			t.Errorf("%q in %.1f pt, under %g pt", tx.S, tx.Size, addrMinSize)
		}
		got.WriteString(tx.S)
	}
	want := strings.Join(personLines(&j.Letter.Recipients[i]), "")
	if fold(got.String()) != fold(want) {
		t.Errorf("window shows %q, want %q", got.String(), want)
	}
}

// checkDocIn is checkDoc for a text column other than the 1 in margins.
func checkDocIn(t *testing.T, d *Document, left, right float64) {
	t.Helper()
	shifted := *d
	shifted.Pages = make([]Page, len(d.Pages))
	// Move every page so that the column sits at the standard margins:
	// checkDoc's other invariants do not depend on x, and the scale is 1.
	for p, pg := range d.Pages {
		np := pg
		np.Texts = make([]Text, len(pg.Texts))
		for k, tx := range pg.Texts {
			b := textBox(tx)
			if b.x0 < left-1e-6 || b.x1 > right+1e-6 {
				t.Errorf("page %d: %q spans x %.2f–%.2f, outside the column %.2f–%.2f", p+1, tx.S, b.x0, b.x1, left, right)
			}
			tx.X += marginX - left
			np.Texts[k] = tx
		}
		np.Images = nil
		shifted.Pages[p] = np
	}
	shifted.Width = right - left + 2*marginX
	checkDoc(t, &shifted)
	for p, pg := range d.Pages {
		for _, tx := range pg.Texts {
			if b := textBox(tx); b.x0 < safeMargin || b.x1 > d.Width-safeMargin || b.y0 < safeMargin || b.y1 > d.Height-safeMargin {
				t.Errorf("page %d: %q inside the safe margin", p+1, tx.S)
			}
		}
	}
}

func column(layout string) (float64, float64) {
	l, _ := Lookup(layout)
	s := l.(windowLayout).spec
	return s.left, s.right
}

// TestWindowAddressFits lays out addresses of three to eight lines in
// each window layout: the address lies inside the window, whole.
func TestWindowAddressFits(t *testing.T) {
	t.Parallel()
	for _, wl := range windowLayouts {
		for n := 3; n <= windowMaxLines(wl.name); n++ {
			t.Run(fmt.Sprintf("%s/%d-lines", wl.name, n), func(t *testing.T) {
				t.Parallel()
				j := decode(t, windowJob(wl.name, n))
				d := lay(t, j)
				if got := len(personLines(&j.Letter.Recipients[0])); got != n {
					t.Fatalf("test job has %d address lines, want %d", got, n)
				}
				if want := map[string]float64{"a4": 595.28, "letter": 612}[wl.paper]; d.Width != want {
					t.Errorf("page width %g, want %g", d.Width, want)
				}
				checkWindow(t, j, d, 0)
				left, right := column(wl.name)
				checkDocIn(t, d, left, right)
			})
		}
	}
}

// TestWindowCopies puts each recipient in the window of their copy, and
// names the others.
func TestWindowCopies(t *testing.T) {
	t.Parallel()
	for _, wl := range windowLayouts {
		t.Run(wl.name, func(t *testing.T) {
			t.Parallel()
			j := decode(t, windowJob(wl.name, 5))
			l, _ := Lookup(wl.name)
			for i := range j.Letter.Recipients {
				d, err := LayCopy(l, j, i)
				if err != nil {
					t.Fatalf("copy %d: %v", i, err)
				}
				checkWindow(t, j, d, i)
				all := stream(d)
				for k := range j.Letter.Recipients {
					if !strings.Contains(all, fold(j.Letter.Recipients[k].Name)) {
						t.Errorf("copy %d does not name recipient %d", i, k)
					}
				}
			}
		})
	}
}

// TestLetterCopies keeps the recipients of a plain letter's copy in the
// job's order: each copy is the combined letter.
func TestLetterCopies(t *testing.T) {
	t.Parallel()
	j := windowJob("letter", 5)
	j.Locale = "en-US"
	j = decode(t, j)
	l, _ := Lookup("letter")
	combined := dump(lay(t, j))
	for i, want := range [][]int{{0, 1, 2}, {0, 1, 2}, {0, 1, 2}} {
		d, err := LayCopy(l, j, i)
		if err != nil {
			t.Fatal(err)
		}
		checkDoc(t, d)
		all, last := stream(d), -1
		for _, k := range want {
			at := strings.Index(all, fold(strings.Join(personLines(&j.Letter.Recipients[k]), "")))
			if at <= last {
				t.Errorf("copy %d: recipient %d at %d, not after %d", i, k, at, last)
			}
			last = at
		}
		if dump(d) != combined {
			t.Errorf("copy %d differs from the combined letter", i)
		}
	}
	if _, err := LayCopy(l, j, 3); err == nil {
		t.Error("LayCopy of recipient 3 of 3 succeeded")
	}
	if first := mustLayCopy(t, l, j, 0); combined != dump(first) {
		t.Error("the first recipient's copy differs from the combined letter")
	}
}

func mustLayCopy(t *testing.T, l Layout, j *job.Job, i int) *Document {
	t.Helper()
	d, err := LayCopy(l, j, i)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestWindowRefusesAddress refuses addresses that cannot fit, naming the
// field, rather than clipping them.
func TestWindowRefusesAddress(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Secretaría de Relaciones Exteriores ", 6)
	tests := []struct {
		name, layout string
		change       func(j *job.Job)
		field, msg   string
	}{
		{"nine lines in din5008-a", "din5008-a", func(j *job.Job) {
			j.Letter.Recipients[0] = nineLines()
		}, "letter.recipients[0].address", "9 lines do not fit the din5008-a address window (at most 8)"},
		{"nine lines in din5008-b", "din5008-b", func(j *job.Job) {
			j.Letter.Recipients[0] = nineLines()
		}, "letter.recipients[0].address", "9 lines do not fit the din5008-b address window (at most 8)"},
		{"nine lines in us-window", "us-window", func(j *job.Job) {
			j.Letter.Recipients[0] = nineLines()
		}, "letter.recipients[0].address", "9 lines do not fit the us-window address window (at most 5)"},
		{"six lines in us-window", "us-window", func(j *job.Job) {
			p := nineLines()
			p.Address = p.Address[:3]
			p.Country = ""
			j.Letter.Recipients[0] = p
		}, "letter.recipients[0].address", "6 lines do not fit the us-window address window (at most 5)"},
		{"a long organization wraps past eight lines", "din5008-a", func(j *job.Job) {
			p := nineLines()
			p.Address = p.Address[:len(p.Address)-1]
			p.Organization = long
			j.Letter.Recipients[0] = p
		}, "letter.recipients[0].organization", "is too wide for the din5008-a address window (80 mm) even at 8 pt; wrapped, the address takes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := windowJob(tt.layout, 4)
			tt.change(j)
			j = decode(t, j)
			l, _ := Lookup(tt.layout)
			_, err := l.Lay(j)
			var verr *job.ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) != 1 {
				t.Fatalf("Lay: got %v, want one validation problem", err)
			}
			if p := verr.Problems[0]; p.Field != tt.field || !strings.Contains(p.Message, tt.msg) {
				t.Errorf("got %s: %s\nwant %s: %s", p.Field, p.Message, tt.field, tt.msg)
			}
			// The same from CheckAddresses, for the window's recipient only.
			if err := CheckAddresses(j, 0, 1, 2); err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("CheckAddresses: %v", err)
			}
			if err := CheckAddresses(j, 1, 2); err != nil {
				t.Errorf("CheckAddresses of the others: %v", err)
			}
		})
	}
	// A copy for a recipient whose address does not fit names that recipient.
	j := windowJob("us-window", 4)
	j.Letter.Recipients[2] = nineLines()
	j = decode(t, j)
	l, _ := Lookup("us-window")
	if _, err := LayCopy(l, j, 2); err == nil || !strings.Contains(err.Error(), "letter.recipients[2].address: 9 lines") {
		t.Errorf("LayCopy of recipient 2: %v", err)
	}
	if _, err := l.Lay(j); err != nil {
		t.Errorf("combined letter, recipient 0 in the window: %v", err)
	}
	if err := CheckAddresses(decode(t, windowJob("letter", 4)), 0); err != nil {
		t.Errorf("CheckAddresses for a layout without a window: %v", err)
	}
}

func nineLines() job.Person {
	return job.Person{Honorific: "S.E.", Name: "Marcelo Ebrard", Title: "Secretario", Organization: "Secretaría de Relaciones Exteriores",
		Address: []string{"Av. Juárez 20", "Col. Centro", "Alcaldía Cuauhtémoc", "06010 Ciudad de México", "Piso 5"}, Country: "México"}
}

// TestWindowScenarios keeps golden files of the window layouts.
func TestWindowScenarios(t *testing.T) {
	t.Parallel()
	for _, wl := range windowLayouts {
		t.Run(wl.name, func(t *testing.T) {
			t.Parallel()
			j := windowJob(wl.name, 6)
			j.Letterhead.Logo = pngURL(240, 80)
			j.Statement = &job.Statement{Kicker: "Press statement", Headline: "Coalition writes to three ministries", Paragraphs: []string{"The coalition sent the letter below."}}
			j.Contact = &job.Contact{Heading: "Press", Lines: []string{"prensa@example.org"}}
			j = decode(t, j)
			d := lay(t, j)
			checkWindow(t, j, d, 0)
			left, right := column(wl.name)
			checkDocIn(t, d, left, right)
			all := stream(d)
			for _, s := range jobStrings(j) {
				if !strings.Contains(all, fold(s)) {
					t.Errorf("%q is not printed", s)
				}
			}
			golden(t, "window-"+wl.name, d)
		})
	}
}

// TestFirstCopyIsCombinedLetter: in every layout, recipient 0's copy is
// the combined letter, which renderer.RenderAll relies on to write it
// once.
func TestFirstCopyIsCombinedLetter(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			j := windowJob(name, 5)
			if name == "joint-statement" || name == "letter" {
				j.Locale = "en-US"
			}
			j = decode(t, j)
			l, _ := Lookup(name)
			if combined, first := lay(t, j), mustLayCopy(t, l, j, 0); dump(combined) != dump(first) {
				t.Error("the first recipient's copy differs from the combined letter")
			}
		})
	}
}
