package fonts

import (
	"embed"
	"strings"
)

//go:embed licenses/*.txt
var licenseFS embed.FS

// Licenses returns the licence texts of the bundled fonts, keyed by font
// family ("Liberation", "DejaVu"). The map is a fresh copy on every call.
func Licenses() map[string]string {
	out := make(map[string]string, 2)
	entries, _ := licenseFS.ReadDir("licenses")
	for _, e := range entries {
		b, err := licenseFS.ReadFile("licenses/" + e.Name())
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ".txt")
		name, _, _ = strings.Cut(name, "-")
		out[name] = string(b)
	}
	return out
}
