package pdf

import (
	"bytes"
	"compress/zlib"
	"io"
	"testing"

	"github.com/carta-letters/carta/fonts"
)

// subsetChunk returns a chunk of the face with the printable ASCII
// characters and a few Latin-1 letters, as a letter's first chunk.
func subsetChunk() *chunk {
	c := new(chunk)
	for r := rune(' '); r < 127; r++ {
		c.runes[r] = r
	}
	for i, r := range []rune("éèüöäßçñÉ–—“”’…") {
		c.runes[160+i] = r
	}
	return c
}

// The spliced subset stream (shared tables deflated once per process)
// inflates to the subset font file, carries a correct Adler-32 (zlib's
// reader checks it), is the same on every call, and is no larger than
// deflating the file whole.
func TestCompressSubset(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		style fonts.Style
		cid   bool // a CID font program (SubsetGlyphs), as for shaped text
	}{{fonts.Regular, false}, {fonts.Bold, false}, {fonts.Italic, false}, {fonts.Regular, true}} {
		face := fonts.Serif().Face(tc.style)
		codes := subsetChunk().runes
		sub, err := face.SubsetCodes(&codes)
		if tc.cid {
			sub, err = face.SubsetGlyphs([]uint16{36, 37, 38, 68, 69, 70, 36})
		}
		if err != nil {
			t.Fatal(err)
		}
		shared := face.SharedTables()
		at := 12 + 16*(int(sub[4])<<8|int(sub[5]))
		if len(shared) == 0 || !bytes.Equal(sub[at:at+len(shared)], shared) {
			t.Fatalf("%s: the shared tables (%d bytes) do not follow the table directory", face.Name(), len(shared))
		}
		z, err := compressSubset(face, sub)
		if err != nil {
			t.Fatal(err)
		}
		r, err := zlib.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: inflate: %v", face.Name(), err)
		}
		if !bytes.Equal(got, sub) {
			t.Fatalf("%s: inflates to %d bytes, not the %d-byte subset", face.Name(), len(got), len(sub))
		}
		again, err := compressSubset(face, sub)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, z) {
			t.Errorf("%s: two compressions of one subset differ", face.Name())
		}
		whole, err := zlibCompress(sub)
		if err != nil {
			t.Fatal(err)
		}
		if len(z) > len(whole) {
			t.Errorf("%s: spliced stream %d bytes, whole deflate %d", face.Name(), len(z), len(whole))
		}
	}
}

// BenchmarkCompressSubset deflates one Latin subset (96 codes) of
// Liberation Serif: "spliced" is what Write does (compressSubset),
// "whole" deflates the file in one stream (zlibCompress).
func BenchmarkCompressSubset(b *testing.B) {
	face := fonts.Serif().Face(fonts.Regular)
	codes := subsetChunk().runes
	sub, err := face.SubsetCodes(&codes)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		f    func() ([]byte, error)
	}{
		{"spliced", func() ([]byte, error) { return compressSubset(face, sub) }},
		{"whole", func() ([]byte, error) { return zlibCompress(sub) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(sub)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				z, err := bc.f()
				if err != nil {
					b.Fatal(err)
				}
				n = len(z)
			}
			b.ReportMetric(float64(n), "zbytes")
		})
	}
}
