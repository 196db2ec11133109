package fonts

import (
	"encoding/binary"
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
	return f.subsetWith(runes, func(es []cmapEntry) ([]byte, error) {
		// es maps each rune to its glyph in the subset, sorted by rune.
		entries := make([]cmapEntry, 0, len(runes))
		for code, r := range codes {
			if r == 0 {
				continue
			}
			i, ok := slices.BinarySearchFunc(es, r, func(e cmapEntry, r rune) int { return int(e.r - r) })
			if !ok {
				return nil, fmt.Errorf("no glyph for U+%04X", r)
			}
			entries = append(entries, cmapEntry{rune(0xF000 + code), es[i].g})
		}
		f4, err := cmapFormat4(entries)
		if err != nil {
			return nil, err
		}
		cmap := make([]byte, 12, 12+len(f4))
		binary.BigEndian.PutUint16(cmap[2:], 1)
		binary.BigEndian.PutUint16(cmap[4:], 3)
		binary.BigEndian.PutUint16(cmap[6:], 0)
		binary.BigEndian.PutUint32(cmap[8:], 12)
		return append(cmap, f4...), nil
	})
}
