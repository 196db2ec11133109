package main

import (
	"cmp"
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
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/carta-letters/carta/cmd/carta/demo"
	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/renderer"
)

// benchFlags are the settings of "carta bench".
type benchFlags struct {
	n           positiveInt
	concurrency positiveInt
	maxInFlight positiveInt // 0: unset, the worker's default
	rounds      positiveInt
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
	f := &benchFlags{n: 200, concurrency: positiveInt(runtime.NumCPU()), rounds: 3, halfLoad: true, timeout: positiveDuration(2 * time.Minute)}
	fs.Var(&f.n, "n", "jobs per run (variants of the reference letter with distinct ids)")
	fs.Var(&f.concurrency, "concurrency", "render slots of the worker, and goroutines of the render-only run; default: the number of CPUs")
	fs.Var(&f.maxInFlight, "max-in-flight", "jobs the worker holds at once (as carta worker -max-in-flight); at least -concurrency; default: the worker's, 2 × -concurrency")
	fs.Var(&f.rounds, "rounds", "rounds of a render-only run followed by a pipeline run; medians are reported")
	fs.Float64Var(&f.rate, "rate", 0, "jobs submitted per second in the pipeline runs; 0 submits them as fast as possible, from "+strconv.Itoa(benchSubmitters)+" goroutines")
	fs.BoolVar(&f.halfLoad, "half-load", true, "after the rounds, run the pipeline again at half its median throughput and report its latency")
	fs.Var(&f.timeout, "timeout", "give up waiting for a run's results this long after its last submit (and a submit after this long)")
	fs.StringVar(&f.data, "data", "", "folder of the embedded servers' data; default: a temporary folder in memory (/dev/shm) where there is one, else in the system's temporary folder, removed afterwards. Give a folder on disk to include the disk's cost")
	fs.StringVar(&f.natsURL, "nats-url", "", "an external NATS server instead of the embedded one")
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "", "an external S3 endpoint instead of the embedded server (credentials from the AWS chain)")
	fs.BoolVar(&f.s3PathStyle, "s3-path-style", false, "path-style addressing for -s3-endpoint")
	fs.StringVar(&f.bucket, "s3-bucket", "carta-bench", "S3 bucket of the letters (created if missing)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the report as JSON")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the first round's pipeline run to this file (go tool pprof)")
	return f
}

// benchSubmitters is how many goroutines submit jobs in a run at full
// rate, so that the round trip of one publish does not pace the run.
const benchSubmitters = 4

// benchRun is one pipeline run.
type benchRun struct {
	Rate       float64 `json:"rate"`       // submitted per second; 0 = as fast as possible
	Jobs       int     `json:"jobs"`       // results received
	Failed     int     `json:"failed"`     // of which failed
	Missing    int     `json:"missing"`    // results not received within -timeout of the last submit
	Seconds    float64 `json:"seconds"`    // first submit to last result
	Throughput float64 `json:"jobs_per_s"` // Jobs / Seconds
	P50ms      float64 `json:"p50_ms"`     // submit → result latency
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	// CartaCPUms is the CPU time of this process (rendering, worker, NATS server,
	// the bench's submitting) per job, user and system.
	CartaCPUms float64 `json:"carta_cpu_ms_per_job"`
	// S3CPUms is the CPU time of the embedded S3 server's process per
	// job; 0 with an external one.
	S3CPUms float64 `json:"s3_cpu_ms_per_job,omitempty"`
}

// benchRound is one render-only run followed by one pipeline run.
type benchRound struct {
	RenderThroughput float64  `json:"render_only_jobs_per_s"`
	Pipeline         benchRun `json:"pipeline"`
}

// benchReport is what "carta bench" prints.
type benchReport struct {
	Job         string `json:"job"`
	Pages       int    `json:"pages"`
	Concurrency int    `json:"concurrency"`
	CPUs        int    `json:"cpus"`
	// Storage says where the embedded servers kept their data: "memory"
	// (a tmpfs such as /dev/shm), "disk", or "external" (-nats-url and
	// -s3-endpoint both given).
	Storage string       `json:"storage"`
	DataDir string       `json:"data_dir,omitempty"`
	Rounds  []benchRound `json:"rounds"`
	// RenderThroughput is the median render-only throughput of the rounds.
	RenderThroughput float64 `json:"render_only_jobs_per_s"`
	// Pipeline is the round whose pipeline throughput is the median (the
	// lower middle one for an even count).
	Pipeline benchRun  `json:"pipeline"`
	HalfLoad *benchRun `json:"half_load,omitempty"`
	// PipelineShare is the median over the rounds of pipeline throughput
	// divided by the render-only throughput of the same round.
	PipelineShare float64 `json:"pipeline_share_of_render_only"`
	PeakRSSMiB    float64 `json:"peak_rss_mib"` // VmHWM after the pipeline runs (worker and NATS; the embedded S3 server is a child process)
	// S3PeakRSSMiB is the embedded S3 server's VmHWM; 0 with an
	// external one.
	S3PeakRSSMiB float64 `json:"s3_peak_rss_mib,omitempty"`
}

