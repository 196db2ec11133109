package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
)

// Verdict rules of "carta soak", measured from the warm sample (the first
// one taken once warm-up fraction of the jobs are done) to the end sample
// (taken as the last result arrives).
const (
	soakRSSGrowth      = 1.25 // flat: end RSS ≤ warm RSS × soakRSSGrowth
	soakGoroutineSlack = 10   // flat: end goroutines ≤ warm goroutines + soakGoroutineSlack
)

// soakCSVHeader is the header row of the samples CSV.
var soakCSVHeader = []string{"t_s", "jobs_done", "jobs_failed", "rss_mib", "heap_mib", "heap_live_mib", "goroutines"}

// soakFlags are the settings of "carta soak".
type soakFlags struct {
	n           positiveInt
	concurrency positiveInt
	window      int
	rate        float64
	interval    positiveDuration
	warmup      float64
	timeout     positiveDuration
	data        string
	bucket      string
	csvPath     string
	pngPath     string
	pprofDir    string
	jsonOut     bool
}

func defineSoakFlags(fs *flag.FlagSet) *soakFlags {
	f := &soakFlags{
		n: 10000, concurrency: positiveInt(runtime.NumCPU()), interval: positiveDuration(time.Second),
		warmup: 0.1, timeout: positiveDuration(time.Hour),
	}
	fs.Var(&f.n, "n", "jobs to push through the pipeline (variants of the reference letter with distinct ids)")
	fs.Var(&f.concurrency, "concurrency", "render slots of the worker; default: the number of CPUs")
	fs.IntVar(&f.window, "window", 0, "most jobs submitted and not yet answered at any time; 0 means 4 × -concurrency")
	fs.Float64Var(&f.rate, "rate", 0, "most jobs submitted per second, on top of -window; 0 = no pacing")
	fs.Var(&f.interval, "interval", "time between two samples of RSS, heap and goroutines")
	fs.Float64Var(&f.warmup, "warmup", 0.1, "share of the jobs (0 to 1) done before the warm sample, the start of the verdict")
	fs.Var(&f.timeout, "timeout", "stop a run that has not received every result after this long")
	fs.StringVar(&f.data, "data", "", "folder of the embedded servers' data (default: a temporary folder, removed afterwards)")
	fs.StringVar(&f.bucket, "s3-bucket", "carta-soak", "S3 bucket of the letters")
	fs.StringVar(&f.csvPath, "csv", "", "write the samples to this CSV file (columns "+strings.Join(soakCSVHeader, ",")+")")
	fs.StringVar(&f.pngPath, "png", "", "write a plot of the samples to this PNG file")
	fs.StringVar(&f.pprofDir, "pprof-dir", "", "write heap profiles at the warm sample and at the end (heap-warm.pprof, heap-end.pprof) and the goroutines at the end (goroutines-end.txt) to this folder")
	fs.BoolVar(&f.jsonOut, "json", false, "print the report as JSON")
	return f
}

// soakSample is one sample of the process.
type soakSample struct {
	T          float64 // seconds since the first submit
	Done       int     // results received, failed ones included
	Failed     int     // failed results received
	RSSMiB     float64 // VmRSS
	HeapMiB    float64 // Go heap objects, live and not yet swept (runtime/metrics /memory/classes/heap/objects:bytes)
	LiveMiB    float64 // Go heap marked live by the last GC (/gc/heap/live:bytes)
	Goroutines int
}

// soakSpan is a figure at the warm sample, its peak over the run, and at
// the end.
type soakSpan struct {
	Start float64 `json:"start"`
	Peak  float64 `json:"peak"`
	End   float64 `json:"end"`
}

