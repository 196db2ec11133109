package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"

	"codeberg.org/go-pdf/fpdf"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts"
)

// Options are the settings of Write that do not come from the document.
type Options struct {
	// Creator is the application that made the document, written as the
	// PDF /Creator, e.g. "Carta v0.1.0". Empty: no /Creator.
	Creator string
	// Producer is written as the PDF /Producer. Empty: Creator followed
	// by the PDF library, e.g. "Carta 0.1.0 (codeberg.org/go-pdf/fpdf
	// v0.12.0)", or "Carta (codeberg.org/go-pdf/fpdf v0.12.0)" when
	// Creator is empty too.
	Producer string
	// CompressContent deflates the page content streams and the fonts'
	// ToUnicode maps. It roughly
	// halves the file for text-heavy letters, but fpdf then allocates a
	// new zlib writer (about 1.2 MB) per page, which makes writing a
	// four-page letter two to three times slower. Default: off (fonts
	// and images are compressed either way).
	CompressContent bool
	// Date is written as the creation and modification date. The zero
	// value means 2000-01-01 00:00:00 UTC: the writer never reads the
	// clock, so the same input always gives the same bytes.
	Date time.Time
	// Provenance, when set, is written into the XMP metadata stream
	// (ISO 16684-1, referred to by the catalog's /Metadata, where
	// pdfinfo -meta shows it) beside the document's title, author,
	// subject, language, keywords, creator, producer and date. Nil: the
	// XMP metadata, which PDF/A requires, has no provenance properties.
	Provenance *Provenance
	// Fonts, when set, keeps the font subsets built for this document
	// and reuses those built for earlier ones: a letter's per-recipient
	// copies use the same characters, so each subset is cut and
	// compressed once. Nil: every subset is built.
	Fonts *FontCache
}

// fpdfModule is the PDF library and its version, as go.mod requires it.
const fpdfModule = "codeberg.org/go-pdf/fpdf v0.12.0"

// utf16Text returns s as the bytes of a PDF text string: a UTF-16BE byte
// order mark, then s in UTF-16BE, with surrogate pairs for characters above
// U+FFFF (PDF 32000-1:2008 7.9.2.2). Invalid UTF-8 becomes U+FFFD.
func utf16Text(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2, 2+2*len(u))
	b[0], b[1] = 0xFE, 0xFF
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return string(b)
}

// producer returns the /Producer for opt (see Options.Producer).
func producer(opt Options) string {
	switch {
	case opt.Producer != "":
		return opt.Producer
	case opt.Creator != "":
		return opt.Creator + " (" + fpdfModule + ")"
	}
	return "Carta (" + fpdfModule + ")"
}

// defaultDate is the creation date written when Options.Date is zero (a
// constant in effect: unexported, so no caller can change the bytes of
// a later render).
var defaultDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Write draws doc and returns the PDF file. It measures nothing: every
// item is drawn where the layout put it. Every rune of every text must be
// covered by its face. The output is byte-for-byte deterministic.
func Write(doc *layouts.Document, opt Options) ([]byte, error) {
	b, err := write(doc, opt)
	if err != nil {
		return nil, fmt.Errorf("write pdf: %w", err)
	}
	return b, nil
}

