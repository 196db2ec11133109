package pdf

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/carta-letters/carta/renderer/internal/pdffile"
)

// What fpdf cannot write goes into one incremental update (PDF
// 32000-1:2008, 7.5.6) appended to fpdf's file by addUpdate:
//
//   - a /ToUnicode CMap for every font (fpdf's 8-bit font path writes
//     none) and a new version of each font dictionary without fpdf's
//     /Encoding (the fonts are symbolic, see fonts.Face.SubsetCodes);
//   - the PDF/A-1b parts: an sRGB output intent (icc/sRGB2014.icc), the
//     XMP metadata with its pdfaid and extension schemas, a document
//     information dictionary whose dates carry their time zone as the
//     XMP's do, a trailer /ID, and a catalog without fpdf's empty
//     EmbeddedFiles name tree;
//   - the CID fonts of shaped text (Arabic, Hebrew, and any run set
//     right to left; see cid.go), which fpdf's font path cannot write,
//     and the page resources naming them;
//   - the structure tree of the tagged PDF (see tagging.go).
//
// fpdf's own AddOutputIntent is not used: it moves the trailer's /Info
// onto the profile and adds a transparency group to every page.

//go:embed icc/sRGB2014.icc
var srgbICC []byte

// srgbICCZ is the profile, deflated once per process.
var srgbICCZ = sync.OnceValues(func() ([]byte, error) { return zlibCompressBest(srgbICC) })

// srgbCondition names the output condition the profile characterises.
const srgbCondition = "sRGB IEC61966-2.1"

// update is what addUpdate writes besides the fonts' maps.
type update struct {
	meta     metaFields
	pv       *Provenance // nil: no provenance properties
	compress bool        // deflate the CMaps
	tags     *tagTree    // the marked content drawn; nil: untagged
	cid      *cidPlan    // the CID fonts of shaped text; nil or empty: none
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var rePages = regexp.MustCompile(`/Pages\s+(\d+\s+\d+\s+R)`)

// addUpdate appends Carta's incremental update to the PDF file b as fpdf
// wrote it. Every font of the file must be one of chunks' and every
// chunk's font must be in the file.
func addUpdate(b []byte, chunks []*chunk, up update) ([]byte, error) {
	// PDF/A-1 is based on PDF 1.4; fpdf writes 1.3 unless it used a
	// 1.4 feature. The header has the same length either way.
	if bytes.HasPrefix(b, []byte("%PDF-1.3")) {
		b[7] = '4'
	}
	// The file identifier (PDF 32000-1:2008, 14.4): derived from fpdf's
	// file, so the same letter always gets the same /ID and different
	// letters different ones: the SHA-256 of two CRC-32s of the file
	// (hardware-accelerated, where hashing the whole file with SHA-256
	// took 4% of a render), its length and the metadata.
	h := make([]byte, 0, 256)
	h = binary.BigEndian.AppendUint32(h, crc32.ChecksumIEEE(b))
	h = binary.BigEndian.AppendUint32(h, crc32.Checksum(b, castagnoli))
	h = binary.BigEndian.AppendUint64(h, uint64(len(b)))
	h = append(h, up.meta.title...)
	h = append(h, 0)
	h = append(h, up.meta.date.Format(time.RFC3339Nano)...)
	sum := sha256.Sum256(h)
	id := "<" + hex.EncodeToString(sum[:16]) + ">"
	id = "[" + id + " " + id + "]"

	p, err := pdffile.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("read pdf: %w", err)
	}
	if p.Prev {
		return nil, errors.New("read pdf: file already has an update")
	}
	if p.Info == "" {
		return nil, errors.New("read pdf: no /Info")
	}
	rootNum, err := pdffile.RefNum(p.Root)
	if err != nil {
		return nil, fmt.Errorf("read pdf: /Root: %w", err)
	}
	infoNum, err := pdffile.RefNum(p.Info)
	if err != nil {
		return nil, fmt.Errorf("read pdf: /Info: %w", err)
	}
	catalog, err := p.Object(rootNum)
	if err != nil || catalog == nil {
		return nil, fmt.Errorf("read pdf: catalog: %v", err)
	}
	m := rePages.FindSubmatch(catalog)
	if m == nil {
		return nil, errors.New("read pdf: catalog has no /Pages")
	}
	pages := string(m[1])

	u := p.Update()
	if err := addFontMaps(p, u, chunks, up.compress); err != nil {
		return nil, err
	}
	if up.cid != nil && len(up.cid.fonts) > 0 {
		if err := writeCIDFonts(p, u, up.cid); err != nil {
			return nil, fmt.Errorf("add CID fonts: %w", err)
		}
	}

	icc := u.New()
	z, err := srgbICCZ()
	if err != nil {
		return nil, fmt.Errorf("compress icc profile: %w", err)
	}
	u.Stream(icc, "/N 3 /Filter /FlateDecode", z)

	var tagged []byte
	if up.tags != nil {
		if tagged, err = up.tags.write(p, u, pages); err != nil {
			return nil, fmt.Errorf("write structure tree: %w", err)
		}
	}

	xmp := u.New()
	u.Stream(xmp, "/Type /Metadata /Subtype /XML", appendXMP(make([]byte, 0, 8<<10), up.meta, up.pv, up.tags != nil))

	u.Object(infoNum, appendInfo(make([]byte, 0, 1<<10), up.meta))

	c := make([]byte, 0, 512)
	c = append(c, "<</Type /Catalog /Pages "...)
	c = append(c, pages...)
	if up.meta.language != "" {
		c = append(c, " /Lang "...)
		c = appendHexText(c, up.meta.language)
	}
	c = append(c, " /Metadata "...)
	c = strconv.AppendInt(c, int64(xmp), 10)
	c = append(c, " 0 R\n/OutputIntents [<</Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier ("+
		srgbCondition+") /Info ("+srgbCondition+") /RegistryName (http://www.color.org) /DestOutputProfile "...)
	c = strconv.AppendInt(c, int64(icc), 10)
	c = append(c, " 0 R>>]"...)
	c = append(c, tagged...)
	c = append(c, ">>"...)
	u.Object(rootNum, c)

	return u.Finish(pdffile.Trailer{ID: id})
}

