package layouts

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/job"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// decode validates a job built in Go by sending it through job.Decode, as
// a worker would.
func decode(t *testing.T, j *job.Job) *job.Job {
	t.Helper()
	data, err := json.Marshal(j)
	if err != nil {
		t.Fatalf("encode job: %v", err)
	}
	out, err := job.Decode(data)
	if err != nil {
		t.Fatalf("decode job: %v", err)
	}
	return out
}

func lay(t *testing.T, j *job.Job) *Document {
	t.Helper()
	l, ok := Lookup(j.LayoutOrDefault())
	if !ok {
		t.Fatalf("no layout %q", j.LayoutOrDefault())
	}
	d, err := l.Lay(j)
	if err != nil {
		t.Fatalf("lay out: %v", err)
	}
	return d
}

func golden(t *testing.T, name string, d *Document) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".txt")
	got := dump(d)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./layouts -update to create it): %v", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs from the golden file at line %d:\n got %s\nwant %s\n(run go test ./layouts -update if the change is intended)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs from the golden file: %d lines, want %d", path, len(gl), len(wl))
	}
}

// pngURL returns a data: URL of a w×h PNG.
func pngURL(w, h int) string {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 0x80, 0xff})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

func ptr(s string) *string { return &s }

// baseJob is a small valid letter.
func baseJob() *job.Job {
	return &job.Job{
		Schema:     job.Schema,
		ID:         "test-letter",
		Letterhead: job.Letterhead{Name: "Coalición por los Derechos", Lines: []string{"Calle 5 de Mayo 12, Ciudad de México", "+52 55 1234 5678 · info@example.org"}},
		Letter: job.Letter{
			Date:       "2023-01-09",
			Recipients: []job.Person{{Honorific: "H.E.", Name: "Mélanie Joly", Title: "Minister of Foreign Affairs", Organization: "Global Affairs Canada", Address: []string{"125 Sussex Drive", "Ottawa, ON K1A 0G2"}, Country: "Canada"}},
			Subject:    "Protection of asylum seekers",
			Salutation: "Dear Minister Joly:",
			Body:       []job.Block{{Text: ptr("We write to you about the situation at the border.")}},
			Closing:    "Sincerely,",
		},
	}
}

// entries returns n signatory entries with names of varied length.
func entries(n int) []job.Entry {
	words := []string{"Asociación", "Civil", "de", "Derechos", "Humanos", "Comité", "Ciudadano", "Red", "Migrante", "Fundación", "Servicio", "Jesuita", "para", "la", "Justicia", "Center", "for", "Refugee", "Studies"}
	out := make([]job.Entry, n)
	for i := range out {
		k := 1 + (i*7)%6
		var b strings.Builder
		fmt.Fprintf(&b, "Org %d", i+1)
		for w := range k {
			b.WriteString(" " + words[(i*3+w*5)%len(words)])
		}
		out[i].Name = b.String()
	}
	return out
}

func TestNamesMatchJobLayouts(t *testing.T) {
	t.Parallel()
	if got := Names(); !slices.Equal(got, job.Layouts) {
		t.Errorf("Names() = %q, job.Layouts = %q", got, job.Layouts)
	}
	for _, n := range Names() {
		if l, ok := Lookup(n); !ok || l.Name() != n {
			t.Errorf("Lookup(%q) = %v, %v", n, l, ok)
		}
	}
	if _, ok := Lookup("memo"); ok {
		t.Error(`Lookup("memo") found a layout`)
	}
}

func TestReference(t *testing.T) {
	t.Parallel()
	for _, layout := range []string{"joint-statement", "letter"} {
		t.Run(layout, func(t *testing.T) {
			t.Parallel()
			j := loadJob(t, referenceJob)
			j.Layout = layout
			d := lay(t, j)
			checkDoc(t, d)
			checkStrings(t, j, d)
			checkColumns(t, j, d)
			golden(t, "reference-"+layout, d)
			if again := lay(t, j); !reflect.DeepEqual(d, again) {
				t.Error("two layouts of the same job differ")
			}
		})
	}
}

