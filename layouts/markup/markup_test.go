package markup

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	t.Parallel()
	const b, i, bi = Bold, Italic, Bold | Italic
	tests := []struct {
		name string
		in   string
		want []Span
	}{
		{"empty", "", nil},
		{"plain", "Dear Minister,", []Span{{"Dear Minister,", 0}}},
		{"bold", "a **b** c", []Span{{"a ", 0}, {"b", b}, {" c", 0}}},
		{"italic", "a *b* c", []Span{{"a ", 0}, {"b", i}, {" c", 0}}},
		{"bold italic", "***x***", []Span{{"x", bi}}},
		{"italic inside bold", "**a *b* c**", []Span{{"a ", b}, {"b", bi}, {" c", b}}},
		{"bold inside italic", "*a **b** c*", []Span{{"a ", i}, {"b", bi}, {" c", i}}},
		{"escaped asterisk", `5 \* 3`, []Span{{"5 * 3", 0}}},
		{"escaped backslash", `C:\\dir`, []Span{{`C:\dir`, 0}}},
		{"lone backslash", `a\b`, []Span{{`a\b`, 0}}},
		{"trailing backslash", `a\`, []Span{{`a\`, 0}}},
		{"escaped inside bold", `**a\*b**`, []Span{{"a*b", b}}},
		{"unclosed bold", "**open", []Span{{"**open", 0}}},
		{"unclosed italic", "an *open", []Span{{"an *open", 0}}},
		{"closer only", "closed* here", []Span{{"closed* here", 0}}},
		{"spaced asterisks stay literal", "2 * 3 * 4", []Span{{"2 * 3 * 4", 0}}},
		{"lone star", "*", []Span{{"*", 0}}},
		{"four stars", "****", []Span{{"****", 0}}},
		{"bold closed by triple", "**a***", []Span{{"a", b}, {"*", 0}}},
		{"inner opener dropped", "**a *b**", []Span{{"a *b", b}}},
		{"empty bold", "x****y", []Span{{"x****y", 0}}},
		{"unicode", "**Comitė** *Ciudadano*", []Span{{"Comitė", b}, {" ", 0}, {"Ciudadano", i}}},
		{"escaped star opens nothing", `\**a*`, []Span{{"*", 0}, {"a", i}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Parse(nil, tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseAppends(t *testing.T) {
	t.Parallel()
	dst := []Span{{"x", Bold}}
	got := Parse(dst, "y")
	if want := []Span{{"x", Bold}, {"y", 0}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Parse appended %q, want %q", got, want)
	}
}

func TestParsePlainDoesNotAllocate(t *testing.T) {
	dst := make([]Span, 0, 4)
	n := testing.AllocsPerRun(100, func() { dst = Parse(dst[:0], "We urge your governments to:") })
	if n != 0 {
		t.Errorf("Parse of plain text allocated %v times, want 0", n)
	}
}

// strip removes markers and escape characters, the only characters Parse
// may drop.
func strip(s string) string {
	return strings.NewReplacer("*", "", `\`, "").Replace(s)
}

func FuzzMarkup(f *testing.F) {
	for _, s := range []string{"", "a **b** *c*", `\*\\`, "***x***", "**a *b**", "*a **b** c*", "2 * 3", "\\", "é*ü*", "****"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spans := Parse(nil, s)
		var all strings.Builder
		for k, sp := range spans {
			if sp.Text == "" {
				t.Fatalf("Parse(%q): empty span %d", s, k)
			}
			if k > 0 && spans[k-1].Style == sp.Style {
				t.Fatalf("Parse(%q): spans %d and %d share style %d", s, k-1, k, sp.Style)
			}
			if sp.Style&^(Bold|Italic) != 0 {
				t.Fatalf("Parse(%q): unknown style %d", s, sp.Style)
			}
			all.WriteString(sp.Text)
		}
		out := all.String()
		if strip(out) != strip(s) {
			t.Fatalf("Parse(%q) printed %q: text other than markers changed", s, out)
		}
		if len(out) > len(s) {
			t.Fatalf("Parse(%q) printed %q: longer than the input", s, out)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Parse(%q) printed invalid UTF-8 %q", s, out)
		}
		if !strings.ContainsAny(s, `*\`) && out != s {
			t.Fatalf("Parse(%q) = %q, want the input unchanged", s, out)
		}
	})
}
