package queue

import (
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/carta-letters/carta/queue/client"
	"github.com/carta-letters/carta/renderer"
	"github.com/carta-letters/carta/renderer/job"
)

// Defaults of Config; see each field.
const (
	DefaultStream          = "CARTA_JOBS"
	DefaultSubject         = client.DefaultJobsSubject
	DefaultConsumer        = "carta-workers"
	DefaultResultsBucket   = client.DefaultResultsBucket
	DefaultJobsBucket      = client.DefaultJobsBucket
	DefaultResultsSubject  = client.DefaultResultsPrefix
	DefaultDeadStream      = "CARTA_DEAD"
	DefaultDeadSubject     = "carta.dead"
	DefaultDuplicates      = 10 * time.Minute
	DefaultMaxMsgs         = 100_000
	DefaultMaxBytes        = 1 << 30 // 1 GiB
	DefaultMaxMsgSize      = 1 << 20 // 1 MiB, the nats-server default max_payload
	DefaultMaxDeliver      = 5
	DefaultAckWait         = 15 * time.Second
	DefaultJobTimeout      = 2 * time.Minute
	DefaultShutdownTimeout = 30 * time.Second
	DefaultRetryBase       = time.Second
	DefaultRetryMax        = time.Minute
	DefaultPullWait        = 2 * time.Second
	DefaultProbeBase       = 500 * time.Millisecond
	DefaultProbeMax        = 15 * time.Second
	DefaultNATSTimeout     = 10 * time.Second
)

// RenderFunc decodes, validates and renders the combined letter of one
// job given as JSON bytes, as renderer.RenderJSON does; an invalid job
// must return an error wrapping a *job.ValidationError. A worker given
// only a RenderFunc stores the combined letter and no per-recipient
// copies (see Config.Render).
type RenderFunc func(data []byte) (*job.Job, *renderer.Result, error)

// RenderAllFunc decodes, validates and renders every PDF of one job
// given as JSON bytes: the combined letter first, then the per-recipient
// copies the job asks for, each with its object key (see
// renderer.RenderAll). accepted is when the job was accepted (the time
// JetStream stored its message), which dates a job that gives no date
// (renderer.Options). An invalid job must return an error wrapping a
// *job.ValidationError. RenderAllJSON is the one used in production.
type RenderAllFunc func(data []byte, accepted time.Time) (*job.Job, []renderer.Output, error)

// RenderAllJSON decodes and validates a job (job.Decode) and renders
// every PDF it asks for (renderer.RenderAllWith, accepted as the
// acceptance date). It is the default Config.RenderAll.
func RenderAllJSON(data []byte, accepted time.Time) (*job.Job, []renderer.Output, error) {
	j, err := job.Decode(data)
	if err != nil {
		return nil, nil, err
	}
	outs, err := renderer.RenderAllWith(j, renderer.Options{Accepted: accepted})
	if err != nil {
		return j, nil, err
	}
	return j, outs, nil
}

// Signer signs a rendered PDF; *sign.Signer (package renderer/sign)
// implements it. Sign returns the signed PDF; Name is the signer's name,
// recorded in the result event (signed_by) and the object metadata
// (carta-signed-by). It must be safe for concurrent use.
type Signer interface {
	Sign(pdf []byte) ([]byte, error)
	Name() string
}