// addFontMaps writes a ToUnicode CMap per distinct font of the file and a
// new version of each font dictionary that refers to it and has no
// /Encoding.
func addFontMaps(p *pdffile.File, u *pdffile.Update, chunks []*chunk, compress bool) error {
	objs, err := fontObjects(p)
	if err != nil {
		return fmt.Errorf("read pdf: %w", err)
	}
	byName := make(map[string]*chunk, len(chunks))
	for _, c := range chunks {
		// Equal names come from equal face names and equal code to
		// rune tables (see subsetTag), hence equal maps; a tag collision
		// would give a font another's map.
		if o := byName[c.base]; o != nil && o.runes != c.runes {
			return fmt.Errorf("fonts %s and %s have the same name %s", o.family, c.family, c.base)
		}
		byName[c.base] = c
	}
	cmapNum := make(map[string]int, len(byName))
	for _, o := range objs {
		c := byName[o.base]
		if c == nil {
			return fmt.Errorf("object %d: font %s is not one of the document's", o.num, o.base)
		}
		if _, ok := cmapNum[o.base]; ok {
			continue
		}
		n := u.New()
		cmapNum[o.base] = n
		cm := appendCMap(make([]byte, 0, 4<<10), c)
		if compress {
			z, err := zlibCompress(cm)
			if err != nil {
				return fmt.Errorf("compress cmap: %w", err)
			}
			u.Stream(n, "/Filter /FlateDecode", z)
		} else {
			u.Stream(n, "", cm)
		}
	}
	for _, c := range chunks {
		if _, ok := cmapNum[c.base]; !ok {
			return fmt.Errorf("font %s: no font object in the output", c.base)
		}
	}
	for _, o := range objs {
		d := bytes.TrimRight(o.dict[:len(o.dict)-2], " \r\n")
		d = bytes.Replace(d, []byte("\n/Encoding /WinAnsiEncoding"), nil, 1)
		nd := make([]byte, 0, len(d)+32)
		nd = append(nd, d...)
		nd = append(nd, "\n/ToUnicode "...)
		nd = strconv.AppendInt(nd, int64(cmapNum[o.base]), 10)
		nd = append(nd, " 0 R\n>>"...)
		u.Object(o.num, nd)
	}
	return nil
}

