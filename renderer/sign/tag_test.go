package sign

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/sign/signtest"
)

// taggedPDF is a small tagged PDF (a Document element holding one P) with
// a classic cross-reference table.
func taggedPDF() []byte {
	content := "/P <</MCID 0>> BDC BT /F1 12 Tf 72 720 Td (Hello, ministers) Tj ET EMC"
	objs := []string{
		"<</Type /Catalog /Pages 2 0 R /StructTreeRoot 5 0 R /MarkInfo <</Marked true>> /Lang (en)>>",
		"<</Type /Pages /Kids [3 0 R] /Count 1>>",
		"<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources <</Font <</F1 8 0 R>>>> /StructParents 0>>",
		fmt.Sprintf("<</Length %d>>\nstream\n%s\nendstream", len(content), content),
		"<</Type /StructTreeRoot /K 6 0 R /ParentTree 9 0 R /ParentTreeNextKey 1>>",
		"<</Type /StructElem /S /Document /P 5 0 R /K [7 0 R]>>",
		"<</Type /StructElem /S /P /P 6 0 R /Pg 3 0 R /K 0>>",
		"<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>",
		"<</Nums [0 [7 0 R]]>>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// TestSignTaggedPDF: in a tagged PDF each signature widget becomes a Form
// structure element of the document element, reached from the widget's
// /StructParent through the parent tree, and the page gets /Tabs /S;
// poppler reads the structure and the signatures, qpdf the file.
func TestSignTaggedPDF(t *testing.T) {
	t.Parallel()
	a := signtest.New(t)
	cfg := signtestConfig(a, true)
	cfg.LTA = true
	s, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.Sign(taggedPDF())
	if err != nil {
		t.Fatal(err)
	}
	qpdfCheck(t, signed)

	tr, err := readTrailer(signed)
	if err != nil {
		t.Fatal(err)
	}
	_, root, err := readDictObject(tr, ref{5, 0}, "root")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := root.get("ParentTreeNextKey"); string(v) != "3" {
		t.Errorf("/ParentTreeNextKey %s, want 3 (the two widgets took 1 and 2)", v)
	}
	_, pt, err := readDictObject(tr, ref{9, 0}, "parent tree")
	if err != nil {
		t.Fatal(err)
	}
	nums, _ := pt.get("Nums")
	_, doc, err := readDictObject(tr, ref{6, 0}, "document")
	if err != nil {
		t.Fatal(err)
	}
	kids, _ := doc.get("K")
	_, page, err := readDictObject(tr, ref{3, 0}, "page")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := page.get("Tabs"); string(v) != "/S" {
		t.Errorf("page /Tabs %q, want /S", v)
	}
	for i, name := range []string{"Signature1", "DocumentTimestamp1"} {
		m := regexp.MustCompile(`(\d+) 0 obj\n<</Type /Annot /Subtype /Widget /FT /Sig /T \(` + name + `\)[^\n]*/StructParent (\d+)>>`).FindSubmatch(signed)
		if m == nil {
			t.Fatalf("widget %s has no /StructParent", name)
		}
		if string(m[2]) != fmt.Sprint(i+1) {
			t.Errorf("widget %s /StructParent %s, want %d", name, m[2], i+1)
		}
		form := regexp.MustCompile(` ` + string(m[2]) + ` (\d+) 0 R`).FindSubmatch(nums)
		if form == nil {
			t.Fatalf("parent tree %s has no entry %s", nums, m[2])
		}
		elem := regexp.MustCompile(string(form[1]) + ` 0 obj\n<</Type /StructElem /S /Form /P 6 0 R /Pg 3 0 R /K <</Type /OBJR /Obj ` + string(m[1]) + ` 0 R /Pg 3 0 R>>>>`)
		if !elem.Match(signed) {
			t.Errorf("no Form element %s for widget %s", form[1], m[1])
		}
		if !bytes.Contains(kids, []byte(" "+string(form[1])+" 0 R")) {
			t.Errorf("document element kids %s lack Form element %s", kids, form[1])
		}
	}

	path := filepath.Join(t.TempDir(), "tagged.pdf")
	if err := os.WriteFile(path, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(needTool(t, "pdfinfo"), "-struct", path).CombinedOutput()
	if err != nil || strings.Count(string(out), "Form") != 2 || !strings.Contains(string(out), "Document") {
		t.Errorf("pdfinfo -struct: %v\n%s", err, out)
	}
	got := pdfsig(t, signed, signtestNSS(t, a))
	if !strings.Contains(got, "Signature Validation: Signature is Valid.") || !strings.Contains(got, "Signature Field Name: DocumentTimestamp1") {
		t.Errorf("pdfsig:\n%s", got)
	}
}