// runBench implements "carta bench".
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", "usage: carta bench [-n N] [-concurrency C] [-rounds R] [-rate R] [flags]\n\n"+
		"Pushes variants of the reference letter through NATS, a worker and S3 (embedded unless\n"+
		"-nats-url and -s3-endpoint are given) and reports throughput, p50 and p99 latency from submit\n"+
		"to result and peak RSS, next to render-only throughput with the same concurrency. Each round\n"+
		"is a render-only run then a pipeline run, so that both see the same machine; the report gives\n"+
		"medians over the rounds.\n\nFlags:", stderr)
	f := defineBenchFlags(fs)
	if code, ok := parseFlags(fs, args, os.LookupEnv, false, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 || f.rate < 0 {
		fmt.Fprintln(stderr, "carta bench: takes no arguments, and -rate must be 0 or more")
		return exitInvalid
	}
	if f.maxInFlight != 0 && f.maxInFlight < f.concurrency {
		fmt.Fprintf(stderr, "carta bench: invalid value %d for -max-in-flight (%s): must be at least -concurrency (%d)\n", f.maxInFlight, envName("max-in-flight"), f.concurrency)
		return exitInvalid
	}
	rep, err := bench(ctx, f, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "carta bench: %v\n", err)
		return exitFailure
	}
	printReport(stdout, f.jsonOut, rep, func() { printBench(stdout, rep) })
	bad := rep.HalfLoad != nil && rep.HalfLoad.Failed+rep.HalfLoad.Missing > 0
	for _, r := range rep.Rounds {
		bad = bad || r.Pipeline.Failed+r.Pipeline.Missing > 0
	}
	if bad {
		return exitFailure
	}
	return exitOK
}

// memoryDir is where the bench keeps its servers' data by default: a
// tmpfs, so that the run measures Carta rather than this machine's disk.
const memoryDir = "/dev/shm"

func bench(ctx context.Context, f *benchFlags, stderr io.Writer) (*benchReport, error) {
	n, conc := int(f.n), int(f.concurrency)
	base, pages, err := benchBase()
	if err != nil {
		return nil, err
	}
	rep := &benchReport{Job: "variants of " + benchRefID(), Pages: pages, Concurrency: conc, CPUs: runtime.NumCPU(),
		Storage: "disk", DataDir: f.data}
	dataDir, removeDir := f.data, func() {}
	switch {
	case f.natsURL != "" && f.s3Endpoint != "":
		rep.Storage = "external"
	case dataDir == "":
		runs := int(f.rounds)
		if f.halfLoad {
			runs++
		}
		if dataDir, err = benchDataDir(int64(n)*int64(runs), stderr); err != nil {
			return nil, err
		}
		removeDir = func() { os.RemoveAll(dataDir) }
		rep.DataDir = dataDir
	}
	if rep.Storage == "disk" && onTmpfs(dataDir) {
		rep.Storage = "memory"
	}
	defer removeDir()

	st, stop, err := startLoadStack(ctx, dataDir, "carta-bench-", stackConfig{
		bucket: f.bucket, natsURL: f.natsURL, s3Endpoint: f.s3Endpoint, pathStyle: f.s3PathStyle,
		worker: queue.Config{Concurrency: conc, MaxInFlight: int(f.maxInFlight)},
	}, stderr)
	if err != nil {
		return nil, err
	}
	defer stop()

	var prof *os.File
	if f.cpuProfile != "" {
		if prof, err = os.Create(f.cpuProfile); err != nil {
			return nil, fmt.Errorf("write cpu profile: %w", err)
		}
		defer prof.Close()
	}
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	s3pid := 0
	if st.s3 != nil {
		s3pid = st.s3.Pid()
	}
	for round := 1; round <= int(f.rounds); round++ {
		fmt.Fprintf(stderr, "carta bench: round %d of %d: render only, %d jobs, concurrency %d\n", round, f.rounds, n, conc)
		var r benchRound
		if r.RenderThroughput, err = benchRender(ctx, base, fmt.Sprintf("render-%s-%d", runID, round), n, conc); err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "carta bench: round %d of %d: pipeline, %d jobs, rate %s\n", round, f.rounds, n, rateString(f.rate))
		if prof != nil {
			if err := pprof.StartCPUProfile(prof); err != nil {
				return nil, fmt.Errorf("write cpu profile: %w", err)
			}
		}
		before := sampleCPU(s3pid)
		r.Pipeline, err = benchPipeline(ctx, st, base, fmt.Sprintf("%s-%d", runID, round), n, f.rate, time.Duration(f.timeout))
		r.Pipeline.setCPU(before, sampleCPU(s3pid))
		if prof != nil {
			pprof.StopCPUProfile()
			// One profile: of the first round (later rounds would need a
			// file each; one is what profiling needs).
			prof = nil
		}
		if err != nil {
			return nil, err
		}
		rep.Rounds = append(rep.Rounds, r)
	}
	renders := make([]float64, len(rep.Rounds))
	byThroughput := make([]benchRun, len(rep.Rounds))
	for i, r := range rep.Rounds {
		renders[i], byThroughput[i] = r.RenderThroughput, r.Pipeline
	}
	slices.Sort(renders)
	slices.SortFunc(byThroughput, func(a, b benchRun) int { return cmp.Compare(a.Throughput, b.Throughput) })
	rep.RenderThroughput = medianOf(renders)
	rep.Pipeline = byThroughput[(len(byThroughput)-1)/2]
	// Each round's pipeline run is compared with the render-only run just
	// before it, which saw the same machine: a shared machine's speed
	// drifts between rounds, and pairing keeps that drift out of the
	// ratio.
	shares := make([]float64, 0, len(rep.Rounds))
	for _, r := range rep.Rounds {
		if r.RenderThroughput > 0 {
			shares = append(shares, r.Pipeline.Throughput/r.RenderThroughput)
		}
	}
	slices.Sort(shares)
	rep.PipelineShare = medianOf(shares)

	if f.halfLoad && rep.Pipeline.Throughput > 0 {
		half := rep.Pipeline.Throughput / 2
		if f.rate > 0 {
			half = min(half, f.rate/2)
		}
		fmt.Fprintf(stderr, "carta bench: pipeline at half load, %d jobs at %s\n", n, rateString(half))
		before := sampleCPU(s3pid)
		hr, err := benchPipeline(ctx, st, base, runID+"-half", n, half, time.Duration(f.timeout))
		if err != nil {
			return nil, err
		}
		hr.setCPU(before, sampleCPU(s3pid))
		rep.HalfLoad = &hr
	}
	rep.PeakRSSMiB = peakRSSMiB()
	if s3pid > 0 {
		rep.S3PeakRSSMiB = procHWMMiB(s3pid)
	}
	return rep, nil
}

