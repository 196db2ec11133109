package job

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
)

// Image formats accepted in letterhead.logo and signers[].signature, by
// their data: URL prefix.
const (
	PNGPrefix  = "data:image/png;base64,"
	JPEGPrefix = "data:image/jpeg;base64,"
)

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// DecodeImage decodes a data: URL image as the contract allows it (a PNG
// or JPEG, padded base64, at most MaxImageBytes) and reads its header. It
// returns the image's bytes, "png" or "jpeg" and its header, or what is
// wrong as a field message. It does not check the pixel count or decode
// the pixels: the validator does that once (imageProblem); layouts call
// DecodeImage on validated jobs for the bytes and dimensions.
func DecodeImage(s string) (data []byte, format string, cfg image.Config, problem string) {
	const want = "must be a data: URL of a PNG or JPEG image (" + PNGPrefix + "… or " + JPEGPrefix + "…)"
	var payload string
	switch {
	case strings.HasPrefix(s, PNGPrefix):
		format, payload = "png", s[len(PNGPrefix):]
	case strings.HasPrefix(s, JPEGPrefix):
		format, payload = "jpeg", s[len(JPEGPrefix):]
	default:
		return nil, "", cfg, want
	}
	if len(payload) > base64.StdEncoding.EncodedLen(MaxImageBytes) {
		return nil, "", cfg, fmt.Sprintf("image is larger than %d bytes (%s)", MaxImageBytes, sizeName(MaxImageBytes))
	}
	// The decoder checks every byte itself, except CR and LF, which it
	// skips: only then, or when it fails, look for the byte to name.
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil || strings.ContainsAny(payload, "\r\n") {
		for i := 0; i < len(payload); i++ {
			c := payload[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
				return nil, "", cfg, fmt.Sprintf("is not valid base64: byte %d of the data is %q", i, string(rune(c)))
			}
		}
		return nil, "", cfg, "is not valid base64: " + strings.TrimPrefix(err.Error(), "illegal base64 data ")
	}
	if len(data) > MaxImageBytes {
		return nil, "", cfg, fmt.Sprintf("image is larger than %d bytes (%s)", MaxImageBytes, sizeName(MaxImageBytes))
	}
	var actual string
	switch {
	case bytes.HasPrefix(data, pngMagic):
		actual = "png"
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		actual = "jpeg"
	default:
		return nil, "", cfg, "data is not a PNG or JPEG image"
	}
	if actual != format {
		return nil, "", cfg, fmt.Sprintf("is declared image/%s but the data is a %s image", format, strings.ToUpper(actual))
	}
	if format == "png" {
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	} else {
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return nil, "", cfg, fmt.Sprintf("image header is damaged: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, "", cfg, fmt.Sprintf("image is %d×%d pixels; it must not be empty", cfg.Width, cfg.Height)
	}
	return data, format, cfg, ""
}

// imageProblem checks a data: URL image and returns what is wrong, or "".
// It reads the image header first (DecodeImage) and decodes the pixels
// only when the header's dimensions are within MaxImagePixels, so a
// decompression bomb is refused without being decoded.
func imageProblem(s string) string {
	data, format, cfg, problem := DecodeImage(s)
	if problem != "" {
		return problem
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > MaxImagePixels {
		return fmt.Sprintf("image is %d×%d pixels; the limit is %d pixels", cfg.Width, cfg.Height, MaxImagePixels)
	}
	var err error
	if format == "png" {
		_, err = png.Decode(bytes.NewReader(data))
	} else {
		_, err = jpeg.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return fmt.Sprintf("image data is damaged: %v", err)
	}
	return ""
}
