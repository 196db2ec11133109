package fonts

import "fmt"

// aglNames holds Adobe Glyph List names for the characters of the Latin-1
// and Latin Extended-A blocks and the Windows-1252 typographic extras.
// Other characters are named uniXXXX / uXXXXX, which the glyph list
// specification (and every PDF text extractor) maps back to Unicode.
var aglNames = map[rune]string{
	0xA1: "exclamdown", 0xA2: "cent", 0xA3: "sterling", 0xA4: "currency",
	0xA5: "yen", 0xA6: "brokenbar", 0xA7: "section", 0xA8: "dieresis",
	0xA9: "copyright", 0xAA: "ordfeminine", 0xAB: "guillemotleft",
	0xAC: "logicalnot", 0xAE: "registered", 0xAF: "macron", 0xB0: "degree",
	0xB1: "plusminus", 0xB2: "twosuperior", 0xB3: "threesuperior",
	0xB4: "acute", 0xB6: "paragraph", 0xB7: "periodcentered",
	0xB8: "cedilla", 0xB9: "onesuperior", 0xBA: "ordmasculine",
	0xBB: "guillemotright", 0xBC: "onequarter", 0xBD: "onehalf",
	0xBE: "threequarters", 0xBF: "questiondown",
	0xC0: "Agrave", 0xC1: "Aacute", 0xC2: "Acircumflex", 0xC3: "Atilde",
	0xC4: "Adieresis", 0xC5: "Aring", 0xC6: "AE", 0xC7: "Ccedilla",
	0xC8: "Egrave", 0xC9: "Eacute", 0xCA: "Ecircumflex", 0xCB: "Edieresis",
	0xCC: "Igrave", 0xCD: "Iacute", 0xCE: "Icircumflex", 0xCF: "Idieresis",
	0xD0: "Eth", 0xD1: "Ntilde", 0xD2: "Ograve", 0xD3: "Oacute",
	0xD4: "Ocircumflex", 0xD5: "Otilde", 0xD6: "Odieresis", 0xD7: "multiply",
	0xD8: "Oslash", 0xD9: "Ugrave", 0xDA: "Uacute", 0xDB: "Ucircumflex",
	0xDC: "Udieresis", 0xDD: "Yacute", 0xDE: "Thorn", 0xDF: "germandbls",
	0xE0: "agrave", 0xE1: "aacute", 0xE2: "acircumflex", 0xE3: "atilde",
	0xE4: "adieresis", 0xE5: "aring", 0xE6: "ae", 0xE7: "ccedilla",
	0xE8: "egrave", 0xE9: "eacute", 0xEA: "ecircumflex", 0xEB: "edieresis",
	0xEC: "igrave", 0xED: "iacute", 0xEE: "icircumflex", 0xEF: "idieresis",
	0xF0: "eth", 0xF1: "ntilde", 0xF2: "ograve", 0xF3: "oacute",
	0xF4: "ocircumflex", 0xF5: "otilde", 0xF6: "odieresis", 0xF7: "divide",
	0xF8: "oslash", 0xF9: "ugrave", 0xFA: "uacute", 0xFB: "ucircumflex",
	0xFC: "udieresis", 0xFD: "yacute", 0xFE: "thorn", 0xFF: "ydieresis",

	0x0100: "Amacron", 0x0101: "amacron", 0x0102: "Abreve", 0x0103: "abreve",
	0x0104: "Aogonek", 0x0105: "aogonek", 0x0106: "Cacute", 0x0107: "cacute",
	0x0108: "Ccircumflex", 0x0109: "ccircumflex", 0x010A: "Cdotaccent",
	0x010B: "cdotaccent", 0x010C: "Ccaron", 0x010D: "ccaron", 0x010E: "Dcaron",
	0x010F: "dcaron", 0x0110: "Dcroat", 0x0111: "dcroat", 0x0112: "Emacron",
	0x0113: "emacron", 0x0114: "Ebreve", 0x0115: "ebreve", 0x0116: "Edotaccent",
	0x0117: "edotaccent", 0x0118: "Eogonek", 0x0119: "eogonek", 0x011A: "Ecaron",
	0x011B: "ecaron", 0x011C: "Gcircumflex", 0x011D: "gcircumflex",
	0x011E: "Gbreve", 0x011F: "gbreve", 0x0120: "Gdotaccent",
	0x0121: "gdotaccent", 0x0122: "Gcommaaccent", 0x0123: "gcommaaccent",
	0x0124: "Hcircumflex", 0x0125: "hcircumflex", 0x0126: "Hbar", 0x0127: "hbar",
	0x0128: "Itilde", 0x0129: "itilde", 0x012A: "Imacron", 0x012B: "imacron",
	0x012C: "Ibreve", 0x012D: "ibreve", 0x012E: "Iogonek", 0x012F: "iogonek",
	0x0130: "Idotaccent", 0x0131: "dotlessi", 0x0132: "IJ", 0x0133: "ij",
	0x0134: "Jcircumflex", 0x0135: "jcircumflex", 0x0136: "Kcommaaccent",
	0x0137: "kcommaaccent", 0x0138: "kgreenlandic", 0x0139: "Lacute",
	0x013A: "lacute", 0x013B: "Lcommaaccent", 0x013C: "lcommaaccent",
	0x013D: "Lcaron", 0x013E: "lcaron", 0x013F: "Ldot", 0x0140: "ldot",
	0x0141: "Lslash", 0x0142: "lslash", 0x0143: "Nacute", 0x0144: "nacute",
	0x0145: "Ncommaaccent", 0x0146: "ncommaaccent", 0x0147: "Ncaron",
	0x0148: "ncaron", 0x0149: "napostrophe", 0x014A: "Eng", 0x014B: "eng",
	0x014C: "Omacron", 0x014D: "omacron", 0x014E: "Obreve", 0x014F: "obreve",
	0x0150: "Ohungarumlaut", 0x0151: "ohungarumlaut", 0x0152: "OE", 0x0153: "oe",
	0x0154: "Racute", 0x0155: "racute", 0x0156: "Rcommaaccent",
	0x0157: "rcommaaccent", 0x0158: "Rcaron", 0x0159: "rcaron", 0x015A: "Sacute",
	0x015B: "sacute", 0x015C: "Scircumflex", 0x015D: "scircumflex",
	0x015E: "Scedilla", 0x015F: "scedilla", 0x0160: "Scaron", 0x0161: "scaron",
	0x0162: "Tcommaaccent", 0x0163: "tcommaaccent", 0x0164: "Tcaron",
	0x0165: "tcaron", 0x0166: "Tbar", 0x0167: "tbar", 0x0168: "Utilde",
	0x0169: "utilde", 0x016A: "Umacron", 0x016B: "umacron", 0x016C: "Ubreve",
	0x016D: "ubreve", 0x016E: "Uring", 0x016F: "uring", 0x0170: "Uhungarumlaut",
	0x0171: "uhungarumlaut", 0x0172: "Uogonek", 0x0173: "uogonek",
	0x0174: "Wcircumflex", 0x0175: "wcircumflex", 0x0176: "Ycircumflex",
	0x0177: "ycircumflex", 0x0178: "Ydieresis", 0x0179: "Zacute",
	0x017A: "zacute", 0x017B: "Zdotaccent", 0x017C: "zdotaccent",
	0x017D: "Zcaron", 0x017E: "zcaron", 0x017F: "longs",

	0x0192: "florin", 0x02C6: "circumflex", 0x02C7: "caron", 0x02D8: "breve",
	0x02D9: "dotaccent", 0x02DA: "ring", 0x02DB: "ogonek", 0x02DC: "tilde",
	0x02DD: "hungarumlaut",
	0x2013: "endash", 0x2014: "emdash", 0x2018: "quoteleft",
	0x2019: "quoteright", 0x201A: "quotesinglbase", 0x201C: "quotedblleft",
	0x201D: "quotedblright", 0x201E: "quotedblbase", 0x2020: "dagger",
	0x2021: "daggerdbl", 0x2022: "bullet", 0x2026: "ellipsis",
	0x2030: "perthousand", 0x2039: "guilsinglleft", 0x203A: "guilsinglright",
	0x2044: "fraction", 0x20AC: "Euro", 0x2122: "trademark", 0x2212: "minus",
	0xFB01: "fi", 0xFB02: "fl",
}