// soakReport is what "carta soak" prints.
type soakReport struct {
	Job         string   `json:"job"`
	Jobs        int      `json:"jobs"`       // submitted
	Done        int      `json:"done"`       // results "done"
	Failed      int      `json:"failed"`     // results "failed"
	Missing     int      `json:"missing"`    // no result before -timeout
	Duplicates  int      `json:"duplicates"` // further results of an already answered job
	Concurrency int      `json:"concurrency"`
	Window      int      `json:"window"`
	Rate        float64  `json:"rate"`
	CPUs        int      `json:"cpus"`
	Seconds     float64  `json:"seconds"`    // first submit to last result
	Throughput  float64  `json:"jobs_per_s"` // results per second
	Samples     int      `json:"samples"`
	WarmJobs    int      `json:"warm_jobs"` // jobs done at the warm sample
	WarmSeconds float64  `json:"warm_s"`    // time of the warm sample
	RSSMiB      soakSpan `json:"rss_mib"`
	HeapMiB     soakSpan `json:"heap_mib"`
	LiveMiB     soakSpan `json:"heap_live_mib"`
	Goroutines  soakSpan `json:"goroutines"`
	// Least-squares slopes from the warm sample on, in MiB per 1000 jobs
	// done: the drift that start and end alone can hide. Not part of the
	// verdict.
	RSSTrend  float64 `json:"rss_mib_per_1k_jobs"`
	LiveTrend float64 `json:"heap_live_mib_per_1k_jobs"`
	Flat      bool    `json:"flat"`
	Verdict   string  `json:"verdict"` // "flat", or "not flat: " and the broken rules
	// S3PeakRSSMiB and S3EndRSSMiB are the embedded S3 server's VmHWM and
	// VmRSS at the end (a process of its own, not in the figures above).
	S3PeakRSSMiB float64 `json:"s3_peak_rss_mib,omitempty"`
	S3EndRSSMiB  float64 `json:"s3_end_rss_mib,omitempty"`
}

// runSoak implements "carta soak".
func runSoak(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("soak", "usage: carta soak [-n N] [-csv FILE] [-png FILE] [flags]\n\n"+
		"Pushes N variants of the reference letter through an embedded nats-server and a worker in\n"+
		"this process and the embedded S3 server (a child process), keeping at most -window jobs\n"+
		"unanswered. Every -interval it samples this process's RSS (VmRSS), Go heap, live heap and\n"+
		"goroutines; it writes the samples\n"+
		"as CSV and a PNG plot and prints start (the warm sample, once -warmup of the jobs are done),\n"+
		"peak and end of each. Verdict \"flat\": end RSS ≤ 1.25 × start RSS and end goroutines ≤ start\n"+
		"+ 10. Exit 0 when every job is done and the verdict is flat, 1 otherwise.\n\nFlags:", stderr)
	f := defineSoakFlags(fs)
	if code, ok := parseFlags(fs, args, os.LookupEnv, false, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 || f.rate < 0 || f.window < 0 || f.warmup < 0 || f.warmup > 1 {
		fmt.Fprintln(stderr, "carta soak: takes no arguments; -rate and -window must be 0 or more, -warmup between 0 and 1")
		return exitInvalid
	}
	if f.window == 0 {
		f.window = 4 * int(f.concurrency)
	}
	rep, samples, err := soak(ctx, f, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "carta soak: %v\n", err)
		return exitFailure
	}
	if f.csvPath != "" {
		if err := writeSoakCSV(f.csvPath, samples); err != nil {
			fmt.Fprintf(stderr, "carta soak: %v\n", err)
			return exitFailure
		}
	}
	if f.pngPath != "" {
		if err := writeSoakPNG(f.pngPath, rep, samples); err != nil {
			fmt.Fprintf(stderr, "carta soak: %v\n", err)
			return exitFailure
		}
	}
	printReport(stdout, f.jsonOut, rep, func() { printSoak(stdout, rep) })
	if rep.Done != rep.Jobs || !rep.Flat {
		return exitFailure
	}
	return exitOK
}

// soakState is what the result handler, the submitter and the sampler
// share.
type soakState struct {
	mu         sync.Mutex
	prefix     string       // of the job ids, followed by the job's index
	state      []soakState8 // by job index; a slice, so the harness's own memory stays flat
	done       int
	failed     int
	duplicates int
	last       time.Time
}

// soakState8 is where one job is.
type soakState8 uint8

const (
	soakUnsent   soakState8 = iota // not submitted yet
	soakPending                    // submitted, not yet answered
	soakAnswered                   // its result arrived
)

// index is the job index of id, or -1 when id is not one of this run's.
func (s *soakState) index(id string) int {
	rest, ok := strings.CutPrefix(id, s.prefix)
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= len(s.state) {
		return -1
	}
	return i
}

