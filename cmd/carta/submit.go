package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/queue/s3store"
)

// submitFlags are the settings of "carta submit". The connection flags
// have the names and defaults of "carta worker"'s.
type submitFlags struct {
	nats           queue.NATSOptions
	subject        string
	resultsSubject string
	resultsBucket  string
	s3             s3store.Config // Bucket is taken from each result
	wait           bool
	out            string
	timeout        time.Duration
}

func defineSubmitFlags(fs *flag.FlagSet) *submitFlags {
	f := &submitFlags{}
	defineNATSFlags(fs, &f.nats, "") // no -nats-name: runSubmit names the connection
	defineQueueNameFlags(fs, &f.subject, &f.resultsSubject, &f.resultsBucket)
	defineS3Flags(fs, &f.s3, s3FlagHelp{endpoint: "S3 endpoint URL for -o"})
	fs.BoolVar(&f.wait, "wait", false, "wait for each job's result; exit 1 if any failed (2 if all failures are invalid jobs)")
	fs.StringVar(&f.out, "o", "", "download the PDFs (implies -wait): a file for one job, else a folder (<id>.pdf in it)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "longest wait for all results; 0 for no limit")
	return f
}

// runSubmit implements "carta submit JOB.json… [-wait] [-o OUT.pdf|DIR]".
func runSubmit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("submit", "usage: carta submit JOB.json… [-wait] [-o OUT.pdf|DIR] [flags]\n\n"+
		"Publishes letter jobs to the queue (a repeated id is not queued twice) and, with -wait or -o,\n"+
		"waits for their results. S3 credentials for -o come from the AWS standard chain.\n\nFlags:", stderr)
	f := defineSubmitFlags(fs)
	paths, code, ok := parseArgs(fs, args, os.LookupEnv, stderr)
	if !ok {
		return code
	}
	if len(paths) == 0 {
		fs.Usage()
		return exitInvalid
	}
	jobs, err := readSubmitJobs(paths, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "carta submit: %v\nnothing submitted\n", err)
		return exitInvalid
	}
	f.nats.Name = "carta-submit"
	f.nats.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	nc, err := queue.Connect(f.nats)
	if err != nil {
		fmt.Fprintf(stderr, "carta submit: %v\n", err)
		return exitFailure
	}
	defer nc.Close()
	c, err := client.New(nc, client.WithJobsSubject(f.subject), client.WithResultsPrefix(f.resultsSubject), client.WithResultsBucket(f.resultsBucket))
	if err != nil {
		fmt.Fprintf(stderr, "carta submit: %v\n", err)
		return exitFailure
	}
	o := submitOptions{wait: f.wait, out: f.out, timeout: f.timeout, progress: isTerminal(stderr), getter: s3Getter(f.s3), clockSkew: defaultClockSkew}
	return submitAndWait(ctx, c, jobs, o, stdout, stderr)
}

// s3Getter opens (once per bucket) the S3 stores PDFs are downloaded from.
func s3Getter(base s3store.Config) func(ctx context.Context, bucket string) (objectGetter, error) {
	var mu sync.Mutex
	stores := map[string]*s3store.Store{}
	return func(ctx context.Context, bucket string) (objectGetter, error) {
		mu.Lock()
		defer mu.Unlock()
		if st, ok := stores[bucket]; ok {
			return st, nil
		}
		c := base
		c.Bucket = bucket
		st, err := s3store.New(ctx, c)
		if err != nil {
			return nil, err
		}
		stores[bucket] = st
		return st, nil
	}
}

// objectGetter downloads a stored PDF; *s3store.Store is one.
type objectGetter interface {
	Get(ctx context.Context, key string) ([]byte, map[string]string, error)
}

// submitJob is one job file of "carta submit".
type submitJob struct {
	path string
	id   string
	data []byte
	// since is when the job was published, less submitOptions.clockSkew;
	// zero when the publish was a duplicate (nothing new queued: any
	// result answers it).
	since time.Time
}