// TestScenarios lays out jobs that exercise one feature each; they must
// keep every invariant and match their golden files.
func TestScenarios(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Donaudampfschifffahrtsgesellschaftskapitän", 2)
	url := "https://www.example.org/reports/2023/migration/" + strings.Repeat("protection-asylum-access-", 6) + "final.pdf"
	mail := "coordinacion.general.de.incidencia.politica.regional@organizacion-de-la-sociedad-civil.example.org"
	tests := []struct {
		name string
		job  func() *job.Job
	}{
		{"one-line-paragraph", baseJob},
		{"640-entries-4-columns", func() *job.Job {
			j := baseJob()
			j.Letter.Signatories = &job.Signatories{Columns: 4, Entries: entries(640)}
			return j
		}},
		{"long-tokens", func() *job.Job {
			j := baseJob()
			j.Letter.Recipients[0].Address = append(j.Letter.Recipients[0].Address, mail)
			j.Letter.Body = []job.Block{
				{Text: ptr("The full report is at " + url + " and questions go to " + mail + ".")},
				{Text: ptr(long + " " + long + long)},
				{List: []string{url, "Write to " + mail}, Numbered: true},
			}
			j.Letter.CC = []job.Person{{Name: mail, Title: url}}
			j.Letter.Signatories = &job.Signatories{Columns: 4, Entries: []job.Entry{
				{Name: long}, {Name: url}, {Name: mail, Members: []string{long, url}, Note: mail},
				{Name: "Short"}, {Name: "Another " + long},
			}}
			return j
		}},
		{"french-embassy-a4", func() *job.Job {
			j := baseJob()
			j.Locale = "fr-FR"
			j.Letterhead = job.Letterhead{Name: "Réseau Solidarité Migrants", Lines: []string{"12 rue de l’Épée, 75005 Paris", "contact@exemple.fr"}, Logo: pngURL(240, 80), Accent: "#1F4E79"}
			j.Letter.Date = "2024-03-01"
			j.Letter.Reference = "Réf. : RSM/2024/017"
			j.Letter.Recipients = []job.Person{{Honorific: "Son Excellence", Name: "Monsieur Stéphane Séjourné", Title: "Ambassadeur", Organization: "Ambassade de France au Mexique", Address: []string{"Campos Elíseos 339", "Col. Polanco, 11560 Ciudad de México"}, Country: "Mexique"}}
			j.Letter.Subject = "Objet : protection des demandeurs d’asile"
			j.Letter.Salutation = "Monsieur l’Ambassadeur,"
			j.Letter.Body = []job.Block{
				{Text: ptr("Nous vous écrivons au sujet de la **protection** des personnes *en exil* et de l’accès à l’asile ; les astérisques \\* restent visibles.")},
				{Heading: ptr("Nos demandes")},
				{List: []string{"Garantir l’accès au territoire.", "Renforcer les voies légales de migration.", "Consulter la société civile."}, Numbered: true},
			}
			j.Letter.Closing = "Veuillez agréer, Monsieur l’Ambassadeur, l’expression de notre très haute considération."
			j.Letter.Signers = []job.Signer{{Name: "Élodie Lefèvre", Title: "Présidente", Organization: "Réseau Solidarité Migrants", Signature: pngURL(300, 100)}, {Name: "François Côté", Title: "Secrétaire général"}}
			j.Letter.CC = []job.Person{{Name: "Mélanie Joly", Title: "Ministre des Affaires étrangères"}}
			j.Letter.Signatories = &job.Signatories{Sort: "alpha", Entries: []job.Entry{{Name: "Œuvre d’Orient"}, {Name: "Élan Interculturel"}, {Name: "Amnesty International France"}, {Name: "Cimade"}, {Name: "Emmaüs"}, {Name: "Écoles sans frontières"}}}
			return j
		}},
		{"greek-cyrillic-vietnamese", func() *job.Job {
			j := baseJob()
			j.Letter.Recipients = []job.Person{
				{Name: "Κυριάκος Μητσοτάκης", Title: "Πρωθυπουργός της Ελλάδας"},
				{Name: "Володимир Зеленський", Title: "Президент України"},
				{Name: "Nguyễn Xuân Phúc", Title: "Chủ tịch nước Cộng hòa xã hội chủ nghĩa Việt Nam"},
			}
			j.Letter.Salutation = "Αγαπητέ κύριε Μητσοτάκη, шановний пане Зеленський, kính gửi Ngài Nguyễn Xuân Phúc:"
			j.Letter.Signatories = &job.Signatories{Entries: []job.Entry{{Name: "Ελληνικό Συμβούλιο για τους Πρόσφυγες"}, {Name: "Громадська організація «Право на захист»"}, {Name: "Trung tâm Hỗ trợ Người di cư Việt Nam"}, {Name: "Comitė Ciudadano"}, {Name: "საქართველოს ახალგაზრდა იურისტთა ასოციაცია"}}}
			return j
		}},
		{"three-signers-side-by-side", func() *job.Job {
			j := baseJob()
			j.Letter.Signers = []job.Signer{
				{Name: "Ana López Hernández", Title: "Coordinadora General", Organization: "Coalición por los Derechos", Signature: pngURL(300, 100)},
				{Name: "Jean-Baptiste Ndayishimiye", Title: "Directeur exécutif", Organization: "Réseau Solidarité Migrants"},
				{Name: "Mary O’Connor", Title: "Executive Director", Organization: "Center for Refugee Studies", Signature: pngURL(120, 100)},
			}
			return j
		}},
		{"five-signers-in-two-rows", func() *job.Job {
			j := baseJob()
			for i := range 5 {
				j.Letter.Signers = append(j.Letter.Signers, job.Signer{Name: fmt.Sprintf("Firmante %d", i+1), Title: "Directora"})
			}
			return j
		}},
		{"country-codes-es", func() *job.Job {
			j := baseJob()
			j.Locale = "es-MX"
			j.Letter.Recipients = []job.Person{
				{Name: "Andrés Manuel López Obrador", Address: []string{"Palacio Nacional", "06066 Ciudad de México"}, Country: "MX"},
				{Name: "Annalena Baerbock", Address: []string{"Werderscher Markt 1", "10117 Berlin"}, Country: "DE"},
				{Name: "Antony Blinken", Address: []string{"2201 C St NW", "Washington, DC 20520"}, Country: "Estados Unidos"},
			}
			return j
		}},
		{"page-numbers-always", func() *job.Job {
			j := baseJob()
			j.Output = &job.Output{PageNumbers: "always"}
			return j
		}},
		{"ten-recipients-subject-a4", func() *job.Job {
			j := baseJob()
			j.PageSize = "a4"
			j.Letter.Recipients = nil
			for i := range 10 {
				j.Letter.Recipients = append(j.Letter.Recipients, job.Person{Honorific: "H.E.", Name: fmt.Sprintf("Minister %d", i+1), Title: "Minister of Foreign Affairs", Organization: "Ministry of Foreign Affairs", Address: []string{"1 Government Square"}})
			}
			j.Letter.Subject = "Protection of asylum seekers along the migratory route through the Americas"
			j.Letter.Body = []job.Block{{Text: ptr(strings.Repeat("We write to you about the situation of people on the move in the region. ", 6))}}
			return j
		}},
		{"group-70-in-4-columns-a4", func() *job.Job {
			j := baseJob()
			j.PageSize = "a4"
			members := make([]string, 70)
			for i := range members {
				members[i] = fmt.Sprintf("Miembro %d", i+1)
				if i%9 == 4 {
					members[i] = fmt.Sprintf("Servicio Albergue para Personas Refugiadas A.C. %d", i+1)
				}
			}
			es := entries(40)
			es = append(es[:20], append([]job.Entry{{Name: "Red Regional de Organizaciones", Members: members, Note: "Secretaría Técnica."}}, es[20:]...)...)
			j.Letter.Signatories = &job.Signatories{Columns: 4, Entries: es}
			return j
		}},
		{"japanese-recipient-chinese-korean-signatories", func() *job.Job {
			j := baseJob()
			j.Letter.Recipients = []job.Person{
				{Honorific: "H.E.", Name: "山田 太郎 (Yamada Tarō)", Title: "Ambassador of Japan", Organization: "日本国大使館", Address: []string{"Calle Paseo de la Reforma 243", "Ciudad de México"}},
				{Name: "王毅", Title: "中华人民共和国外交部部长"},
			}
			j.Letter.Salutation = "Dear Ambassador Yamada:"
			j.Letter.Body = []job.Block{{Text: ptr("We write to you, and to 外務省 (the Ministry of Foreign Affairs), about the situation at the border. 私たちは、国境における庇護申請者の保護について、貴国政府の一層のご尽力をお願い申し上げます。本書簡は、中南米の市民社会団体九十四団体の連名によるものです。")}}
			j.Letter.Signers = []job.Signer{{Name: "李明华", Title: "Director", Organization: "亚洲移民权利中心"}, {Name: "김민준", Title: "대표", Organization: "난민인권센터"}}
			j.Letter.Signatories = &job.Signatories{Columns: 3, Entries: []job.Entry{{Name: "中国移民与难民权益保护协会"}, {Name: "難民支援協会（JAR）"}, {Name: "대한민국 난민인권네트워크"}, {Name: "Comitė Ciudadano"}}}
			return j
		}},
		{"arabic-ministry-rtl", func() *job.Job { return loadJob(t, "../renderer/testdata/jobs/arabic.json") }},
		{"hebrew-ministry-rtl", func() *job.Job { return loadJob(t, "../renderer/testdata/jobs/hebrew.json") }},
		{"latin-with-arabic-and-chinese-signatories", func() *job.Job { return loadJob(t, "../renderer/testdata/jobs/mixed-signatories.json") }},
		{"group-members", func() *job.Job {
			j := baseJob()
			j.Letter.Signatories = &job.Signatories{Heading: "Organizaciones firmantes", Columns: 2, Sort: "alpha", Entries: []job.Entry{
				{Name: "Zeta Colectivo"},
				{Name: "Grupo de Trabajo sobre Política Migratoria", Members: []string{"Sin Fronteras IAP", "Alianza Américas", "Casa del Migrante Saltillo"}, Note: "Secretaría Técnica: Claudia Martínez."},
				{Name: "Árbol de la Vida"},
				{Name: "Asylum Access México"},
			}}
			return j
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := decode(t, tt.job())
			d := lay(t, j)
			checkDoc(t, d)
			checkStrings(t, j, d)
			if j.Letter.Signatories != nil {
				checkColumns(t, j, d)
			}
			golden(t, tt.name, d)
		})
	}
}

