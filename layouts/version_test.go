package layouts

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// versionsFile records, for each layout, its version and a fingerprint
// of its output at that version.
const versionsFile = "testdata/versions.txt"

// fingerprint lays out the reference job and a window job with layout l
// and returns the SHA-256 of their dumps.
func fingerprint(t *testing.T, l Layout) string {
	t.Helper()
	h := sha256.New()
	ref := loadJob(t, referenceJob)
	ref.Layout = l.Name()
	win := decode(t, windowJob(l.Name(), 6))
	for i, j := range [...]struct {
		name string
		lay  func() (*Document, error)
	}{
		{"reference", func() (*Document, error) { return l.Lay(ref) }},
		{"window job", func() (*Document, error) { return l.Lay(win) }},
		{"window job, copy 3", func() (*Document, error) { return LayCopy(l, win, 2) }},
	} {
		d, err := j.lay()
		if err != nil {
			t.Fatalf("lay out %s with %s: %v", j.name, l.Name(), err)
		}
		fmt.Fprintf(h, "%d\n%s", i, dump(d))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readVersions reads versionsFile: name -> [version, fingerprint].
func readVersions(t *testing.T) map[string][2]string {
	t.Helper()
	data, err := os.ReadFile(versionsFile)
	if err != nil {
		t.Fatalf("read versions (run go test ./layouts -update to create it): %v", err)
	}
	out := make(map[string][2]string)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("%s: bad line %q", versionsFile, line)
		}
		out[f[0]] = [2]string{f[1], f[2]}
	}
	return out
}

var versionRE = regexp.MustCompile(`^[1-9][0-9]*$`)

// TestVersionsTrackOutput fails when a layout's output changed but its
// version did not: bump the version in version.go, then run go test
// ./layouts -update to record the new fingerprint.
func TestVersionsTrackOutput(t *testing.T) {
	t.Parallel()
	var recorded map[string][2]string
	if !*update {
		recorded = readVersions(t)
	} else if _, err := os.Stat(versionsFile); err == nil {
		recorded = readVersions(t)
	}
	var file strings.Builder
	file.WriteString("# layout version output-fingerprint (see version.go; written by go test ./layouts -update)\n")
	for _, l := range registry {
		v := l.Version()
		if !versionRE.MatchString(v) {
			t.Errorf("layout %s: version %q is not a decimal number from 1", l.Name(), v)
		}
		fp := fingerprint(t, l)
		fmt.Fprintf(&file, "%s %s %s\n", l.Name(), v, fp)
		rec, ok := recorded[l.Name()]
		switch {
		case !ok && !*update:
			t.Errorf("layout %s is not in %s; run go test ./layouts -update", l.Name(), versionsFile)
		case ok && rec[1] != fp && rec[0] == v:
			t.Errorf("layout %s: output changed but version is still %s; bump it in version.go, then run go test ./layouts -update", l.Name(), v)
		case ok && rec[1] == fp && rec[0] != v && !*update:
			t.Errorf("layout %s: version is %s, %s records %s for the same output; run go test ./layouts -update", l.Name(), v, versionsFile, rec[0])
		case ok && rec[1] != fp && !*update:
			t.Errorf("layout %s: version %s is not recorded in %s; run go test ./layouts -update", l.Name(), v, versionsFile)
		}
	}
	if *update && !t.Failed() {
		if err := os.WriteFile(versionsFile, []byte(file.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