func write(doc *layouts.Document, opt Options) ([]byte, error) {
	if doc == nil {
		return nil, errors.New("no document")
	}
	if !(doc.Width > 0 && doc.Height > 0) {
		return nil, fmt.Errorf("bad page size %gx%g", doc.Width, doc.Height)
	}
	if len(doc.Pages) == 0 {
		return nil, errors.New("document has no pages")
	}
	if err := checkGeometry(doc); err != nil {
		return nil, err
	}
	if !validLang(doc.Meta.Language) {
		return nil, fmt.Errorf("bad language tag %q", doc.Meta.Language)
	}
	order, byFace, cid, err := planFonts(doc)
	if err != nil {
		return nil, err
	}

	p := fpdf.NewCustom(&fpdf.InitType{
		UnitStr: "pt",
		Size:    fpdf.SizeType{Wd: doc.Width, Ht: doc.Height},
	})
	p.SetCatalogSort(true)
	p.SetCompression(opt.CompressContent)
	date := opt.Date
	if date.IsZero() {
		date = defaultDate
	}
	p.SetCreationDate(date)
	p.SetModificationDate(date)
	p.SetAutoPageBreak(false, 0)
	p.SetMargins(0, 0, 0)
	// The information dictionary's text strings are encoded here, not by
	// fpdf: its UTF-8 conversion garbles characters above U+FFFF. Given
	// isUTF8 false, fpdf writes the bytes as they are, escaping \ ( ) and
	// CR.
	m := doc.Meta
	if m.Title != "" {
		p.SetTitle(utf16Text(m.Title), false)
	}
	if m.Author != "" {
		p.SetAuthor(utf16Text(m.Author), false)
	}
	if m.Subject != "" {
		p.SetSubject(utf16Text(m.Subject), false)
	}
	if m.Keywords != "" {
		p.SetKeywords(utf16Text(m.Keywords), false)
	}
	if m.Language != "" {
		p.SetLang(m.Language)
	}
	if opt.Creator != "" {
		p.SetCreator(utf16Text(opt.Creator), false)
	}
	prod := producer(opt)
	p.SetProducer(utf16Text(prod), false)
	var e embedder
	for _, u := range order {
		for _, c := range u.chunks {
			def, z, err := e.chunkFont(u.face, c, opt.Fonts)
			if err != nil {
				return nil, err
			}
			p.AddFontFromBytes(c.family, "", def, z)
		}
	}
	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("add fonts: %w", err)
	}

	images := newImageSet(p)
	tags := newTagTree(doc)
	d := drawer{p: p, h: doc.Height, byFace: byFace, tags: tags, cid: cid}
	for pi := range doc.Pages {
		pg := &doc.Pages[pi]
		p.AddPage()
		d.pi = pi
		for i := range pg.Images {
			if err := d.image(&pg.Images[i], images); err != nil {
				return nil, fmt.Errorf("page %d: %w", pi+1, err)
			}
		}
		d.page(pg)
		if err := p.Error(); err != nil {
			return nil, fmt.Errorf("page %d: %w", pi+1, err)
		}
	}
	var out fileWriter
	if err := p.Output(&out); err != nil {
		return nil, err
	}
	b := out.b
	// The content streams name fonts by the ids fpdf derives from their
	// definitions; make sure fpdf registered them under those names.
	var chunks []*chunk
	for _, u := range order {
		for _, c := range u.chunks {
			if !bytes.Contains(b, []byte("/F"+c.id+" ")) {
				return nil, fmt.Errorf("font %s: resource /F%s missing from the output", c.family, c.id)
			}
			chunks = append(chunks, c)
		}
	}
	b, err = addUpdate(b, chunks, update{
		meta: metaFields{
			title: m.Title, author: m.Author, subject: m.Subject, language: m.Language, keywords: m.Keywords,
			creator: opt.Creator, producer: prod, date: date,
		},
		pv:       opt.Provenance,
		compress: opt.CompressContent,
		tags:     tags,
		cid:      cid,
	})
	if err != nil {
		return nil, fmt.Errorf("add update: %w", err)
	}
	return b, nil
}

// checkGeometry refuses sizes and positions the content stream cannot
// express (NaN, infinities, non-positive font sizes).
func checkGeometry(doc *layouts.Document) error {
	ok := func(vs ...float64) bool {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e7 {
				return false
			}
		}
		return true
	}
	for pi := range doc.Pages {
		pg := &doc.Pages[pi]
		for _, t := range pg.Texts {
			if !ok(t.X, t.Y, t.Size) || t.Size <= 0 {
				return fmt.Errorf("page %d: text %q: bad position or size (%g, %g, %gpt)", pi+1, t.S, t.X, t.Y, t.Size)
			}
		}
		for _, r := range pg.Rules {
			if !ok(r.X1, r.Y1, r.X2, r.Y2, r.Width) || r.Width < 0 {
				return fmt.Errorf("page %d: rule: bad coordinates or width", pi+1)
			}
		}
		for _, im := range pg.Images {
			if !ok(im.X, im.Y, im.W, im.H) || im.W <= 0 || im.H <= 0 {
				return fmt.Errorf("page %d: image %q: bad box", pi+1, im.Name)
			}
		}
	}
	return nil
}

