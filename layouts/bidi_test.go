package layouts

import (
	"strings"
	"testing"

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
