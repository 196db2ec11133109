package layouts

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts/markup"
	"github.com/carta-letters/carta/renderer/job"
)

// A right-to-left letter in a window layout is mirrored around the
// envelope's window: the address stays in the window (set flush right in
// it), the rest of the page is mirrored, nothing overlaps.
func TestRTLWindowLetter(t *testing.T) {
	t.Parallel()
	for _, layout := range []string{"din5008-a", "din5008-b", "us-window"} {
		t.Run(layout, func(t *testing.T) {
			t.Parallel()
			j := loadJob(t, "../renderer/testdata/jobs/arabic.json")
			j.Layout = layout
			j.Letter.Recipients[0].Title = ""
			if layout == "us-window" {
				// Its window holds four lines of Naskh (five of Latin):
				// USPS's clearance leaves 0.625 in.
				j.Letter.Recipients[0].Organization = ""
			}
			j = decode(t, j)
			d := lay(t, j)
			checkWindow(t, j, d, 0)
			left, right := column(layout)
			checkDocIn(t, d, left, right)
			// The window's lines end at its right edge: flush right.
			r, _ := AddressWindow(layout)
			maxRight := 0.0
			for _, tx := range windowTexts(d, r) {
				maxRight = max(maxRight, tx.X+tx.Width())
			}
			if maxRight < r.X+r.W-50 { // the address zone may sit up to 45 pt inside the window
				t.Errorf("address ends at x %.1f, not flush right in the window %+v", maxRight, r)
			}
		})
	}
}

// In a right-to-left letter the footer reads right to left ("الصفحة"
// rightmost, then the page number, then the count) and the running
// header is flush right.
func TestRTLFurniture(t *testing.T) {
	t.Parallel()
	j := loadJob(t, "../renderer/testdata/jobs/arabic.json")
	for i := range 120 {
		j.Letter.Signatories.Entries = append(j.Letter.Signatories.Entries, job.Entry{Name: "منظمة للدفاع عن حقوق اللاجئين " + strings.Repeat("ب", i%7+1)})
	}
	j = decode(t, j)
	d := lay(t, j)
	if len(d.Pages) < 2 {
		t.Fatalf("%d pages, want at least 2", len(d.Pages))
	}
	for p, pg := range d.Pages {
		var foot []Text
		for _, tx := range pg.Texts {
			if tx.Y == d.Height-footerBase && strings.TrimSpace(tx.S) != "" {
				foot = append(foot, tx)
			}
		}
		if len(foot) != 4 {
			t.Fatalf("page %d: footer runs %d, want 4", p+1, len(foot))
		}
		rightmost := foot[0]
		for _, tx := range foot {
			if tx.X > rightmost.X {
				rightmost = tx
			}
		}
		if rightmost.S != "الصفحة" {
			t.Errorf("page %d: rightmost footer run %q, want الصفحة", p+1, rightmost.S)
		}
		if p > 0 {
			end := 0.0
			for _, tx := range pg.Texts {
				if tx.Y == headerBase {
					end = max(end, tx.X+tx.Width())
				}
			}
			if end < d.Width-marginX-0.5 {
				t.Errorf("page %d: running header ends at %.1f, not flush right", p+1, end)
			}
		}
	}
}

// visualRuns sets s on one line and returns its runs' texts left to right.
func visualRuns(t *testing.T, s string) []string {
	t.Helper()
	c := &composer{fam: fonts.Serif()}
	c.spans = markup.Parse(nil, s)
	if err := c.shape(fonts.Regular, 11); err != nil {
		t.Fatal(err)
	}
	c.breakLines(1000, 1000)
	c.emitLine(0, c.lines[0], tstyle{size: 11}, 0, 0)
	runs := slices.Clone(c.runs)
	slices.SortFunc(runs, func(a, b run) int { return cmp.Compare(a.x, b.x) })
	var out []string
	for _, r := range runs {
		if strings.TrimSpace(r.s) != "" {
			out = append(out, strings.TrimSpace(r.s))
		}
	}
	return out
}

// The order of mixed-direction lines follows UAX #9, as browsers set it.
func TestBidiOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string // the runs left to right, spaces left out
	}{
		{"number after an Arabic name in English", "the Network الشبكة 2024 report", []string{"the Network", "2024", "الشبكة", "report"}},
		{"Arabic in brackets in English", "the Network (الشبكة العربية) report", []string{"the Network (", "العربية", "الشبكة", ") report"}},
		{"Latin name and number in Arabic", "مع منظمة Human Rights Watch منذ 2024.", []string{".", "2024", "منذ", "Human Rights Watch", "منظمة", "مع"}},
		{"brackets around a number in Arabic", "يناير (2024) الماضي", []string{"الماضي", ")", "2024", "(", "يناير"}},
		{"Hebrew with a Latin acronym", "נציבות UNHCR לפליטים", []string{"לפליטים", "UNHCR", "נציבות"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := visualRuns(t, tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("%q is set %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
