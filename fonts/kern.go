package fonts

import "slices"

// kernTable is a face's pair kerning from its TrueType 'kern' table
// (format 0 subtables with horizontal, non-cross-stream coverage): the
// adjustment in font units between two glyphs. Two bit sets of the
// glyphs that occur on the left and the right of some pair let most
// pairs (lowercase after lowercase, in Liberation) be answered without a
// search.
type kernTable struct {
	left, right []uint64 // bit per glyph id
	keys        []uint32 // left<<16 | right, sorted
	vals        []int16
}

// parseKern reads the 'kern' table's format 0 subtables. A malformed or
// missing table leaves the face without kerning (the text is then set
// with plain advances, as before).
func (f *Face) parseKern() {
	t := f.tables["kern"]
	if len(t) < 4 || u16(t, 0) != 0 {
		return // only the Microsoft version 0 table; Apple's is not used by the bundled fonts
	}
	n := int(u16(t, 2))
	k := &kernTable{left: make([]uint64, (f.nGlyphs+63)/64), right: make([]uint64, (f.nGlyphs+63)/64)}
	off := 4
	for i := 0; i < n && off+6 <= len(t); i++ {
		ln, cov := int(u16(t, off+2)), u16(t, off+4)
		sub := t[off:min(len(t), off+ln)]
		off += ln
		// coverage: bit 0 horizontal, bit 1 minimum, bit 2 cross-stream,
		// bit 3 override; high byte the format.
		if cov>>8 != 0 || cov&1 == 0 || cov&6 != 0 || len(sub) < 14 || ln < 14 {
			continue
		}
		pairs := int(u16(sub, 6))
		if 14+6*pairs > len(sub) {
			pairs = (len(sub) - 14) / 6
		}
		for p := 0; p < pairs; p++ {
			rec := sub[14+6*p:]
			l, r, v := u16(rec, 0), u16(rec, 2), int16(u16(rec, 4))
			if int(l) >= f.nGlyphs || int(r) >= f.nGlyphs || v == 0 {
				continue
			}
			key := uint32(l)<<16 | uint32(r)
			if j, found := slices.BinarySearch(k.keys, key); found {
				if cov&8 != 0 {
					k.vals[j] = v
				} else {
					k.vals[j] += v
				}
				continue
			} else if j == len(k.keys) {
				k.keys = append(k.keys, key)
				k.vals = append(k.vals, v)
			} else {
				k.keys = slices.Insert(k.keys, j, key)
				k.vals = slices.Insert(k.vals, j, v)
			}
			k.left[l>>6] |= 1 << (l & 63)
			k.right[r>>6] |= 1 << (r & 63)
		}
	}
	if len(k.keys) > 0 {
		f.kern = k
	}
}

// KernPairs returns the number of kerning pairs the face has.
func (f *Face) KernPairs() int {
	if f.kern == nil {
		return 0
	}
	return len(f.kern.keys)
}

// Kernable reports whether r belongs to the scripts Carta kerns from
// the kern table: Latin, Greek and Cyrillic (with their extensions),
// digits, and general punctuation. Other scripts are either set without
// kerning or shaped.
func Kernable(r rune) bool {
	return r < 0x0530 || r >= 0x1D00 && r < 0x2070 || r >= 0x2C60 && r < 0x2C80 ||
		r >= 0xA640 && r < 0xA6A0 || r >= 0xA720 && r < 0xA800 || r >= 0xFB00 && r < 0xFB07
}

// Kern returns the pair kerning between l and r (r following l) in font
// units: negative closes the pair up ("AV", "To"), 0 when the face has
// no pair for them, either is missing from the face, or either is not
// Kernable. The advance of l plus Kern(l, r) is where r starts.
func (f *Face) Kern(l, r rune) int {
	k := f.kern
	if k == nil || !Kernable(l) || !Kernable(r) {
		return 0
	}
	gl, gr := f.glyph(l), f.glyph(r)
	if gl == 0 || gr == 0 || k.left[gl>>6]&(1<<(gl&63)) == 0 || k.right[gr>>6]&(1<<(gr&63)) == 0 {
		return 0
	}
	if j, ok := slices.BinarySearch(k.keys, uint32(gl)<<16|uint32(gr)); ok {
		return int(k.vals[j])
	}
	return 0
}

// KernedUnits returns the width of s in font units with pair kerning:
// the sum of the advances of its runes plus Kern of each adjacent pair.
func (f *Face) KernedUnits(s string) int {
	u := 0
	prev := rune(-1)
	for _, r := range s {
		u += f.Advance(r)
		if prev >= 0 {
			u += f.Kern(prev, r)
		}
		prev = r
	}
	return u
}
