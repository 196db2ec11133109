package queue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Job statuses counted by the carta_jobs_total metric.
const (
	statusDone        = "done"        // stored and reported
	statusFailed      = "failed"      // failed for good and reported
	statusRetried     = "retried"     // transient failure, nak'ed for a later delivery
	statusRepublished = "republished" // already done: recorded result published again
	statusAbandoned   = "abandoned"   // interrupted by shutdown, nak'ed for redelivery
)

type metrics struct {
	reg          *prometheus.Registry
	jobs         *prometheus.CounterVec
	render       prometheus.Histogram
	upload       prometheus.Histogram
	inFlight     prometheus.Gauge
	redeliveries prometheus.Counter
	deadLetters  prometheus.Counter

	storageUp      prometheus.Gauge
	storageOutages prometheus.Counter
	signerUp       prometheus.Gauge
	signerOutages  prometheus.Counter
	held           prometheus.Gauge
	natsRetries    prometheus.Counter
	ready          prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carta_jobs_total", Help: "Jobs handled, by status (done, failed, retried, republished, abandoned).",
		}, []string{"status"}),
		render:         newHistogram("carta_render_duration_seconds", "Time to decode, validate and render one job."),
		upload:         newHistogram("carta_upload_duration_seconds", "Time to store one PDF."),
		inFlight:       newGauge("carta_jobs_in_flight", "Jobs being processed now."),
		redeliveries:   newCounter("carta_redeliveries_total", "Messages received that had been delivered before."),
		deadLetters:    newCounter("carta_dead_letters_total", "Jobs copied to the dead-letter stream."),
		storageUp:      newGauge("carta_storage_up", "1 while the object store answers, 0 during a storage outage (no new jobs pulled, jobs in flight held)."),
		storageOutages: newCounter("carta_storage_outages_total", "Storage outages begun (S3 unreachable, 5xx, throttling, credentials refused, bucket missing)."),
		signerUp:       newGauge("carta_signer_up", "1 while the signer's services (timestamp authority, OCSP, CRL) answer, 0 during a signing service outage (no new jobs pulled, jobs in flight held)."),
		signerOutages:  newCounter("carta_signer_outages_total", "Signing service outages begun (TSA, OCSP responder or CRL distribution point unreachable, timing out, 5xx or 429)."),
		held:           newGauge("carta_jobs_held", "Jobs rendered and waiting for the object store or the signer's services to answer again."),
		natsRetries:    newCounter("carta_nats_retries_total", "JetStream calls for a job tried again after a lost connection, a lost reply or no responders."),
		ready:          newGauge("carta_ready", "1 when the last /readyz check passed, 0 when it failed."),
	}
	m.storageUp.Set(1)
	m.signerUp.Set(1)
	for _, s := range []string{statusDone, statusFailed, statusRetried, statusRepublished, statusAbandoned} {
		m.jobs.WithLabelValues(s)
	}
	m.reg.MustRegister(m.jobs, m.render, m.upload, m.inFlight, m.redeliveries, m.deadLetters,
		m.storageUp, m.storageOutages, m.signerUp, m.signerOutages, m.held, m.natsRetries, m.ready,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// durationBuckets are the buckets of the duration histograms, in seconds.
var durationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

func newCounter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

func newGauge(name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
}

func newHistogram(name, help string) prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: durationBuckets})
}

// Registry is the Prometheus registry of the worker's metrics.
func (w *Worker) Registry() *prometheus.Registry { return w.m.reg }

// Handler serves /metrics, /healthz (200 while the process runs, 503
// with the reason when a render slot is stuck: see Healthy) and
// /readyz (200 when the worker can pull jobs, record results and reach
// its bucket, 503 otherwise, with the reason: see Ready).
func (w *Worker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(w.m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		if err := w.Healthy(); err != nil {
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ok")
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := w.Ready(ctx); err != nil {
			w.m.ready.Set(0)
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.m.ready.Set(1)
		fmt.Fprintln(rw, "ready")
	})
	return mux
}

// Ready reports whether the worker can take jobs: it has set up its
// streams, consumer and results bucket and checked its bucket (Run), no
// storage or signing service outage is in progress, NATS is connected, the jobs stream, its
// consumer and the results bucket answer, and the object store's bucket answers
// (when the store is a BucketChecker). The error says which failed.
func (w *Worker) Ready(ctx context.Context) error {
	select {
	case <-w.started:
	default:
		return errors.New("check readiness: starting: setting up streams, consumer and results bucket")
	}
	if err := w.st.readyErr(); err != nil {
		return fmt.Errorf("check readiness: %w", err)
	}
	if err := w.sg.readyErr(); err != nil {
		return fmt.Errorf("check readiness: %w", err)
	}
	if !w.nc.IsConnected() {
		return fmt.Errorf("check readiness: nats %s", w.nc.Status())
	}
	if _, err := w.js.Stream(ctx, w.cfg.Stream); err != nil {
		return fmt.Errorf("check readiness: stream %s: %w", w.cfg.Stream, err)
	}
	if _, err := w.js.Consumer(ctx, w.cfg.Stream, w.cfg.Consumer); err != nil {
		return fmt.Errorf("check readiness: consumer %s: %w", w.cfg.Consumer, err)
	}
	if _, err := w.kv.Status(ctx); err != nil {
		return fmt.Errorf("check readiness: results bucket %s: %w", w.cfg.ResultsBucket, err)
	}
	if bc, ok := w.store.(BucketChecker); ok {
		if err := bc.CheckBucket(ctx); err != nil {
			return fmt.Errorf("check readiness: %w", err)
		}
	}
	return nil
}
