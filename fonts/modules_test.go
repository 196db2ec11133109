package fonts

import (
	"os"
	"strings"
	"testing"
)

// requiredVersions returns the module versions go.mod requires, by path.
func requiredVersions(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatalf("read go.mod: %v", err)
	}
	req := make(map[string]string)
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "//")
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "require" {
			f = f[1:]
		}
		if len(f) == 2 && strings.HasPrefix(f[1], "v") {
			req[f[0]] = f[1]
		}
	}
	return req
}

func TestModulesMatchGoMod(t *testing.T) {
	t.Parallel()
	req := requiredVersions(t)
	cases := []struct {
		name, module string
	}{
		{"Liberation", LiberationModule},
		{"DejaVu", DejaVuModule},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path, version, ok := strings.Cut(tc.module, " ")
			if !ok {
				t.Fatalf("module %q is not \"path version\"", tc.module)
			}
			if got := req[path]; got != version {
				t.Errorf("fonts says %s %s, go.mod requires %q", path, version, got)
			}
		})
	}
	if want := LiberationModule + ", " + DejaVuModule; Modules != want {
		t.Errorf("Modules = %q, want %q", Modules, want)
	}
}

func TestFaceVersion(t *testing.T) {
	t.Parallel()
	serif, sans := Serif(), Sans()
	cases := []struct {
		name   string
		face   *Face
		family string
		want   string
	}{
		{"Liberation Serif regular", serif.Face(Regular), "Liberation Serif", "2.1.4"},
		{"Liberation Serif bold italic", serif.Face(Bold | Italic), "Liberation Serif", "2.1.4"},
		{"Liberation Sans regular", sans.Face(Regular), "Liberation Sans", "2.1.4"},
		{"DejaVu Serif fallback", serif.Faces(Regular)[1], "DejaVu Serif", "2.37"},
		{"DejaVu Sans fallback", serif.Faces(Regular)[2], "DejaVu Sans", "2.37"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.face.FamilyName(); got != tc.family {
				t.Errorf("FamilyName() = %q, want %q", got, tc.family)
			}
			if got := tc.face.Version(); got != tc.want {
				t.Errorf("Version() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestVersionNumber(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"plain", "Version 2.1.4", "2.1.4"},
		{"with ttfautohint note", "Version 2.37; ttfautohint (v1.8)", "2.37"},
		{"lower case", "version 1.002 ", "1.002"},
		{"no prefix", "3.000 build 5", "3.000"},
		{"empty", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := versionNumber(tc.in); got != tc.want {
				t.Errorf("versionNumber(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
