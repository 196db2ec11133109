package layouts

import (
	"fmt"
	"strings"
	"testing"

	"github.com/carta-letters/carta/renderer/job"
)

// sweep returns letters whose body starts with k one-line filler
// paragraphs and whose recipient has m extra address lines, so that what
// follows the fillers lands at every height of the first pages.
func sweep(t *testing.T, tail func(j *job.Job)) []*job.Job {
	var out []*job.Job
	for k := range 40 {
		for m := range 2 {
			j := baseJob()
			j.Letter.Recipients[0].Address = append(j.Letter.Recipients[0].Address, make([]string, m)...)
			for i := range m {
				j.Letter.Recipients[0].Address[2+i] = fmt.Sprintf("Floor %d", i+1)
			}
			j.Letter.Body = nil
			for i := range k {
				j.Letter.Body = append(j.Letter.Body, job.Block{Text: ptr(fmt.Sprintf("Filler paragraph %d.", i+1))})
			}
			tail(j)
			out = append(out, decode(t, j))
		}
	}
	return out
}

// tagged returns a paragraph of n words, each starting with tag.
func tagged(tag string, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = fmt.Sprintf("%sw%d", tag, i)
	}
	return strings.Join(w, " ")
}

// linesByPage counts, per page, the runs whose text starts with tag.
func linesByPage(d *Document, tag string) map[int]int {
	out := map[int]int{}
	for p, pg := range d.Pages {
		for _, tx := range pg.Texts {
			if strings.HasPrefix(tx.S, tag) {
				out[p]++
			}
		}
	}
	return out
}

func TestNoWidowsOrOrphans(t *testing.T) {
	t.Parallel()
	tags := []string{"pa", "pb", "pc", "pd"}
	jobs := sweep(t, func(j *job.Job) {
		j.Letter.Body = append(j.Letter.Body,
			job.Block{Text: ptr(tagged(tags[0], 70))},
			job.Block{Text: ptr(tagged(tags[1], 30))},
			job.Block{List: []string{tagged(tags[2], 45), tagged(tags[3], 60)}},
		)
	})
	for n, j := range jobs {
		d := lay(t, j)
		checkDoc(t, d)
		for _, tag := range tags {
			total := 0
			byPage := linesByPage(d, tag)
			for _, c := range byPage {
				total += c
			}
			for p, c := range byPage {
				if len(byPage) > 1 && c < 2 {
					t.Errorf("job %d: paragraph %s has %d of its %d lines alone on page %d", n, tag, c, total, p+1)
				}
			}
		}
	}
}

func TestHeadingKeptWithNext(t *testing.T) {
	t.Parallel()
	jobs := sweep(t, func(j *job.Job) {
		j.Letter.Body = append(j.Letter.Body, job.Block{Heading: ptr("hh Heading")}, job.Block{Text: ptr(tagged("hp", 60))})
	})
	moved := 0
	for n, j := range jobs {
		d := lay(t, j)
		hp := linesByPage(d, "hp")
		for p := range d.Pages {
			if linesByPage(d, "hh")[p] == 0 {
				continue
			}
			if hp[p] < 2 {
				t.Errorf("job %d: heading on page %d with %d lines of its paragraph", n, p+1, hp[p])
			}
			if p > 0 {
				moved++
			}
		}
	}
	if moved == 0 {
		t.Error("no job put the heading past the first page: the sweep tests nothing")
	}
}

func TestClosingKeptWithSigner(t *testing.T) {
	t.Parallel()
	jobs := sweep(t, func(j *job.Job) {
		j.Letter.Body = append(j.Letter.Body, job.Block{Text: ptr(tagged("cp", 40))})
		j.Letter.Closing = "cl Sincerely,"
		j.Letter.Signers = []job.Signer{{Name: "sg Ana Pérez", Title: "Directora", Signature: pngURL(90, 30)}}
	})
	for n, j := range jobs {
		d := lay(t, j)
		checkDoc(t, d)
		cl, sg := linesByPage(d, "cl"), linesByPage(d, "sg")
		for p := range cl {
			if sg[p] == 0 {
				t.Errorf("job %d: closing on page %d, its signer elsewhere", n, p+1)
			}
			for _, im := range d.Pages[p].Images {
				if im.Name != "signature-1" {
					t.Errorf("job %d: unexpected image %s", n, im.Name)
				}
			}
			if len(d.Pages[p].Images) != 1 {
				t.Errorf("job %d: signature not on the closing's page %d", n, p+1)
			}
		}
	}
}
