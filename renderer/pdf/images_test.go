package pdf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/carta-letters/carta/layouts"
)

// handPNG encodes a PNG file the way Go's encoder never does: any colour
// type and depth, optionally Adam7-interlaced. px returns the samples of
// pixel (x, y), big-endian for 16-bit depths; extra chunks (type, data)
// go between IHDR and IDAT.
func handPNG(t *testing.T, w, h int, ct, depth byte, interlace bool, px func(x, y int) []byte, extra ...string) []byte {
	t.Helper()
	var raw bytes.Buffer
	passes := [][4]int{{0, 0, 1, 1}}
	if interlace {
		passes = [][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	for _, p := range passes {
		for y := p[1]; y < h; y += p[3] {
			if p[0] >= w {
				break
			}
			raw.WriteByte(0) // filter: none
			for x := p[0]; x < w; x += p[2] {
				raw.Write(px(x, y))
			}
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out := bytes.NewBuffer(append([]byte(nil), pngMagic...))
	chunk := func(typ string, data []byte) {
		binary.Write(out, binary.BigEndian, uint32(len(data)))
		out.WriteString(typ)
		out.Write(data)
		binary.Write(out, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	il := byte(0)
	if interlace {
		il = 1
	}
	chunk("IHDR", append(ihdr, depth, ct, 0, 0, il))
	for i := 0; i+1 < len(extra); i += 2 {
		chunk(extra[i], []byte(extra[i+1]))
	}
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// pattern is the test images' colour at (x, y): a few colours, some of
// them translucent when alpha is set.
func pattern(x, y int, alpha bool) color.NRGBA {
	cs := []color.NRGBA{{200, 30, 30, 255}, {30, 160, 40, 255}, {20, 40, 220, 255}, {250, 200, 0, 255}}
	c := cs[(x+2*y)%len(cs)]
	if alpha {
		switch (x + y) % 3 {
		case 1:
			c.A = 0
		case 2:
			c.A = 128
		}
	}
	return c
}

func grey(c color.NRGBA) uint8 { return uint8((uint16(c.R) + uint16(c.G) + uint16(c.B)) / 3) }

func encodeGo(t *testing.T, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngVariants are valid PNG files fpdf refuses or mishandles as they
// are, with the colour each pixel must show.
func pngVariants(t *testing.T) []struct {
	name string
	data []byte
	want func(x, y int) color.NRGBA
} {
	const w, h = 9, 8
	rgb := func(x, y int) color.NRGBA { return pattern(x, y, false) }
	rgba := func(x, y int) color.NRGBA { return pattern(x, y, true) }
	grey8 := func(x, y int) color.NRGBA {
		c := pattern(x, y, true)
		g := grey(c)
		return color.NRGBA{g, g, g, c.A}
	}
	opaqueGrey := func(x, y int) color.NRGBA { c := grey8(x, y); c.A = 255; return c }

	rgba64 := image.NewNRGBA64(image.Rect(0, 0, w, h))
	rgb64 := image.NewRGBA64(image.Rect(0, 0, w, h))
	grey16 := image.NewGray16(image.Rect(0, 0, w, h))
	var pal color.Palette
	index := map[color.NRGBA]uint8{}
	paletted := image.NewPaletted(image.Rect(0, 0, w, h), nil)
	for y := range h {
		for x := range w {
			c := rgba(x, y)
			rgba64.Set(x, y, color.NRGBA64{uint16(c.R) * 0x101, uint16(c.G) * 0x101, uint16(c.B) * 0x101, uint16(c.A) * 0x101})
			o := rgb(x, y)
			rgb64.Set(x, y, color.RGBA64{uint16(o.R) * 0x101, uint16(o.G) * 0x101, uint16(o.B) * 0x101, 0xFFFF})
			grey16.SetGray16(x, y, color.Gray16{Y: uint16(opaqueGrey(x, y).R) * 0x101})
			i, ok := index[c]
			if !ok {
				i = uint8(len(pal))
				index[c] = i
				pal = append(pal, c)
			}
			paletted.SetColorIndex(x, y, i)
		}
	}
	paletted.Palette = pal

	samples := func(f func(x, y int) color.NRGBA, ct byte, depth int) func(x, y int) []byte {
		return func(x, y int) []byte {
			c := f(x, y)
			var v []uint8
			switch ct {
			case 2:
				v = []uint8{c.R, c.G, c.B}
			case 4:
				v = []uint8{c.R, c.A}
			case 6:
				v = []uint8{c.R, c.G, c.B, c.A}
			}
			if depth == 8 {
				return v
			}
			var out []byte
			for _, s := range v {
				out = append(out, s, s) // s * 0x101
			}
			return out
		}
	}
	return []struct {
		name string
		data []byte
		want func(x, y int) color.NRGBA
	}{
		{"interlaced RGB", handPNG(t, w, h, 2, 8, true, samples(rgb, 2, 8)), rgb},
		{"interlaced RGBA", handPNG(t, w, h, 6, 8, true, samples(rgba, 6, 8)), rgba},
		{"16-bit RGB", encodeGo(t, rgb64), rgb},
		{"16-bit RGBA", encodeGo(t, rgba64), rgba},
		{"16-bit grey", encodeGo(t, grey16), opaqueGrey},
		{"16-bit RGB with transparent colour", handPNG(t, w, h, 2, 16, false, samples(rgb, 2, 16), "tRNS", "\xc8\xc8\x1e\x1e\x1e\x1e"),
			func(x, y int) color.NRGBA {
				c := rgb(x, y)
				if c == (color.NRGBA{200, 30, 30, 255}) {
					c.A = 0
				}
				return c
			}},
		{"paletted with transparency", encodeGo(t, paletted), rgba},
		{"grey with alpha", handPNG(t, w, h, 4, 8, false, samples(grey8, 4, 8)), grey8},
		{"grey with alpha, 16-bit, interlaced", handPNG(t, w, h, 4, 16, true, samples(grey8, 4, 16)), grey8},
		{"empty chunk before the image data", handPNG(t, w, h, 2, 8, false, samples(rgb, 2, 8), "zzZz", ""), rgb},
	}
}

// renderPage rasterises the first page at 72 dpi: one device pixel per
// point.
func renderPage(t *testing.T, pdf []byte) image.Image {
	t.Helper()
	pdftoppm := tool(t, "pdftoppm")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftoppm, "-r", "72", "-png", "-singlefile", "-f", "1", "-l", "1", in, filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// onWhite is c composited over the white page.
func onWhite(c color.NRGBA) color.NRGBA {
	mix := func(v uint8) uint8 { return uint8((int(v)*int(c.A) + 255*(255-int(c.A)) + 127) / 255) }
	return color.NRGBA{mix(c.R), mix(c.G), mix(c.B), 255}
}

func near(a, b color.Color) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) bool { return x>>8 <= y>>8+4 && y>>8 <= x>>8+4 }
	return d(ar, br) && d(ag, bg) && d(ab, bb)
}

// checkPixels compares the rendered page, at the centre of each image
// pixel of a box at (x0, y0) with px points per pixel, with want.
func checkPixels(t *testing.T, page image.Image, x0, y0, px, w, h int, want func(x, y int) color.NRGBA) {
	t.Helper()
	bad := 0
	for y := range h {
		for x := range w {
			got := page.At(x0+px*x+px/2, y0+px*y+px/2)
			if exp := onWhite(want(x, y)); !near(got, exp) {
				if bad++; bad <= 5 {
					t.Errorf("pixel (%d, %d) renders as %v, want %v", x, y, got, exp)
				}
			}
		}
	}
}

func TestPNGVariants(t *testing.T) {
	t.Parallel()
	qpdf := tool(t, "qpdf")
	for _, tc := range pngVariants(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The fixture itself is a valid PNG with the intended pixels.
			m, err := png.Decode(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatalf("test image: %v", err)
			}
			b := m.Bounds()
			for y := range b.Dy() {
				for x := range b.Dx() {
					// Compared over white: a transparent pixel's colour
					// does not survive premultiplied conversion.
					got := color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
					if onWhite(got) != onWhite(tc.want(x, y)) {
						t.Fatalf("test image pixel (%d, %d) is %v, want %v", x, y, got, tc.want(x, y))
					}
				}
			}
			h, err := readPNGHeader(tc.data)
			if err != nil || !h.needsReencode() {
				t.Errorf("header %+v (%v): not re-encoded", h, err)
			}

			const px = 6
			doc := &layouts.Document{Width: 200, Height: 200, Pages: []layouts.Page{{Images: []layouts.Image{
				{X: 30, Y: 40, W: float64(px * b.Dx()), H: float64(px * b.Dy()), Data: tc.data, Format: "png", Name: "logo"},
			}}}}
			out, err := Write(doc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"/BitsPerComponent 16", "/Indexed"} {
				if bytes.Contains(out, []byte(bad)) {
					t.Errorf("PDF has %s", bad)
				}
			}
			if c, err := exec.Command(qpdf, "--check", writeTemp(t, out)).CombinedOutput(); err != nil {
				t.Errorf("qpdf --check: %v\n%s", err, c)
			}
			checkPixels(t, renderPage(t, out), 30, 40, px, b.Dx(), b.Dy(), tc.want)
		})
	}
}

func TestPNGNotReencoded(t *testing.T) {
	t.Parallel()
	rgba := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	rgba.Set(0, 0, color.NRGBA{1, 2, 3, 100})
	pal := image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}})
	grey := image.NewGray(image.Rect(0, 0, 3, 2))
	for _, tc := range []struct {
		name string
		m    image.Image
	}{{"8-bit RGBA", rgba}, {"opaque palette", pal}, {"8-bit grey", grey}} {
		h, err := readPNGHeader(encodeGo(t, tc.m))
		if err != nil || h.needsReencode() {
			t.Errorf("%s: header %+v (%v) would be re-encoded", tc.name, h, err)
		}
	}
}

func TestReadPNGHeaderErrors(t *testing.T) {
	t.Parallel()
	good := encodeGo(t, image.NewGray(image.Rect(0, 0, 2, 2)))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not a png", []byte("GIF89a"), "not a PNG file"},
		{"truncated", good[:40], "truncated"},
		{"no IEND", good[:len(good)-12], "truncated chunk"},
		{"IHDR not first", append(bytes.Clone(pngMagic), good[len(pngMagic)+25:]...), "no IHDR chunk first"},
	}
	for _, tc := range tests {
		if _, err := readPNGHeader(tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %s", tc.name, err, tc.want)
		}
	}
}

// sameWidthDocs has documents whose images share pixel widths.
func sameWidthDocs(t *testing.T) map[string]*layouts.Document {
	solid := func(w, h int, c color.NRGBA) *image.NRGBA {
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.SetNRGBA(x, y, c)
			}
		}
		return m
	}
	red := encodeGo(t, solid(4, 3, color.NRGBA{220, 0, 0, 255}))
	blue := encodeGo(t, solid(4, 2, color.NRGBA{0, 0, 220, 128}))
	green := encodeGo(t, solid(4, 5, color.NRGBA{0, 200, 0, 255}))
	var j bytes.Buffer
	if err := jpeg.Encode(&j, solid(4, 4, color.NRGBA{0, 0, 0, 255}), &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	doc := func(ims ...layouts.Image) *layouts.Document {
		return &layouts.Document{Width: 300, Height: 300, Pages: []layouts.Page{{Images: ims}}}
	}
	return map[string]*layouts.Document{
		"PNG and JPEG": doc(
			layouts.Image{X: 10, Y: 10, W: 40, H: 30, Data: red, Format: "png", Name: "logo"},
			layouts.Image{X: 10, Y: 60, W: 40, H: 40, Data: j.Bytes(), Format: "jpeg", Name: "signature"}),
		"two PNGs": doc(
			layouts.Image{X: 10, Y: 10, W: 40, H: 30, Data: red, Format: "png", Name: "logo"},
			layouts.Image{X: 10, Y: 60, W: 40, H: 20, Data: blue, Format: "png", Name: "signature"}),
		"four images, one used twice": doc(
			layouts.Image{X: 10, Y: 10, W: 40, H: 30, Data: red, Format: "png", Name: "logo"},
			layouts.Image{X: 10, Y: 60, W: 40, H: 20, Data: blue, Format: "png", Name: "sig1"},
			layouts.Image{X: 10, Y: 100, W: 40, H: 50, Data: green, Format: "png", Name: "sig2"},
			layouts.Image{X: 10, Y: 160, W: 40, H: 40, Data: j.Bytes(), Format: "jpeg", Name: "sig3"},
			layouts.Image{X: 110, Y: 10, W: 20, H: 15, Data: red, Format: "png", Name: "logo"}),
	}
}

