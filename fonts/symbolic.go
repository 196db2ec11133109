package fonts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// SubsetCodes returns the subset font of an 8-bit ("simple") PDF font
// whose codes are given by codes (code -> rune; 0: code unused): the
// subset Subset makes of those runes, with its cmap table replaced by a
// single (3,0) Windows Symbol subtable that maps 0xF000+code to the glyph
// of each code's rune.
//
// That is the form PDF/A-1 (ISO 19005-1:2005, 6.3.7) accepts for a
// TrueType font whose codes are not those of a standard encoding: the
// font is declared symbolic, its dictionary has no /Encoding, and its
// cmap holds exactly one subtable; readers map a code c through the
// (3,0) subtable at 0xF000+c (PDF 32000-1:2008, 9.6.6.4).
func (f *Face) SubsetCodes(codes *[256]rune) ([]byte, error) {
	b, err := f.subsetCodes(codes)
	if err != nil {
		return nil, fmt.Errorf("subset font %s: %w", f.name, err)
	}
	return b, nil
}

func (f *Face) subsetCodes(codes *[256]rune) ([]byte, error) {
	var runes []rune
	for _, r := range codes {
		if r != 0 {
			runes = append(runes, r)
		}
	}
	b, err := f.subset(runes)
	if err != nil {
		return nil, err
	}
	tables, err := readTables(b)
	if err != nil {
		return nil, err
	}
	// Glyph ids as subset gives them: increasing rune order after
	// .notdef, one per distinct original glyph.
	rs := slices.Clone(runes)
	slices.Sort(rs)
	rs = slices.Compact(rs)
	newOf := make(map[uint16]uint16, len(rs))
	gidOf := make(map[rune]uint16, len(rs))
	for _, r := range rs {
		og := f.glyph(r)
		ng, ok := newOf[og]
		if !ok {
			ng = uint16(len(newOf) + 1)
			newOf[og] = ng
		}
		gidOf[r] = ng
	}
	entries := make([]cmapEntry, 0, len(runes))
	for code, r := range codes {
		if r != 0 {
			entries = append(entries, cmapEntry{rune(0xF000 + code), gidOf[r]})
		}
	}
	f4, err := cmapFormat4(entries)
	if err != nil {
		return nil, fmt.Errorf("cmap table: %w", err)
	}
	cmap := make([]byte, 12, 12+len(f4))
	binary.BigEndian.PutUint16(cmap[2:], 1)
	binary.BigEndian.PutUint16(cmap[4:], 3)
	binary.BigEndian.PutUint16(cmap[6:], 0)
	binary.BigEndian.PutUint32(cmap[8:], 12)
	tables["cmap"] = append(cmap, f4...)
	if os2 := tables["OS/2"]; len(os2) >= 68 && len(entries) > 0 {
		binary.BigEndian.PutUint16(os2[64:], uint16(entries[0].r))
		binary.BigEndian.PutUint16(os2[66:], uint16(entries[len(entries)-1].r))
	}
	return assemble(tables), nil
}

// readTables returns the tables of an sfnt file by tag; the slices alias
// b.
func readTables(b []byte) (map[string][]byte, error) {
	if len(b) < 12 {
		return nil, errors.New("truncated font")
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if len(b) < 12+16*n {
		return nil, errors.New("truncated table directory")
	}
	tables := make(map[string][]byte, n)
	for i := range n {
		rec := b[12+16*i:]
		off, ln := int(binary.BigEndian.Uint32(rec[8:])), int(binary.BigEndian.Uint32(rec[12:]))
		if off+ln > len(b) || off < 0 || ln < 0 {
			return nil, fmt.Errorf("table %q out of range", rec[:4])
		}
		tables[string(rec[:4])] = b[off : off+ln]
	}
	return tables, nil
}
