package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/renderer/job"
	"github.com/carta-letters/carta/renderer/job/jobtest"
)

// malformedCorpus is the malformed-job corpus (see jobtest) with
// generated jobs too large to keep in testdata.
func malformedCorpus(t *testing.T) []jobtest.Case {
	t.Helper()
	j := []byte(smallJob("too-big"))
	return append(jobtest.Corpus(t),
		jobtest.Case{Name: "generated-over-job-limit", Data: jobtest.Padded(j, job.MaxJobBytes+1)},
		jobtest.Case{Name: "generated-four-times-the-limit", Data: jobtest.Padded(j, 4*job.MaxJobBytes)})
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
			t.Run(tc.Name, func(t *testing.T) {
				t.Parallel()
				resp := h.do(t, "POST", "/v1/jobs", submitSecret, bytes.NewReader(tc.Data))
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
				var e struct {
					Error  string              `json:"error"`
					Fields []client.FieldError `json:"fields"`
				}
				decodeBody(t, resp, &e)
				if len(tc.Data) > job.MaxJobBytes {
					if resp.StatusCode != http.StatusRequestEntityTooLarge {
						t.Fatalf("POST %d bytes = %d %+v, want 413", len(tc.Data), resp.StatusCode, e)
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
					if f.Field == tc.Field && strings.Contains(f.Message, tc.Message) {
						return
					}
				}
				t.Errorf("fields %+v lack %q with a message containing %q", e.Fields, tc.Field, tc.Message)
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