// Config configures a Worker. The zero value of each field means its
// default, given in brackets.
type Config struct {
	Stream         string        // jobs stream [DefaultStream "CARTA_JOBS"]
	Subject        string        // jobs subject [DefaultSubject "carta.jobs"]
	Consumer       string        // durable pull consumer shared by all workers [DefaultConsumer "carta-workers"]
	ResultsBucket  string        // key-value bucket of results [DefaultResultsBucket "carta_results"]
	ResultsSubject string        // results go to <ResultsSubject>.<id> [DefaultResultsSubject "carta.results"]
	DeadStream     string        // dead-letter stream [DefaultDeadStream "CARTA_DEAD"]
	DeadSubject    string        // dead letters go to <DeadSubject>.<id> [DefaultDeadSubject "carta.dead"]
	Duplicates     time.Duration // jobs stream's Nats-Msg-Id dedupe window [DefaultDuplicates 10m]
	MaxMsgs        int64         // jobs stream's message limit [DefaultMaxMsgs 100000]
	MaxBytes       int64         // jobs stream's byte limit [DefaultMaxBytes 1 GiB]
	MaxMsgSize     int32         // largest job accepted [DefaultMaxMsgSize 1 MiB]
	Replicas       int           // stream and bucket replicas [1]
	MaxDeliver     int           // deliveries of one job before it is dead-lettered [DefaultMaxDeliver 5]
	AckWait        time.Duration // redelivery time of an unacknowledged job; heartbeats every AckWait/3 extend it while the job is worked on, so it bounds how long a killed worker's jobs wait [DefaultAckWait 15s]
	Concurrency    int           // render slots of this worker: renders at once [runtime.NumCPU()]
	// MaxInFlight bounds the jobs this worker holds at once: rendering,
	// waiting for a render slot, or storing and reporting. It is at least
	// Concurrency; the jobs beyond Concurrency let the uploads, result
	// records and acks of finished renders overlap the next renders. The
	// worker pulls one message whenever it holds fewer, never a
	// prefetched batch [2×Concurrency].
	MaxInFlight int
	// JobTimeout is the time limit of one job from the moment it gets a
	// render slot: render, upload and report. Waiting for the slot does
	// not count [DefaultJobTimeout 2m].
	JobTimeout time.Duration
	// ShutdownTimeout bounds how long Run waits, once its context is
	// done, for in-flight jobs; the ones still running then are nak'ed
	// for redelivery [DefaultShutdownTimeout 30s].
	ShutdownTimeout time.Duration
	RetryBase       time.Duration // delay before the 2nd delivery after a transient failure; doubles each time [DefaultRetryBase 1s]
	RetryMax        time.Duration // cap of that delay [DefaultRetryMax 1m]
	PullWait        time.Duration // expiry of each one-message pull request [DefaultPullWait 2s]
	// ProbeBase and ProbeMax pace the probes of the object store during
	// a storage outage, and of the Signer (SignerProber) during a
	// signing service outage: the first after ProbeBase, then twice as long
	// each time, at most ProbeMax. After the outage the worker resumes
	// within ProbeMax [DefaultProbeBase 500ms, DefaultProbeMax 15s].
	ProbeBase, ProbeMax time.Duration
	// NATSTimeout bounds every call to JetStream the worker makes for a
	// job (results bucket reads and writes, dead letters, acks): shorter
	// than JobTimeout, so a call whose reply is lost (server restarted,
	// stream leader gone) fails and is retried instead of holding the
	// job. A call made while the connection is down fails at once
	// [DefaultNATSTimeout 10s].
	NATSTimeout time.Duration
	// CreateBucket makes Run create the object store's bucket at start
	// when it is missing (the store must implement BucketCreator);
	// otherwise a missing bucket is reported, and waited for, as a
	// storage outage [false].
	CreateBucket bool
	// ResultsTTL, when above zero, is how long the results bucket keeps
	// each result: the bucket's TTL (its stream's MaxAge), applied by
	// Setup. Without it the bucket holds one key per job forever, and
	// nats-server keeps some 300 bytes of index in memory per key.
	//
	// The trade-off: the staff page lists letters from this bucket and
	// the worker's idempotency check reads it, so a result older than
	// ResultsTTL is forgotten. Its letter leaves the staff list (a
	// running carta serve is not told of expiries and drops it at its
	// next start), and a job resubmitted under its id is rendered again:
	// harmlessly, since the object already stored has the same job
	// sha256 and counts as stored (a different job under an old id
	// fails with storage_failed and leaves the stored letter alone).
	// The PDFs themselves stay in S3. Must be 0 or at least 1s
	// [0: keep results forever].
	ResultsTTL time.Duration
	// JobsBucket is the key-value bucket where the worker keeps the JSON
	// of every job it takes that has an id, valid or not, under
	// client.JobKey(id): the staff page (package queue/api, whose
	// api.Config.JobsBucket must name the same bucket) draws a letter's
	// first-page preview from it, whoever submitted the job. Setup
	// creates it, or updates it, with ResultsTTL as its TTL, so that a
	// job's JSON goes when its result goes. The write runs beside the
	// job and never fails or delays it: when the bucket does not answer,
	// the letter only lacks its preview, and the worker logs it at warn
	// once until a write works again. A job whose JSON the bucket holds
	// already (kept by the API, or by an earlier delivery) is not
	// written again. Must differ from ResultsBucket
	// [DefaultJobsBucket "carta_jobs"].
	JobsBucket string

	// RenderAll renders every PDF of a job [RenderAllJSON, or Render
	// when only Render is set].
	RenderAll RenderAllFunc
	// Render, when set and RenderAll is not, renders the combined letter
	// only: the worker then stores no per-recipient copies. It exists for
	// tests that replace the renderer [none].
	Render RenderFunc
	// Signer, when not nil, signs every PDF after rendering and before
	// upload; a nil Signer stores unsigned PDFs. Do not store a nil
	// *sign.Signer here: an interface holding a nil pointer is not nil
	// [nil: unsigned].
	Signer Signer
	Logger *slog.Logger // log of the worker [slog.Default()]
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	str := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	dur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	str(&c.Stream, DefaultStream)
	str(&c.Subject, DefaultSubject)
	str(&c.Consumer, DefaultConsumer)
	str(&c.ResultsBucket, DefaultResultsBucket)
	str(&c.JobsBucket, DefaultJobsBucket)
	str(&c.ResultsSubject, DefaultResultsSubject)
	str(&c.DeadStream, DefaultDeadStream)
	str(&c.DeadSubject, DefaultDeadSubject)
	dur(&c.Duplicates, DefaultDuplicates)
	dur(&c.AckWait, DefaultAckWait)
	dur(&c.JobTimeout, DefaultJobTimeout)
	dur(&c.ShutdownTimeout, DefaultShutdownTimeout)
	dur(&c.RetryBase, DefaultRetryBase)
	dur(&c.RetryMax, DefaultRetryMax)
	dur(&c.PullWait, DefaultPullWait)
	dur(&c.ProbeBase, DefaultProbeBase)
	dur(&c.ProbeMax, DefaultProbeMax)
	dur(&c.NATSTimeout, DefaultNATSTimeout)
	if c.MaxMsgs == 0 {
		c.MaxMsgs = DefaultMaxMsgs
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxMsgSize == 0 {
		c.MaxMsgSize = DefaultMaxMsgSize
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if c.Concurrency == 0 {
		c.Concurrency = runtime.NumCPU()
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 2 * c.Concurrency
	}
	if c.RenderAll == nil {
		c.RenderAll = RenderAllJSON
		if c.Render != nil {
			c.RenderAll = combinedOnly(c.Render)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// validate reports the first setting that cannot work.
func (c Config) validate() error {
	switch {
	case c.MaxDeliver < 1:
		return fmt.Errorf("check config: max deliver %d: must be at least 1", c.MaxDeliver)
	case c.Concurrency < 1:
		return fmt.Errorf("check config: concurrency %d: must be at least 1", c.Concurrency)
	case c.MaxInFlight < c.Concurrency:
		return fmt.Errorf("check config: max in flight %d: must be at least the concurrency (%d)", c.MaxInFlight, c.Concurrency)
	case c.AckWait < 0 || c.JobTimeout < 0 || c.ShutdownTimeout < 0 || c.RetryBase < 0 || c.RetryMax < 0 || c.PullWait < 0 || c.Duplicates < 0 ||
		c.ProbeBase < 0 || c.ProbeMax < 0 || c.NATSTimeout < 0:
		return fmt.Errorf("check config: durations must not be negative")
	case c.PullWait < 100*time.Millisecond:
		return fmt.Errorf("check config: pull wait %v: must be at least 100ms", c.PullWait)
	case c.JobsBucket == c.ResultsBucket:
		return fmt.Errorf("check config: jobs bucket %q: must not be the results bucket", c.JobsBucket)
	case c.ResultsTTL < 0 || c.ResultsTTL > 0 && c.ResultsTTL < time.Second:
		return fmt.Errorf("check config: results ttl %v: must be 0 (keep forever) or at least 1s", c.ResultsTTL)
	case c.Duplicates > 0 && c.MaxMsgs < 0:
		return fmt.Errorf("check config: max msgs %d: must be positive", c.MaxMsgs)
	}
	return nil
}

// backoff is the NakWithDelay delay after the given (1-based) failed
// delivery: RetryBase, 2×, 4×, … capped at RetryMax.
func (c Config) backoff(attempt int) time.Duration {
	d := c.RetryBase
	for i := 1; i < attempt && d < c.RetryMax; i++ {
		d *= 2
	}
	return min(d, c.RetryMax)
}

// combinedOnly adapts a RenderFunc to a RenderAllFunc giving the combined
// letter alone, under the job's key (job.OutputKey).
func combinedOnly(render RenderFunc) RenderAllFunc {
	return func(data []byte, _ time.Time) (*job.Job, []renderer.Output, error) {
		j, res, err := render(data)
		if err != nil || j == nil || res == nil {
			return j, nil, err
		}
		return j, []renderer.Output{{Name: "letter", Recipient: -1, Key: j.OutputKey(), Result: res}}, nil
	}
}