// medianOf is the median of sorted values (the mean of the middle two
// for an even count); 0 for none.
func medianOf(sorted []float64) float64 {
	switch n := len(sorted); {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	default:
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
}

// benchBytesPerJob is room enough for one job's letter (about 71 KB), its
// message (16.5 KB) and result in the servers' data folder.
const benchBytesPerJob = 128 << 10

// benchDataDir creates the folder of the servers' data for jobs jobs: in
// memoryDir when it is there, writable and has room for them (a
// container's /dev/shm is often 64 MiB), else in the system's temporary
// folder.
func benchDataDir(jobs int64, stderr io.Writer) (string, error) {
	need := jobs*benchBytesPerJob + 64<<20
	if free, ok := freeBytes(memoryDir); ok && free >= need {
		if dir, err := os.MkdirTemp(memoryDir, "carta-bench-"); err == nil {
			return dir, nil
		}
	} else if ok {
		fmt.Fprintf(stderr, "carta bench: %s has %d MiB free, %d MiB wanted: servers' data on disk instead\n", memoryDir, free>>20, need>>20)
	}
	dir, err := os.MkdirTemp("", "carta-bench-")
	if err != nil {
		return "", fmt.Errorf("create data folder: %w", err)
	}
	return dir, nil
}

// freeBytes is the space an unprivileged user can use on dir's file
// system; ok is false when dir is not there.
func freeBytes(dir string) (int64, bool) {
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(dir, &sfs); err != nil {
		return 0, false
	}
	return int64(sfs.Bavail) * int64(sfs.Bsize), true
}

// onTmpfs reports whether dir is on a memory file system (Linux).
func onTmpfs(dir string) bool {
	var sfs syscall.Statfs_t
	const tmpfsMagic = 0x01021994
	return syscall.Statfs(dir, &sfs) == nil && sfs.Type == tmpfsMagic
}

func rateString(r float64) string {
	if r == 0 {
		return "as fast as possible"
	}
	return fmt.Sprintf("%.1f jobs/s", r)
}

func benchRefID() string {
	id, _ := client.JobID(demo.ReferenceJob)
	return id
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

	// -timeout bounds the wait for results after the last submit (a paced
	// run's submitting takes n/rate however fast the pipeline is), and
	// each submit on its own.
	submit := func(i int) error {
		mu.Lock()
		sent[ids[i]] = time.Now()
		mu.Unlock()
		sctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if _, err := st.client.Submit(sctx, jobs[i]); err != nil {
			return fmt.Errorf("submit job %d of %d: %w", i+1, n, err)
		}
		return nil
	}
	start := time.Now()
	if rate == 0 {
		// Several submitters, as several services would: one alone
		// waits a round trip per job and can pace the run.
		if err := inParallel(ctx, n, benchSubmitters, submit); err != nil {
			return benchRun{}, err
		}
	} else {
		for i := range n {
			due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			select {
			case <-time.After(time.Until(due)):
			case <-ctx.Done():
				return benchRun{}, fmt.Errorf("pipeline run: %w", ctx.Err())
			}
			if err := submit(i); err != nil {
				return benchRun{}, err
			}
		}
	}
	wait := time.NewTimer(timeout)
	defer wait.Stop()
	select {
	case <-all:
	case <-wait.C:
	case <-ctx.Done():
		return benchRun{}, fmt.Errorf("pipeline run: %w", ctx.Err())
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

// benchRender renders n variants (ids prefix-000000…, built before the
// clock starts, as the pipeline run's are) with conc goroutines and
// returns jobs/s.
func benchRender(ctx context.Context, base map[string]json.RawMessage, prefix string, n, conc int) (float64, error) {
	all := make([][]byte, n)
	for i := range n {
		all[i] = variant(base, fmt.Sprintf("%s-%06d", prefix, i))
	}
	start := time.Now()
	err := inParallel(ctx, n, conc, func(i int) error {
		_, _, err := renderer.RenderJSON(all[i])
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("render only: %w", err)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// inParallel calls fn(0) … fn(n-1) from workers goroutines and returns
// the first error, after which no new call starts; it returns ctx's error
// when ctx ends first.
func inParallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	next := make(chan int)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
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
		case next <- i:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil && len(errc) > 0 {
		err = <-errc
	}
	return err
}

// peakRSSMiB is VmHWM (peak resident set) in MiB; 0 where there is no
// /proc.
func peakRSSMiB() float64 { return procStatusKiB("VmHWM") / 1024 }

func printBench(w io.Writer, r *benchReport) {
	fmt.Fprintf(w, "carta bench: %s (%d pages), concurrency %d on %d CPUs, servers' data: %s\n", r.Job, r.Pages, r.Concurrency, r.CPUs, storageString(r))
	run := func(name string, b benchRun) {
		fmt.Fprintf(w, "  %-22s %7.1f jobs/s  latency p50 %.0f ms, p99 %.0f ms, max %.0f ms  (%d jobs, %d failed, %d missing)\n",
			name, b.Throughput, b.P50ms, b.P99ms, b.MaxMs, b.Jobs, b.Failed, b.Missing)
		if b.Jobs > 0 {
			s3 := ""
			if b.S3CPUms > 0 {
				s3 = fmt.Sprintf(", S3 server %.2f ms", b.S3CPUms)
			}
			fmt.Fprintf(w, "      CPU per job: carta (render, worker, NATS, bench) %.2f ms%s\n", b.CartaCPUms, s3)
		}
	}
	for i, rd := range r.Rounds {
		fmt.Fprintf(w, "  round %d: render only   %7.1f jobs/s\n", i+1, rd.RenderThroughput)
		run(fmt.Sprintf("round %d: pipeline", i+1), rd.Pipeline)
		if rd.RenderThroughput > 0 {
			fmt.Fprintf(w, "  round %d: pipeline / render only %.0f %%\n", i+1, 100*rd.Pipeline.Throughput/rd.RenderThroughput)
		}
	}
	fmt.Fprintf(w, "  median render only     %7.1f jobs/s\n", r.RenderThroughput)
	run("median pipeline", r.Pipeline)
	if r.HalfLoad != nil {
		run("pipeline at "+shortRate(r.HalfLoad.Rate), *r.HalfLoad)
	}
	fmt.Fprintf(w, "  pipeline / render only %6.0f %%  (median of the rounds' ratios)\n", 100*r.PipelineShare)
	fmt.Fprintf(w, "  peak RSS (VmHWM)       %7.1f MiB  (worker and NATS; the S3 server runs in a process of its own)\n", r.PeakRSSMiB)
	if r.S3PeakRSSMiB > 0 {
		fmt.Fprintf(w, "  S3 server peak RSS     %7.1f MiB\n", r.S3PeakRSSMiB)
	}
}

func storageString(r *benchReport) string {
	switch r.Storage {
	case "memory":
		return "in memory, " + r.DataDir + " (-data DIR on a disk includes the disk's cost)"
	case "external":
		return "external servers"
	}
	return "on disk, " + r.DataDir
}

func shortRate(r float64) string {
	if r == 0 {
		return "max rate"
	}
	return fmt.Sprintf("%.1f/s", r)
}