var asciiNames = [95]string{
	"space", "exclam", "quotedbl", "numbersign", "dollar", "percent",
	"ampersand", "quotesingle", "parenleft", "parenright", "asterisk", "plus",
	"comma", "hyphen", "period", "slash", "zero", "one", "two", "three",
	"four", "five", "six", "seven", "eight", "nine", "colon", "semicolon",
	"less", "equal", "greater", "question", "at",
	"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N",
	"O", "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z",
	"bracketleft", "backslash", "bracketright", "asciicircum", "underscore",
	"grave",
	"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n",
	"o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
	"braceleft", "bar", "braceright", "asciitilde",
}

// GlyphName returns the PostScript glyph name for r: the Adobe Glyph List
// name for common Latin characters, otherwise "uniXXXX" (BMP) or
// "uXXXXX" (above U+FFFF). Subset fonts carry these names in their post
// table, and PDF encodings use them, so text extraction maps every glyph
// back to r.
func GlyphName(r rune) string {
	if r >= 0x20 && r < 0x7F {
		return asciiNames[r-0x20]
	}
	if n, ok := aglNames[r]; ok {
		return n
	}
	if r <= 0xFFFF {
		return fmt.Sprintf("uni%04X", r)
	}
	return fmt.Sprintf("u%X", r)
}
