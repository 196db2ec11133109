package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/carta-letters/carta/queue"
	"github.com/carta-letters/carta/queue/s3store"
)

// parseFlags applies the CARTA_ variables (looked up with lookup) to fs,
// then parses args. Problems are reported on stderr as "carta NAME: …",
// NAME being the flag set's name. ok false means the command should stop
// now with code: exitOK after -h, exitInvalid for a bad flag or variable
// or, with noArgs, for an argument left after the flags.
func parseFlags(fs *flag.FlagSet, args []string, lookup func(string) (string, bool), noArgs bool, stderr io.Writer) (code int, ok bool) {
	pos, code, ok := parseArgs(fs, args, lookup, stderr)
	if ok && noArgs && len(pos) > 0 {
		fmt.Fprintf(stderr, "carta %s: unexpected argument %q\n", fs.Name(), pos[0])
		return exitInvalid, false
	}
	return code, ok
}

// parseArgs is the command-line parsing of every command: it applies the
// CARTA_ variables (looked up with lookup) to fs, then parses args, whose
// flags may come before or after the positional arguments ("carta render
// job.json -o out.pdf"), and returns the positional arguments. ok false
// means the command should stop now with code: exitOK after -h (the usage
// printed), exitInvalid for a bad flag or variable (reported on stderr).
func parseArgs(fs *flag.FlagSet, args []string, lookup func(string) (string, bool), stderr io.Writer) (pos []string, code int, ok bool) {
	if err := applyEnv(fs, lookup); err != nil {
		fmt.Fprintf(stderr, "carta %s: %v\n", fs.Name(), err)
		return nil, exitInvalid, false
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK, false
		}
		return nil, exitInvalid, false
	}
	// Leave the positional arguments as fs.Args() too.
	_ = fs.Parse(append([]string{"--"}, pos...))
	return pos, exitOK, true
}

// parseLogLevel reads the value s of -log-level (debug, info, warn or
// error). A bad value is reported on stderr as "carta CMD: …", naming the
// flag and its variable, and gives ok false.
func parseLogLevel(cmd, s string, stderr io.Writer) (level slog.Level, ok bool) {
	if err := level.UnmarshalText([]byte(s)); err != nil {
		fmt.Fprintf(stderr, "carta %s: invalid value %q for -log-level (%s): must be debug, info, warn or error\n", cmd, s, envName("log-level"))
		return level, false
	}
	return level, true
}

// checkLinkExpiry checks the value d of -link-expiry of command cmd
// (s3store.MinPresignExpiry to MaxPresignExpiry), reporting a bad one on
// stderr naming the flag and its variable.
func checkLinkExpiry(cmd string, d time.Duration, stderr io.Writer) bool {
	if d < s3store.MinPresignExpiry || d > s3store.MaxPresignExpiry {
		fmt.Fprintf(stderr, "carta %s: invalid value %v for -link-expiry (%s): must be between 1s and 168h\n", cmd, d, envName("link-expiry"))
		return false
	}
	return true
}

// defineNATSFlags defines the NATS connection flags on fs, stored in o:
// -nats-url (default nats://127.0.0.1:4222), -nats-creds, -nats-nkey,
// -nats-tls-ca, -nats-tls-cert and -nats-tls-key (default empty), and
// -nats-name with default name, unless name is "": the command then
// names its connection itself and has no -nats-name.
func defineNATSFlags(fs *flag.FlagSet, o *queue.NATSOptions, name string) {
	fs.StringVar(&o.URL, "nats-url", "nats://127.0.0.1:4222", "NATS server URL(s), comma-separated")
	if name != "" {
		fs.StringVar(&o.Name, "nats-name", name, "connection name shown by the NATS server")
	}
	fs.StringVar(&o.CredsFile, "nats-creds", "", "NATS credentials (.creds) file")
	fs.StringVar(&o.NKeyFile, "nats-nkey", "", "NATS NKey seed file")
	fs.StringVar(&o.TLSCA, "nats-tls-ca", "", "PEM file of CAs to trust for the NATS server")
	fs.StringVar(&o.TLSCert, "nats-tls-cert", "", "PEM client certificate for NATS")
	fs.StringVar(&o.TLSKey, "nats-tls-key", "", "PEM key of -nats-tls-cert")
}

