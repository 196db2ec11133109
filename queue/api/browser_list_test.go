package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/queue/client"
)

// TestBrowserListDetailResubmit drives the staff page with 130 letters
// in a real headless chromium, at 1280 and 390 px: the dense list (a
// 3,000-character unbreakable title among them), filters, sort, paging
// both ways, the detail view of a failed letter and its resubmission.
// Screenshots go to testdata/screenshots (or $CARTA_SCREENSHOTS).
func TestBrowserListDetailResubmit(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	endpoint := startVersity(t)
	nc := startNATS(t)
	kv := setupQueue(t, nc)
	st := newBucket(t, endpoint)

	now := time.Now().UTC().Truncate(time.Millisecond)
	layouts := []string{"", "din5008-a", "us-window", "joint-statement"}
	names := []string{"Mélanie Joly", "Justin Trudeau", "Andrés Manuel López Obrador", "Joseph R. Biden Jr.", "Ministerio de Relaciones Exteriores"}
	var ids []string
	for i := range 127 {
		id := fmt.Sprintf("letter-%03d", i)
		ids = append(ids, id)
		r := client.Result{ID: id, Status: client.StatusDone, Bucket: "carta", Key: "letters/" + id + ".pdf", SHA256: strings.Repeat("ab", 32),
			Bytes: 40_000 + int64(i)*917, Pages: 1 + i%6, Attempts: 1, Title: fmt.Sprintf("Joint letter %03d on regional migration and asylum access", i),
			Recipients: []string{names[i%len(names)], names[(i+2)%len(names)]}, Date: fmt.Sprintf("2023-%02d-%02d", 1+i%12, 1+i%28),
			Layout: layouts[i%len(layouts)], FinishedAt: now.Add(-time.Duration(i) * time.Minute)}
		if i%9 == 0 {
			r.SignedBy = "Comitė Ciudadano"
		}
		putResult(t, kv, r)
	}
	long := strings.Repeat("Unbreakable", 273)[:3000]
	storePDF(t, st, kv, "long-title", long, []string{strings.Repeat("Recipient", 100)}, fakePDF, 1)
	putResult(t, kv, client.Result{ID: "fix-me", Status: client.StatusFailed, Attempts: 1, Title: "Letter to the embassy",
		Recipients: []string{"Mélanie Joly"}, Date: "2023-01-09", Layout: "din5008-a", FinishedAt: now.Add(30 * time.Second),
		Error: &client.ResultError{Code: client.CodeInvalidJob, Message: "letter.recipients[0].address: 9 lines do not fit", Field: "letter.recipients[0].address",
			Fields: []client.FieldError{{Field: "letter.recipients[0].address", Message: "9 lines do not fit the din5008-a address window (at most 8)"},
				{Field: "letter.x", Message: "letter.x: unknown field"}}}})
	ids = append(ids, "long-title", "fix-me")
	total := len(ids)

	h := startAPI(t, nc, api.Config{Objects: presigner(t, endpoint, "")})
	h.waitReady(t)
	h.waitListed(t, "long-title", "fix-me", "letter-126")

	summary := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("summary")))
		if err != nil {
			t.Fatalf("read summary: %v", err)
		}
		return strings.Join(strings.Fields(s), " ")
	}
	rowsAll := func(js string) bool {
		t.Helper()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll("table.letters tbody tr")].every(tr => `+js+`)`))
		if err != nil {
			t.Fatalf("check rows: %v", err)
		}
		return ok
	}
	// Every row's controls lie within the window; the page never scrolls
	// sideways.
	checkFits := func(width int) {
		t.Helper()
		sw, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil || sw > width {
			t.Errorf("page is %d px wide (%v) in a %d px window", sw, err, width)
		}
		out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.letters tbody tr a")].filter(a => {
			const r = a.getBoundingClientRect(); return !(r.width > 0 && r.right <= `+fmt.Sprint(width)+` && r.left >= 0) }).map(a => a.closest("tr").id + " " + a.className + " " + JSON.stringify(a.getBoundingClientRect()))`))
		if err != nil || len(out) > 0 {
			t.Errorf("at %d px some rows' links lie outside the window (%v): %.300q", width, err, out)
		}
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(h.url+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), bothSecret),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("table.letters")),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if got, want := summary(), fmt.Sprintf("Letters 1–50 of %d · page 1 of 3", total); got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	// One line per letter at laptop width.
	if !rowsAll(`tr.getBoundingClientRect().height < 40`) {
		t.Error("some rows take more than one line at 1280 px")
	}
	checkFits(1280)
	// The long title is cut with its full text in the title attribute.
	full, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('tr[id="letter-long-title"] th a').title`))
	if err != nil || full != long {
		t.Errorf("long title's title attribute has %d characters (%v), want 3000", len(full), err)
	}
	shoot(t, ctx, "list-1280.png")

	// Paging both ways, with the position.
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.pager a[rel="next"]`)), chromedp.WaitVisible(chromedp.CSS(`.pager a[rel="prev"]`)))
	if err != nil {
		t.Fatalf("next page: %v", err)
	}
	if got, want := summary(), fmt.Sprintf("Letters 51–100 of %d · page 2 of 3", total); got != want {
		t.Errorf("after Next: summary %q, want %q", got, want)
	}
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.pager a[rel="prev"]`)), chromedp.WaitVisible(chromedp.CSS(`.pager span.off`)))
	if err != nil {
		t.Fatalf("previous page: %v", err)
	}
	if got, want := summary(), fmt.Sprintf("Letters 1–50 of %d · page 1 of 3", total); got != want {
		t.Errorf("after Previous: summary %q, want %q", got, want)
	}

	// Filters: failed letters only.
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("status"), "failed"),
		chromedp.Submit(chromedp.ID("q")),
		chromedp.WaitVisible(chromedp.CSS(`tr[id="letter-fix-me"]`)),
	)
	if err != nil {
		t.Fatalf("filter by status: %v", err)
	}
	if got := summary(); got != "Letters 1–1 of 1 matching these filters" {
		t.Errorf("failed filter: summary %q", got)
	}
	// Date range and layout: us-window letters dated in March 2023.
	want := 0
	for i := range 127 {
		if layouts[i%4] == "us-window" && 1+i%12 == 3 {
			want++
		}
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("status"), ""),
		chromedp.SetValue(chromedp.ID("layout"), "us-window"),
		chromedp.SetValue(chromedp.ID("from"), "2023-03-01"),
		chromedp.SetValue(chromedp.ID("to"), "2023-03-31"),
		chromedp.Submit(chromedp.ID("q")),
		chromedp.WaitVisible(chromedp.CSS("a.clear")),
	)
	if err != nil {
		t.Fatalf("filter by date and layout: %v", err)
	}
	if got := summary(); want == 0 || got != fmt.Sprintf("Letters 1–%d of %d matching these filters", want, want) {
		t.Errorf("date and layout filter: summary %q, want %d letters", got, want)
	}
	if !rowsAll(`tr.querySelector("td.d time").getAttribute("datetime").startsWith("2023-03-")`) {
		t.Error("date filter shows a letter dated outside March 2023")
	}
	// Sort by title, A to Z, by clicking the column header.
	err = chromedp.Do(ctx, chromedp.Navigate(h.url+"/"), chromedp.WaitVisible(chromedp.CSS("table.letters")),
		chromedp.Click(chromedp.CSS(`thead th a[href*="sort=title"]`)), chromedp.WaitVisible(chromedp.CSS(`th[aria-sort="ascending"]`)))
	if err != nil {
		t.Fatalf("sort by title: %v", err)
	}
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("table.letters tbody tr").id`))
	if err != nil || first != "letter-letter-000" {
		t.Errorf("first row by title is %q (%v), want letter-letter-000", first, err)
	}

	// An empty result says so and how to get back.
	err = chromedp.Do(ctx, chromedp.Navigate(h.url+"/?q=no-such-letter-anywhere"), chromedp.WaitVisible(chromedp.CSS(".empty")))
	if err != nil {
		t.Fatalf("empty search: %v", err)
	}
	if got := summary(); !strings.Contains(got, "No letters match these filters") {
		t.Errorf("empty state %q", got)
	}

	// The failed letter's detail: every problem, once, with its field.
	err = chromedp.Do(ctx, chromedp.Navigate(h.url+"/letters/fix-me"), chromedp.WaitVisible(chromedp.ID("why")))
	if err != nil {
		t.Fatalf("detail view: %v", err)
	}
	why, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("why")))
	for _, w := range []string{"letter.recipients[0].address: 9 lines do not fit the din5008-a address window (at most 8)", "letter.x: Unknown field"} {
		if !strings.Contains(why, w) {
			t.Errorf("why box lacks %q:\n%s", w, why)
		}
	}
	if strings.Count(why, "letter.x") != 1 {
		t.Errorf("why box names letter.x %d times:\n%s", strings.Count(why, "letter.x"), why)
	}
	shoot(t, ctx, "detail-failed-1280.png")

	// Resubmission: a job with another id is refused, the corrected job queued.
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("job"), smallJob("other-id")),
		chromedp.Submit(chromedp.ID("job")),
		chromedp.WaitVisible(chromedp.ID("resubmit-error")),
		chromedp.SetValue(chromedp.ID("job"), smallJob("fix-me")),
		chromedp.Submit(chromedp.ID("job")),
		chromedp.WaitVisible(chromedp.CSS(".badge.queued")),
	)
	if err != nil {
		t.Fatalf("resubmit: %v", err)
	}
	// The preview of the first page, drawn by Carta.
	var pw int
	for i := 0; i < 100 && pw == 0; i++ {
		pw, _ = chromedp.Run(ctx, chromedp.Evaluate[int](`(() => { const i = document.getElementById("preview"); return i && i.complete ? i.naturalWidth : 0 })()`))
		if pw == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if pw != 800 {
		t.Errorf("preview image is %d px wide, want 800", pw)
	}
	hist, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("hist-h")))
	if hist != "Earlier attempts" {
		t.Errorf("no history after resubmission (%q)", hist)
	}
	shoot(t, ctx, "detail-resubmitted-1280.png")
	var js api.JobStatus
	decodeBody(t, h.do(t, "GET", "/v1/jobs/fix-me", readSecret, nil), &js)
	if js.Status != api.StatusQueued || len(js.History) != 1 || js.History[0].Error == nil {
		t.Errorf("status after resubmission = %+v, want queued with one failed attempt", js)
	}
	// The worker's result arrives: done, the failure stays in the history.
	putResult(t, kv, client.Result{ID: "fix-me", Status: client.StatusDone, Bucket: "carta", Key: "letters/fix-me.pdf", SHA256: sha(fakePDF),
		Bytes: int64(len(fakePDF)), Pages: 1, Attempts: 1, Title: "Letter to the embassy", Recipients: []string{"Mélanie Joly"},
		Date: "2023-01-09", Layout: "din5008-a", FinishedAt: now.Add(time.Minute)})
	for i := 0; ; i++ {
		err := chromedp.Do(ctx, chromedp.Reload())
		var done bool
		if err == nil {
			done, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.getElementById("download") && !!document.getElementById("hist-h")`))
		}
		if err == nil && done {
			break
		}
		if i == 50 {
			t.Fatalf("detail page does not show the done letter with its history (%v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Phones: the list and the detail fit 390 px.
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(h.url+"/"),
		chromedp.WaitVisible(chromedp.CSS("table.letters")),
	)
	if err != nil {
		t.Fatalf("phone view: %v", err)
	}
	checkFits(390)
	if !rowsAll(`tr.getBoundingClientRect().height < 120`) {
		t.Error("some rows are taller than 120 px at 390 px")
	}
	shoot(t, ctx, "list-390.png")
	err = chromedp.Do(ctx, chromedp.Navigate(h.url+"/letters/fix-me"), chromedp.WaitVisible(chromedp.ID("download")))
	if err != nil {
		t.Fatalf("phone detail: %v", err)
	}
	sw, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if sw > 390 {
		t.Errorf("detail page is %d px wide at 390 px", sw)
	}
	shoot(t, ctx, "detail-390.png")
}
