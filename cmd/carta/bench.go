package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/carta-letters/carta/cmd/carta/demo"
	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/renderer"
)

// benchFlags are the settings of "carta bench".
type benchFlags struct {
	n           positiveInt
	concurrency positiveInt
	rate        float64
	halfLoad    bool
	timeout     positiveDuration
	data        string
	natsURL     string
	s3Endpoint  string
	s3PathStyle bool
	bucket      string
	jsonOut     bool
	cpuProfile  string
}

func defineBenchFlags(fs *flag.FlagSet) *benchFlags {
	f := &benchFlags{n: 200, concurrency: positiveInt(runtime.NumCPU()), halfLoad: true, timeout: positiveDuration(2 * time.Minute)}
	fs.Var(&f.n, "n", "jobs to push through the pipeline (variants of the reference letter with distinct ids)")
	fs.Var(&f.concurrency, "concurrency", "render slots of the worker, and goroutines of the render-only run; default: the number of CPUs")
	fs.Float64Var(&f.rate, "rate", 0, "jobs submitted per second; 0 submits them as fast as possible")
	fs.BoolVar(&f.halfLoad, "half-load", true, "after the run at -rate, run again at half the measured pipeline throughput and report its latency")
	fs.Var(&f.timeout, "timeout", "give up a run that has not received every result after this long")
	fs.StringVar(&f.data, "data", "", "folder of the embedded servers' data (default: a temporary folder, removed afterwards)")
	fs.StringVar(&f.natsURL, "nats-url", "", "an external NATS server instead of the embedded one")
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "", "an external S3 endpoint instead of the embedded server (credentials from the AWS chain)")
	fs.BoolVar(&f.s3PathStyle, "s3-path-style", false, "path-style addressing for -s3-endpoint")
	fs.StringVar(&f.bucket, "s3-bucket", "carta-bench", "S3 bucket of the letters (created if missing)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the report as JSON")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the pipeline runs to this file (go tool pprof)")
	return f
}

// benchRun is one pipeline run.
type benchRun struct {
	Rate       float64 `json:"rate"`       // submitted per second; 0 = as fast as possible
	Jobs       int     `json:"jobs"`       // results received
	Failed     int     `json:"failed"`     // of which failed
	Missing    int     `json:"missing"`    // results not received before -timeout
	Seconds    float64 `json:"seconds"`    // first submit to last result
	Throughput float64 `json:"jobs_per_s"` // Jobs / Seconds
	P50ms      float64 `json:"p50_ms"`     // submit → result latency
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
}

// benchReport is what "carta bench" prints.
type benchReport struct {
	Job              string    `json:"job"`
	Pages            int       `json:"pages"`
	Concurrency      int       `json:"concurrency"`
	CPUs             int       `json:"cpus"`
	RenderThroughput float64   `json:"render_only_jobs_per_s"`
	Pipeline         benchRun  `json:"pipeline"`
	HalfLoad         *benchRun `json:"half_load,omitempty"`
	PipelineShare    float64   `json:"pipeline_share_of_render_only"` // Pipeline.Throughput / RenderThroughput
	PeakRSSMiB       float64   `json:"peak_rss_mib"`                  // VmHWM after the pipeline runs (servers and worker included)
}

// runBench implements "carta bench".
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", "usage: carta bench [-n N] [-concurrency C] [-rate R] [flags]\n\n"+
		"Pushes N variants of the reference letter through NATS, a worker and S3 (embedded unless\n"+
		"-nats-url and -s3-endpoint are given) and reports throughput, p50 and p99 latency from submit\n"+
		"to result and peak RSS, next to render-only throughput with the same concurrency.\n\nFlags:", stderr)
	f := defineBenchFlags(fs)
	if code, ok := parseFlags(fs, args, os.LookupEnv, false, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 || f.rate < 0 {
		fmt.Fprintln(stderr, "carta bench: takes no arguments, and -rate must be 0 or more")
		return exitInvalid
	}
	rep, err := bench(ctx, f, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "carta bench: %v\n", err)
		return exitFailure
	}
	printReport(stdout, f.jsonOut, rep, func() { printBench(stdout, rep) })
	if rep.Pipeline.Failed+rep.Pipeline.Missing > 0 || (rep.HalfLoad != nil && rep.HalfLoad.Failed+rep.HalfLoad.Missing > 0) {
		return exitFailure
	}
	return exitOK
}

