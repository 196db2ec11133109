package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/carta-letters/carta/queue"
)

// requeueFlags are the settings of "carta requeue".
type requeueFlags struct {
	nats    queue.NATSOptions
	cfg     queue.Config
	ids     idList
	all     bool
	since   timeFlag
	until   timeFlag
	confirm bool
	timeout time.Duration
}

// idList is a repeatable, comma-separated list of job ids.
type idList []string

func (l *idList) String() string { return strings.Join(*l, ",") }

func (l *idList) Set(s string) error {
	for id := range strings.SplitSeq(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*l = append(*l, id)
		}
	}
	return nil
}

// timeFlag is an RFC 3339 time, or a duration meaning that long ago.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		f.t = t
		return nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		f.t = time.Now().Add(-d)
		return nil
	}
	return errors.New("must be an RFC 3339 time (2026-01-09T15:04:05Z) or a duration ago (24h)")
}

func defineRequeueFlags(fs *flag.FlagSet) *requeueFlags {
	f := &requeueFlags{}
	defineNATSFlags(fs, &f.nats, "carta-requeue")
	fs.StringVar(&f.cfg.Stream, "stream", queue.DefaultStream, "JetStream stream of jobs (the requeued jobs go to its -subject)")
	fs.StringVar(&f.cfg.Subject, "subject", queue.DefaultSubject, "subject jobs are published on")
	fs.StringVar(&f.cfg.DeadStream, "dead-stream", queue.DefaultDeadStream, "JetStream stream of dead letters")
	fs.Var(&f.ids, "id", "requeue the dead letters of this job id; repeat or separate with commas")
	fs.BoolVar(&f.all, "all", false, "requeue every dead letter (narrowed by -since and -until)")
	fs.Var(&f.since, "since", "only dead letters stored at or after this time (RFC 3339, or a duration ago such as 24h)")
	fs.Var(&f.until, "until", "only dead letters stored before this time (RFC 3339, or a duration ago)")
	fs.BoolVar(&f.confirm, "confirm", false, "requeue them; without it, only list what would be requeued")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "time limit of the whole command")
	return f
}

// runRequeue implements "carta requeue".
func runRequeue(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("requeue", "usage: carta requeue (-id ID… | -all | -since T [-until T]) [-confirm] [flags]\n\n"+
		"Moves dead-lettered jobs back to the jobs stream with their original bodies, to be\n"+
		"rendered again with all their attempts. Without -confirm it only lists them (a dry run).\n\nFlags:", stderr)
	f := defineRequeueFlags(fs)
	if code, ok := parseFlags(fs, args, os.LookupEnv, true, stderr); !ok {
		return code
	}
	if len(f.ids) == 0 && !f.all && f.since.t.IsZero() && f.until.t.IsZero() {
		fmt.Fprintf(stderr, "carta requeue: choose dead letters with -id (%s), -all (%s), or -since/-until\n", envName("id"), envName("all"))
		return exitInvalid
	}
	if len(f.ids) > 0 && f.all {
		fmt.Fprintln(stderr, "carta requeue: give -id or -all, not both")
		return exitInvalid
	}
	filter := queue.DeadFilter{IDs: f.ids, All: len(f.ids) == 0, Since: f.since.t, Until: f.until.t}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	nc, err := queue.Connect(f.nats)
	if err != nil {
		fmt.Fprintf(stderr, "carta requeue: %v\n", err)
		return exitFailure
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Fprintf(stderr, "carta requeue: %v\n", err)
		return exitFailure
	}
	dead, err := queue.ListDeadLetters(ctx, js, f.cfg, filter)
	if err != nil {
		fmt.Fprintf(stderr, "carta requeue: %v\n", err)
		return exitFailure
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tJOB ID\tDEAD-LETTERED\tATTEMPTS\tERROR")
	for _, d := range dead {
		id := d.ID
		if id == "" {
			id = "(no id)"
		}
		msg := d.Error
		if len(msg) > 100 {
			msg = msg[:97] + "..."
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", d.Seq, id, d.Time.UTC().Format(time.RFC3339), d.Attempts, msg)
	}
	_ = tw.Flush()
	if !f.confirm {
		fmt.Fprintf(stdout, "%d dead letter(s) would be requeued; run again with -confirm to requeue them\n", len(dead))
		return exitOK
	}
	failed := 0
	for _, d := range dead {
		if err := queue.Requeue(ctx, js, f.cfg, d); err != nil {
			fmt.Fprintf(stderr, "carta requeue: %v\n", err)
			failed++
		}
	}
	fmt.Fprintf(stdout, "requeued %d dead letter(s)", len(dead)-failed)
	if failed > 0 {
		fmt.Fprintf(stdout, "; %d failed (see above)\n", failed)
		return exitFailure
	}
	fmt.Fprintln(stdout)
	return exitOK
}
