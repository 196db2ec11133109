package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/text/unicode/norm"

	"github.com/carta-letters/carta/queue/client"
)

// entry is one recorded result in the index.
type entry struct {
	res  client.Result
	fold string // id, title and recipients, folded for search
}

// index holds every result of the results bucket, newest first, kept up
// to date by a key-value watcher.
type index struct {
	mu     sync.RWMutex
	byID   map[string]*entry
	order  []*entry // newest first: FinishedAt descending, then ID ascending
	synced bool     // the initial values have all been read
	onPut  func(id string)
}

func newIndex() *index { return &index{byID: map[string]*entry{}} }

// before reports whether a sorts before b: newer first, then by id.
func before(a, b *client.Result) bool {
	if !a.FinishedAt.Equal(b.FinishedAt) {
		return a.FinishedAt.After(b.FinishedAt)
	}
	return a.ID < b.ID
}

func (ix *index) put(res client.Result) {
	if res.ID == "" {
		return
	}
	e := &entry{res: res, fold: fold(res.ID + "\n" + res.Title + "\n" + strings.Join(res.Recipients, "\n"))}
	ix.mu.Lock()
	if old, ok := ix.byID[res.ID]; ok {
		ix.removeLocked(old)
	}
	ix.byID[res.ID] = e
	i, _ := slices.BinarySearchFunc(ix.order, e, func(x, y *entry) int {
		switch {
		case before(&x.res, &y.res):
			return -1
		case before(&y.res, &x.res):
			return 1
		}
		return 0
	})
	ix.order = slices.Insert(ix.order, i, e)
	onPut := ix.onPut
	ix.mu.Unlock()
	if onPut != nil {
		onPut(res.ID)
	}
}

func (ix *index) removeLocked(e *entry) {
	i := slices.Index(ix.order, e)
	if i >= 0 {
		ix.order = slices.Delete(ix.order, i, i+1)
	}
	delete(ix.byID, e.res.ID)
}

func (ix *index) remove(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if e, ok := ix.byID[id]; ok {
		ix.removeLocked(e)
	}
}

func (ix *index) get(id string) (client.Result, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	e, ok := ix.byID[id]
	if !ok {
		return client.Result{}, false
	}
	return e.res, true
}

func (ix *index) setSynced() {
	ix.mu.Lock()
	ix.synced = true
	ix.mu.Unlock()
}

func (ix *index) isSynced() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.synced
}

// query is a listing request.
type query struct {
	text   string  // search text; every word must match
	status string  // "", "done" or "failed"
	after  *cursor // start after this position
	limit  int
}

// page is a listing answer.
type page struct {
	items []client.Result
	total int     // results matching text and status, on all pages
	next  *cursor // position to continue from, nil on the last page
}

// cursor is a position in the order: just after (FinishedAt, ID).
type cursor struct {
	at time.Time
	id string
}

// encode returns the cursor as an opaque URL-safe string.
func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.at.UnixNano(), 10) + "~" + c.id))
}

func decodeCursor(s string) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not a cursor from this API")
	}
	ns, id, ok := strings.Cut(string(b), "~")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return nil, errors.New("not a cursor from this API")
	}
	return &cursor{at: time.Unix(0, n).UTC(), id: id}, nil
}

func (ix *index) list(q query) page {
	words := strings.Fields(fold(q.text))
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	start := 0
	if q.after != nil {
		pos := client.Result{FinishedAt: q.after.at, ID: q.after.id}
		// first entry that sorts after the cursor position
		start, _ = slices.BinarySearchFunc(ix.order, &pos, func(e *entry, p *client.Result) int {
			if before(&e.res, p) || (e.res.ID == p.ID && e.res.FinishedAt.Equal(p.FinishedAt)) {
				return -1
			}
			return 1
		})
	}
	var pg page
	matches := func(e *entry) bool {
		if q.status != "" && string(e.res.Status) != q.status {
			return false
		}
		for _, w := range words {
			if !strings.Contains(e.fold, w) {
				return false
			}
		}
		return true
	}
	for i, e := range ix.order {
		if !matches(e) {
			continue
		}
		pg.total++
		if i < start {
			continue
		}
		if len(pg.items) < q.limit {
			pg.items = append(pg.items, e.res)
		} else if pg.next == nil {
			last := pg.items[len(pg.items)-1]
			pg.next = &cursor{at: last.FinishedAt, id: last.ID}
		}
	}
	return pg
}

// fold lowercases s and strips its accents, for matching searches:
// fold("López Obrador") = "lopez obrador".
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return norm.NFC.String(b.String())
}

// watch keeps ix up to date with the results bucket until ctx is done.
// It waits for the bucket to exist (the worker creates it) and watches
// again if the watcher stops.
func (ix *index) watch(ctx context.Context, js jetstream.JetStream, bucket string, log *slog.Logger) {
	const retry = time.Second
	warned := false
	for ctx.Err() == nil {
		kv, err := js.KeyValue(ctx, bucket)
		if err != nil {
			if errors.Is(err, jetstream.ErrBucketNotFound) {
				// No worker has run yet: nothing to list, and that is the truth.
				ix.setSynced()
			} else if !warned {
				log.Warn("watch results: open bucket", "bucket", bucket, "err", err)
				warned = true
			}
			sleep(ctx, retry)
			continue
		}
		if err := ix.follow(ctx, kv, log); err != nil && ctx.Err() == nil {
			log.Warn("watch results", "bucket", bucket, "err", err)
			sleep(ctx, retry)
		}
	}
}

// follow reads the bucket's values, then its updates, until ctx is done
// or the watcher ends.
func (ix *index) follow(ctx context.Context, kv jetstream.KeyValue, log *slog.Logger) error {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("start watcher: %w", err)
	}
	defer w.Stop() //nolint:errcheck // best effort
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("watcher stopped")
			}
			if e == nil { // the initial values are all in
				ix.setSynced()
				continue
			}
			switch e.Operation() {
			case jetstream.KeyValueDelete, jetstream.KeyValuePurge:
				// The key is the id's token; find the id it stands for.
				ix.remove(client.IDOfToken(e.Key()))
			default:
				var res client.Result
				if err := json.Unmarshal(e.Value(), &res); err != nil {
					log.Warn("watch results: skip undecodable result", "key", e.Key(), "err", err)
					continue
				}
				ix.put(res)
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