// validLang accepts the characters of a BCP 47 tag (fpdf writes it
// unescaped).
func validLang(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return len(s) <= 64
}

// drawer writes page content: rules as paths, then all the page's text
// in one BT ... ET block, selecting fonts by their resource names.
type drawer struct {
	p      *fpdf.Fpdf
	h      float64 // page height
	byFace map[*fonts.Face]*faceUse
	cid    *cidPlan
	buf    []byte
	tags   *tagTree
	pi     int // page index

	// text state within the page's BT block
	font       *chunk
	size       float64
	lx, ly     int64 // start of the current text line, thousandths of a point
	fill, strk layouts.RGB
}

func (d *drawer) page(pg *layouts.Page) {
	d.buf = d.buf[:0]
	d.fill, d.strk = layouts.RGB{}, layouts.RGB{}
	if len(pg.Rules) > 0 {
		d.buf = d.tags.begin(d.buf, d.pi, nil, layouts.ArtifactLayout)
		for i := range pg.Rules {
			d.rule(&pg.Rules[i])
		}
		d.buf = append(d.buf, "EMC\n"...)
	}
	if len(pg.Texts) > 0 {
		d.font, d.size, d.lx, d.ly = nil, 0, 0, 0
		d.buf = append(d.buf, "BT\n"...)
		// One marked-content sequence per stretch of runs of one
		// element (or of artifacts).
		for i := range pg.Texts {
			t := &pg.Texts[i]
			if i == 0 || t.Elem != pg.Texts[i-1].Elem {
				if i > 0 {
					d.buf = append(d.buf, "EMC\n"...)
				}
				d.buf = d.tags.begin(d.buf, d.pi, t.Elem, layouts.ArtifactPagination)
			}
			d.text(t)
		}
		d.buf = append(d.buf, "EMC\nET\n"...)
	}
	if len(d.buf) > 0 {
		// fpdf adds the final newline.
		d.p.RawWriteStr(string(d.buf[:len(d.buf)-1]))
	}
}

func milli(v float64) int64 { return int64(math.Round(v * 1000)) }