// defineQueueNameFlags defines -subject, -results-subject and
// -results-bucket on fs, with the defaults of package queue
// (DefaultSubject, DefaultResultsSubject, DefaultResultsBucket).
func defineQueueNameFlags(fs *flag.FlagSet, subject, resultsSubject, resultsBucket *string) {
	fs.StringVar(subject, "subject", queue.DefaultSubject, "subject jobs are published on")
	fs.StringVar(resultsSubject, "results-subject", queue.DefaultResultsSubject, "results are published on <this>.<id>")
	fs.StringVar(resultsBucket, "results-bucket", queue.DefaultResultsBucket, "JetStream key-value bucket of results")
}

// s3FlagHelp are the help texts of the S3 flags that differ between
// commands.
type s3FlagHelp struct {
	bucket         string // -s3-bucket (default "carta"); "" leaves the flag out
	endpoint       string // -s3-endpoint, before " (default: AWS_ENDPOINT_URL_S3, else AWS)"
	requestTimeout string // -s3-request-timeout (default s3store.DefaultRequestTimeout); "" leaves the flag out
}

// defineS3Flags defines the S3 flags on fs, stored in c: -s3-endpoint,
// -s3-path-style and -s3-region (default empty: the AWS chain's), and
// -s3-bucket and -s3-request-timeout when h has their help.
func defineS3Flags(fs *flag.FlagSet, c *s3store.Config, h s3FlagHelp) {
	if h.bucket != "" {
		fs.StringVar(&c.Bucket, "s3-bucket", "carta", h.bucket)
	}
	fs.StringVar(&c.Endpoint, "s3-endpoint", "", h.endpoint+" (default: AWS_ENDPOINT_URL_S3, else AWS)")
	fs.BoolVar(&c.PathStyle, "s3-path-style", false, "path-style S3 addressing (endpoint/bucket/key), for most non-AWS servers")
	fs.StringVar(&c.Region, "s3-region", "", "S3 region (default: AWS_REGION or the shared config, else us-east-1)")
	if h.requestTimeout != "" {
		c.RequestTimeout = s3store.DefaultRequestTimeout
		fs.Var((*positiveDuration)(&c.RequestTimeout), "s3-request-timeout", h.requestTimeout)
	}
}

// envName is the environment variable of a flag: CARTA_ and the flag
// name in upper snake case (-nats-url → CARTA_NATS_URL).
func envName(flagName string) string {
	return "CARTA_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets each flag of fs that has its CARTA_ variable in the
// environment (looked up with lookup, os.LookupEnv in production) and
// adds the variable's name to the flag's usage. Call it after defining
// the flags and before fs.Parse, so the command line wins. A bad value
// is reported naming both the flag and the variable, e.g.
//
//	invalid value "x" for -concurrency (CARTA_CONCURRENCY): must be a positive integer
func applyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		f.Usage += " (env " + env + ")"
		val, ok := lookup(env)
		if !ok {
			return
		}
		if err := fs.Set(f.Name, val); err != nil {
			errs = append(errs, fmt.Errorf("invalid value %q for -%s (%s): %w", val, f.Name, env, unwrapFlagErr(err)))
		}
	})
	return errors.Join(errs...)
}

// unwrapFlagErr drops the strconv prefixes of the flag package's errors.
func unwrapFlagErr(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

// positiveInt is an int flag that must be at least 1.
type positiveInt int

func (p *positiveInt) String() string { return strconv.Itoa(int(*p)) }

func (p *positiveInt) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return errors.New("must be a positive integer")
	}
	*p = positiveInt(n)
	return nil
}

// positiveDuration is a duration flag that must be above zero.
type positiveDuration time.Duration

func (d *positiveDuration) String() string { return time.Duration(*d).String() }

func (d *positiveDuration) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v <= 0 {
		return errors.New("must be a positive duration such as 30s or 2m")
	}
	*d = positiveDuration(v)
	return nil
}

// byteSize is a size flag in bytes, with an optional KiB, MiB or GiB
// suffix.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 1 {
		return errors.New("must be a positive number of bytes, optionally with KiB, MiB or GiB")
	}
	*b = byteSize(n * mult)
	return nil
}

// newFlagSet is the flag set of "carta NAME", writing its messages to
// stderr. Its Usage prints usage (a line, or a paragraph ending in
// "Flags:"), then the flags.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// printReport writes rep to w as indented JSON when asJSON, else calls
// text to print it for people.
func printReport(w io.Writer, asJSON bool, rep any, text func()) {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return
	}
	text()
}