func soak(ctx context.Context, f *soakFlags, stderr io.Writer) (*soakReport, []soakSample, error) {
	n, conc := int(f.n), int(f.concurrency)
	base, _, err := benchBase()
	if err != nil {
		return nil, nil, err
	}
	if f.pprofDir != "" {
		if err := os.MkdirAll(f.pprofDir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("create profile folder: %w", err)
		}
	}
	st, stop, err := startLoadStack(ctx, f.data, "carta-soak-", stackConfig{
		bucket: f.bucket, worker: queue.Config{Concurrency: conc},
	}, stderr)
	if err != nil {
		return nil, nil, err
	}
	defer stop()

	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	s := &soakState{prefix: "soak-" + runID + "-", state: make([]soakState8, n)}
	slots := make(chan struct{}, f.window) // a token per unanswered job
	all := make(chan struct{})
	wc := st.worker.Config()
	sub, err := st.nc.Subscribe(wc.ResultsSubject+".*", func(m *nats.Msg) {
		var ev struct {
			ID     string        `json:"id"`
			Status client.Status `json:"status"`
		}
		if json.Unmarshal(m.Data, &ev) != nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		i := s.index(ev.ID)
		if i < 0 || s.state[i] != soakPending {
			if i >= 0 && s.state[i] == soakAnswered {
				s.duplicates++
			}
			return
		}
		s.state[i] = soakAnswered
		s.done++
		if ev.Status != client.StatusDone {
			s.failed++
		}
		s.last = time.Now()
		<-slots
		if s.done == n {
			close(all)
		}
	})
	if err != nil {
		return nil, nil, fmt.Errorf("subscribe to results: %w", err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // best effort
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, nil, fmt.Errorf("subscribe to results: %w", err)
	}
	if err := st.nc.Flush(); err != nil {
		return nil, nil, fmt.Errorf("subscribe to results: %w", err)
	}

	rctx, cancel := context.WithTimeout(ctx, time.Duration(f.timeout))
	defer cancel()
	warmJobs := int(math.Ceil(f.warmup * float64(n)))
	fmt.Fprintf(stderr, "carta soak: %d jobs, concurrency %d, window %d, rate %s, sample every %s\n",
		n, conc, f.window, rateString(f.rate), time.Duration(f.interval))

	start := time.Now()
	sampler := newSoakSampler(start)
	var (
		samples  []soakSample
		warmIdx  = -1
		profErr  error
		sampleMu sync.Mutex
	)
	take := func() {
		s.mu.Lock()
		done, failed := s.done, s.failed
		s.mu.Unlock()
		smp := sampler.take(done, failed)
		sampleMu.Lock()
		defer sampleMu.Unlock()
		samples = append(samples, smp)
		if warmIdx < 0 && done >= warmJobs && done > 0 {
			warmIdx = len(samples) - 1
			if f.pprofDir != "" {
				profErr = errors.Join(profErr, writeProfile("heap", filepath.Join(f.pprofDir, "heap-warm.pprof"), 0))
			}
		}
		if len(samples)%10 == 0 {
			fmt.Fprintf(stderr, "carta soak: %4.0fs %d/%d done, RSS %.1f MiB, heap %.1f MiB, live %.1f MiB, %d goroutines\n",
				smp.T, done, n, smp.RSSMiB, smp.HeapMiB, smp.LiveMiB, smp.Goroutines)
		}
	}
	take()
	stopSampling := make(chan struct{})
	sampling := make(chan struct{})
	go func() {
		defer close(sampling)
		tick := time.NewTicker(time.Duration(f.interval))
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				take()
			case <-stopSampling:
				return
			}
		}
	}()

	var submitErr error
