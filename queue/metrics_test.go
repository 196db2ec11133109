package queue_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue"
)

// The worker settles a message (ack, nak or term) and only then counts
// it in carta_jobs_total, and carta_jobs_in_flight drops when the
// handler returns: a test that has just seen a result event, or a
// settled consumer, may read the metrics a moment too early. These
// helpers poll until the expected value is there, with a deadline.

// metricsWait is how long the helpers wait for a metric to reach its
// expected value; only a failing test waits that long.
const metricsWait = 30 * time.Second

// waitCounter waits until counter(t, w, name, labels...) is want and
// returns the last value read: want, or whatever it was at the deadline.
func waitCounter(t *testing.T, w *queue.Worker, want float64, name string, labels ...string) float64 {
	t.Helper()
	deadline := time.Now().Add(metricsWait)
	for {
		got := counter(t, w, name, labels...)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitMetricsBody fetches url (a /metrics endpoint) until its body has
// every line of want (whole lines, so "x 1" is not found in "x 10"), and returns the lines it still lacks at the
// deadline (none when all were found) with the last body.
func waitMetricsBody(t *testing.T, url string, want []string) (missing []string, body string) {
	t.Helper()
	deadline := time.Now().Add(metricsWait)
	for {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		body, missing = string(b), nil
		lines := map[string]bool{}
		for _, l := range strings.Split(body, "\n") {
			lines[l] = true
		}
		for _, line := range want {
			if !lines[line] {
				missing = append(missing, line)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			return missing, body
		}
		time.Sleep(20 * time.Millisecond)
	}
}
