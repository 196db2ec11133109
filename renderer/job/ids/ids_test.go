package ids_test

import (
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/job/ids"
)

func TestValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, id string
		ok       bool
	}{
		{"plain", "nals-2023", true},
		{"dots and underscores", "v1.2_x-y", true},
		{"trailing dot", "a.", true},
		{"128 bytes", strings.Repeat("a", 128), true},
		{"129 bytes", strings.Repeat("a", 129), false},
		{"empty", "", false},
		{"leading dot", ".a", false},
		{"space", "a b", false},
		{"accent", "café", false},
		{"slash", "a/b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ids.Valid(tc.id); got != tc.ok {
				t.Fatalf("Valid(%q) = %v, want %v", tc.id, got, tc.ok)
			}
		})
	}
}
