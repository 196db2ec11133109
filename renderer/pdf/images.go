package pdf

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	"codeberg.org/go-pdf/fpdf"

	"github.com/carta-letters/carta/layouts"
)

// Images are prepared before fpdf sees them, for two reasons.
//
// Determinism: fpdf writes image objects sorted by pixel width, breaking
// ties in map order, so two different images of the same width could
// come out in either order. Every distinct image content is registered
// once, and when its pixel width is already taken by an earlier image (in
// document order) it is padded on the right with as many columns as make
// its width unique: white columns. Its drawn box grows by the same number of pixels,
// so the original pixels keep their exact size and place.
//
// Compatibility: fpdf refuses interlaced PNGs and mishandles 16-bit
// ones, paletted ones with transparency and grey ones with alpha; PDF/A-1
// forbids the soft masks fpdf would write for transparency, and the sRGB
// output intent does not cover CMYK JPEGs. Those are re-encoded as 8-bit
// non-interlaced RGB PNGs, transparency flattened onto white.

// pdfImage is one distinct image content as handed to fpdf.
type pdfImage struct {
	name string // fpdf image name: format and SHA-256 of the original
	tp   string // fpdf image type, "PNG" or "JPG"
	w    int    // original width in pixels
	pad  int    // white columns added on the right
}

// imageSet registers the document's images with fpdf.
type imageSet struct {
	p      *fpdf.Fpdf
	byName map[string][]byte    // layout name -> original data
	byKey  map[string]*pdfImage // format and SHA-256 -> image
	widths map[int]bool         // pixel widths registered
}

func newImageSet(p *fpdf.Fpdf) *imageSet {
	return &imageSet{p: p, byName: make(map[string][]byte), byKey: make(map[string]*pdfImage), widths: make(map[int]bool)}
}

// add registers im's content on its first use and returns how to draw it.
func (s *imageSet) add(im *layouts.Image) (*pdfImage, error) {
	if im.Format != "png" && im.Format != "jpeg" {
		return nil, fmt.Errorf("unsupported format %q", im.Format)
	}
	if im.Name == "" {
		return nil, errors.New("no name")
	}
	if prev, ok := s.byName[im.Name]; ok {
		if !bytes.Equal(prev, im.Data) {
			return nil, errors.New("two different images share the name")
		}
	} else {
		s.byName[im.Name] = im.Data
	}
	sum := sha256.Sum256(im.Data)
	key := im.Format + "-" + hex.EncodeToString(sum[:])
	if pi := s.byKey[key]; pi != nil {
		return pi, nil
	}

	pi := &pdfImage{name: key, tp: "PNG"}
	var reencode bool
	if im.Format == "png" {
		h, err := readPNGHeader(im.Data)
		if err != nil {
			return nil, fmt.Errorf("read png: %w", err)
		}
		pi.w, reencode = h.width, h.needsReencode() || h.hasAlpha()
	} else {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(im.Data))
		if err != nil {
			return nil, fmt.Errorf("read jpeg: %w", err)
		}
		pi.w, pi.tp = cfg.Width, "JPG"
		// A CMYK JPEG would be drawn in DeviceCMYK, which the sRGB
		// output intent of PDF/A does not cover.
		reencode = cfg.ColorModel == color.CMYKModel
	}
	if pi.w <= 0 {
		return nil, errors.New("image has no pixels")
	}
	for s.widths[pi.w+pi.pad] {
		pi.pad++
	}
	s.widths[pi.w+pi.pad] = true

	data := im.Data
	if reencode || pi.pad > 0 {
		var err error
		if data, err = normalize(im.Data, im.Format, pi.pad); err != nil {
			return nil, err
		}
		pi.tp = "PNG"
	}
	s.p.RegisterImageOptionsReader(pi.name, fpdf.ImageOptions{ImageType: pi.tp}, bytes.NewReader(data))
	if err := s.p.Error(); err != nil {
		return nil, err
	}
	s.byKey[key] = pi
	return pi, nil
}

// drawWidth returns the width of the box to draw pi in so that its
// original pixels fill a box w wide.
func (pi *pdfImage) drawWidth(w float64) float64 {
	if pi.pad == 0 {
		return w
	}
	return w * float64(pi.w+pi.pad) / float64(pi.w)
}