// fontObject is a font dictionary object of the file.
type fontObject struct {
	num  int
	dict []byte // from "<<" to the closing ">>", both included
	base string // the /BaseFont name, without the slash
}

var fontDictStart = []byte("<</Type /Font")

// fontObjects returns the simple font dictionaries of the file (those of
// the 8-bit chunks), in object number order; composite fonts (Type0 and
// their CIDFontType2 descendants) are left out.
func fontObjects(p *pdffile.File) ([]fontObject, error) {
	var out []fontObject
	for n := range p.NumObjects() {
		if ok, err := p.HasPrefix(n, fontDictStart); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		d, err := p.Object(n)
		if err != nil {
			return nil, err
		}
		if !bytes.HasPrefix(d, fontDictStart) || len(d) == len(fontDictStart) || !pdffile.IsDelim(d[len(fontDictStart)]) {
			continue
		}
		if bytes.Contains(d, []byte("/Subtype /Type0")) || bytes.Contains(d, []byte("/Subtype /CIDFontType2")) {
			// Composite fonts are not the 8-bit chunks' and carry
			// their own maps.
			continue
		}
		if !bytes.HasSuffix(d, []byte(">>")) || bytes.Contains(d, []byte("stream")) {
			return nil, fmt.Errorf("object %d: font dictionary not understood", n)
		}
		if bytes.Contains(d, []byte("/ToUnicode")) {
			return nil, fmt.Errorf("object %d: font already has a /ToUnicode entry", n)
		}
		i := bytes.Index(d, []byte("/BaseFont"))
		if i < 0 {
			return nil, fmt.Errorf("object %d: font has no /BaseFont", n)
		}
		rest := bytes.TrimLeft(d[i+len("/BaseFont"):], " \r\n")
		if len(rest) == 0 || rest[0] != '/' {
			return nil, fmt.Errorf("object %d: /BaseFont is not a name", n)
		}
		j := 1
		for j < len(rest) && !pdffile.IsDelim(rest[j]) {
			j++
		}
		out = append(out, fontObject{num: n, dict: d, base: string(rest[1:j])})
	}
	return out, nil
}

// appendInfo appends the document information dictionary: the same
// values as the XMP metadata, dates with their time zone.
func appendInfo(b []byte, m metaFields) []byte {
	b = append(b, "<<"...)
	for _, e := range [...]struct{ key, val string }{
		{"Title", m.title}, {"Author", m.author}, {"Subject", m.subject}, {"Keywords", m.keywords},
		{"Creator", m.creator}, {"Producer", m.producer},
	} {
		if e.val == "" {
			continue
		}
		b = append(b, '/')
		b = append(b, e.key...)
		b = append(b, ' ')
		b = appendHexText(b, e.val)
		b = append(b, '\n')
	}
	d := pdfDate(m.date)
	b = append(b, "/CreationDate ("...)
	b = append(b, d...)
	b = append(b, ")\n/ModDate ("...)
	b = append(b, d...)
	return append(b, ")>>"...)
}

// appendHexText appends s as a hexadecimal PDF text string: UTF-16BE
// with a byte order mark when s is not plain printable ASCII, its bytes
// otherwise.
func appendHexText(b []byte, s string) []byte {
	t := s
	for _, c := range []byte(s) {
		if c < 0x20 || c >= 0x7F {
			t = utf16Text(s)
			break
		}
	}
	b = append(b, '<')
	b = hex.AppendEncode(b, []byte(t))
	return append(b, '>')
}

// pdfDate formats t as a PDF date (PDF 32000-1:2008, 7.9.4) to the
// second, with its time zone: "Z" for UTC, else the offset, e.g.
// "D:20230109000000Z" or "D:20230109120000+02'00'". xmpDate gives the
// same instant as the XMP writes it.
func pdfDate(t time.Time) string {
	s := t.Format("D:20060102150405")
	_, off := t.Zone()
	if off == 0 {
		return s + "Z"
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%s%c%02d'%02d'", s, sign, off/3600, off/60%60)
}

// xmpDate formats t as an XMP date (ISO 8601) to the second, with its
// time zone, e.g. "2023-01-09T00:00:00Z".
func xmpDate(t time.Time) string { return t.Format(time.RFC3339) }