func (d *drawer) text(t *layouts.Text) {
	if t.S == "" {
		return
	}
	u := d.byFace[t.Face]
	b := d.buf
	if t.Color != d.fill {
		b = appendColor(b, t.Color, " rg\n")
		d.fill = t.Color
	}
	// Move to the run's baseline start, relative to the previous one.
	x, y := milli(t.X), milli(d.h-t.Y)
	b = appendMilli(b, x-d.lx)
	b = append(b, ' ')
	b = appendMilli(b, y-d.ly)
	b = append(b, " Td"...)
	d.lx, d.ly = x, y
	if t.Glyphs != nil {
		d.buf = append(d.shapedText(b, t), '\n')
		return
	}
	open := false
	// A kerned run is a TJ array: each pair's kerning, converted from
	// font units to thousandths of the font size, sits between the two
	// strings (written before the next rune, so never after the last).
	opener, closer := "(", ")Tj"
	if t.Kern != nil {
		opener, closer = "[(", ")]TJ"
	}
	upem := float64(t.Face.UnitsPerEm())
	var pend int16 // kerning owed before the next rune, in font units
	ri := 0
	for _, r := range t.S {
		var v uint16
		if r != ' ' {
			v = u.lookup(r)
		} else if d.font != nil && d.font.face == u {
			v = d.font.index<<8 | ' '
		} else {
			v = ' '
		}
		if c := u.chunks[v>>8]; c != d.font || t.Size != d.size {
			if open {
				b = append(b, closer...)
				open = false
			}
			b = append(b, " /F"...)
			b = append(b, c.id...)
			b = append(b, ' ')
			b = appendNum(b, t.Size)
			b = append(b, " Tf"...)
			d.font, d.size = c, t.Size
		}
		switch {
		case !open && pend != 0:
			b = append(b, '[')
			b = appendNum(b, -float64(pend)*1000/upem)
			b = append(b, '(')
			open = true
		case !open:
			b = append(b, opener...)
			open = true
		case pend != 0:
			b = append(b, ')')
			b = appendNum(b, -float64(pend)*1000/upem)
			b = append(b, '(')
		}
		pend = 0
		if ri < len(t.Kern) {
			pend = t.Kern[ri]
		}
		ri++
		switch code := byte(v); code {
		case '(', ')', '\\':
			b = append(b, '\\', code)
		default:
			b = append(b, code)
		}
	}
	if t.SpaceAfter && t.Face.Has(' ') {
		// The space the line was broken at: every chunk has the
		// space at code 32.
		if !open {
			b = append(b, '(')
			open = true
		}
		b = append(b, ' ')
	}
	if open {
		b = append(b, closer...)
	}
	d.buf = append(b, '\n')
}

func (d *drawer) rule(r *layouts.Rule) {
	if r.Color != d.strk {
		d.buf = appendColor(d.buf, r.Color, " RG\n")
		d.strk = r.Color
	}
	b := appendNum(d.buf, r.Width)
	b = append(b, " w "...)
	b = appendNum(b, r.X1)
	b = append(b, ' ')
	b = appendNum(b, d.h-r.Y1)
	b = append(b, " m "...)
	b = appendNum(b, r.X2)
	b = append(b, ' ')
	b = appendNum(b, d.h-r.Y2)
	d.buf = append(b, " l S\n"...)
}

func (d *drawer) image(im *layouts.Image, set *imageSet) error {
	pi, err := set.add(im)
	if err != nil {
		return fmt.Errorf("image %q: %w", im.Name, err)
	}
	d.p.RawWriteStr(string(bytes.TrimSuffix(d.tags.begin(nil, d.pi, im.Elem, layouts.ArtifactLayout), []byte("\n"))))
	d.p.ImageOptions(pi.name, im.X, im.Y, pi.drawWidth(im.W), im.H, false, fpdf.ImageOptions{ImageType: pi.tp}, 0, "")
	d.p.RawWriteStr("EMC")
	return nil
}

// appendNum appends v with at most three decimals and no trailing zeros.
func appendNum(b []byte, v float64) []byte { return appendMilli(b, milli(v)) }

// appendMilli appends n thousandths with no trailing zeros.
func appendMilli(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	b = strconv.AppendInt(b, n/1000, 10)
	if f := n % 1000; f != 0 {
		b = append(b, '.', byte('0'+f/100))
		if f%100 != 0 {
			b = append(b, byte('0'+f/10%10))
			if f%10 != 0 {
				b = append(b, byte('0'+f%10))
			}
		}
	}
	return b
}

func appendColor(b []byte, c layouts.RGB, op string) []byte {
	for i, v := range [3]uint8{c.R, c.G, c.B} {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendNum(b, float64(v)/255)
	}
	return append(b, op...)
}

// fileWriter receives fpdf's file (fpdf writes it in one call) into a
// slice sized for it and for Carta's update (addUpdate), which adds about
// half again to a letter: a fixed 256 KiB buffer took 5% of a render.
type fileWriter struct{ b []byte }

func (w *fileWriter) Write(p []byte) (int, error) {
	if w.b == nil {
		w.b = make([]byte, 0, len(p)+len(p)/2+16<<10)
	}
	w.b = append(w.b, p...)
	return len(p), nil
}
