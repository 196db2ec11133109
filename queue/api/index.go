package api

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/text/unicode/norm"

	"github.com/carta-letters/carta/queue/client"
)

// Submission is what a `serve` instance records in the submissions
// bucket (Config.SubmissionsBucket) when it queues a job: enough to list
// the job while it is queued, on every instance, and the failed results
// of the earlier submissions of the same id (the history of attempts).
type Submission struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Recipients []string  `json:"recipients"`
	Date       string    `json:"date,omitempty"`
	Layout     string    `json:"layout,omitempty"`
	QueuedAt   time.Time `json:"queued_at"` // when this instance queued it, UTC
	By         string    `json:"by"`        // the token's name
	// Previous are the failed results of earlier submissions of this
	// id, oldest first; the last is the one this submission replaces.
	Previous []client.Result `json:"previous,omitempty"`
}

// queuedNow reports whether sub is waiting for a result, given the
// recorded result res: there is none, or it is the one the submission
// replaces.
func queuedNow(sub *Submission, res *client.Result) bool {
	if sub == nil {
		return false
	}
	if res == nil {
		return true
	}
	if len(sub.Previous) == 0 {
		return false
	}
	last := sub.Previous[len(sub.Previous)-1]
	return res.Status == last.Status && res.FinishedAt.Equal(last.FinishedAt) && res.Attempts == last.Attempts
}

// view is what the index knows of one id: its recorded result, its
// submission, and the row shown for it.
type view struct {
	res *client.Result
	sub *Submission
	row client.Result // the result, or a queued placeholder
	at  time.Time     // FinishedAt, or QueuedAt while queued
	// sort keys
	fold     string // id, title and recipients, folded for search
	foldT    string // title folded, for sorting
	atKey    string
	queuedAt time.Time
}

// statusQueued is the row status of a queued job.
const statusQueued client.Status = StatusQueued

func newView(res *client.Result, sub *Submission) *view {
	v := &view{res: res, sub: sub}
	switch {
	case queuedNow(sub, res):
		v.row = client.Result{ID: sub.ID, Status: statusQueued, Title: sub.Title, Recipients: sub.Recipients,
			Date: sub.Date, Layout: sub.Layout}
		v.at, v.queuedAt = sub.QueuedAt, sub.QueuedAt
	case res != nil:
		v.row = *res
		v.at = res.FinishedAt
	default:
		return nil
	}
	if v.row.Recipients == nil {
		v.row.Recipients = []string{}
	}
	v.fold = fold(v.row.ID + "\n" + v.row.Title + "\n" + strings.Join(v.row.Recipients, "\n"))
	t := v.row.Title
	if len(t) > 200 {
		t = t[:200]
	}
	v.foldT = fold(t)
	v.atKey = v.at.UTC().Format("2006-01-02T15:04:05.000000000Z")
	return v
}

// index holds every result of the results bucket and every submission
// of the submissions bucket, kept up to date by two key-value watchers.
// The buckets are the truth: every `serve` instance has the same index.
type index struct {
	mu      sync.RWMutex
	res     map[string]*client.Result
	subs    map[string]*Submission
	views   map[string]*view
	synced  [2]bool // results, submissions: initial values all read
	version uint64  // bumped on every change

	cacheMu sync.Mutex
	cache   map[string]sortedViews // by sort order, valid for one version
}

// sortedViews is every view in one sort order, as of version.
type sortedViews struct {
	version uint64
	items   []sortedItem
	desc    bool
}

type sortedItem struct {
	v   *view
	key string
}

func newIndex() *index {
	return &index{res: map[string]*client.Result{}, subs: map[string]*Submission{}, views: map[string]*view{},
		cache: map[string]sortedViews{}}
}

// ordered returns every view in sort order s, sorted once per change of
// the index and then shared by every listing until the next change.
func (ix *index) ordered(s string) ([]sortedItem, bool) {
	ix.mu.RLock()
	ver := ix.version
	ix.cacheMu.Lock()
	c, ok := ix.cache[s]
	ix.cacheMu.Unlock()
	if ok && c.version == ver {
		ix.mu.RUnlock()
		return c.items, c.desc
	}
	items := make([]sortedItem, 0, len(ix.views))
	desc := s == ""
	for _, v := range ix.views {
		k, d := sortKey(v, s)
		desc = d
		items = append(items, sortedItem{v, k})
	}
	ix.mu.RUnlock()
	slices.SortFunc(items, func(a, b sortedItem) int { return compareAt(a.key, a.v.row.ID, b.key, b.v.row.ID, desc) })
	ix.cacheMu.Lock()
	if cur, ok := ix.cache[s]; !ok || cur.version <= ver {
		ix.cache[s] = sortedViews{version: ver, items: items, desc: desc}
	}
	ix.cacheMu.Unlock()
	return items, desc
}