func TestImagesDeterministic(t *testing.T) {
	t.Parallel()
	for name, doc := range sameWidthDocs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			first, err := Write(doc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				b, err := Write(doc, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, first) {
					t.Fatalf("write %d differs from the first", i+2)
				}
			}
		})
	}
}

var imageDraw = regexp.MustCompile(`q ([0-9.]+) 0 0 ([0-9.]+) ([0-9.]+) ([0-9.]+) cm /I[0-9a-f]+ Do Q`)

// TestImagePadding checks that the images padded to a unique width draw
// their own pixels exactly where and as large as the layout put them.
func TestImagePadding(t *testing.T) {
	t.Parallel()
	doc := sameWidthDocs(t)["four images, one used twice"]
	b, err := Write(doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Boxes: each later distinct image is one column (10pt) wider.
	var boxes []string
	for _, m := range imageDraw.FindAllStringSubmatch(string(b), -1) {
		boxes = append(boxes, m[1]+"x"+m[2])
	}
	want := []string{"40.00000x30.00000", "50.00000x20.00000", "60.00000x50.00000", "70.00000x40.00000", "20.00000x15.00000"}
	if fmt.Sprint(boxes) != fmt.Sprint(want) {
		t.Errorf("image boxes %v, want %v", boxes, want)
	}
	list, err := exec.Command(tool(t, "pdfimages"), "-list", writeTemp(t, b)).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfimages: %v\n%s", err, list)
	}
	byObject := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(list)), "\n")[2:] {
		// page num type width height color comp bpc enc interp object ID ...
		if f := strings.Fields(l); len(f) > 10 && f[2] == "image" {
			w, _ := strconv.Atoi(f[3])
			byObject[f[10]] = w
		}
	}
	var widths []int
	for _, w := range byObject {
		widths = append(widths, w)
	}
	slices.Sort(widths)
	if fmt.Sprint(widths) != "[4 5 6 7]" {
		t.Errorf("image objects are %v pixels wide, want [4 5 6 7]:\n%s", widths, list)
	}
	page := renderPage(t, b)
	colours := []struct {
		y, h int
		c    color.NRGBA
	}{
		{10, 30, color.NRGBA{220, 0, 0, 255}},
		{60, 20, color.NRGBA{0, 0, 220, 128}},
		{100, 50, color.NRGBA{0, 200, 0, 255}},
		{160, 40, color.NRGBA{0, 0, 0, 255}},
	}
	for i, c := range colours {
		checkPixels(t, page, 10, c.y, 10, 4, c.h/10, func(x, y int) color.NRGBA { return c.c })
		// Right of the original box: the padding shows the white page.
		for _, x := range []int{51, 55, 59, 65, 75} {
			if got := page.At(x, c.y+c.h/2); !near(got, color.White) {
				t.Errorf("image %d: padding at x=%d renders as %v, want white", i+1, x, got)
			}
		}
	}
}

