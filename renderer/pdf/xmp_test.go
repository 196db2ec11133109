package pdf

import (
	"bytes"
	"encoding/xml"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestAppendXMLText(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"plain", "Comitė Ciudadano", "Comitė Ciudadano"},
		{"markup characters", `a & b <c> "d" 'e'`, "a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"},
		{"line breaks and tabs", "a\tb\nc\rd", "a&#x9;b&#xA;c&#xD;d"},
		{"control characters", "a\x00b\x1bc", "a\uFFFDb\uFFFDc"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"noncharacter", "a\uFFFEb", "a\uFFFDb"},
		{"astral plane", "😀", "😀"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(appendXMLText(nil, tc.in)); got != tc.want {
				t.Errorf("appendXMLText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// xmpPacket returns the XMP packet of a PDF written by Write.
func xmpPacket(t *testing.T, b []byte) []byte {
	t.Helper()
	i := bytes.Index(b, []byte("<?xpacket begin"))
	j := bytes.Index(b, []byte(`<?xpacket end="r"?>`))
	if i < 0 || j < i {
		t.Fatal("no XMP packet in the output")
	}
	return b[i : j+len(`<?xpacket end="r"?>`)]
}

// TestXMP writes a document with provenance and reads the packet back as
// XML: every value comes back exactly, whatever characters it has.
func TestXMP(t *testing.T) {
	t.Parallel()
	pv := &Provenance{
		JobID: "job-1", JobSHA256: strings.Repeat("ab", 32), Layout: "din5008-a", LayoutVersion: "7",
		Fonts: "Liberation Serif 2.1.4, DejaVu Sans 2.37", FontModules: "m1 v1, m2 v2", CartaVersion: "0.1.0",
	}
	doc := extractionDoc()
	doc.Meta.Title = `Lettre « ouverte » & <urgente> "López"`
	doc.Meta.Author = "Comitė Ciudadano & Ελλάδα"
	doc.Meta.Subject = "Mélanie Joly"
	doc.Meta.Keywords = "asile, frontière"
	doc.Meta.Language = "fr-FR"
	date := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, compress := range []bool{false, true} {
		b, err := Write(doc, Options{Creator: "Carta 0.1.0", Date: date, CompressContent: compress, Provenance: pv})
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Desc struct {
				Title    string `xml:"title>Alt>li"`
				Creator  string `xml:"creator>Seq>li"`
				Desc     string `xml:"description>Alt>li"`
				Language string `xml:"language>Bag>li"`
				Keywords string `xml:"Keywords"`
				Producer string `xml:"Producer"`
				Tool     string `xml:"CreatorTool"`
				Create   string `xml:"CreateDate"`
				Modify   string `xml:"ModifyDate"`
				JobID    string `xml:"https://carta.invalid/ns/provenance/1.0/ jobId"`
				SHA      string `xml:"https://carta.invalid/ns/provenance/1.0/ jobSHA256"`
				Layout   string `xml:"https://carta.invalid/ns/provenance/1.0/ layout"`
				LayoutV  string `xml:"https://carta.invalid/ns/provenance/1.0/ layoutVersion"`
				Fonts    string `xml:"https://carta.invalid/ns/provenance/1.0/ fonts"`
				Modules  string `xml:"https://carta.invalid/ns/provenance/1.0/ fontModules"`
				Version  string `xml:"https://carta.invalid/ns/provenance/1.0/ version"`
			} `xml:"RDF>Description"`
		}
		if err := xml.Unmarshal(xmpPacket(t, b), &got); err != nil {
			t.Fatalf("compress=%v: parse XMP: %v", compress, err)
		}
		d := got.Desc
		checks := []struct{ name, got, want string }{
			{"dc:title", d.Title, doc.Meta.Title},
			{"dc:creator", d.Creator, doc.Meta.Author},
			{"dc:description", d.Desc, doc.Meta.Subject},
			{"dc:language", d.Language, "fr-FR"},
			{"pdf:Keywords", d.Keywords, doc.Meta.Keywords},
			{"pdf:Producer", d.Producer, "Carta 0.1.0 (" + fpdfModule + ")"},
			{"xmp:CreatorTool", d.Tool, "Carta 0.1.0"},
			{"xmp:CreateDate", d.Create, "2024-03-01T00:00:00Z"},
			{"xmp:ModifyDate", d.Modify, "2024-03-01T00:00:00Z"},
			{"carta:jobId", d.JobID, pv.JobID},
			{"carta:jobSHA256", d.SHA, pv.JobSHA256},
			{"carta:layout", d.Layout, pv.Layout},
			{"carta:layoutVersion", d.LayoutV, pv.LayoutVersion},
			{"carta:fonts", d.Fonts, pv.Fonts},
			{"carta:fontModules", d.Modules, pv.FontModules},
			{"carta:version", d.Version, pv.CartaVersion},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("compress=%v: %s = %q, want %q", compress, c.name, c.got, c.want)
			}
		}
		if !bytes.Contains(b, []byte("/Type /Metadata /Subtype /XML")) || !bytes.Contains(b, []byte("/Metadata ")) {
			t.Errorf("compress=%v: no metadata stream referred to by the catalog", compress)
		}
		if !bytes.Contains(b, []byte("/ToUnicode ")) {
			t.Errorf("compress=%v: the fonts lost their ToUnicode maps", compress)
		}
		again, err := Write(doc, Options{Creator: "Carta 0.1.0", Date: date, CompressContent: compress, Provenance: pv})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, again) {
			t.Errorf("compress=%v: two writes differ", compress)
		}
	}
}

// TestXMPReadByTools checks that pdfinfo finds the metadata stream and
// qpdf finds the file sound.
func TestXMPReadByTools(t *testing.T) {
	t.Parallel()
	pdfinfo, qpdf := tool(t, "pdfinfo"), tool(t, "qpdf")
	pv := &Provenance{JobID: "job-1", JobSHA256: strings.Repeat("0", 64), Layout: "letter", LayoutVersion: "1", CartaVersion: "0.1.0"}
	b, err := Write(extractionDoc(), Options{Creator: "Carta 0.1.0", Provenance: pv})
	if err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, b)
	out, err := exec.Command(pdfinfo, "-meta", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo -meta: %v\n%s", err, out)
	}
	if !bytes.Contains(out, xmpPacket(t, b)) {
		t.Errorf("pdfinfo -meta does not show the XMP packet:\n%s", out)
	}
	if out, err := exec.Command(qpdf, "--check", path).CombinedOutput(); err != nil {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
}

// A document without provenance still has the XMP metadata PDF/A
// requires, with no provenance properties and no extension schema for
// them.
func TestNoProvenanceXMP(t *testing.T) {
	t.Parallel()
	b, err := Write(extractionDoc(), Options{Creator: "Carta 0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/Metadata ", "<pdfaid:part>1</pdfaid:part>", "<xmp:CreatorTool>Carta 0.1.0</xmp:CreatorTool>"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("no %q", want)
		}
	}
	for _, bad := range []string{"carta:", "Carta provenance"} {
		if bytes.Contains(b, []byte(bad)) {
			t.Errorf("a document without provenance has %q in its metadata", bad)
		}
	}
}
