package preview

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // images in letters
	"image/png"
	"math"
	"sync"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer/job"
)

// Limits of a preview's width in pixels.
const (
	MinWidth     = 100
	MaxWidth     = 2000
	DefaultWidth = 800
)

// parsed keeps each face's parsed font, parsed once.
var parsed sync.Map // *fonts.Face → *sfnt.Font

func sfntOf(f *fonts.Face) (*sfnt.Font, error) {
	if v, ok := parsed.Load(f); ok {
		return v.(*sfnt.Font), nil
	}
	sf, err := opentype.Parse(f.Data())
	if err != nil {
		return nil, fmt.Errorf("parse font %s: %w", f.Name(), err)
	}
	v, _ := parsed.LoadOrStore(f, sf)
	return v.(*sfnt.Font), nil
}

// FirstPage lays out job j and draws its first page width pixels wide
// (the height follows the paper), white paper, as a PNG.
func FirstPage(j *job.Job, width int) ([]byte, error) {
	l, ok := layouts.Lookup(j.LayoutOrDefault())
	if !ok {
		return nil, fmt.Errorf("draw preview: unknown layout %q", j.LayoutOrDefault())
	}
	doc, err := l.Lay(j)
	if err != nil {
		return nil, fmt.Errorf("draw preview: %w", err)
	}
	img, err := Page(doc, 0, width)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("draw preview: encode png: %w", err)
	}
	return b.Bytes(), nil
}

// Page draws page i of doc width pixels wide.
func Page(doc *layouts.Document, i, width int) (*image.RGBA, error) {
	if width < MinWidth || width > MaxWidth {
		return nil, fmt.Errorf("draw preview: width %d: must be between %d and %d pixels", width, MinWidth, MaxWidth)
	}
	if i < 0 || i >= len(doc.Pages) || doc.Width <= 0 || doc.Height <= 0 {
		return nil, errors.New("draw preview: no such page")
	}
	scale := float64(width) / doc.Width
	height := int(math.Ceil(doc.Height * scale))
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	p := &doc.Pages[i]
	for _, im := range p.Images {
		src, _, err := image.Decode(bytes.NewReader(im.Data))
		if err != nil {
			continue // checked when the job was validated; never fatal here
		}
		r := image.Rect(int(im.X*scale), int(im.Y*scale), int(math.Ceil((im.X+im.W)*scale)), int(math.Ceil((im.Y+im.H)*scale)))
		xdraw.ApproxBiLinear.Scale(img, r, src, src.Bounds(), draw.Over, nil)
	}
	for _, ru := range p.Rules {
		drawRule(img, ru, scale)
	}
	faces := map[[2]any]font.Face{}
	for _, t := range p.Texts {
		if t.Face == nil || t.S == "" {
			continue
		}
		key := [2]any{t.Face, t.Size}
		ff, ok := faces[key]
		if !ok {
			sf, err := sfntOf(t.Face)
			if err != nil {
				return nil, fmt.Errorf("draw preview: %w", err)
			}
			ff, err = opentype.NewFace(sf, &opentype.FaceOptions{Size: t.Size * scale, DPI: 72, Hinting: font.HintingNone})
			if err != nil {
				return nil, fmt.Errorf("draw preview: %w", err)
			}
			faces[key] = ff
		}
		d := font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{t.Color.R, t.Color.G, t.Color.B, 255}), Face: ff,
			Dot: fixed.Point26_6{X: fixed.Int26_6(t.X * scale * 64), Y: fixed.Int26_6(t.Y * scale * 64)}}
		d.DrawString(t.S)
	}
	for _, f := range faces {
		f.Close()
	}
	return img, nil
}

// drawRule fills the quadrilateral of a rule's line, at least one pixel
// wide.
func drawRule(img *image.RGBA, ru layouts.Rule, scale float64) {
	x1, y1, x2, y2 := ru.X1*scale, ru.Y1*scale, ru.X2*scale, ru.Y2*scale
	w := math.Max(ru.Width*scale, 1) / 2
	dx, dy := x2-x1, y2-y1
	n := math.Hypot(dx, dy)
	if n == 0 {
		return
	}
	nx, ny := -dy/n*w, dx/n*w
	b := img.Bounds()
	z := vector.NewRasterizer(b.Dx(), b.Dy())
	z.MoveTo(float32(x1+nx), float32(y1+ny))
	z.LineTo(float32(x2+nx), float32(y2+ny))
	z.LineTo(float32(x2-nx), float32(y2-ny))
	z.LineTo(float32(x1-nx), float32(y1-ny))
	z.ClosePath()
	z.Draw(img, b, image.NewUniform(color.RGBA{ru.Color.R, ru.Color.G, ru.Color.B, 255}), image.Point{})
}
