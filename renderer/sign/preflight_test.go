package sign

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/sign/signtest"
)

// preflightJars is the class path of Apache PDFBox Preflight as Debian
// installs it (libpdfbox2-java, libactivation-java, libjaxb-api-java).
var preflightJars = []string{"preflight", "pdfbox2", "fontbox2", "xmpbox", "commons-logging", "javax.activation", "jaxb-api"}

// TestSignWidgetPDFA runs PDFBox Preflight (PDF/A-1b) on signed letters
// at each level and checks that the signature adds no error about
// annotations, forms or the trailer beyond those of the unsigned letter:
// the widget has a print flag, an appearance and no forbidden entry, and
// the updates keep the trailer's /ID. (The unsigned letter is not PDF/A
// yet; its own errors are the renderer's.)
func TestSignWidgetPDFA(t *testing.T) {
	t.Parallel()
	java := needTool(t, "java")
	var cp []string
	for _, j := range preflightJars {
		p := "/usr/share/java/" + j + ".jar"
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI (apt-get install libpdfbox2-java libactivation-java libjaxb-api-java): %v", p, err)
			}
			t.Skipf("%s missing", p)
		}
		cp = append(cp, p)
	}
	a := signtest.New(t)
	letter := testLetter(t)
	dir := t.TempDir()
	errorsOf := func(name string, pdf []byte) map[string]bool {
		path := filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(java, "-cp", strings.Join(cp, ":"), "org.apache.pdfbox.preflight.Validator_A1b", path).CombinedOutput()
		if !strings.Contains(string(out), "PDF/A-1b file") {
			t.Fatalf("preflight %s: %s", name, out)
		}
		errs := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^(\d+(?:\.\d+)*) : ([^,\n]*)`).FindAllStringSubmatch(string(out), -1) {
			errs[m[1]+" "+m[2]] = true
		}
		return errs
	}
	base := errorsOf("unsigned", letter)
	for _, level := range []string{LevelBB, LevelBLTA} {
		cfg := signtestConfig(a, level == LevelBLTA)
		cfg.LTA = level == LevelBLTA
		if level == LevelBB {
			cfg = Config{CertFile: a.CertFile, KeyFile: a.KeyFile}
		}
		s, err := Load(cfg)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := s.Sign(letter)
		if err != nil {
			t.Fatal(err)
		}
		for e := range errorsOf(level, signed) {
			if !base[e] {
				t.Errorf("%s: Preflight error the unsigned letter does not have: %s", level, e)
			}
		}
	}
}
