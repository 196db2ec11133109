package pdf

import (
	"strconv"
	"unicode/utf16"
)

// fpdf's 8-bit font path writes no /ToUnicode entry; addUpdate gives
// every font dictionary one, built here from its chunk.

// cmapStart begins a ToUnicode CMap, up to its code space range.
const cmapStart = `/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
`

// cmapHead begins the ToUnicode CMap of one-byte codes.
const cmapHead = cmapStart + `<00> <FF>
endcodespacerange
`

const cmapTail = `endcmap
CMapName currentdict /CMap defineresource pop
end
end
`

// appendCMap appends the ToUnicode CMap of c: each used code maps to its
// rune in UTF-16BE. Runs of consecutive codes for consecutive runes of
// the Basic Multilingual Plane become bfrange entries; the other codes
// are bfchar entries.
func appendCMap(b []byte, c *chunk) []byte {
	type span struct {
		code, n int
		r       rune
	}
	var rbuf, cbuf [maxCode + 1]span
	ranges, chars := rbuf[:0], cbuf[:0]
	for code := 0; code <= maxCode; {
		r := c.runes[code]
		if r == 0 {
			code++
			continue
		}
		n := 1
		if r < 0x10000 {
			// Only the last byte of the destination may change within
			// a range, and it must not wrap.
			for code+n <= maxCode && c.runes[code+n] == r+rune(n) && (r+rune(n))&0xFF != 0 {
				n++
			}
		}
		if n > 1 {
			ranges = append(ranges, span{code, n, r})
		} else {
			chars = append(chars, span{code, 1, r})
		}
		code += n
	}
	b = append(b, cmapHead...)
	for len(ranges) > 0 {
		k := min(len(ranges), 100)
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, " beginbfrange\n"...)
		for _, s := range ranges[:k] {
			b = appendHexCode(b, s.code)
			b = append(b, ' ')
			b = appendHexCode(b, s.code+s.n-1)
			b = append(b, ' ')
			b = appendUTF16Hex(b, s.r)
			b = append(b, '\n')
		}
		b = append(b, "endbfrange\n"...)
		ranges = ranges[k:]
	}
	for len(chars) > 0 {
		k := min(len(chars), 100)
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, " beginbfchar\n"...)
		for _, s := range chars[:k] {
			b = appendHexCode(b, s.code)
			b = append(b, ' ')
			b = appendUTF16Hex(b, s.r)
			b = append(b, '\n')
		}
		b = append(b, "endbfchar\n"...)
		chars = chars[k:]
	}
	return append(b, cmapTail...)
}

const hexDigits = "0123456789ABCDEF"

func appendHexCode(b []byte, code int) []byte {
	return append(b, '<', hexDigits[code>>4&0xF], hexDigits[code&0xF], '>')
}

// appendUTF16Hex appends r as a hex string of its UTF-16BE encoding.
func appendUTF16Hex(b []byte, r rune) []byte {
	var units [2]uint16
	u := units[:1]
	if r >= 0x10000 {
		r1, r2 := utf16.EncodeRune(r)
		units[0], units[1] = uint16(r1), uint16(r2)
		u = units[:2]
	} else {
		units[0] = uint16(r)
	}
	b = append(b, '<')
	for _, v := range u {
		b = append(b, hexDigits[v>>12], hexDigits[v>>8&0xF], hexDigits[v>>4&0xF], hexDigits[v&0xF])
	}
	return append(b, '>')
}
