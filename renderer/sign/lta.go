package sign

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/carta-letters/carta/renderer/internal/pdffile"
)

// appendDocTimestamp appends a document timestamp (PAdES B-LTA, ETSI EN
// 319 142-1 5.4.3): an incremental update with a second signature field
// on page 1 whose /Type /DocTimeStamp dictionary (/SubFilter
// /ETSI.RFC3161) holds an RFC 3161 token over the whole file but the
// token itself. capacity is the room reserved for the token.
func (s *Signer) appendDocTimestamp(ctx context.Context, pdf []byte, capacity int) ([]byte, []byte, error) {
	tr, err := readTrailer(pdf)
	if err != nil {
		return nil, nil, err
	}
	_, entries, err := readDictObject(tr, tr.root, "catalog")
	if err != nil {
		return nil, nil, err
	}
	form, ok := entries.get("AcroForm")
	if !ok || !hasPrefix(form, "<<") {
		return nil, nil, errors.New("document timestamp: no direct /AcroForm in the catalog")
	}
	formDict, err := parseDict(form)
	if err != nil {
		return nil, nil, fmt.Errorf("document timestamp: /AcroForm: %w", err)
	}
	fieldsVal, ok := formDict.get("Fields")
	if !ok || !hasPrefix(fieldsVal, "[") {
		return nil, nil, errors.New("document timestamp: /AcroForm has no direct /Fields array")
	}
	pageRef, page, err := firstPage(tr, entries)
	if err != nil {
		return nil, nil, err
	}
	annots, ok := page.get("Annots")
	if !ok || !hasPrefix(annots, "[") {
		return nil, nil, fmt.Errorf("document timestamp: page %d has no direct /Annots array", pageRef.num)
	}
	u := tr.file.UpdateCopy(2*capacity + 4096)
	o, err := newSigObjects(u, tr, entries, pageRef, "DocumentTimestamp1", "Document timestamp")
	if err != nil {
		return nil, nil, err
	}

	var d bytes.Buffer
	d.WriteString("<</Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161\n")
	ph := writePlaceholders(&d, capacity)
	d.WriteString("\n>>")
	ph = ph.at(u.Object(o.sig, d.Bytes()))
	o.writeWidget(u)
	u.Object(pageRef.num, []byte(dictText(page, map[string]string{"Annots": appendRef(string(annots), o.field)})))
	writeTagging(u, o.tag)
	d.Reset()
	d.WriteString("<<")
	for _, e := range entries {
		if e.key != "AcroForm" {
			fmt.Fprintf(&d, "/%s %s\n", e.key, e.val)
		}
	}
	d.WriteString("/AcroForm <<")
	for _, e := range formDict {
		if e.key != "Fields" {
			fmt.Fprintf(&d, "/%s %s ", e.key, e.val)
		}
	}
	fmt.Fprintf(&d, "/Fields %s>>\n>>", appendRef(string(fieldsVal), o.field))
	u.Object(tr.root.num, d.Bytes())
	b, err := u.Finish(pdffile.Trailer{})
	if err != nil {
		return nil, nil, err
	}

	ts, err := s.tsa.stamp(ctx, ph.covered(b))
	if err != nil {
		return nil, nil, fmt.Errorf("document %w", err)
	}
	if len(ts.RawToken) > capacity {
		return nil, ts.RawToken, fmt.Errorf("%w: token of %d bytes, %d reserved", errTooSmall, len(ts.RawToken), capacity)
	}
	ph.fill(b, ts.RawToken)
	return b, ts.RawToken, nil
}