// defaultClockSkew is how far the worker's clock may lag this machine's:
// a failed result finished more than defaultClockSkew before the job was
// published belongs to an earlier submission of the same id (one that
// failed, then was fixed and resubmitted after the Duplicates window) and
// is not taken as this one's result. A done result always is: a done id
// is never rendered again.
const defaultClockSkew = time.Minute

// submitOptions is what "carta submit" does once the jobs are read.
type submitOptions struct {
	wait     bool          // wait for each result
	out      string        // "" or a PDF path (one job) or a folder
	timeout  time.Duration // bound of the whole wait; 0 = none
	progress bool          // show a progress line on stderr
	// clockSkew: failed results finished this long before a job's
	// publish still count as its result (runSubmit: defaultClockSkew).
	clockSkew time.Duration
	// getter returns the store to download from for a result's bucket.
	getter func(ctx context.Context, bucket string) (objectGetter, error)
}

// readSubmitJobs reads job files and their ids, dropping repeated ids
// (the queue would drop them anyway). A file that cannot be read or has no
// valid id is an error: nothing is submitted then.
func readSubmitJobs(paths []string, stderr io.Writer) ([]submitJob, error) {
	var jobs []submitJob
	seen := map[string]submitJob{}
	var errs []error
	for _, p := range paths {
		data, err := readJob(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		id, err := client.JobID(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("read job %s: %w", p, err))
			continue
		}
		if prev, ok := seen[id]; ok {
			if string(prev.data) != string(data) {
				fmt.Fprintf(stderr, "carta submit: %s: id %s is also the id of %s, with other contents; only %s is submitted\n", p, id, prev.path, prev.path)
			}
			continue
		}
		j := submitJob{path: p, id: id, data: data}
		seen[id] = j
		jobs = append(jobs, j)
	}
	return jobs, errors.Join(errs...)
}

// outPath says where the PDF of job id goes for -o out with n jobs: out
// itself for one job when out is not a folder, else out/<id>.pdf.
func outPath(out, id string, n int) string {
	if n == 1 && !strings.HasSuffix(out, "/") && !strings.HasSuffix(out, string(os.PathSeparator)) {
		if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
			return out
		}
	}
	return filepath.Join(out, id+".pdf")
}

// submitAndWait publishes jobs and, when asked, waits for their results
// and downloads the PDFs. It returns the exit code.
func submitAndWait(ctx context.Context, c *client.Client, jobs []submitJob, o submitOptions, stdout, stderr io.Writer) int {
	if o.out != "" {
		o.wait = true
		if len(jobs) > 1 || strings.HasSuffix(o.out, "/") {
			if err := os.MkdirAll(o.out, 0o755); err != nil {
				fmt.Fprintf(stderr, "carta submit: create output folder: %v\n", err)
				return exitFailure
			}
		}
	}
	var submitted []submitJob
	code := exitOK
	for _, j := range jobs {
		published := time.Now()
		ack, err := c.Publish(ctx, j.data)
		if err != nil {
			fmt.Fprintf(stderr, "carta submit: %s: %v\n", j.path, err)
			code = exitFailure
			if errors.Is(err, client.ErrNoQueue) || errors.Is(err, context.Canceled) {
				break // nothing else will get through
			}
			continue
		}
		if ack.Duplicate {
			fmt.Fprintf(stdout, "%s: submitted before (duplicate id, not queued again)\n", j.id)
		} else {
			fmt.Fprintf(stdout, "%s: submitted (stream %s, sequence %d)\n", j.id, ack.Stream, ack.Sequence)
			j.since = published.Add(-o.clockSkew)
		}
		submitted = append(submitted, j)
	}
	if !o.wait || len(submitted) == 0 {
		return code
	}
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}

	prog := &progress{w: stderr, on: o.progress && len(submitted) > 1, waiting: len(submitted)}
	prog.draw()
	var (
		mu      sync.Mutex // orders output lines and the exit code
		invalid bool       // a job failed as invalid
		other   bool       // something else failed
		wg      sync.WaitGroup
		sem     = make(chan struct{}, 64) // bounds subscriptions and downloads in flight
	)
	for _, j := range submitted {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			line, errLines, status := waitOne(ctx, c, j, len(submitted), o)
			mu.Lock()
			defer mu.Unlock()
			prog.clear()
			if line != "" {
				fmt.Fprintln(stdout, line)
			}
			for _, l := range errLines {
				fmt.Fprintln(stderr, l)
			}
			switch status {
			case string(client.StatusDone):
				prog.done++
			case client.CodeInvalidJob:
				invalid = true
				prog.failed++
			default:
				other = true
				prog.failed++
			}
			prog.waiting--
			prog.draw()
		})
	}
	wg.Wait()
	prog.finish()
	switch {
	case other:
		return exitFailure
	case invalid:
		return exitInvalid
	}
	return code
}

