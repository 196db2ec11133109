package renderer_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
	"github.com/carta-letters/carta/renderer/sign"
)

// xmpDescription is the rdf:Description of Carta's XMP packet, as an XML
// reader sees it.
type xmpDescription struct {
	Title        rdfList `xml:"http://purl.org/dc/elements/1.1/ title"`
	Creator      rdfList `xml:"http://purl.org/dc/elements/1.1/ creator"`
	Producer     string  `xml:"http://ns.adobe.com/pdf/1.3/ Producer"`
	CreatorTool  string  `xml:"http://ns.adobe.com/xap/1.0/ CreatorTool"`
	CreateDate   string  `xml:"http://ns.adobe.com/xap/1.0/ CreateDate"`
	JobID        string  `xml:"https://carta.invalid/ns/provenance/1.0/ jobId"`
	JobSHA256    string  `xml:"https://carta.invalid/ns/provenance/1.0/ jobSHA256"`
	Layout       string  `xml:"https://carta.invalid/ns/provenance/1.0/ layout"`
	LayoutVer    string  `xml:"https://carta.invalid/ns/provenance/1.0/ layoutVersion"`
	Fonts        string  `xml:"https://carta.invalid/ns/provenance/1.0/ fonts"`
	FontModules  string  `xml:"https://carta.invalid/ns/provenance/1.0/ fontModules"`
	CartaVersion string  `xml:"https://carta.invalid/ns/provenance/1.0/ version"`
}

// rdfList is the one item of an rdf:Alt or rdf:Seq.
type rdfList struct {
	Alt string `xml:"Alt>li"`
	Seq string `xml:"Seq>li"`
}

type xmpMeta struct {
	XMLName xml.Name       `xml:"adobe:ns:meta/ xmpmeta"`
	Desc    xmpDescription `xml:"http://www.w3.org/1999/02/22-rdf-syntax-ns# RDF>Description"`
}

// pdfinfoMeta returns the XMP metadata of a PDF as pdfinfo -meta reads it.
func pdfinfoMeta(t *testing.T, data []byte) xmpDescription {
	t.Helper()
	path := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdfinfo", "-meta", path).Output()
	if err != nil {
		t.Fatalf("pdfinfo -meta: %v", err)
	}
	i := bytes.Index(out, []byte("<x:xmpmeta"))
	j := bytes.Index(out, []byte("</x:xmpmeta>"))
	if i < 0 || j < i {
		t.Fatalf("pdfinfo -meta shows no XMP packet:\n%s", out)
	}
	var m xmpMeta
	if err := xml.Unmarshal(out[i:j+len("</x:xmpmeta>")], &m); err != nil {
		t.Fatalf("parse XMP: %v\n%s", err, out)
	}
	return m.Desc
}

// TestProvenanceInXMP renders jobs and reads the provenance back with
// pdfinfo -meta.
func TestProvenanceInXMP(t *testing.T) {
	t.Parallel()
	requireTools(t)
	// The reference job's hash, pinned: a change means every stored
	// letter's recorded hash changes, so it must be deliberate.
	const referenceSHA256 = "744f660ca53429f68dea2cf21af5046dfad343ed2d21be261e38633ea85e4d88"
	cases := []struct {
		name   string
		job    func(t *testing.T) []byte
		sha256 string // "": not pinned
		want   xmpDescription
	}{
		{"reference joint statement", func(t *testing.T) []byte { return readFile(t, referenceJob) }, referenceSHA256, xmpDescription{
			Title:   rdfList{Alt: "CSOs Across the Region Urge Leaders at NALS 2023 to Center Regional Migration Discussions on Human Rights, Humanitarian Protection & Asylum Access for those Fleeing Persecution"},
			Creator: rdfList{Seq: "Center for Democracy in the Americas"}, CreateDate: "2023-01-09T00:00:00Z",
			JobID: "cda-nals-2023-joint-letter", Layout: "joint-statement", LayoutVer: layoutVersion("joint-statement"), Fonts: "Liberation Serif 2.1.4",
		}},
		{"formal French letter to an embassy", func(t *testing.T) []byte { return readFile(t, "testdata/jobs/fr-embassy.json") }, "", xmpDescription{
			Creator: rdfList{Seq: "Coalition pour les droits des personnes migrantes"}, CreateDate: "2024-03-01T00:00:00Z",
			JobID: "fr-ambassade-2024-031", Layout: "letter", LayoutVer: layoutVersion("letter"), Fonts: "Liberation Serif 2.1.4",
		}},
		{"window envelope with fallback fonts", func(t *testing.T) []byte {
			var m map[string]any
			if err := json.Unmarshal(windowJob(t, "din5008-a", 4, false), &m); err != nil {
				t.Fatal(err)
			}
			m["id"] = "armenian-georgian"
			m["letterhead"].(map[string]any)["name"] = `Comitė "Հայաստան" & <საქართველო> ✓`
			out, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}, "", xmpDescription{
			Creator: rdfList{Seq: `Comitė "Հայաստան" & <საქართველო> ✓`}, CreateDate: "2024-03-01T00:00:00Z",
			JobID: "armenian-georgian", Layout: "din5008-a", LayoutVer: layoutVersion("din5008-a"),
			Fonts: "Liberation Serif 2.1.4, DejaVu Serif 2.37, DejaVu Sans 2.37",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j, res, err := renderer.RenderJSON(tc.job(t))
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			sum, err := renderer.CanonicalJobSHA256(j)
			if err != nil {
				t.Fatal(err)
			}
			if tc.sha256 != "" && sum != tc.sha256 {
				t.Errorf("canonical job sha256 = %s, want %s", sum, tc.sha256)
			}
			want := tc.want
			want.JobSHA256 = sum
			want.Producer = "Carta " + renderer.Version + " (codeberg.org/go-pdf/fpdf v0.12.0)"
			want.CreatorTool = "Carta " + renderer.Version
			want.FontModules = "github.com/go-fonts/liberation v0.3.3, github.com/go-fonts/dejavu v0.3.2"
			want.CartaVersion = renderer.Version
			if want.Title.Alt == "" {
				want.Title.Alt = j.DocTitle()
			}
			got := pdfinfoMeta(t, res.PDF)
			if got != want {
				t.Errorf("pdfinfo -meta shows\n%+v\nwant\n%+v", got, want)
			}
			pv := renderer.Provenance{JobID: want.JobID, JobSHA256: sum, Layout: want.Layout, LayoutVersion: want.LayoutVer,
				Fonts: want.Fonts, FontModules: fonts.Modules, CartaVersion: renderer.Version}
			if res.Provenance != pv {
				t.Errorf("Result.Provenance = %+v, want %+v", res.Provenance, pv)
			}
		})
	}
}

