package renderer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/carta-letters/carta/fonts"
	"github.com/carta-letters/carta/layouts"
	"github.com/carta-letters/carta/renderer/job"
	"github.com/carta-letters/carta/renderer/pdf"
)

// Provenance says which job, layout, fonts and program made a PDF. Each
// PDF carries it in its XMP metadata (pdfinfo -meta shows it), as the
// properties carta:jobId, carta:jobSHA256, carta:layout,
// carta:layoutVersion, carta:fonts, carta:fontModules and carta:version
// of the namespace pdf.XMPNamespace; the queue copies it into the stored
// object's metadata. It is the PDF writer's type, so that the renderer
// hands it over as it is; its fields are documented there.
type Provenance = pdf.Provenance

// CanonicalJob returns the canonical form of a job: its JSON encoding by
// encoding/json's Marshal, with every string in Unicode NFC. Fields come
// in the order of job.Job's definition, named by their json tags; empty
// optional fields are left out; there is no insignificant white space;
// "<", ">" and "&" in strings are written as \u003c, \u003e and \u0026.
// So two submissions of the same job that differ only in key order,
// white space, string escapes or the normalisation form of their text
// have the same canonical form. Defaults are not filled in: a job that
// leaves out "layout" and one that names "letter" differ.
func CanonicalJob(j *job.Job) ([]byte, error) {
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("encode job: %w", err)
	}
	// A decoded job is NFC already (job.Decode normalises it), and then
	// this only checks. JSON's syntax characters are starters that
	// combine with nothing, so normalising the whole text is the same as
	// normalising each string.
	if !norm.NFC.IsNormal(b) {
		b = norm.NFC.Bytes(b)
	}
	return b, nil
}

// CanonicalJobSHA256 returns the lowercase hex SHA-256 of CanonicalJob(j):
// the same value as Provenance.JobSHA256 of every PDF rendered from j.
func CanonicalJobSHA256(j *job.Job) (string, error) {
	b, err := CanonicalJob(j)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// jobProvenance returns the provenance every PDF of j shares: all but
// Fonts, which write fills in for each document.
func jobProvenance(j *job.Job, l layouts.Layout) (Provenance, error) {
	sum, err := CanonicalJobSHA256(j)
	if err != nil {
		return Provenance{}, err
	}
	return Provenance{
		JobID:         j.ID,
		JobSHA256:     sum,
		Layout:        l.Name(),
		LayoutVersion: l.Version(),
		FontModules:   fonts.Modules,
		CartaVersion:  Version,
	}, nil
}

// fontsUsed lists the families of the faces doc draws with, in order of
// first use, each with its font file's version: "Liberation Serif 2.1.4,
// DejaVu Sans 2.37". Styles of one family with one version are listed
// once.
func fontsUsed(doc *layouts.Document) string {
	var faces []*fonts.Face
	var last *fonts.Face
	for pi := range doc.Pages {
		texts := doc.Pages[pi].Texts
		for ti := range texts {
			f := texts[ti].Face
			if f == last || f == nil {
				continue
			}
			last = f
			if !slices.Contains(faces, f) {
				faces = append(faces, f)
			}
		}
	}
	var names []string
	for _, f := range faces {
		name := f.FamilyName()
		if name == "" {
			name = f.Name()
		}
		if v := f.Version(); v != "" {
			name += " " + v
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}