func (ix *index) refreshLocked(id string) {
	ix.version++
	if v := newView(ix.res[id], ix.subs[id]); v != nil {
		ix.views[id] = v
	} else {
		delete(ix.views, id)
	}
}

func (ix *index) put(res client.Result) {
	if res.ID == "" {
		return
	}
	ix.update(res.ID, func() { ix.res[res.ID] = &res })
}

func (ix *index) remove(id string) {
	ix.update(id, func() { delete(ix.res, id) })
}

func (ix *index) putSub(sub Submission) {
	if sub.ID == "" {
		return
	}
	ix.update(sub.ID, func() { ix.subs[sub.ID] = &sub })
}

func (ix *index) removeSub(id string) {
	ix.update(id, func() { delete(ix.subs, id) })
}

// update applies change under the lock and refreshes the view of id.
func (ix *index) update(id string, change func()) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	change()
	ix.refreshLocked(id)
}

func (ix *index) get(id string) (client.Result, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	r, ok := ix.res[id]
	if !ok {
		return client.Result{}, false
	}
	return *r, true
}

// getView returns the row, result and submission known for id.
func (ix *index) getView(id string) (row client.Result, res *client.Result, sub *Submission, ok bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	v, ok := ix.views[id]
	if !ok {
		return client.Result{}, nil, nil, false
	}
	return v.row, v.res, v.sub, true
}

func (ix *index) setSynced(which int) {
	ix.mu.Lock()
	ix.synced[which] = true
	ix.mu.Unlock()
}

func (ix *index) isSynced() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.synced[0] && ix.synced[1]
}

// waitSynced waits up to d for the index to load (a server just
// started), and reports whether it has.
func (ix *index) waitSynced(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !ix.isSynced() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		sleep(ctx, 10*time.Millisecond)
	}
	return true
}

// Sort orders of a listing.
var sortOrders = []string{"-stored", "stored", "-date", "date", "title", "-title"}

// query is a listing request.
type query struct {
	text   string // search text; every word must match
	status string // "", "queued", "done" or "failed"
	layout string // "", or a layout name ("letter" matches jobs that name none)
	from   string // letter date on or after, YYYY-MM-DD
	to     string // letter date on or before, YYYY-MM-DD
	sort   string // one of sortOrders; "" means "-stored"
	after  *cursor
	before *cursor
	limit  int
}

// page is a listing answer.
type page struct {
	items []listed
	total int     // rows matching the filters, on all pages
	start int     // position of items[0] among them, from 0
	next  *cursor // the last item, when more follow
	prev  *cursor // the first item, when some come before
}

// listed is one row of a page with its submission (for queued_at and
// history).
type listed struct {
	row client.Result
	sub *Submission
	at  time.Time
}

// cursor is a position in a sort order: the sort key and id of an item.
type cursor struct {
	key string
	id  string
}

// encode returns the cursor as an opaque URL-safe string.
func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.key + "\x00" + c.id))
}

func decodeCursor(s string) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not a cursor from this API")
	}
	key, id, ok := strings.Cut(string(b), "\x00")
	if !ok || id == "" {
		return nil, errors.New("not a cursor from this API")
	}
	return &cursor{key: key, id: id}, nil
}

// sortKey is v's key in order s; desc says it sorts descending.
func sortKey(v *view, s string) (key string, desc bool) {
	desc = strings.HasPrefix(s, "-")
	switch strings.TrimPrefix(s, "-") {
	case "date":
		return v.row.Date, desc
	case "title":
		return v.foldT, desc
	default:
		return v.atKey, desc || s == ""
	}
}

// compareAt orders (key, id) pairs: by key (descending when desc), then
// by id ascending.
func compareAt(ak, aid, bk, bid string, desc bool) int {
	c := strings.Compare(ak, bk)
	if desc {
		c = -c
	}
	if c != 0 {
		return c
	}
	return strings.Compare(aid, bid)
}

// filtered reports whether q has a filter besides its search text.
func (q query) filtered() bool {
	return q.status != "" || q.layout != "" || q.from != "" || q.to != ""
}