// TestProvenanceOfCopies gives every copy the job's provenance, with the
// fonts of that copy.
func TestProvenanceOfCopies(t *testing.T) {
	t.Parallel()
	j := mustDecode(t, windowJob(t, "us-window", 5, true))
	outs, err := renderer.RenderAll(j)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := renderer.CanonicalJobSHA256(j)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		pv := o.Provenance
		if pv.JobID != j.ID || pv.JobSHA256 != sum || pv.Layout != "us-window" || pv.LayoutVersion != layoutVersion("us-window") || pv.CartaVersion != renderer.Version {
			t.Errorf("%s: provenance %+v", o.Name, pv)
		}
		if !bytes.Contains(o.PDF, []byte("<carta:jobSHA256>"+sum+"</carta:jobSHA256>")) {
			t.Errorf("%s: the PDF does not record the job's sha256", o.Name)
		}
	}
}

// TestCanonicalJob: submissions that differ only in form hash alike;
// any change of content hashes differently.
func TestCanonicalJob(t *testing.T) {
	t.Parallel()
	const base = `{"schema":"letter/v1","id":"canon-1","letterhead":{"name":"Comité Ciudadano"},
		"letter":{"recipients":[{"name":"Mélanie Joly"}],"salutation":"Madame la Ministre,","body":[{"text":"Bonjour & <merci>."}],"closing":"Cordialement,"}}`
	sumOf := func(t *testing.T, data string) string {
		t.Helper()
		j, err := job.Decode([]byte(data))
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		s, err := renderer.CanonicalJobSHA256(j)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := sumOf(t, base)
	cases := []struct {
		name string
		job  string
		same bool
	}{
		{"keys reordered and reindented", `{
			"letter": {"closing": "Cordialement,", "body": [{"text": "Bonjour & <merci>."}], "salutation": "Madame la Ministre,", "recipients": [{"name": "Mélanie Joly"}]},
			"letterhead": {"name": "Comité Ciudadano"}, "id": "canon-1", "schema": "letter/v1"}`, true},
		{"escaped characters", strings.Replace(base, "Mélanie", `M\u00e9lanie`, 1), true},
		{"decomposed accents", strings.Replace(base, "Mélanie", "Me\u0301lanie", 1), true},
		{"an empty optional field", strings.Replace(base, `"id":"canon-1"`, `"id":"canon-1","title":""`, 1), true},
		{"another id", strings.Replace(base, "canon-1", "canon-2", 1), false},
		{"another accent", strings.Replace(base, "Mélanie", "Mèlanie", 1), false},
		{"a default named", strings.Replace(base, `"id":"canon-1"`, `"id":"canon-1","layout":"letter"`, 1), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := sumOf(t, tc.job); (got == want) != tc.same {
				t.Errorf("sha256 %s, base job %s; same = %v, want %v", got, want, got == want, tc.same)
			}
		})
	}
	j, err := job.Decode([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	canon, err := renderer.CanonicalJob(j)
	if err != nil {
		t.Fatal(err)
	}
	const wantCanon = `{"schema":"letter/v1","id":"canon-1","letterhead":{"name":"Comité Ciudadano"},"letter":{"recipients":[{"name":"Mélanie Joly"}],"salutation":"Madame la Ministre,","body":[{"text":"Bonjour \u0026 \u003cmerci\u003e."}],"closing":"Cordialement,"}}`
	if string(canon) != wantCanon {
		t.Errorf("canonical job\n%s\nwant\n%s", canon, wantCanon)
	}
}

// TestProvenanceSurvivesSigning signs a letter (signing appends an
// update after the writer's) and reads the same provenance back.
func TestProvenanceSurvivesSigning(t *testing.T) {
	t.Parallel()
	requireTools(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Carta provenance test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sign.Load(sign.Config{CertFile: certFile, KeyFile: keyFile, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("load signer: %v", err)
	}
	_, res, err := renderer.RenderJSON(readFile(t, referenceJob))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.Sign(res.PDF)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	if got, want := pdfinfoMeta(t, signed), pdfinfoMeta(t, res.PDF); got != want || got.JobSHA256 != res.Provenance.JobSHA256 {
		t.Errorf("signed letter's metadata\n%+v\nwant\n%+v", got, want)
	}
}

// layoutVersion is the current version of the named layout.
func layoutVersion(name string) string {
	l, ok := layouts.Lookup(name)
	if !ok {
		panic("no layout " + name)
	}
	return l.Version()
}