submit:
	for i := range n {
		if f.rate > 0 {
			due := start.Add(time.Duration(float64(i) / f.rate * float64(time.Second)))
			select {
			case <-time.After(time.Until(due)):
			case <-rctx.Done():
				break submit
			}
		}
		select {
		case slots <- struct{}{}:
		case <-rctx.Done():
			break submit
		}
		id := fmt.Sprintf("%s%06d", s.prefix, i)
		s.mu.Lock()
		s.state[i] = soakPending
		s.mu.Unlock()
		if _, err := st.client.Submit(rctx, variant(base, id)); err != nil {
			if rctx.Err() == nil { // a timeout is reported as missing jobs
				submitErr = fmt.Errorf("submit job %d of %d: %w", i+1, n, err)
			}
			break
		}
	}
	if submitErr == nil {
		select {
		case <-all:
		case <-rctx.Done():
		}
	}
	close(stopSampling)
	<-sampling
	take() // the end sample
	if submitErr != nil {
		return nil, nil, submitErr
	}
	if f.pprofDir != "" {
		profErr = errors.Join(profErr, writeProfile("heap", filepath.Join(f.pprofDir, "heap-end.pprof"), 0),
			writeProfile("goroutine", filepath.Join(f.pprofDir, "goroutines-end.txt"), 1))
	}
	if profErr != nil {
		return nil, nil, profErr
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	rep := &soakReport{
		Job: "variants of " + benchRefID(), Jobs: n, Done: s.done - s.failed, Failed: s.failed, Missing: n - s.done,
		Duplicates: s.duplicates, Concurrency: conc, Window: f.window, Rate: f.rate, CPUs: runtime.NumCPU(),
		Samples: len(samples),
	}
	if s.done > 0 {
		rep.Seconds = s.last.Sub(start).Seconds()
		if rep.Seconds > 0 {
			rep.Throughput = float64(s.done) / rep.Seconds
		}
	}
	if warmIdx < 0 {
		warmIdx = len(samples) - 1 // nothing done by the end: judge the last sample against itself
	}
	summarizeSoak(rep, samples, warmIdx)
	if st.s3 != nil {
		rep.S3PeakRSSMiB = procHWMMiB(st.s3.Pid())
		rep.S3EndRSSMiB = procStatusFieldMiB(st.s3.Pid(), "VmRSS")
	}
	return rep, samples, nil
}

// summarizeSoak fills the spans and the verdict of rep from samples,
// starting at samples[warm].
func summarizeSoak(rep *soakReport, samples []soakSample, warm int) {
	w, end := samples[warm], samples[len(samples)-1]
	rep.WarmJobs, rep.WarmSeconds = w.Done, w.T
	span := func(get func(soakSample) float64) soakSpan {
		sp := soakSpan{Start: get(w), End: get(end)}
		for _, smp := range samples {
			sp.Peak = max(sp.Peak, get(smp))
		}
		return sp
	}
	rep.RSSMiB = span(func(s soakSample) float64 { return s.RSSMiB })
	rep.HeapMiB = span(func(s soakSample) float64 { return s.HeapMiB })
	rep.LiveMiB = span(func(s soakSample) float64 { return s.LiveMiB })
	rep.Goroutines = span(func(s soakSample) float64 { return float64(s.Goroutines) })
	rep.RSSTrend = 1000 * slope(samples[warm:], func(s soakSample) float64 { return s.RSSMiB })
	rep.LiveTrend = 1000 * slope(samples[warm:], func(s soakSample) float64 { return s.LiveMiB })
	var broken []string
	if rep.RSSMiB.End > rep.RSSMiB.Start*soakRSSGrowth {
		broken = append(broken, fmt.Sprintf("RSS grew from %.1f to %.1f MiB (more than ×%.2f)", rep.RSSMiB.Start, rep.RSSMiB.End, soakRSSGrowth))
	}
	if rep.Goroutines.End > rep.Goroutines.Start+soakGoroutineSlack {
		broken = append(broken, fmt.Sprintf("goroutines grew from %.0f to %.0f (more than +%d)", rep.Goroutines.Start, rep.Goroutines.End, soakGoroutineSlack))
	}
	rep.Flat = len(broken) == 0
	rep.Verdict = "flat"
	if !rep.Flat {
		rep.Verdict = "not flat: " + strings.Join(broken, "; ")
	}
}