func TestToNRGBA(t *testing.T) {
	t.Parallel()
	const w, h, pad = 5, 3, 2
	r := image.Rect(0, 0, w, h)
	nrgbaImg, nrgba64, rgba, rgba64 := image.NewNRGBA(r), image.NewNRGBA64(r), image.NewRGBA(r), image.NewRGBA64(r)
	grey, grey16 := image.NewGray(r), image.NewGray16(r)
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio444)
	pal := image.NewPaletted(r, color.Palette{color.NRGBA{10, 20, 30, 255}, color.NRGBA{200, 100, 0, 64}, color.NRGBA{}})
	for y := range h {
		for x := range w {
			c := pattern(x, y, true)
			nrgbaImg.SetNRGBA(x, y, c)
			nrgba64.SetNRGBA64(x, y, color.NRGBA64{uint16(c.R) * 0x101, uint16(c.G) * 0x101, uint16(c.B) * 0x101, uint16(c.A) * 0x101})
			o := pattern(x, y, false)
			rgba.SetRGBA(x, y, color.RGBA{o.R, o.G, o.B, 255})
			rgba64.SetRGBA64(x, y, color.RGBA64{uint16(o.R) * 0x101, uint16(o.G) * 0x101, uint16(o.B) * 0x101, 0xFFFF})
			grey.SetGray(x, y, color.Gray{Y: uint8(40 * x)})
			grey16.SetGray16(x, y, color.Gray16{Y: uint16(40*x) * 0x101})
			i := ycc.YOffset(x, y)
			ycc.Y[i], ycc.Cb[i], ycc.Cr[i] = uint8(30*x), uint8(60*y), 200
			pal.SetColorIndex(x, y, uint8((x+y)%3))
		}
	}
	tests := []struct {
		name   string
		m      image.Image
		opaque bool
	}{
		{"NRGBA", nrgbaImg, false},
		{"NRGBA64", nrgba64, false},
		{"RGBA", rgba, true},
		{"RGBA64", rgba64, true},
		{"Gray", grey, true},
		{"Gray16", grey16, true},
		{"YCbCr", ycc, true},
		{"Paletted", pal, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := toNRGBA(tc.m, pad)
			if got.Bounds() != image.Rect(0, 0, w+pad, h) {
				t.Fatalf("bounds %v", got.Bounds())
			}
			for y := range h {
				for x := range w + pad {
					g := got.NRGBAAt(x, y)
					// Transparency is flattened onto white; the
					// padding is white.
					want := color.NRGBA{255, 255, 255, 255}
					if x < w {
						want = color.NRGBAModel.Convert(tc.m.At(x, y)).(color.NRGBA)
					}
					if onWhite(g) != onWhite(want) || g.A != 255 {
						t.Errorf("pixel (%d, %d) = %v, want %v", x, y, g, want)
					}
				}
			}
		})
	}
}
