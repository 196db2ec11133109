package pdf

import (
	"math"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts"
)

// kerned returns s as one run with the face's pair kerning, as layout
// sets it.
func kerned(x, y, size float64, f *fonts.Face, s string) layouts.Text {
	rs := []rune(s)
	k := make([]int16, len(rs))
	for i := 0; i+1 < len(rs); i++ {
		k[i] = int16(f.Kern(rs[i], rs[i+1]))
	}
	return layouts.Text{X: x, Y: y, Size: size, Face: f, S: s, Kern: k}
}

var reWord = regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="[0-9.]+" xMax="([0-9.]+)" yMax="[0-9.]+">([^<]*)</word>`)

// TestKernedRunsDrawnAsLaidOut writes kerned words and reads their boxes
// back: each word extracts exactly and is as wide as layout measured it,
// closer than without kerning.
func TestKernedRunsDrawnAsLaidOut(t *testing.T) {
	t.Parallel()
	pdftotext := tool(t, "pdftotext")
	serif := fonts.Serif()
	words := []struct {
		face *fonts.Face
		s    string
	}{
		{serif.Face(fonts.Regular), "AVATAR"},
		{serif.Face(fonts.Regular), "Today"},
		{serif.Face(fonts.Bold), "WAVY"},
		{serif.Face(fonts.Italic), "Yves"},
		{serif.Face(fonts.Regular), "Τοπική"},
		{serif.Face(fonts.Regular), "БАЛЕТ"},
		{serif.Face(fonts.Regular), "(P.T.A.)"}, // parentheses are escaped inside the TJ strings
	}
	var pg layouts.Page
	for i, w := range words {
		pg.Texts = append(pg.Texts, kerned(72, 100+float64(i)*30, 11, w.face, w.s))
	}
	doc := &layouts.Document{Width: a4w, Height: a4h, Pages: []layouts.Page{pg}, Meta: layouts.Meta{Language: "en"}}
	b, err := Write(doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-bbox", "-enc", "UTF-8", writeTemp(t, b), "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	m := reWord.FindAllStringSubmatch(string(out), -1)
	if len(m) != len(words) {
		t.Fatalf("pdftotext found %d words, want %d:\n%s", len(m), len(words), out)
	}
	for i, w := range words {
		tx := pg.Texts[i]
		if m[i][3] != w.s {
			t.Errorf("word %d extracted as %q, want %q", i, m[i][3], w.s)
		}
		x0, _ := strconv.ParseFloat(m[i][1], 64)
		x1, _ := strconv.ParseFloat(m[i][2], 64)
		if got, want := x1-x0, tx.Width(); math.Abs(got-want) > 0.01 {
			t.Errorf("%q is %.3f pt wide in the PDF, layout measured %.3f", w.s, got, want)
		}
		if plain := w.face.Width(w.s, 11); tx.Width() >= plain-0.1 {
			t.Errorf("%q: kerned width %.3f not narrower than plain %.3f", w.s, tx.Width(), plain)
		}
	}
}
