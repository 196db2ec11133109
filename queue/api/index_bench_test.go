package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/carta-letters/carta/queue/client"
)

// BenchmarkList lists a page of an index of 100,000 letters: the default
// order (sorted once, then shared), a search, and a filter by status.
func BenchmarkList(b *testing.B) {
	ix := newIndex()
	now := time.Now().UTC()
	names := []string{"Mélanie Joly", "Justin Trudeau", "Andrés Manuel López Obrador"}
	for i := range 100_000 {
		st := client.StatusDone
		if i%10 == 0 {
			st = client.StatusFailed
		}
		ix.put(client.Result{ID: fmt.Sprintf("letter-%06d", i), Status: st, Title: fmt.Sprintf("Joint letter %d", i),
			Recipients: []string{names[i%3]}, Date: fmt.Sprintf("2023-%02d-%02d", 1+i%12, 1+i%28), FinishedAt: now.Add(-time.Duration(i) * time.Second)})
	}
	for _, q := range []query{{limit: 50}, {text: "lopez", limit: 50}, {status: "failed", sort: "-date", limit: 50}} {
		b.Run(fmt.Sprintf("q=%q,status=%q,sort=%q", q.text, q.status, q.sort), func(b *testing.B) {
			for b.Loop() {
				if pg := ix.list(q); len(pg.items) != 50 {
					b.Fatalf("%d items", len(pg.items))
				}
			}
		})
	}
}
