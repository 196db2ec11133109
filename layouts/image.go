package layouts

import (
	"errors"

	"github.com/carta-letters/carta/renderer/job"
)

// picture is a decoded data: URL image.
type picture struct {
	data   []byte
	format string // "png" or "jpeg"
	w, h   int    // pixels
}

// decodeDataURL decodes a data: URL image with job.DecodeImage, the
// validator's own reading. The validator has checked it already; an
// error here means a job that skipped validation.
func decodeDataURL(u string) (picture, error) {
	data, format, cfg, problem := job.DecodeImage(u)
	if problem != "" {
		return picture{}, errors.New(problem)
	}
	return picture{data: data, format: format, w: cfg.Width, h: cfg.Height}, nil
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
