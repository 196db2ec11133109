package preview_test

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/preview"
)

// referenceJob is ../shared/jobs/nals-2023.json beside the repository.
func referenceJob(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../../../shared/jobs/nals-2023.json")
	if err != nil {
		t.Fatalf("read the reference job (../shared beside the repository): %v", err)
	}
	return data
}

// TestPreviewMatchesPDF draws the first page of the reference letter and
// checks, against the word boxes poppler reads from the PDF of the same
// job (pdftotext -bbox), that ink lies where the PDF has its words and
// that the page's outer margins are blank.
func TestPreviewMatchesPDF(t *testing.T) {
	t.Parallel()
	j, res, err := renderer.RenderJSON(referenceJob(t))
	if err != nil {
		t.Fatal(err)
	}
	const width = 850
	pngBytes, err := preview.FirstPage(j, width)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := preview.FirstPage(j, width); !bytes.Equal(again, pngBytes) {
		t.Error("two previews of the same job differ")
	}
	if p := os.Getenv("CARTA_PREVIEW_OUT"); p != "" {
		os.WriteFile(p, pngBytes, 0o644) //nolint:errcheck // a debugging aid
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext not installed")
		}
		t.Skip("pdftotext not installed")
	}
	pdf := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(pdf, res.PDF, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-bbox", "-f", "1", "-l", "1", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	page := regexp.MustCompile(`<page width="([\d.]+)" height="([\d.]+)"`).FindSubmatch(out)
	if page == nil {
		t.Fatal("no page in pdftotext output")
	}
	pw, _ := strconv.ParseFloat(string(page[1]), 64)
	scale := width / pw
	ink := func(r image.Rectangle) bool {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if c, _, _, _ := img.At(x, y).RGBA(); c < 0xa000 {
					return true
				}
			}
		}
		return false
	}
	words := regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">`).FindAllSubmatch(out, -1)
	if len(words) < 50 {
		t.Fatalf("only %d words on page 1", len(words))
	}
	missing := 0
	for _, w := range words {
		var f [4]float64
		for i := range f {
			f[i], _ = strconv.ParseFloat(string(w[i+1]), 64)
		}
		if !ink(image.Rect(int(f[0]*scale), int(f[1]*scale), int(f[2]*scale)+1, int(f[3]*scale)+1)) {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d words of the PDF have no ink in the preview", missing, len(words))
	}
	b := img.Bounds()
	if ink(image.Rect(0, 0, b.Dx()*4/100, b.Dy())) || ink(image.Rect(b.Dx()*96/100, 0, b.Dx(), b.Dy())) {
		t.Error("ink in the page's outer margins")
	}
}

func TestPreviewWidthLimits(t *testing.T) {
	t.Parallel()
	j, _, err := renderer.RenderJSON(referenceJob(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{0, 99, 2001} {
		if _, err := preview.FirstPage(j, w); err == nil {
			t.Errorf("width %d accepted", w)
		}
	}
}