func bench(ctx context.Context, f *benchFlags, stderr io.Writer) (*benchReport, error) {
	n, conc := int(f.n), int(f.concurrency)
	base, pages, err := benchBase()
	if err != nil {
		return nil, err
	}
	rep := &benchReport{Job: "variants of " + benchRefID(), Pages: pages, Concurrency: conc, CPUs: runtime.NumCPU()}

	st, stop, err := startLoadStack(ctx, f.data, "carta-bench-", stackConfig{
		bucket: f.bucket, natsURL: f.natsURL, s3Endpoint: f.s3Endpoint, pathStyle: f.s3PathStyle,
		worker: queue.Config{Concurrency: conc},
	}, stderr)
	if err != nil {
		return nil, err
	}
	defer stop()

	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("write cpu profile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return nil, fmt.Errorf("write cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile() // on early returns; stopped again (a no-op) after the pipeline runs
	}
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	fmt.Fprintf(stderr, "carta bench: pipeline, %d jobs, concurrency %d, rate %s\n", n, conc, rateString(f.rate))
	rep.Pipeline, err = benchPipeline(ctx, st, base, runID+"-a", n, f.rate, time.Duration(f.timeout))
	if err != nil {
		return nil, err
	}
	if f.halfLoad && rep.Pipeline.Throughput > 0 {
		half := rep.Pipeline.Throughput / 2
		if f.rate > 0 {
			half = min(half, f.rate/2)
		}
		fmt.Fprintf(stderr, "carta bench: pipeline at half load, %d jobs at %s\n", n, rateString(half))
		hr, err := benchPipeline(ctx, st, base, runID+"-b", n, half, time.Duration(f.timeout))
		if err != nil {
			return nil, err
		}
		rep.HalfLoad = &hr
	}
	rep.PeakRSSMiB = peakRSSMiB()
	if f.cpuProfile != "" {
		pprof.StopCPUProfile()
	}

	fmt.Fprintf(stderr, "carta bench: render only, %d jobs, concurrency %d\n", n, conc)
	rep.RenderThroughput, err = benchRender(ctx, base, n, conc)
	if err != nil {
		return nil, err
	}
	if rep.RenderThroughput > 0 {
		rep.PipelineShare = rep.Pipeline.Throughput / rep.RenderThroughput
	}
	return rep, nil
}

func rateString(r float64) string {
	if r == 0 {
		return "as fast as possible"
	}
	return fmt.Sprintf("%.1f jobs/s", r)
}

func benchRefID() string {
	id, _ := jobIDOf(demo.ReferenceJob)
	return id
}

func jobIDOf(data []byte) (string, error) {
	var head struct {
		ID string `json:"id"`
	}
	err := json.Unmarshal(data, &head)
	return head.ID, err
}

// benchBase is the reference job as a field map (without output.key, so
// each variant gets its own letters/<id>.pdf), after a warm-up render that
// also loads the fonts.
func benchBase() (map[string]json.RawMessage, int, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(demo.ReferenceJob, &m); err != nil {
		return nil, 0, fmt.Errorf("read reference job: %w", err)
	}
	delete(m, "output")
	_, res, err := renderer.RenderJSON(demo.ReferenceJob)
	if err != nil {
		return nil, 0, fmt.Errorf("render reference job: %w", err)
	}
	return m, res.Pages, nil
}

// variant is the reference job with id.
func variant(base map[string]json.RawMessage, id string) []byte {
	m := make(map[string]json.RawMessage, len(base))
	for k, v := range base {
		m[k] = v
	}
	m["id"], _ = json.Marshal(id)
	data, _ := json.Marshal(m)
	return data
}

