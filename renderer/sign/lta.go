package sign

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
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
	_, entries, err := readDictObject(pdf, tr, tr.root, "catalog")
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
	pageRef, page, err := firstPage(pdf, tr, entries)
	if err != nil {
		return nil, nil, err
	}
	annots, ok := page.get("Annots")
	if !ok || !hasPrefix(annots, "[") {
		return nil, nil, fmt.Errorf("document timestamp: page %d has no direct /Annots array", pageRef.num)
	}
	sigNum, fieldNum, apNum := tr.size, tr.size+1, tr.size+2
	size, extra := apNum+1, ""
	tag, err := tagWidget(pdf, tr, entries, pageRef, fieldNum, size)
	if err != nil {
		return nil, nil, err
	}
	if tag != nil {
		size++
		extra = fmt.Sprintf(" /TU (Document timestamp) /StructParent %d", tag.structParent)
	}
	appendRef := func(arr []byte, n int) string {
		return fmt.Sprintf("%s %d 0 R]", strings.TrimSuffix(strings.TrimSpace(string(arr)), "]"), n)
	}

	var out bytes.Buffer
	out.Grow(len(pdf) + 2*capacity + 4096)
	out.Write(pdf)
	offsets := map[int]int{}
	offsets[sigNum] = out.Len()
	fmt.Fprintf(&out, "%d 0 obj\n<</Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161\n/ByteRange ", sigNum)
	brStart := out.Len()
	out.WriteString(byteRangeText(0, 0, 0))
	out.WriteString("\n/Contents ")
	contentsStart := out.Len()
	out.WriteByte('<')
	out.Write(bytes.Repeat([]byte("0"), 2*capacity))
	out.WriteByte('>')
	contentsEnd := out.Len()
	out.WriteString("\n>>\nendobj\n")
	offsets[fieldNum] = out.Len()
	fmt.Fprintf(&out, "%d 0 obj\n<</Type /Annot /Subtype /Widget /FT /Sig /T (DocumentTimestamp1) /V %d 0 R /F 132 /Rect [0 0 0 0] /P %d %d R /AP <</N %d 0 R>>%s>>\nendobj\n",
		fieldNum, sigNum, pageRef.num, pageRef.gen, apNum, extra)
	offsets[apNum] = out.Len()
	fmt.Fprintf(&out, "%d 0 obj\n<</Type /XObject /Subtype /Form /BBox [0 0 0 0] /Resources <<>> /Length 0>>\nstream\n\nendstream\nendobj\n", apNum)
	offsets[pageRef.num] = out.Len()
	out.WriteString(objectText(pageRef, page, map[string]string{"Annots": appendRef(annots, fieldNum)}))
	writeTagging(&out, tag, offsets)
	offsets[tr.root.num] = out.Len()
	fmt.Fprintf(&out, "%d %d obj\n<<", tr.root.num, tr.root.gen)
	for _, e := range entries {
		if e.key != "AcroForm" {
			fmt.Fprintf(&out, "/%s %s\n", e.key, e.val)
		}
	}
	out.WriteString("/AcroForm <<")
	for _, e := range formDict {
		if e.key != "Fields" {
			fmt.Fprintf(&out, "/%s %s ", e.key, e.val)
		}
	}
	fmt.Fprintf(&out, "/Fields %s>>\n>>\nendobj\n", appendRef(fieldsVal, fieldNum))
	writeXref(&out, tr, offsets, size)

	b := out.Bytes()
	copy(b[brStart:], byteRangeText(contentsStart, contentsEnd, len(b)-contentsEnd))
	content := make([]byte, 0, len(b)-(contentsEnd-contentsStart))
	content = append(append(content, b[:contentsStart]...), b[contentsEnd:]...)
	ts, err := s.tsa.stamp(ctx, content)
	if err != nil {
		return nil, nil, fmt.Errorf("document %w", err)
	}
	if len(ts.RawToken) > capacity {
		return nil, ts.RawToken, fmt.Errorf("%w: token of %d bytes, %d reserved", errTooSmall, len(ts.RawToken), capacity)
	}
	hex.Encode(b[contentsStart+1:], ts.RawToken)
	return b, ts.RawToken, nil
}
