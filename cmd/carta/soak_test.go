package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestSoakSmall runs a short soak end to end and checks its outputs and
// counts (never its timings): every job done, a CSV with the columns and
// samples ending at all jobs, a PNG that decodes, and an exit code that
// agrees with the verdict.
func TestSoakSmall(t *testing.T) {
	t.Parallel()
	const n = 150
	dir := t.TempDir()
	csvPath, pngPath, profDir := filepath.Join(dir, "soak.csv"), filepath.Join(dir, "soak.png"), filepath.Join(dir, "prof")
	var stdout, stderr bytes.Buffer
	code := runSoak(context.Background(), []string{"-n", strconv.Itoa(n), "-concurrency", "2", "-interval", "50ms",
		"-data", filepath.Join(dir, "data"), "-timeout", "3m", "-csv", csvPath, "-png", pngPath, "-pprof-dir", profDir, "-json"}, &stdout, &stderr)
	var rep soakReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, decode report: %v\nstdout:\n%s\nstderr:\n%s", code, err, &stdout, &stderr)
	}
	if rep.Jobs != n || rep.Done != n || rep.Failed != 0 || rep.Missing != 0 || rep.Duplicates != 0 {
		t.Errorf("report = %+v, want %d jobs done", rep, n)
	}
	if wantCode := map[bool]int{true: exitOK, false: exitFailure}[rep.Flat]; code != wantCode {
		t.Errorf("exit %d with verdict %q, want %d\nstderr:\n%s", code, rep.Verdict, wantCode, &stderr)
	}
	if rep.S3PeakRSSMiB <= 0 || rep.S3EndRSSMiB <= 0 || rep.S3EndRSSMiB > rep.S3PeakRSSMiB {
		t.Errorf("S3 server RSS peak %.1f MiB, end %.1f MiB: want both measured, end ≤ peak", rep.S3PeakRSSMiB, rep.S3EndRSSMiB)
	}
	if rep.Window != 8 || rep.WarmJobs < n/10 || rep.RSSMiB.Start <= 0 || rep.RSSMiB.Peak < rep.RSSMiB.End || rep.Goroutines.Peak < rep.Goroutines.Start {
		t.Errorf("report = %+v", rep)
	}

	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read csv: %v", err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], []string{"t_s", "jobs_done", "jobs_failed", "rss_mib", "heap_mib", "heap_live_mib", "goroutines"}) {
		t.Fatalf("csv header = %v", rows[:min(1, len(rows))])
	}
	if len(rows)-1 != rep.Samples || rep.Samples < 3 {
		t.Fatalf("csv has %d samples, report %d, want at least 3", len(rows)-1, rep.Samples)
	}
	for i, row := range rows[1:] {
		for j, cell := range row {
			if v, err := strconv.ParseFloat(cell, 64); err != nil || v < 0 {
				t.Errorf("csv row %d column %s = %q, want a number ≥ 0", i+1, rows[0][j], cell)
			}
		}
	}
	if last := rows[len(rows)-1]; last[1] != strconv.Itoa(n) || last[2] != "0" {
		t.Errorf("last sample = %v, want %d jobs done, 0 failed", last, n)
	}

	pf, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	img, err := png.Decode(pf)
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 600 {
		t.Errorf("png is %v, want at least 600×600", b)
	}
	for _, name := range []string{"heap-warm.pprof", "heap-end.pprof", "goroutines-end.txt"} {
		if st, err := os.Stat(filepath.Join(profDir, name)); err != nil || st.Size() == 0 {
			t.Errorf("profile %s: %v", name, err)
		}
	}
}

func TestSummarizeSoak(t *testing.T) {
	t.Parallel()
	smp := func(done int, rss float64, gor int) soakSample {
		return soakSample{Done: done, RSSMiB: rss, HeapMiB: rss / 4, LiveMiB: rss / 8, Goroutines: gor}
	}
	for _, tc := range []struct {
		name     string
		samples  []soakSample
		warm     int
		flat     bool
		inReason string
	}{
		{"steady is flat", []soakSample{smp(0, 20, 10), smp(10, 50, 40), smp(50, 60, 45), smp(100, 55, 38)}, 1, true, ""},
		{"warm-up growth is not counted", []soakSample{smp(0, 10, 5), smp(10, 100, 40), smp(100, 120, 48)}, 1, true, ""},
		{"RSS at exactly 1.25 × start is flat", []soakSample{smp(10, 40, 40), smp(100, 50, 40)}, 0, true, ""},
		{"RSS above 1.25 × start is not flat", []soakSample{smp(10, 40, 40), smp(100, 50.1, 40)}, 0, false, "RSS grew"},
		{"ten more goroutines is flat", []soakSample{smp(10, 40, 40), smp(100, 40, 50)}, 0, true, ""},
		{"eleven more goroutines is not flat", []soakSample{smp(10, 40, 40), smp(100, 40, 51)}, 0, false, "goroutines grew"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rep soakReport
			summarizeSoak(&rep, tc.samples, tc.warm)
			if rep.Flat != tc.flat || (tc.flat && rep.Verdict != "flat") || !strings.Contains(rep.Verdict, tc.inReason) {
				t.Fatalf("verdict %q (flat %v), want flat %v mentioning %q", rep.Verdict, rep.Flat, tc.flat, tc.inReason)
			}
			peak := 0.0
			for _, s := range tc.samples {
				peak = max(peak, s.RSSMiB)
			}
			if rep.RSSMiB.Start != tc.samples[tc.warm].RSSMiB || rep.RSSMiB.End != tc.samples[len(tc.samples)-1].RSSMiB || rep.RSSMiB.Peak != peak {
				t.Fatalf("RSS span = %+v", rep.RSSMiB)
			}
		})
	}
}

func TestSoakFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"zero jobs", []string{"-n", "0"}},
		{"negative window", []string{"-window", "-1"}},
		{"warm-up above one", []string{"-warmup", "1.5"}},
		{"zero interval", []string{"-interval", "0s"}},
		{"an argument", []string{"extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := runSoak(context.Background(), tc.args, &stdout, &stderr); code != exitInvalid {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitInvalid, &stderr)
			}
		})
	}
}

func TestSlope(t *testing.T) {
	t.Parallel()
	rss := func(pairs ...float64) (s []soakSample) {
		for i := 0; i+1 < len(pairs); i += 2 {
			s = append(s, soakSample{Done: int(pairs[i]), RSSMiB: pairs[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		samples []soakSample
		want    float64 // MiB per job
	}{
		{"no samples", nil, 0},
		{"one sample", rss(100, 50), 0},
		{"same job count twice", rss(100, 50, 100, 60), 0},
		{"flat", rss(0, 50, 500, 50, 1000, 50), 0},
		{"one MiB per thousand jobs", rss(1000, 10, 2000, 11, 3000, 12), 0.001},
		{"noise around a flat line", rss(0, 49, 1000, 51, 2000, 49, 3000, 51, 4000, 50), 0.0002}, // Σ(x-x̄)(y-ȳ) = 2000, Σ(x-x̄)² = 10⁷
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := slope(tc.samples, func(s soakSample) float64 { return s.RSSMiB })
			if math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("slope = %g, want %g", got, tc.want)
			}
		})
	}
}