// pngHeader is what decides whether fpdf can take a PNG as it is.
type pngHeader struct {
	width      int
	depth      byte // bits per sample
	colorType  byte // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
	interlace  byte
	trns       bool // has a tRNS chunk
	emptyChunk bool // a chunk of length 0 before IEND (fpdf stops reading there)
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// readPNGHeader reads the IHDR chunk and lists the other chunks of a PNG
// file without decompressing anything.
func readPNGHeader(b []byte) (pngHeader, error) {
	var h pngHeader
	if !bytes.HasPrefix(b, pngMagic) {
		return h, errors.New("not a PNG file")
	}
	r := b[len(pngMagic):]
	first := true
	for {
		if len(r) < 12 {
			return h, errors.New("truncated chunk")
		}
		n := binary.BigEndian.Uint32(r)
		typ := string(r[4:8])
		if uint64(n)+12 > uint64(len(r)) {
			return h, fmt.Errorf("chunk %q: truncated", typ)
		}
		data := r[8 : 8+n]
		if first {
			if typ != "IHDR" || n != 13 {
				return h, errors.New("no IHDR chunk first")
			}
			h.width = int(binary.BigEndian.Uint32(data))
			h.depth, h.colorType, h.interlace = data[8], data[9], data[12]
			first = false
		}
		switch typ {
		case "IEND":
			return h, nil
		case "tRNS":
			h.trns = true
		}
		if n == 0 {
			h.emptyChunk = true
		}
		r = r[12+n:]
	}
}

// hasAlpha reports whether the PNG has transparency: fpdf would draw it
// with a soft mask, which PDF/A-1 forbids (ISO 19005-1:2005, 6.4).
func (h pngHeader) hasAlpha() bool {
	return h.colorType == 4 || h.colorType == 6 || h.trns
}

// needsReencode reports whether fpdf would refuse or mishandle the PNG.
func (h pngHeader) needsReencode() bool {
	return h.interlace != 0 || h.depth > 8 || h.colorType == 4 ||
		h.colorType == 3 && h.trns || h.emptyChunk
}

// normalize decodes an image and encodes it as an 8-bit non-interlaced
// RGB PNG, transparency flattened onto white (PDF/A-1 forbids soft
// masks), with pad more white columns on the right.
func normalize(data []byte, format string, pad int) ([]byte, error) {
	var src image.Image
	var err error
	if format == "png" {
		src, err = png.Decode(bytes.NewReader(data))
	} else {
		src, err = jpeg.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", format, err)
	}
	m := toNRGBA(src, pad)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, m); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// toNRGBA converts src to opaque 8-bit RGBA, pad columns wider (see
// normalize): every pixel is composited over white, the padding is
// white.
func toNRGBA(src image.Image, pad int) *image.NRGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w+pad, h))
	at := pixelFunc(src)
	over := func(v, a uint8) uint8 { return uint8((uint32(v)*uint32(a) + 255*uint32(255-a) + 127) / 255) }
	for y := range h {
		row := dst.Pix[y*dst.Stride:]
		for x := range w {
			c := at(b.Min.X+x, b.Min.Y+y)
			if c.A != 0xFF {
				c.R, c.G, c.B = over(c.R, c.A), over(c.G, c.A), over(c.B, c.A)
			}
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = c.R, c.G, c.B, 0xFF
		}
		for i := 4 * w; i < 4*(w+pad); i++ {
			row[i] = 0xFF
		}
	}
	return dst
}

// pixelFunc returns a function giving src's pixels as 8-bit
// non-premultiplied RGBA, keeping the high byte of 16-bit samples. It
// reads the image types the PNG and JPEG decoders return directly, which
// is many times faster than going through color.Color.
func pixelFunc(src image.Image) func(x, y int) color.NRGBA {
	switch m := src.(type) {
	case *image.NRGBA:
		return m.NRGBAAt
	case *image.NRGBA64:
		return func(x, y int) color.NRGBA {
			c := m.NRGBA64At(x, y)
			return color.NRGBA{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8), uint8(c.A >> 8)}
		}
	case *image.Gray:
		return func(x, y int) color.NRGBA {
			v := m.GrayAt(x, y).Y
			return color.NRGBA{v, v, v, 0xFF}
		}
	case *image.Gray16:
		return func(x, y int) color.NRGBA {
			v := uint8(m.Gray16At(x, y).Y >> 8)
			return color.NRGBA{v, v, v, 0xFF}
		}
	case *image.YCbCr:
		return func(x, y int) color.NRGBA {
			c := m.YCbCrAt(x, y)
			r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
			return color.NRGBA{r, g, b, 0xFF}
		}
	case *image.Paletted:
		pal := make([]color.NRGBA, 256)
		for i, c := range m.Palette {
			pal[i] = nrgba(c)
		}
		return func(x, y int) color.NRGBA { return pal[m.ColorIndexAt(x, y)] }
	}
	return func(x, y int) color.NRGBA { return nrgba(src.At(x, y)) }
}

// nrgba converts c to 8-bit non-premultiplied RGBA.
func nrgba(c color.Color) color.NRGBA {
	if c, ok := c.(color.NRGBA); ok {
		return c
	}
	return color.NRGBAModel.Convert(c).(color.NRGBA)
}