// slope is the least-squares slope of get against jobs done; 0 with
// fewer than two distinct counts.
func slope(samples []soakSample, get func(soakSample) float64) float64 {
	var n, sx, sy, sxx, sxy float64
	for _, s := range samples {
		x, y := float64(s.Done), get(s)
		n, sx, sy, sxx, sxy = n+1, sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	den := n*sxx - sx*sx
	if n < 2 || den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

// soakSampler reads the process figures cheaply: runtime/metrics (no
// stop-the-world, unlike runtime.ReadMemStats) and /proc/self/status.
type soakSampler struct {
	start time.Time
	m     []metrics.Sample
}

func newSoakSampler(start time.Time) *soakSampler {
	return &soakSampler{start: start, m: []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/sched/goroutines:goroutines"},
	}}
}

func (s *soakSampler) take(done, failed int) soakSample {
	metrics.Read(s.m)
	u := func(i int) uint64 {
		if s.m[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s.m[i].Value.Uint64()
	}
	const mib = 1 << 20
	return soakSample{
		T: time.Since(s.start).Seconds(), Done: done, Failed: failed,
		RSSMiB:     procStatusKiB("VmRSS") / 1024,
		HeapMiB:    float64(u(0)) / mib,
		LiveMiB:    float64(u(1)) / mib,
		Goroutines: int(u(2)),
	}
}

// procStatusKiB reads a kB field of /proc/self/status (VmRSS, VmHWM…);
// 0 where there is no /proc.
func procStatusKiB(field string) float64 { return procStatusField("self", field) }

// procStatusField reads a kB field of /proc/PROC/status (PROC a pid or
// "self"), in KiB; 0 when unknown.
func procStatusField(proc, field string) float64 {
	data, err := os.ReadFile("/proc/" + proc + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err == nil {
				return kb
			}
		}
	}
	return 0
}

// writeProfile writes the runtime profile name ("heap", "goroutine") to
// path, in the form debug selects (0: pprof's protocol buffer, 1: text).
func writeProfile(name, path string, debug int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s profile: %w", name, err)
	}
	defer f.Close()
	if err := pprof.Lookup(name).WriteTo(f, debug); err != nil {
		return fmt.Errorf("write %s profile: %w", name, err)
	}
	return f.Close()
}

func writeSoakCSV(path string, samples []soakSample) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write samples: %w", err)
	}
	defer f.Close()
	w := csv.NewWriter(f)
	_ = w.Write(soakCSVHeader)
	ff := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	for _, s := range samples {
		_ = w.Write([]string{ff(s.T, 3), strconv.Itoa(s.Done), strconv.Itoa(s.Failed),
			ff(s.RSSMiB, 2), ff(s.HeapMiB, 2), ff(s.LiveMiB, 2), strconv.Itoa(s.Goroutines)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("write samples: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write samples: %w", err)
	}
	return nil
}

// writeSoakPNG plots three aligned panels over time: memory (RSS, heap,
// live heap), goroutines, and jobs done, with a dashed line at the warm
// sample.
func writeSoakPNG(path string, rep *soakReport, samples []soakSample) error {
	series := func(get func(soakSample) float64) plotter.XYs {
		xy := make(plotter.XYs, len(samples))
		for i, s := range samples {
			xy[i] = plotter.XY{X: s.T, Y: get(s)}
		}
		return xy
	}
	panel := func(title, ylabel string, lines []namedLine) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "seconds since the first submit"
		p.Y.Label.Text = ylabel
		p.Add(plotter.NewGrid())
		top := 0.0
		for _, l := range lines {
			for _, xy := range l.xy {
				top = max(top, xy.Y)
			}
		}
		top = max(top*1.45, 1) // room for the legend above the curves
		for _, l := range lines {
			ln, err := plotter.NewLine(l.xy)
			if err != nil {
				return nil, fmt.Errorf("plot %s: %w", l.name, err)
			}
			ln.Color, ln.Width = l.color, vg.Points(1.5)
			p.Add(ln)
			p.Legend.Add(l.name, ln)
		}
		warm, err := plotter.NewLine(plotter.XYs{{X: rep.WarmSeconds, Y: 0}, {X: rep.WarmSeconds, Y: top}})
		if err != nil {
			return nil, fmt.Errorf("plot warm line: %w", err)
		}
		warm.Color, warm.Dashes = color.Gray{Y: 110}, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(warm)
		p.Legend.Add(fmt.Sprintf("warm sample (%d jobs done)", rep.WarmJobs), warm)
		p.Legend.Top = true // top right, clear of the warm line at the left
		p.Y.Min, p.Y.Max = 0, top
		return p, nil
	}
	blue, red, green, purple, black := color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 214, G: 39, B: 40, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 148, G: 103, B: 189, A: 255}, color.RGBA{A: 255}
	mem, err := panel(fmt.Sprintf("carta soak: %d jobs, concurrency %d, window %d, %.1f jobs/s on %d CPUs: %s",
		rep.Jobs, rep.Concurrency, rep.Window, rep.Throughput, rep.CPUs, rep.Verdict), "MiB", []namedLine{
		{fmt.Sprintf("RSS (start %.0f, peak %.0f, end %.0f; %+.2f per 1000 jobs)", rep.RSSMiB.Start, rep.RSSMiB.Peak, rep.RSSMiB.End, rep.RSSTrend), blue, series(func(s soakSample) float64 { return s.RSSMiB })},
		{fmt.Sprintf("Go heap objects (start %.0f, peak %.0f, end %.0f)", rep.HeapMiB.Start, rep.HeapMiB.Peak, rep.HeapMiB.End), red, series(func(s soakSample) float64 { return s.HeapMiB })},
		{fmt.Sprintf("Go heap live after GC (start %.0f, peak %.0f, end %.0f; %+.2f per 1000 jobs)", rep.LiveMiB.Start, rep.LiveMiB.Peak, rep.LiveMiB.End, rep.LiveTrend), green, series(func(s soakSample) float64 { return s.LiveMiB })},
	})
	if err != nil {
		return err
	}
	gor, err := panel("goroutines", "goroutines", []namedLine{
		{fmt.Sprintf("goroutines (start %.0f, peak %.0f, end %.0f)", rep.Goroutines.Start, rep.Goroutines.Peak, rep.Goroutines.End), purple, series(func(s soakSample) float64 { return float64(s.Goroutines) })},
	})
	if err != nil {
		return err
	}
	jobs, err := panel("jobs answered", "jobs", []namedLine{
		{fmt.Sprintf("results (%d done, %d failed, %d missing)", rep.Done, rep.Failed, rep.Missing), black, series(func(s soakSample) float64 { return float64(s.Done) })},
	})
	if err != nil {
		return err
	}
	c := vgimg.NewWith(vgimg.UseWH(11*vg.Inch, 11*vg.Inch), vgimg.UseDPI(100))
	dc := draw.New(c)
	plots := [][]*plot.Plot{{mem}, {gor}, {jobs}}
	tiles := draw.Tiles{Rows: 3, Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	canvases := plot.Align(plots, tiles, dc)
	for i, row := range plots {
		row[0].Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write plot: %w", err)
	}
	defer f.Close()
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(f); err != nil {
		return fmt.Errorf("write plot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write plot: %w", err)
	}
	return nil
}

