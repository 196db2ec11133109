package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/renderer/job"
)

// malformedJob is one job of the malformed-job corpus and the problem
// its refusal must name.
type malformedJob struct {
	name    string
	data    []byte
	field   string // the field the error must name ("" for the job as a whole)
	message string // a fragment of that problem's message
}

// malformedCorpus reads renderer/job/testdata/invalid and its cases.json
// and adds generated jobs too large to keep in testdata.
func malformedCorpus(t *testing.T) []malformedJob {
	t.Helper()
	dir := filepath.Join("..", "..", "renderer", "job", "testdata", "invalid")
	raw, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct{ Field, Message string }
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("parse cases.json: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want)+1 {
		t.Errorf("%s has %d job files for %d entries in cases.json", dir, len(files)-1, len(want))
	}
	var cases []malformedJob
	for _, name := range slices.Sorted(maps.Keys(want)) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("cases.json names %s: %v", name, err)
		}
		cases = append(cases, malformedJob{strings.TrimSuffix(name, ".json"), data, want[name].Field, want[name].Message})
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases in %s", len(cases), dir)
	}
	pad := func(n int) []byte {
		j := []byte(smallJob("too-big"))
		return append(j, bytes.Repeat([]byte(" "), n-len(j))...)
	}
	return append(cases,
		malformedJob{"generated-over-job-limit", pad(job.MaxJobBytes + 1), "", ""},
		malformedJob{"generated-four-times-the-limit", pad(4 * job.MaxJobBytes), "", ""})
}

// TestMalformedCorpus posts every job of the malformed-job corpus to
// POST /v1/jobs: each is refused with 400 naming the field cases.json
// expects (413 for one over job.MaxJobBytes), and nothing reaches the
// jobs stream.
func TestMalformedCorpus(t *testing.T) {
	t.Parallel()
	nc := startNATS(t)
	setupQueue(t, nc)
	h := startAPI(t, nc, api.Config{})
	h.waitReady(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(context.Background(), queue.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	msgs := func() uint64 {
		info, err := stream.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}

	t.Run("refused", func(t *testing.T) {
		for _, tc := range malformedCorpus(t) {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				resp := h.do(t, "POST", "/v1/jobs", submitSecret, bytes.NewReader(tc.data))
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
				var e struct {
					Error  string              `json:"error"`
					Fields []client.FieldError `json:"fields"`
				}
				decodeBody(t, resp, &e)
				if len(tc.data) > job.MaxJobBytes {
					if resp.StatusCode != http.StatusRequestEntityTooLarge {
						t.Fatalf("POST %d bytes = %d %+v, want 413", len(tc.data), resp.StatusCode, e)
					}
					if want := fmt.Sprint(job.MaxJobBytes); !strings.Contains(e.Error, want) {
						t.Errorf("413 error %q does not give the limit %s", e.Error, want)
					}
					return
				}
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("POST = %d %+v, want 400", resp.StatusCode, e)
				}
				if e.Error == "" {
					t.Errorf("400 body has no error")
				}
				for _, f := range e.Fields {
					if f.Field == tc.field && strings.Contains(f.Message, tc.message) {
						return
					}
				}
				t.Errorf("fields %+v lack %q with a message containing %q", e.Fields, tc.field, tc.message)
			})
		}
	})

	if n := msgs(); n != 0 {
		t.Errorf("jobs stream has %d messages after the corpus, want 0", n)
	}
	// A valid job does reach the stream, so the count above can tell.
	resp := h.do(t, "POST", "/v1/jobs", submitSecret, strings.NewReader(smallJob("corpus-control")))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST valid job = %d %s, want 202", resp.StatusCode, readAll(t, resp.Body))
	}
	if n := msgs(); n != 1 {
		t.Errorf("jobs stream has %d messages after a valid job, want 1", n)
	}
}
