package api_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/carta-letters/carta/queue/api"
	"github.com/carta-letters/carta/renderer"
)

// chromiumPath finds Debian's chromium (apt-get install chromium), or
// skips the test outside CI.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CARTA_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	need(t, "chromium not installed (apt-get install chromium)")
	return ""
}

// newBrowser starts a headless chromium with a fresh profile and the
// flags that keep it off this machine's closed network.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// TestBrowserFindAndDownload drives the staff page in a real headless
// chromium: sign in, search the reference letter, download it, and
// check the file is the stored PDF.
func TestBrowserFindAndDownload(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	endpoint := startVersity(t)
	nc := startNATS(t)
	kv := setupQueue(t, nc)
	st := newBucket(t, endpoint)

	j, res, err := renderer.RenderJSON(referenceJob(t))
	if err != nil {
		t.Fatalf("render reference job: %v", err)
	}
	var recipients []string
	for _, r := range j.Letter.Recipients {
		recipients = append(recipients, r.Name)
	}
	// Other letters first, so the search has something to leave out.
	storePDF(t, st, kv, "embassy-note", "Note to the embassy", []string{"Mélanie Joly"}, fakePDF, 1)
	storePDF(t, st, kv, "comite-ciudadano", "Comitė Ciudadano", []string{"Ministerio"}, fakePDF, 1)
	stored := storePDF(t, st, kv, j.ID, j.DocTitle(), recipients, res.PDF, res.Pages)
	if stored.SHA256 != res.SHA256 {
		t.Fatalf("stored sha256 %s != rendered %s", stored.SHA256, res.SHA256)
	}

	h := startAPI(t, nc, api.Config{Objects: presigner(t, endpoint, "")})
	h.waitReady(t)
	h.waitListed(t, j.ID, "embassy-note", "comite-ciudadano")

	downloads := t.TempDir()
	progress := chromedp.Events(ctx, browser.DownloadProgress)

	row := `tr[id="letter-` + j.ID + `"]`
	err = chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior:      browser.SetDownloadBehaviorBehaviorAllowAndName,
				DownloadPath:  downloads,
				EventsEnabled: &[]bool{true}[0],
			})
			return err
		}),
		chromedp.Navigate(h.url+"/"),
		// Signed out: the sign-in form.
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error { shoot(t, ctx, "login.png"); return nil }),
		chromedp.SendKeys(chromedp.ID("token"), readSecret),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("table.letters")),
		// Search by a recipient, typed without its accents.
		chromedp.SendKeys(chromedp.ID("q"), "lopez obrador"),
		chromedp.Submit(chromedp.ID("q")),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	if err != nil {
		t.Fatalf("find the letter in the browser: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.letters tbody tr").length`))
	if err != nil || rows != 1 {
		t.Errorf("search shows %d rows (%v), want 1", rows, err)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row+" th a")))
	if err != nil || title != j.DocTitle() {
		t.Errorf("found title %q (%v), want %q", title, err, j.DocTitle())
	}
	shoot(t, ctx, "search-1280.png")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(row+" a[download]"))); err != nil {
		t.Fatalf("click download: %v", err)
	}
	var guid string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("wait for the download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatalf("download canceled: %+v", ev)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
	}
	got, err := os.ReadFile(filepath.Join(downloads, guid))
	if err != nil {
		t.Fatalf("read downloaded file: %v", err)
	}
	if sha(got) != res.SHA256 {
		t.Errorf("downloaded %d bytes with sha256 %s, want the reference PDF %s", len(got), sha(got), res.SHA256)
	}
	if !strings.HasPrefix(string(got), "%PDF-") {
		t.Errorf("downloaded file does not start with %%PDF-")
	}

	// The same page on a phone-sized screen still shows the letter and
	// its download button, within the screen.
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(row+" a[download]")),
	)
	if err != nil {
		t.Fatalf("phone view: %v", err)
	}
	right, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('`+row+` a[download]').getBoundingClientRect().right`))
	if err != nil || right > 390 || right <= 0 {
		t.Errorf("download button ends at x=%.0f (%v) on a 390 px screen", right, err)
	}
	shoot(t, ctx, "search-390.png")
}

// shoot saves a screenshot of the whole page to $CARTA_SCREENSHOTS, or
// else to testdata/screenshots (ignored by git), and logs where.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CARTA_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	t.Logf("screenshot: %s", path)
}