// TestKeeps: the subject stays with the salutation and the first two
// lines of the body; the letter of a joint statement follows it on the
// same page unless the statement asks for a new page; one-page letters
// carry no page number unless asked; country codes print as names.
func TestKeeps(t *testing.T) {
	t.Parallel()
	// Subjects pushed down line by line across the page end.
	for n := 0; n < 30; n++ {
		j := baseJob()
		j.PageSize = "a4"
		j.Letter.Recipients = nil
		for i := range 7 + n/6 {
			j.Letter.Recipients = append(j.Letter.Recipients, job.Person{Name: fmt.Sprintf("Minister %d", i+1), Title: "Minister of Foreign Affairs", Address: strings.Split(strings.Repeat("Line\n", n%6), "\n")[:n%6]})
		}
		j.Letter.Subject = "Subject line"
		j.Letter.Salutation = "Dear Ministers,"
		j.Letter.Body = []job.Block{{Text: ptr(strings.Repeat("Body text of the letter that runs on. ", 30))}}
		d := lay(t, decode(t, j))
		pageOf := func(s string) int {
			for p, pg := range d.Pages {
				for _, tx := range pg.Texts {
					if strings.HasPrefix(tx.S, s) {
						return p
					}
				}
			}
			return -1
		}
		if ps, pl := pageOf("Subject line"), pageOf("Dear Ministers,"); ps != pl {
			t.Errorf("%d: subject on page %d, salutation on page %d", n, ps+1, pl+1)
		}
		body := 0
		for _, tx := range d.Pages[pageOf("Dear Ministers,")].Texts {
			if strings.HasPrefix(tx.S, "Body text") {
				body++
			}
		}
		if body < 2 {
			t.Errorf("%d: %d body lines under the salutation on its page", n, body)
		}
	}
	ref := loadJob(t, referenceJob)
	d := lay(t, ref)
	if len(d.Pages) != 4 || !strings.Contains(stream(&Document{Pages: d.Pages[:1], Height: d.Height}), fold("Joseph Biden")) {
		t.Errorf("reference: %d pages, want 4 with the letter starting on page 1", len(d.Pages))
	}
	ref = loadJob(t, referenceJob)
	ref.Statement.LetterNewPage = true
	d = lay(t, ref)
	if strings.Contains(stream(&Document{Pages: d.Pages[:1], Height: d.Height}), fold("Joseph Biden")) {
		t.Error("letter_new_page: the letter starts on the statement's page")
	}
	one := lay(t, decode(t, baseJob()))
	for _, tx := range one.Pages[0].Texts {
		if strings.Contains(tx.S, "Page") {
			t.Errorf("one-page letter numbered: %q", tx.S)
		}
	}
	j := baseJob()
	j.Output = &job.Output{PageNumbers: "always"}
	if texts := lay(t, decode(t, j)).Pages[0].Texts; texts[len(texts)-1].S != "Page 1 of 1" {
		t.Error(`page_numbers "always": no page number`)
	}
	for _, tt := range []struct{ locale, code, want string }{
		{"es-MX", "MX", "México"}, {"fr-FR", "MX", "Mexique"}, {"de-DE", "MX", "Mexiko"}, {"en-US", "DE", "Germany"},
		{"en-US", "Mexico", "Mexico"}, {"en-US", "XX", "XX"}, {"en-US", "mx", "mx"},
	} {
		j := baseJob()
		j.Locale = tt.locale
		j.Letter.Recipients[0].Country = tt.code
		d := lay(t, decode(t, j))
		found := false
		for _, tx := range d.Pages[0].Texts {
			found = found || tx.S == tt.want
		}
		if !found {
			t.Errorf("%s, country %q: %q not printed", tt.locale, tt.code, tt.want)
		}
	}
}

