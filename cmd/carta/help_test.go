package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestEveryCommandHelp: "carta COMMAND -h" (and -help, --help) prints the
// command's usage with its flags and exits 0, for every command, through
// the one parsing path (parseArgs).
func TestEveryCommandHelp(t *testing.T) {
	t.Parallel()
	for _, c := range commands() {
		for _, h := range []string{"-h", "-help", "--help"} {
			t.Run(c.name+" "+h, func(t *testing.T) {
				t.Parallel()
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), []string{c.name, h}, &stdout, &stderr)
				if code != exitOK {
					t.Fatalf("exit %d, want 0; stderr:\n%s", code, &stderr)
				}
				out := stdout.String() + stderr.String()
				if !strings.HasPrefix(out, "usage: carta "+c.name) {
					t.Fatalf("output does not start with the usage line:\n%s", out)
				}
				if c.name != "validate" && !strings.Contains(out, "(env CARTA_") {
					t.Errorf("no flag with its CARTA_ variable in the usage:\n%s", out)
				}
			})
		}
	}
}

// TestEveryCommandRefusesUnknownFlag: a flag no command has exits 2 and
// names it.
func TestEveryCommandRefusesUnknownFlag(t *testing.T) {
	t.Parallel()
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{c.name, "-no-such-flag"}, &stdout, &stderr); code != exitInvalid {
				t.Fatalf("exit %d, want %d", code, exitInvalid)
			}
			if !strings.Contains(stderr.String(), "flag provided but not defined: -no-such-flag") {
				t.Fatalf("stderr does not name the flag:\n%s", &stderr)
			}
		})
	}
}
