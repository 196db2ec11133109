package pdf

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/adler32"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts"
)

// maxCode is the last 8-bit code a chunk uses; codes 32..maxCode are
// available, 32 always being the space.
const maxCode = 255

// faceUse records how one face is used in a document: which runes are
// drawn with it and which chunk and code each rune was given.
type faceUse struct {
	face   *fonts.Face
	ascii  [128]uint16     // rune -> chunk<<8 | code; 0: not used
	other  map[rune]uint16 // same for runes >= 128
	runes  []rune          // distinct runes drawn, space excluded
	chunks []*chunk
}

// chunk is one 8-bit subset font of a face.
type chunk struct {
	family string            // fpdf family name, "c0", "c1", ...
	id     string            // fpdf font resource name without "/F"
	base   string            // PDF /BaseFont name, "TAG+PostScriptName"
	face   *faceUse          // the face it belongs to
	index  uint16            // position in face.chunks
	runes  [maxCode + 1]rune // code -> rune; 0: unused
}

// lookup returns the chunk<<8|code of r, 0 when r was not collected.
func (u *faceUse) lookup(r rune) uint16 {
	if r < 128 {
		if r < 0 {
			return 0
		}
		return u.ascii[r]
	}
	return u.other[r]
}

// add records r as drawn with the face.
func (u *faceUse) add(r rune) {
	if r == ' ' {
		return
	}
	if r < 128 {
		if u.ascii[r] == 0 {
			u.ascii[r] = 1
			u.runes = append(u.runes, r)
		}
		return
	}
	if _, ok := u.other[r]; !ok {
		if u.other == nil {
			u.other = make(map[rune]uint16)
		}
		u.other[r] = 1
		u.runes = append(u.runes, r)
	}
}

// assign gives every collected rune a chunk and a code: ASCII characters
// keep their own code in the first chunk; the others fill the free codes
// in Unicode order, opening a new chunk when one is full.
func (u *faceUse) assign(nextFamily func() string) {
	slices.Sort(u.runes)
	newChunk := func() *chunk {
		c := &chunk{family: nextFamily(), face: u, index: uint16(len(u.chunks))}
		c.runes[' '] = ' '
		u.chunks = append(u.chunks, c)
		return c
	}
	cur := newChunk()
	next := 33
	set := func(r rune, v uint16) {
		if r < 128 {
			u.ascii[r] = v
		} else {
			u.other[r] = v
		}
	}
	printable := func(r rune) bool { return r > ' ' && r < 127 }
	for _, r := range u.runes {
		if printable(r) {
			cur.runes[r] = r
			set(r, uint16(r))
		}
	}
	for _, r := range u.runes {
		if printable(r) {
			continue
		}
		for next <= maxCode && cur.runes[next] != 0 {
			next++
		}
		if next > maxCode {
			cur = newChunk()
			next = 33
		}
		cur.runes[next] = r
		set(r, uint16(len(u.chunks)-1)<<8|uint16(next))
		next++
	}
}

// planFonts collects the runes drawn with each face, in order of first
// use, and assigns their codes.
func planFonts(doc *layouts.Document) ([]*faceUse, map[*fonts.Face]*faceUse, *cidPlan, error) {
	var order []*faceUse
	byFace := make(map[*fonts.Face]*faceUse)
	cid := new(cidPlan)
	for pi := range doc.Pages {
		texts := doc.Pages[pi].Texts
		for ti := range texts {
			t := &texts[ti]
			if t.Face == nil {
				return nil, nil, nil, fmt.Errorf("page %d: text %q has no face", pi+1, t.S)
			}
			if t.Glyphs != nil {
				if err := cid.add(t); err != nil {
					return nil, nil, nil, fmt.Errorf("page %d: %w", pi+1, err)
				}
				continue
			}
			u := byFace[t.Face]
			if u == nil {
				u = &faceUse{face: t.Face}
				byFace[t.Face] = u
				order = append(order, u)
			}
			for _, r := range t.S {
				if r >= 128 || u.ascii[r] == 0 {
					if !t.Face.Has(r) {
						return nil, nil, nil, fmt.Errorf("page %d: text %q: font %s has no glyph for %q (U+%04X)", pi+1, t.S, t.Face.Name(), string(r), r)
					}
					u.add(r)
				}
			}
		}
	}
	n := 0
	for _, u := range order {
		u.assign(func() string { n++; return "c" + strconv.Itoa(n-1) })
	}
	return order, byFace, cid, nil
}

// fontDef is the JSON font definition fpdf's AddFontFromBytes reads.
//
// Its fields mirror, in order, fpdf's own definition type: fpdf names a
// font's resource /F<id> after the SHA-1 of that type's JSON with File
// cleared, and chunkFont computes the same so the content stream can
// select fonts itself (Write checks the ids against the output).
type fontDef struct {
	Tp           string
	Name         string
	Desc         fontDesc
	Up           int
	Ut           int
	Cw           []int
	Enc          string
	Diff         string
	File         string
	Size1, Size2 int
	OriginalSize int
	N            int
	DiffN        int
}

