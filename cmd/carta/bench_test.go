package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBenchSmall runs a tiny load run end to end and checks its counts
// (never its timings).
func TestBenchSmall(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	data := t.TempDir()
	code := runBench(context.Background(), []string{"-n", "6", "-concurrency", "2", "-rounds", "2", "-json", "-data", data, "-timeout", "2m"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	var rep benchReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("decode report: %v\n%s", err, &stdout)
	}
	if rep.Pipeline.Jobs != 6 || rep.Pipeline.Failed != 0 || rep.Pipeline.Missing != 0 {
		t.Errorf("pipeline = %+v, want 6 jobs done", rep.Pipeline)
	}
	if len(rep.Rounds) != 2 {
		t.Fatalf("rounds = %+v, want 2", rep.Rounds)
	}
	for i, r := range rep.Rounds {
		if r.RenderThroughput <= 0 || r.Pipeline.Jobs != 6 || r.Pipeline.Failed+r.Pipeline.Missing != 0 {
			t.Errorf("round %d = %+v, want a render-only figure and 6 jobs done", i+1, r)
		}
	}
	if want := map[bool]string{true: "memory", false: "disk"}[onTmpfs(data)]; rep.Storage != want || rep.DataDir != data {
		t.Errorf("storage = %q in %q, want %q in %q", rep.Storage, rep.DataDir, want, data)
	}
	if rep.HalfLoad == nil || rep.HalfLoad.Jobs != 6 || rep.HalfLoad.Rate <= 0 {
		t.Errorf("half load = %+v, want 6 jobs at a set rate", rep.HalfLoad)
	}
	// The S3 server's CPU time has a 10 ms resolution: 6 jobs may show 0.
	if rep.Pipeline.CartaCPUms <= 0 || rep.Pipeline.S3CPUms < 0 || rep.S3PeakRSSMiB <= 0 {
		t.Errorf("CPU per job %.2f ms (S3 server %.2f ms), S3 server peak RSS %.1f MiB: want them measured",
			rep.Pipeline.CartaCPUms, rep.Pipeline.S3CPUms, rep.S3PeakRSSMiB)
	}
	if rep.RenderThroughput <= 0 || rep.PeakRSSMiB <= 0 || rep.Pages < 1 || rep.Pipeline.P99ms < rep.Pipeline.P50ms {
		t.Errorf("report = %+v", rep)
	}
}

func TestProcCPU(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // spend some CPU
	}
	d, ok := procCPU(os.Getpid())
	if !ok || d <= 0 {
		t.Errorf("procCPU(self) = %v, %v; want a positive CPU time", d, ok)
	}
	if _, ok := procCPU(-1); ok {
		t.Error("procCPU(-1) read a CPU time")
	}
	if procHWMMiB(os.Getpid()) <= 0 {
		t.Error("procHWMMiB(self) = 0")
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(n ...int) (d []time.Duration) {
		for _, v := range n {
			d = append(d, time.Duration(v)*time.Millisecond)
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one value", ms(7), 50, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(hundred...), 99, 99 * time.Millisecond},
		{"p99 of 10 is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Fatalf("percentile = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBenchFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"negative rate", []string{"-rate", "-1"}},
		{"zero jobs", []string{"-n", "0"}},
		{"an argument", []string{"extra"}},
		{"zero rounds", []string{"-rounds", "0"}},
		{"max in flight below concurrency", []string{"-concurrency", "4", "-max-in-flight", "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := runBench(context.Background(), tc.args, &stdout, &stderr); code != exitInvalid {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitInvalid, &stderr)
			}
		})
	}
}

func TestMedianOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sorted []float64
		want   float64
	}{
		{"none", nil, 0},
		{"one", []float64{3}, 3},
		{"odd count is the middle", []float64{1, 5, 9}, 5},
		{"even count is the mean of the middle two", []float64{1, 4, 6, 100}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := medianOf(tc.sorted); got != tc.want {
				t.Fatalf("medianOf(%v) = %v, want %v", tc.sorted, got, tc.want)
			}
		})
	}
}

// TestBenchDataDir: the servers' data go to memory only when it has room
// for the run, else to the system's temporary folder, with a note.
func TestBenchDataDir(t *testing.T) {
	t.Parallel()
	free, shm := freeBytes(memoryDir)
	for _, tc := range []struct {
		name     string
		jobs     int64
		inMemory bool
	}{
		{"a small run fits in memory", 10, shm && free > 10*benchBytesPerJob+64<<20},
		{"a run too large for memory goes to disk", 1 << 40, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			dir, err := benchDataDir(tc.jobs, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(dir)
			if got := strings.HasPrefix(dir, memoryDir+"/"); got != tc.inMemory {
				t.Fatalf("data folder %s: in %s = %v, want %v", dir, memoryDir, got, tc.inMemory)
			}
			if !tc.inMemory && shm && !strings.Contains(stderr.String(), "servers' data on disk instead") {
				t.Errorf("no note of the fallback: %q", stderr.String())
			}
		})
	}
}

func TestInParallel(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		failAt  int // -1: never
		wantErr error
		wantAll bool
	}{
		{"every index once", context.Background(), -1, nil, true},
		{"the first error is returned", context.Background(), 3, boom, false},
		{"a done context stops the feed", canceled, -1, context.Canceled, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			seen := map[int]int{}
			err := inParallel(tc.ctx, 50, 4, func(i int) error {
				mu.Lock()
				seen[i]++
				mu.Unlock()
				if i == tc.failAt {
					return boom
				}
				return nil
			})
			if !errors.Is(err, tc.wantErr) && !(tc.wantErr == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			for i, c := range seen {
				if c != 1 {
					t.Errorf("index %d called %d times", i, c)
				}
			}
			if tc.wantAll && len(seen) != 50 {
				t.Errorf("%d indices called, want 50", len(seen))
			}
		})
	}
}