func TestConcurrentLaysAgree(t *testing.T) {
	t.Parallel()
	j := loadJob(t, referenceJob)
	want := dump(lay(t, j))
	got := make([]string, 4)
	done := make(chan int)
	for i := range got {
		go func() {
			l, _ := Lookup(j.LayoutOrDefault())
			if d, err := l.Lay(j); err == nil {
				got[i] = dump(d)
			}
			done <- i
		}()
	}
	for range got {
		<-done
	}
	for i, g := range got {
		if g != want {
			t.Errorf("concurrent layout %d differs from the sequential one", i)
		}
	}
}

func TestEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		job   func() *job.Job
		check func(t *testing.T, d *Document)
	}{
		{"long letterhead name is cut in the running header", func() *job.Job {
			j := baseJob()
			j.Letterhead.Name = strings.Repeat("Coordinadora Nacional de Organizaciones ", 6)
			j.Letter.Body = []job.Block{{Text: ptr(strings.Repeat("Una frase para llenar la página. ", 200))}}
			return j
		}, func(t *testing.T, d *Document) {
			if len(d.Pages) < 2 || !strings.HasSuffix(d.Pages[1].Texts[0].S, "…") {
				t.Errorf("running header not cut: %q", d.Pages[1].Texts[0].S)
			}
		}},
		{"tall logo pushes the rule down", func() *job.Job {
			j := baseJob()
			j.Letterhead.Lines = nil
			j.Letterhead.Logo = pngURL(50, 100)
			return j
		}, func(t *testing.T, d *Document) {
			im, r := d.Pages[0].Images[0], d.Pages[0].Rules[0]
			if im.H != 44 || im.W != 22 || r.Y1 <= im.Y+im.H {
				t.Errorf("logo %.1fx%.1f at y %.1f, rule at %.1f", im.W, im.H, im.Y, r.Y1)
			}
		}},
		{"no date prints none", func() *job.Job {
			j := baseJob()
			j.Letter.Date = ""
			return j
		}, func(t *testing.T, d *Document) {
			for _, tx := range d.Pages[0].Texts {
				if strings.Contains(tx.S, "2023") {
					t.Errorf("a date is printed: %q", tx.S)
				}
			}
		}},
		{"fifty recipients flow over pages", func() *job.Job {
			j := baseJob()
			j.Letter.Recipients = nil
			for i := range 50 {
				j.Letter.Recipients = append(j.Letter.Recipients, job.Person{Name: fmt.Sprintf("Ministra %d", i+1), Title: "Ministerio de Relaciones Exteriores", Address: []string{"Avenida Central 1"}})
			}
			return j
		}, func(t *testing.T, d *Document) {
			if len(d.Pages) < 3 {
				t.Errorf("%d pages for 50 recipients", len(d.Pages))
			}
		}},
		{"group taller than a column is split", func() *job.Job {
			j := baseJob()
			members := make([]string, 200)
			for i := range members {
				members[i] = fmt.Sprintf("Miembro %d", i+1)
			}
			j.Letter.Signatories = &job.Signatories{Entries: []job.Entry{{Name: "Red grande", Members: members}, {Name: "Después"}}}
			return j
		}, func(t *testing.T, d *Document) {
			if len(d.Pages) < 2 {
				t.Errorf("%d pages for a group of 200", len(d.Pages))
			}
		}},
		{"legal paper with six columns clamped", func() *job.Job {
			j := baseJob()
			j.PageSize = "legal"
			j.Letter.Signatories = &job.Signatories{Columns: 6, Entries: entries(100)}
			return j
		}, func(t *testing.T, d *Document) {
			if d.Height != 1008 {
				t.Errorf("page height %g, want 1008", d.Height)
			}
		}},
		{"statement in the letter layout", func() *job.Job {
			j := loadJob(t, referenceJob)
			j.Layout = "letter"
			return j
		}, func(t *testing.T, d *Document) {
			if !strings.Contains(stream(d), fold("JOINT STATEMENT")) {
				t.Error("statement not printed")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := decode(t, tt.job())
			d := lay(t, j)
			checkDoc(t, d)
			checkStrings(t, j, d)
			if j.Letter.Signatories != nil {
				checkColumns(t, j, d)
			}
			tt.check(t, d)
		})
	}
}