type fontDesc struct {
	Ascent       int
	Descent      int
	CapHeight    int
	Flags        int
	FontBBox     struct{ Xmin, Ymin, Xmax, Ymax int }
	ItalicAngle  int
	StemV        int
	MissingWidth int
}

// Font descriptor flags (PDF 32000-1:2008, 9.8.2).
const (
	flagFixedPitch = 1
	flagSerif      = 2
	flagSymbolic   = 4
	flagItalic     = 64
)

// embedder builds the subset fonts of a document.
type embedder struct{}

// FontCache keeps the subset font files Write builds, by face and
// characters, for the documents of one caller (see Options.Fonts). It is
// not safe for concurrent use. The zero value is not usable: use
// NewFontCache.
type FontCache struct {
	files map[subsetKey]subsetFile
}

// NewFontCache returns an empty cache.
func NewFontCache() *FontCache { return &FontCache{files: map[subsetKey]subsetFile{}} }

// subsetKey is one chunk's subset: the face and its code -> rune table.
type subsetKey struct {
	face  *fonts.Face
	runes [maxCode + 1]rune
}

// subsetFile is a subset font file, compressed, and its size before.
type subsetFile struct {
	z    []byte
	size int
}

// subset cuts and compresses one chunk's subset of face (see
// fonts.Face.SubsetCodes): the chunk's codes map to their glyphs through
// the font's single (3,0) cmap subtable.
func (e *embedder) subset(face *fonts.Face, c *chunk) (subsetFile, error) {
	codes := c.runes
	if !face.Has(' ') {
		codes[' '] = 0
	}
	sub, err := face.SubsetCodes(&codes)
	if err != nil {
		return subsetFile{}, err
	}
	z, err := compressSubset(face, sub)
	if err != nil {
		return subsetFile{}, fmt.Errorf("compress font: %w", err)
	}
	return subsetFile{z: z, size: len(sub)}, nil
}

// chunkFont returns the fpdf JSON definition and the zlib-compressed font
// file of one chunk, the file from cache when it has it (cache may be
// nil).
func (e *embedder) chunkFont(face *fonts.Face, c *chunk, cache *FontCache) (def []byte, z []byte, err error) {
	file, ok := subsetFile{}, false
	if cache != nil {
		file, ok = cache.files[subsetKey{face, c.runes}]
	}
	if !ok {
		if file, err = e.subset(face, c); err != nil {
			return nil, nil, err
		}
		if cache != nil {
			cache.files[subsetKey{face, c.runes}] = file
		}
	}
	z = file.z

	upem := float64(face.UnitsPerEm())
	scale := func(v int) int { return int(math.Round(float64(v) * 1000 / upem)) }
	d := fontDef{
		Tp:           "TrueType",
		Name:         subsetTag(face.Name(), c) + "+" + pdfName(face.Name()),
		Up:           scale(face.UnderlinePosition()),
		Ut:           scale(face.UnderlineThickness()),
		Cw:           make([]int, 256),
		File:         c.family + ".z",
		OriginalSize: file.size,
	}
	bb := face.BBox()
	d.Desc.Ascent = scale(face.Ascent())
	d.Desc.Descent = scale(face.Descent())
	d.Desc.CapHeight = scale(face.CapHeight())
	d.Desc.FontBBox.Xmin, d.Desc.FontBBox.Ymin = scale(bb[0]), scale(bb[1])
	d.Desc.FontBBox.Xmax, d.Desc.FontBBox.Ymax = scale(bb[2]), scale(bb[3])
	d.Desc.ItalicAngle = int(math.Round(face.ItalicAngle()))
	d.Desc.StemV = 80
	if face.IsBold() {
		d.Desc.StemV = 120
	}
	d.Desc.MissingWidth = 0
	// Symbolic, with no /Encoding (the dictionary fpdf writes loses its
	// /Encoding in the update, see addUpdate): the codes are the
	// chunk's own, mapped by the font's (3,0) cmap.
	d.Desc.Flags = flagSymbolic
	if face.IsItalic() {
		d.Desc.Flags |= flagItalic
	}
	if face.IsFixedPitch() {
		d.Desc.Flags |= flagFixedPitch
	}
	if strings.Contains(face.Name(), "Serif") {
		d.Desc.Flags |= flagSerif
	}
	for code, r := range c.runes {
		if r != 0 {
			d.Cw[code] = scale(face.Advance(r))
		}
	}
	c.base = d.Name
	// One encoding serves both: fontID's (File cleared) and, with File
	// set, the definition fpdf reads.
	fileName := d.File
	d.File = ""
	noFile, err := json.Marshal(&d)
	if err != nil {
		return nil, nil, fmt.Errorf("encode font definition: %w", err)
	}
	sum := sha1.Sum(noFile)
	c.id = hex.EncodeToString(sum[:])
	def = bytes.Replace(noFile, []byte(`"File":""`), []byte(`"File":"`+fileName+`"`), 1)
	return def, z, nil
}

