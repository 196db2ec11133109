package layouts

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
)

// picture is a decoded data: URL image.
type picture struct {
	data   []byte
	format string // "png" or "jpeg"
	w, h   int    // pixels
}

// decodeDataURL decodes a base64 data: URL holding a PNG or JPEG image and
// reads its dimensions. The validator has checked type and size already;
// errors here mean a job that skipped validation.
func decodeDataURL(u string) (picture, error) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return picture{}, errors.New("not a data: URL")
	}
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok || !strings.HasSuffix(meta, ";base64") {
		return picture{}, errors.New("data: URL is not base64")
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		if data, err = base64.RawStdEncoding.DecodeString(payload); err != nil {
			return picture{}, fmt.Errorf("base64: %w", err)
		}
	}
	var cfg image.Config
	p := picture{data: data}
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		p.format = "png"
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case bytes.HasPrefix(data, []byte{0xff, 0xd8}):
		p.format = "jpeg"
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	default:
		return picture{}, errors.New("neither PNG nor JPEG")
	}
	if err != nil {
		return picture{}, fmt.Errorf("%s: %w", p.format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return picture{}, fmt.Errorf("%s: empty image", p.format)
	}
	p.w, p.h = cfg.Width, cfg.Height
	return p, nil
}

// fit scales the picture to height h, narrower if it would be wider than
// maxW, keeping its aspect ratio.
func (p picture) fit(h, maxW float64) (float64, float64) {
	w := h * float64(p.w) / float64(p.h)
	if w > maxW {
		w, h = maxW, maxW*float64(p.h)/float64(p.w)
	}
	return w, h
}