// benchPipeline submits n variants at rate (0 = at once) and measures
// submit → result latency from the result events.
func benchPipeline(ctx context.Context, st *stack, base map[string]json.RawMessage, runID string, n int, rate float64, timeout time.Duration) (benchRun, error) {
	jobs := make([][]byte, n)
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("bench-%s-%06d", runID, i)
		jobs[i] = variant(base, ids[i])
	}
	var (
		mu        sync.Mutex
		sent      = make(map[string]time.Time, n)
		latencies = make([]time.Duration, 0, n)
		failed    int
		last      time.Time
		all       = make(chan struct{})
	)
	wc := st.worker.Config()
	sub, err := st.nc.Subscribe(wc.ResultsSubject+".*", func(m *nats.Msg) {
		now := time.Now()
		var ev struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		if json.Unmarshal(m.Data, &ev) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		t0, ok := sent[ev.ID]
		if !ok {
			return // not ours, or already counted
		}
		delete(sent, ev.ID)
		latencies = append(latencies, now.Sub(t0))
		if ev.Status != "done" {
			failed++
		}
		last = now
		if len(latencies) == n {
			close(all)
		}
	})
	if err != nil {
		return benchRun{}, fmt.Errorf("subscribe to results: %w", err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // best effort
	sub.SetPendingLimits(-1, -1)
	if err := st.nc.Flush(); err != nil {
		return benchRun{}, fmt.Errorf("subscribe to results: %w", err)
	}

	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	for i := range n {
		if rate > 0 {
			due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			select {
			case <-time.After(time.Until(due)):
			case <-rctx.Done():
			}
		}
		mu.Lock()
		sent[ids[i]] = time.Now()
		mu.Unlock()
		if _, err := st.client.Submit(rctx, jobs[i]); err != nil {
			return benchRun{}, fmt.Errorf("submit job %d of %d: %w", i+1, n, err)
		}
	}
	select {
	case <-all:
	case <-rctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	r := benchRun{Rate: rate, Jobs: len(latencies), Failed: failed, Missing: n - len(latencies)}
	if len(latencies) == 0 {
		return r, nil
	}
	r.Seconds = last.Sub(start).Seconds()
	if r.Seconds > 0 {
		r.Throughput = float64(r.Jobs) / r.Seconds
	}
	slices.Sort(latencies)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	r.P50ms, r.P99ms, r.MaxMs = ms(percentile(latencies, 50)), ms(percentile(latencies, 99)), ms(latencies[len(latencies)-1])
	return r, nil
}

// percentile is the nearest-rank percentile p of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}

// benchRender renders n variants with conc goroutines and returns jobs/s.
func benchRender(ctx context.Context, base map[string]json.RawMessage, n, conc int) (float64, error) {
	jobs := make(chan []byte)
	errc := make(chan error, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for data := range jobs {
				if _, _, err := renderer.RenderJSON(data); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range n {
		select {
		case jobs <- variant(base, fmt.Sprintf("render-%06d", i)):
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return 0, fmt.Errorf("render only: %w", err)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// peakRSSMiB reads VmHWM (peak resident set) from /proc/self/status; 0
// where there is no /proc.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}

func printBench(w io.Writer, r *benchReport) {
	fmt.Fprintf(w, "carta bench: %s (%d pages), concurrency %d on %d CPUs\n", r.Job, r.Pages, r.Concurrency, r.CPUs)
	fmt.Fprintf(w, "  render only            %7.1f jobs/s\n", r.RenderThroughput)
	run := func(name string, b benchRun) {
		fmt.Fprintf(w, "  %-22s %7.1f jobs/s  latency p50 %.0f ms, p99 %.0f ms, max %.0f ms  (%d jobs, %d failed, %d missing)\n",
			name, b.Throughput, b.P50ms, b.P99ms, b.MaxMs, b.Jobs, b.Failed, b.Missing)
	}
	run("pipeline at "+shortRate(r.Pipeline.Rate), r.Pipeline)
	if r.HalfLoad != nil {
		run("pipeline at "+shortRate(r.HalfLoad.Rate), *r.HalfLoad)
	}
	fmt.Fprintf(w, "  pipeline / render only %6.0f %%\n", 100*r.PipelineShare)
	fmt.Fprintf(w, "  peak RSS (VmHWM)       %7.1f MiB  (worker, NATS and S3 in one process)\n", r.PeakRSSMiB)
}

func shortRate(r float64) string {
	if r == 0 {
		return "max rate"
	}
	return fmt.Sprintf("%.1f/s", r)
}