// subsetTag derives the six-letter subset tag from the chunk's content.
func subsetTag(name string, c *chunk) string {
	h := sha256.New()
	h.Write([]byte(name))
	var b [4]byte
	for _, r := range c.runes {
		b[0], b[1], b[2], b[3] = byte(r>>24), byte(r>>16), byte(r>>8), byte(r)
		h.Write(b[:])
	}
	sum := h.Sum(nil)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	return string(tag)
}

// pdfName keeps the characters of a PostScript name that are safe in a
// PDF name object.
func pdfName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return -1
	}, s)
}

// zlibCompress returns b as a zlib stream (RFC 1950), as /FlateDecode
// expects, deflated at zlibLevel by a klauspost/compress writer taken
// from a pool (its tables are reused, not allocated per stream). The
// output depends only on b: the same letter gives the same bytes.
func zlibCompress(b []byte) ([]byte, error) {
	out := bytes.NewBuffer(make([]byte, 0, len(b)*7/8+64))
	out.Write(zlibHeader)
	w := flaters.Get().(*flate.Writer)
	defer flaters.Put(w)
	w.Reset(out)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint32(out.Bytes(), adler32.Checksum(b)), nil
}

// zlibHeader is the zlib header Carta writes: deflate, 32K window,
// "fastest" (the level is only a hint to a reader).
var zlibHeader = []byte{0x78, 0x01}

// zlibLevel is the deflate level of the streams made for each letter
// (font files, cmaps): Huffman coding only, no string matching. On a
// Latin font subset it takes about a third less time than level 1 (the
// fastest with matching) for about a fifth more bytes; font files are
// mostly glyph outlines, which compress little either way, and the
// tables every subset shares are compressed once at the best level
// (compressSubset). Data compressed once per process uses
// zlibCompressBest.
var zlibLevel = flate.HuffmanOnly

// flaters pools deflate writers at zlibLevel.
var flaters = sync.Pool{New: func() any {
	w, err := flate.NewWriter(nil, zlibLevel)
	if err != nil {
		panic(err) // only for a bad level
	}
	return w
}}

// zlibCompressBest is zlibCompress at the best compression, for data
// compressed once per process (the ICC profile).
func zlibCompressBest(b []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Write(zlibHeader)
	w, err := flate.NewWriter(&out, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint32(out.Bytes(), adler32.Checksum(b)), nil
}

// compressSubset returns the subset font file sub of face as a zlib
// stream, as zlibCompress would but for the face's shared tables
// (fonts.Face.SharedTables: hinting programs and names, about a third of
// a Latin subset), which every subset carries unchanged right after its
// table directory: their deflated blocks are made once per process
// (sharedZ) and spliced in. The directory is deflated and flushed to a
// byte boundary, the shared blocks follow, and a fresh deflate of the
// remaining tables ends the stream. Deflate blocks need nothing of each
// other but back-references, and neither part refers back across the
// splice, so the stream is valid, and it depends only on sub.
func compressSubset(face *fonts.Face, sub []byte) ([]byte, error) {
	shared := face.SharedTables()
	if len(shared) == 0 || len(sub) < 12 {
		return zlibCompress(sub)
	}
	at := 12 + 16*int(binary.BigEndian.Uint16(sub[4:]))
	if len(sub) < at+len(shared) || !bytes.Equal(sub[at:at+len(shared)], shared) {
		return zlibCompress(sub)
	}
	sz, err := sharedZ(face)
	if err != nil {
		return nil, err
	}
	out := bytes.NewBuffer(make([]byte, 0, (len(sub)-len(shared))*3/4+len(sz)+64))
	out.Write(zlibHeader)
	w := flaters.Get().(*flate.Writer)
	defer flaters.Put(w)
	w.Reset(out)
	if _, err := w.Write(sub[:at]); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	out.Write(sz)
	w.Reset(out)
	if _, err := w.Write(sub[at+len(shared):]); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint32(out.Bytes(), adler32.Checksum(sub)), nil
}

// sharedZs keeps, by face, the deflated shared tables (*sharedBlocks).
var sharedZs sync.Map

type sharedBlocks struct {
	once sync.Once
	z    []byte
	err  error
}

// sharedZ returns face's shared tables as raw deflate blocks, none final,
// ending on a byte boundary (a sync flush), at the best compression:
// made once per face and process.
func sharedZ(face *fonts.Face) ([]byte, error) {
	v, _ := sharedZs.LoadOrStore(face, new(sharedBlocks))
	sb := v.(*sharedBlocks)
	sb.once.Do(func() {
		var out bytes.Buffer
		w, err := flate.NewWriter(&out, flate.BestCompression)
		if err == nil {
			_, err = w.Write(face.SharedTables())
		}
		if err == nil {
			err = w.Flush()
		}
		sb.z, sb.err = out.Bytes(), err
	})
	return sb.z, sb.err
}