// waitOne waits for one job and downloads its PDF when asked. status is
// "done", the error code of a failed job, or "wait" when waiting itself
// failed.
func waitOne(ctx context.Context, c *client.Client, j submitJob, n int, o submitOptions) (line string, errLines []string, status string) {
	res, err := c.WaitSince(ctx, j.id, j.since)
	if err != nil {
		return "", []string{fmt.Sprintf("carta submit: %s: %v", j.id, err)}, "wait"
	}
	if err := res.Err(); err != nil {
		var re *client.ResultError
		code := client.CodeInternal
		lines := []string{fmt.Sprintf("%s: failed after %d attempt(s): %v", j.id, res.Attempts, err)}
		if errors.As(err, &re) {
			code = re.Code
			for _, f := range re.Fields {
				switch {
				case f.Field == re.Field && strings.Contains(re.Message, f.Message):
				case f.Field == "": // a problem of the whole job
					lines = append(lines, "  "+f.Message)
				default:
					lines = append(lines, fmt.Sprintf("  %s: %s", f.Field, f.Message))
				}
			}
		}
		return "", lines, code
	}
	line = fmt.Sprintf("%s: done, %d pages, %d bytes, s3://%s/%s, sha256 %s", j.id, res.Pages, res.Bytes, res.Bucket, res.Key, res.SHA256)
	if o.out == "" {
		return line, nil, string(client.StatusDone)
	}
	path := outPath(o.out, j.id, n)
	if err := download(ctx, res, path, o); err != nil {
		return line, []string{fmt.Sprintf("carta submit: %s: %v", j.id, err)}, "download"
	}
	return line + ", saved to " + path, nil, string(client.StatusDone)
}

// download fetches the PDF of a done result, checks its sha256 against
// the result and writes it to path.
func download(ctx context.Context, res *client.Result, path string, o submitOptions) error {
	if o.getter == nil {
		return errors.New("download letter: no object store configured")
	}
	g, err := o.getter(ctx, res.Bucket)
	if err != nil {
		return fmt.Errorf("download letter: %w", err)
	}
	data, _, err := g.Get(ctx, res.Key)
	if err != nil {
		return fmt.Errorf("download letter: %w", err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != res.SHA256 {
		return fmt.Errorf("download letter: s3://%s/%s has sha256 %s, the result says %s", res.Bucket, res.Key, got, res.SHA256)
	}
	return writeFileAtomic(path, data)
}

// progress is the "done 3, failed 1, waiting 6" line redrawn on a
// terminal; it is silent when off.
type progress struct {
	w                     io.Writer
	on                    bool
	done, failed, waiting int
}

func (p *progress) draw() {
	if p.on {
		fmt.Fprintf(p.w, "\r\x1b[Kdone %d, failed %d, waiting %d", p.done, p.failed, p.waiting)
	}
}

func (p *progress) clear() {
	if p.on {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func (p *progress) finish() {
	if p.on {
		p.draw()
		fmt.Fprintln(p.w)
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
