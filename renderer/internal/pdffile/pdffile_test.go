package pdffile

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// minimal is a one-page PDF with a classic cross-reference table.
func minimal() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := []int{}
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	obj("<</Type /Catalog /Pages 2 0 R>>")
	obj("<</Type /Pages /Kids [3 0 R] /Count 1>>")
	obj("<</Type /Page /Parent 2 0 R /MediaBox [0 0 200 200]>>")
	obj("<</Producer (test)>>")
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<<\n/Size %d\n/Root 1 0 R\n/Info 4 0 R\n>>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, x)
	return b.Bytes()
}

func TestUpdateRoundTrip(t *testing.T) {
	p, err := Parse(minimal())
	if err != nil {
		t.Fatal(err)
	}
	if p.Size != 5 || p.Root != "1 0 R" || p.Info != "4 0 R" || p.ID != "" || p.Prev {
		t.Fatalf("parsed %+v", p)
	}
	if o, err := p.Object(3); err != nil || !bytes.HasPrefix(o, []byte("<</Type /Page ")) {
		t.Fatalf("object 3 = %q, %v", o, err)
	}
	if o, err := p.Object(9); o != nil || err != nil {
		t.Errorf("object 9 = %q, %v; want none", o, err)
	}
	u := p.Update()
	n := u.New()
	u.Stream(n, "/Type /Metadata /Subtype /XML", []byte("<x/>"))
	u.Object(1, []byte(fmt.Sprintf("<</Type /Catalog /Pages 2 0 R /Metadata %d 0 R>>", n)))
	out, err := u.Finish(Trailer{ID: "[<00> <00>]"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if q.Size != 6 || q.ID != "[<00> <00>]" || q.Info != "4 0 R" || !q.Prev {
		t.Errorf("updated trailer %+v", q)
	}
	if o, _ := q.Object(1); !bytes.Contains(o, []byte("/Metadata 5 0 R")) {
		t.Errorf("new catalog = %q", o)
	}
	if _, err := exec.LookPath("qpdf"); err == nil {
		path := filepath.Join(t.TempDir(), "u.pdf")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil || bytes.Contains(b, []byte("WARNING")) {
			t.Errorf("qpdf --check: %v\n%s", err, b)
		}
	}
	u = q.Update()
	u.Object(2, []byte("<<>>"))
	u.Object(2, []byte("<<>>"))
	if _, err := u.Finish(Trailer{}); err == nil || !strings.Contains(err.Error(), "written twice") {
		t.Errorf("an object written twice: %v", err)
	}
}

func TestAppendXRefEntry(t *testing.T) {
	for _, off := range []int{0, 9, 1234567890, 42} {
		got := string(appendXRefEntry(nil, off))
		if want := fmt.Sprintf("%010d 00000 n \n", off); got != want {
			t.Errorf("%d: %q, want %q", off, got, want)
		}
	}
}

func TestRefNum(t *testing.T) {
	if n, err := RefNum("61 0 R"); n != 61 || err != nil {
		t.Errorf("RefNum = %d, %v", n, err)
	}
	for _, bad := range []string{"61 1 R", "61 0", "x 0 R", ""} {
		if _, err := RefNum(bad); err == nil {
			t.Errorf("RefNum(%q) accepted", bad)
		}
	}
}

func TestLatestFollowsPrev(t *testing.T) {
	b := minimal()
	p, err := Parse(bytes.Clone(b))
	if err != nil {
		t.Fatal(err)
	}
	u := p.Update()
	u.Object(1, []byte("<</Type /Catalog /Pages 2 0 R /Lang (en)>>"))
	out, err := u.Finish(Trailer{})
	if err != nil {
		t.Fatal(err)
	}
	// A second update, as signing adds.
	q, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	u = q.Update()
	u.Object(3, []byte("<</Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots []>>"))
	out, err = u.Finish(Trailer{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		num  int
		want string // "" for none
	}{
		{1, "/Lang (en)"},       // second section
		{2, "/Type /Pages"},     // first section
		{3, "/Annots []"},       // last section
		{4, "/Producer (test)"}, // first section
		{9, ""},                 // nowhere
	} {
		o, err := r.Latest(c.num)
		if err != nil || (c.want == "") != (o == nil) || !bytes.Contains(o, []byte(c.want)) {
			t.Errorf("Latest(%d) = %q, %v; want one with %q", c.num, o, err, c.want)
		}
	}
	prev, err := r.Previous()
	if err != nil || prev == nil || prev.XRef != q.XRef || prev.PrevXRef != p.XRef {
		t.Fatalf("Previous = %+v, %v; want the section at %d with /Prev %d", prev, err, q.XRef, p.XRef)
	}
	if first, err := prev.Previous(); err != nil || first == nil || first.PrevXRef != -1 {
		t.Errorf("first section = %+v, %v", first, err)
	}

	// A /Prev pointing forward (or at itself) is refused, not followed.
	bad := bytes.Replace(out, []byte(fmt.Sprintf("/Prev %d\n", q.XRef)), []byte(fmt.Sprintf("/Prev %d\n", r.XRef)), 1)
	s, err := Parse(bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Latest(4); err == nil || !strings.Contains(err.Error(), "bad /Prev") {
		t.Errorf("a looping /Prev: %v", err)
	}
}

func TestUpdateCopyLeavesTheFile(t *testing.T) {
	orig := minimal()
	b := make([]byte, len(orig), len(orig)+64) // room to append in place
	copy(b, orig)
	p, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	u := p.UpdateCopy(100)
	at := u.Object(1, []byte("<</Type /Catalog /Pages 2 0 R /Lang (en)>>"))
	if at != len(orig)+len("1 0 obj\n") || u.Len() != at+len("<</Type /Catalog /Pages 2 0 R /Lang (en)>>\nendobj\n") {
		t.Errorf("content at %d, update length %d", at, u.Len())
	}
	out, err := u.Finish(Trailer{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[:cap(b)], append(bytes.Clone(orig), make([]byte, 64)...)) || !bytes.Equal(p.B, orig) {
		t.Error("UpdateCopy changed the parsed file")
	}
	if got := out[at : at+len("<</Type /Catalog")]; string(got) != "<</Type /Catalog" {
		t.Errorf("content at the offset Object returned: %q", got)
	}
}
