package markup

import "strings"

// Style is a set of inline styles.
type Style uint8

// The inline styles; a Span may have both.
const (
	Bold Style = 1 << iota
	Italic
)

// Span is a piece of text printed in one style.
type Span struct {
	Text  string
	Style Style
}

// tok is one token of a paragraph: a piece of literal text, or a run of
// unescaped asterisks.
type tok struct {
	s     string // literal text (after escapes), or the asterisks
	delim bool   // a run of asterisks
	open  bool   // may open emphasis
	close bool   // may close emphasis
	// Results of matching, for delimiter runs: the styles this run turns
	// on (opens) and off (closes); asterisks not used print literally.
	opens, closes Style
	used          int // asterisks consumed by matching
}

// Parse appends the spans of s to dst and returns the extended slice.
// Spans are never empty and adjacent spans differ in style. A string
// without asterisks or backslashes is returned as one span sharing s's
// memory; otherwise Parse allocates the spans' text once.
func Parse(dst []Span, s string) []Span {
	if s == "" {
		return dst
	}
	if strings.IndexByte(s, '*') < 0 && strings.IndexByte(s, '\\') < 0 {
		return append(dst, Span{Text: s})
	}
	toks := tokenize(s)
	match(toks)
	return build(dst, toks, len(s))
}

// tokenize splits s into literal text and asterisk runs, resolving escapes.
func tokenize(s string) []tok {
	toks := make([]tok, 0, 8)
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, tok{s: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\'):
			lit.WriteByte(s[i+1])
			i += 2
		case c == '*':
			j := i
			for j < len(s) && s[j] == '*' {
				j++
			}
			flush()
			before, after := byte(' '), byte(' ')
			if i > 0 {
				before = s[i-1]
			}
			if j < len(s) {
				after = s[j]
			}
			toks = append(toks, tok{s: s[i:j], delim: true, open: !isSpace(after), close: !isSpace(before)})
			i = j
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return toks
}

// isSpace reports whether the byte c is ASCII white space. Multi-byte
// characters (including non-breaking spaces) count as text.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// opener is an open emphasis on the matching stack.
type opener struct {
	tok   int
	style Style
}

// match pairs delimiter runs, recording in each token what it opens and
// closes. Unpaired asterisks are left unused and print literally.
func match(toks []tok) {
	var stack []opener
	// find returns the stack index of the innermost open style st opened
	// before token i, or -1.
	find := func(st Style, i int) int {
		for k := len(stack) - 1; k >= 0; k-- {
			if stack[k].style == st && stack[k].tok != i {
				return k
			}
		}
		return -1
	}
	// closeAt closes the opener at stack index k from token i: openers
	// above it are dropped and print literally.
	closeAt := func(i, k int) {
		for _, o := range stack[k+1:] {
			t := &toks[o.tok]
			t.opens &^= o.style
			t.used -= width(o.style)
		}
		o := stack[k]
		stack = stack[:k]
		toks[i].closes |= o.style
		toks[i].used += width(o.style)
	}
	for i := range toks {
		t := &toks[i]
		if !t.delim {
			continue
		}
		n := len(t.s)
		for n > 0 {
			if t.close && len(stack) > 0 {
				k := -1
				switch n {
				case 1:
					k = find(Italic, i)
				case 2:
					if k = find(Bold, i); k < 0 {
						k = find(Italic, i)
					}
				default:
					if k = len(stack) - 1; stack[k].tok == i {
						k = -1
					}
				}
				if k >= 0 {
					w := width(stack[k].style)
					closeAt(i, k)
					n -= w
					continue
				}
			}
			if !t.open {
				break
			}
			// A run of two or more opens bold (the outer style) first.
			st := Italic
			if n >= 2 && t.opens&Bold == 0 {
				st = Bold
			}
			if t.opens&st != 0 {
				break // a run cannot open the same style twice
			}
			t.opens |= st
			t.used += width(st)
			stack = append(stack, opener{tok: i, style: st})
			n -= width(st)
		}
	}
	// Openers never closed print literally.
	for _, o := range stack {
		t := &toks[o.tok]
		t.opens &^= o.style
		t.used -= width(o.style)
	}
}

func width(st Style) int {
	if st == Bold {
		return 2
	}
	return 1
}

// build turns matched tokens into spans, appending to dst. Text is written
// into one buffer converted to a string once, and the spans slice it.
func build(dst []Span, toks []tok, size int) []Span {
	type piece struct {
		end   int
		style Style
	}
	buf := make([]byte, 0, size)
	pieces := make([]piece, 0, len(toks))
	var cur Style
	add := func(s string) {
		if s == "" {
			return
		}
		buf = append(buf, s...)
		if n := len(pieces); n > 0 && pieces[n-1].style == cur {
			pieces[n-1].end = len(buf)
			return
		}
		pieces = append(pieces, piece{end: len(buf), style: cur})
	}
	for _, t := range toks {
		if !t.delim {
			add(t.s)
			continue
		}
		// Closing asterisks come first in a run, then literal ones, then
		// opening ones: "**a*** b" closes bold, then prints "*".
		cur &^= t.closes
		add(t.s[:len(t.s)-t.used])
		cur |= t.opens
	}
	text := string(buf)
	start := 0
	for _, p := range pieces {
		dst = append(dst, Span{Text: text[start:p.end], Style: p.style})
		start = p.end
	}
	return dst
}