func (q query) matches(v *view, words []string) bool {
	r := &v.row
	switch {
	case q.status != "" && string(r.Status) != q.status,
		q.layout != "" && cmp.Or(r.Layout, "letter") != q.layout,
		q.from != "" && (r.Date == "" || r.Date < q.from),
		q.to != "" && (r.Date == "" || r.Date > q.to):
		return false
	}
	for _, w := range words {
		if !strings.Contains(v.fold, w) {
			return false
		}
	}
	return true
}

func (ix *index) list(q query) page {
	words := strings.Fields(fold(q.text))
	all, desc := ix.ordered(q.sort)
	type item = sortedItem
	items := all
	if q.filtered() || len(words) > 0 {
		items = make([]item, 0, len(all))
		for _, it := range all {
			if q.matches(it.v, words) {
				items = append(items, it)
			}
		}
	}
	pg := page{total: len(items)}
	lo, hi := 0, min(q.limit, len(items))
	switch {
	case q.after != nil:
		lo, _ = slices.BinarySearchFunc(items, q.after, func(it item, c *cursor) int {
			if compareAt(it.key, it.v.row.ID, c.key, c.id, desc) <= 0 {
				return -1
			}
			return 1
		})
		hi = min(lo+q.limit, len(items))
	case q.before != nil:
		hi, _ = slices.BinarySearchFunc(items, q.before, func(it item, c *cursor) int {
			if compareAt(it.key, it.v.row.ID, c.key, c.id, desc) < 0 {
				return -1
			}
			return 1
		})
		lo = max(hi-q.limit, 0)
		if lo == 0 {
			hi = min(q.limit, len(items))
		}
	}
	pg.start = lo
	for _, it := range items[lo:hi] {
		pg.items = append(pg.items, listed{row: it.v.row, sub: it.v.sub, at: it.v.at})
	}
	if hi < len(items) && hi > lo {
		last := items[hi-1]
		pg.next = &cursor{key: last.key, id: last.v.row.ID}
	}
	if lo > 0 && lo < len(items) {
		first := items[lo]
		pg.prev = &cursor{key: first.key, id: first.v.row.ID}
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
	ix.watchBucket(ctx, log, 0, bucket, func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.KeyValue(ctx, bucket)
	}, func(key string, data []byte) {
		if data == nil {
			ix.remove(client.IDOfToken(key))
			return
		}
		var res client.Result
		if err := json.Unmarshal(data, &res); err != nil {
			log.Warn("watch results: skip undecodable result", "key", key, "err", err)
			return
		}
		ix.put(res)
	})
}

// watchSubs keeps ix up to date with the submissions bucket, creating it
// when it does not exist.
func (ix *index) watchSubs(ctx context.Context, open func(context.Context) (jetstream.KeyValue, error), bucket string, log *slog.Logger) {
	ix.watchBucket(ctx, log, 1, bucket, open, func(key string, data []byte) {
		if data == nil {
			ix.removeSub(client.IDOfToken(key))
			return
		}
		var sub Submission
		if err := json.Unmarshal(data, &sub); err != nil {
			log.Warn("watch submissions: skip undecodable entry", "key", key, "err", err)
			return
		}
		ix.putSub(sub)
	})
}

func (ix *index) watchBucket(ctx context.Context, log *slog.Logger, which int, bucket string,
	open func(context.Context) (jetstream.KeyValue, error), apply func(key string, data []byte)) {
	const retry = time.Second
	warned := false
	for ctx.Err() == nil {
		kv, err := open(ctx)
		if err != nil {
			if errors.Is(err, jetstream.ErrBucketNotFound) {
				// No worker has run yet: nothing to list, and that is the truth.
				ix.setSynced(which)
			} else if !warned {
				log.Warn("watch bucket: open", "bucket", bucket, "err", err)
				warned = true
			}
			sleep(ctx, retry)
			continue
		}
		if err := ix.follow(ctx, kv, which, apply); err != nil && ctx.Err() == nil {
			log.Warn("watch bucket", "bucket", bucket, "err", err)
			sleep(ctx, retry)
		}
	}
}

// follow reads the bucket's values, then its updates, until ctx is done
// or the watcher ends.
func (ix *index) follow(ctx context.Context, kv jetstream.KeyValue, which int, apply func(key string, data []byte)) error {
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
				ix.setSynced(which)
				continue
			}
			switch e.Operation() {
			case jetstream.KeyValueDelete, jetstream.KeyValuePurge:
				apply(e.Key(), nil)
			default:
				apply(e.Key(), e.Value())
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