// namedLine is one curve of a panel.
type namedLine struct {
	name  string
	color color.Color
	xy    plotter.XYs
}

func printSoak(w io.Writer, r *soakReport) {
	fmt.Fprintf(w, "carta soak: %s, concurrency %d, window %d, rate %s, on %d CPUs\n", r.Job, r.Concurrency, r.Window, rateString(r.Rate), r.CPUs)
	fmt.Fprintf(w, "  jobs        %d submitted: %d done, %d failed, %d missing, %d duplicate results\n", r.Jobs, r.Done, r.Failed, r.Missing, r.Duplicates)
	fmt.Fprintf(w, "  duration    %.1f s, %.1f jobs/s, %d samples\n", r.Seconds, r.Throughput, r.Samples)
	fmt.Fprintf(w, "  warm sample at %.1f s, %d jobs done; figures are start (warm) / peak / end\n", r.WarmSeconds, r.WarmJobs)
	span := func(name, unit string, s soakSpan, prec int) {
		fmt.Fprintf(w, "  %-11s %.*f / %.*f / %.*f %s\n", name, prec, s.Start, prec, s.Peak, prec, s.End, unit)
	}
	span("RSS", "MiB", r.RSSMiB, 1)
	span("heap", "MiB", r.HeapMiB, 1)
	span("live heap", "MiB", r.LiveMiB, 1)
	span("goroutines", "", r.Goroutines, 0)
	fmt.Fprintf(w, "  trend       RSS %+.2f MiB, live heap %+.2f MiB per 1000 jobs after the warm sample (least squares)\n", r.RSSTrend, r.LiveTrend)
	fmt.Fprintf(w, "  verdict     %s (rule: end RSS ≤ %.2f × start, end goroutines ≤ start + %d)\n", r.Verdict, soakRSSGrowth, soakGoroutineSlack)
	if r.S3PeakRSSMiB > 0 {
		fmt.Fprintf(w, "  S3 server   RSS peak %.1f MiB, end %.1f MiB (a process of its own, not in the figures above)\n", r.S3PeakRSSMiB, r.S3EndRSSMiB)
	}
}
