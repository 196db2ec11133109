package fonts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// TestSubsetCodes checks the symbolic subset: one (3,0) cmap subtable,
// mapping 0xF000+code to the glyph Subset gives the code's rune.
func TestSubsetCodes(t *testing.T) {
	t.Parallel()
	f := Serif().Face(Regular)
	var codes [256]rune
	codes[' '] = ' '
	for i, r := range "Hello ėąșțő€—" {
		if r != ' ' {
			codes[33+i] = r
		}
	}
	codes['A'] = 'A'
	sym, err := f.SubsetCodes(&codes)
	if err != nil {
		t.Fatal(err)
	}
	var runes []rune
	for _, r := range codes {
		if r != 0 {
			runes = append(runes, r)
		}
	}
	uni, err := f.Subset(runes)
	if err != nil {
		t.Fatal(err)
	}
	st, err := readTables(sym)
	if err != nil {
		t.Fatal(err)
	}
	cm := st["cmap"]
	if n := binary.BigEndian.Uint16(cm[2:]); n != 1 || binary.BigEndian.Uint16(cm[4:]) != 3 || binary.BigEndian.Uint16(cm[6:]) != 0 {
		t.Fatalf("cmap has %d subtables, the first (%d,%d); want one (3,0)", n, binary.BigEndian.Uint16(cm[4:]), binary.BigEndian.Uint16(cm[6:]))
	}
	ut, err := readTables(uni)
	if err != nil {
		t.Fatal(err)
	}
	for code, r := range codes {
		if r == 0 {
			continue
		}
		g := format4Lookup(cm[binary.BigEndian.Uint32(cm[8:]):], uint16(0xF000+code))
		want := format4Lookup(ut["cmap"][binary.BigEndian.Uint32(ut["cmap"][8:]):], uint16(r))
		if g == 0 || g != want {
			t.Errorf("code %d (%q): glyph %d, want %d", code, r, g, want)
		}
	}
}

// format4Lookup returns the glyph of c in a format 4 subtable written by
// cmapFormat4 (idRangeOffset 0).
func format4Lookup(t []byte, c uint16) uint16 {
	sc := int(binary.BigEndian.Uint16(t[6:])) / 2
	for i := range sc {
		end := binary.BigEndian.Uint16(t[14+2*i:])
		start := binary.BigEndian.Uint16(t[16+2*sc+2*i:])
		delta := binary.BigEndian.Uint16(t[16+4*sc+2*i:])
		if c >= start && c <= end {
			if c == 0xFFFF {
				return 0
			}
			return c + delta
		}
	}
	return 0
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
