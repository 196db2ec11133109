package renderer_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/sign"
)

// preflightJars are the Debian libpdfbox2-java jars (and what they need)
// that make up Apache PDFBox Preflight, the PDF/A-1b validator.
var preflightJars = []string{
	"/usr/share/java/preflight.jar", "/usr/share/java/pdfbox2.jar", "/usr/share/java/fontbox2.jar",
	"/usr/share/java/xmpbox.jar", "/usr/share/java/commons-logging.jar",
	"/usr/share/java/javax.activation.jar", "/usr/share/java/jaxb-api.jar",
}

// requirePreflight skips when Java or PDFBox Preflight is missing on a
// developer's machine, and fails in CI, where .ci/run installs them.
func requirePreflight(t *testing.T) {
	t.Helper()
	missing := ""
	if _, err := exec.LookPath("java"); err != nil {
		missing = "java"
	}
	for _, j := range preflightJars {
		if _, err := os.Stat(j); err != nil && missing == "" {
			missing = j
		}
	}
	if missing == "" {
		return
	}
	const hint = "apt-get install default-jre-headless libpdfbox2-java libactivation-java libjaxb-api-java"
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing; .ci/run installs it (%s)", missing, hint)
	}
	t.Skipf("%s is missing (%s)", missing, hint)
}

// preflight validates pdf as PDF/A-1b with PDFBox Preflight and fails the
// test with Preflight's errors when it is not valid.
func preflight(t *testing.T, name string, pdf []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("java", "-cp", strings.Join(preflightJars, ":"),
		"org.apache.pdfbox.preflight.Validator_A1b", path).CombinedOutput()
	if !bytes.Contains(out, []byte("is a valid PDF/A-1b file")) {
		t.Errorf("Preflight: %s is not valid PDF/A-1b (%v):\n%s", name, err, out)
	}
}

// TestPreflightPDFA validates as PDF/A-1b, with Apache PDFBox Preflight,
// the reference letter, a letter of every layout with a logo and a
// signature image with transparency, a per-recipient copy, the
// many-scripts letter, a letter with elements in other languages
// (/Lang on elements) and a signed letter.
func TestPreflightPDFA(t *testing.T) {
	t.Parallel()
	requirePreflight(t)
	letters := map[string][]byte{}
	_, ref, err := renderer.RenderJSON(readFile(t, referenceJob))
	if err != nil {
		t.Fatal(err)
	}
	letters["reference"] = ref.PDF
	_, scripts, err := renderer.RenderJSON(readFile(t, "testdata/jobs/scripts.json"))
	if err != nil {
		t.Fatal(err)
	}
	letters["scripts"] = scripts.PDF
	// Structure elements with their own /Lang (Arabic and Chinese names).
	_, mixed, err := renderer.RenderJSON(readFile(t, "testdata/jobs/mixed-signatories.json"))
	if err != nil {
		t.Fatal(err)
	}
	letters["mixed-signatories"] = mixed.PDF
	for _, layout := range layouts.Names() {
		outs, err := renderer.RenderAll(mustDecode(t, imagesJob(t, layout)))
		if err != nil {
			t.Fatalf("%s: %v", layout, err)
		}
		letters[layout] = outs[0].PDF
		if layout == "din5008-a" {
			letters[layout+"-"+outs[len(outs)-1].Name] = outs[len(outs)-1].PDF
		}
	}
	outs, err := renderer.RenderAll(mustDecode(t, greyImagesJob(t)))
	if err != nil {
		t.Fatal(err)
	}
	letters["grey-images"] = outs[0].PDF
	signed, err := testSigner(t).Sign(ref.PDF)
	if err != nil {
		t.Fatal(err)
	}
	letters["reference-signed"] = signed
	for name, pdf := range letters {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			preflight(t, name, pdf)
		})
	}
}

// imagesJob is windowJob's letter in layout with per-recipient copies, a
// logo and a signer's signature, a PNG with an alpha channel.
func imagesJob(t *testing.T, layout string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(windowJob(t, layout, 4, true), &m); err != nil {
		t.Fatal(err)
	}
	sig := image.NewNRGBA(image.Rect(0, 0, 120, 40))
	for x := range 120 {
		sig.SetNRGBA(x, 20+x%15, color.NRGBA{10, 20, 120, uint8(80 + x)})
	}
	logo := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range logo.Pix {
		logo.Pix[i] = uint8(i * 13)
	}
	url := func(m image.Image) string {
		var b bytes.Buffer
		if err := png.Encode(&b, m); err != nil {
			t.Fatal(err)
		}
		return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
	}
	m["letterhead"].(map[string]any)["logo"] = url(logo)
	letter := m["letter"].(map[string]any)
	letter["signers"].([]any)[0].(map[string]any)["signature"] = url(sig)
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// greyImagesJob is the letter layout's imagesJob with a greyscale PNG
// logo and a greyscale JPEG signature (drawn in DeviceGray).
func greyImagesJob(t *testing.T) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(imagesJob(t, "letter"), &m); err != nil {
		t.Fatal(err)
	}
	g := image.NewGray(image.Rect(0, 0, 90, 30))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	var p, j bytes.Buffer
	if err := png.Encode(&p, g); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, g, nil); err != nil {
		t.Fatal(err)
	}
	m["letterhead"].(map[string]any)["logo"] = "data:image/png;base64," + base64.StdEncoding.EncodeToString(p.Bytes())
	m["letter"].(map[string]any)["signers"].([]any)[0].(map[string]any)["signature"] = "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(j.Bytes())
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// testSigner is a signer with a throwaway self-signed ECDSA certificate
// and a fixed clock.
func testSigner(t *testing.T) *sign.Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Carta test signer"},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sign.Load(sign.Config{CertFile: certFile, KeyFile: keyFile, Name: "Carta test signer",
		Now: func() time.Time { return time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
