package queue

import (
	"context"
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
}

func newMetrics() *metrics {
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carta_jobs_total", Help: "Jobs handled, by status (done, failed, retried, republished, abandoned).",
		}, []string{"status"}),
		render: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "carta_render_duration_seconds", Help: "Time to decode, validate and render one job.", Buckets: buckets,
		}),
		upload: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "carta_upload_duration_seconds", Help: "Time to store one PDF.", Buckets: buckets,
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "carta_jobs_in_flight", Help: "Jobs being processed now.",
		}),
		redeliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "carta_redeliveries_total", Help: "Messages received that had been delivered before.",
		}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "carta_dead_letters_total", Help: "Jobs copied to the dead-letter stream.",
		}),
	}
	for _, s := range []string{statusDone, statusFailed, statusRetried, statusRepublished, statusAbandoned} {
		m.jobs.WithLabelValues(s)
	}
	m.reg.MustRegister(m.jobs, m.render, m.upload, m.inFlight, m.redeliveries, m.deadLetters,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the Prometheus registry of the worker's metrics.
func (w *Worker) Registry() *prometheus.Registry { return w.m.reg }

// Handler serves /metrics, /healthz (200 while the process runs, 503
// with the reason when a render slot is stuck: see Healthy) and
// /readyz (200 when NATS is connected and the jobs stream answers, 503
// otherwise, with the reason).
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
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ready")
	})
	return mux
}

// Ready reports whether the worker can take jobs: NATS connected and the
// jobs stream reachable.
func (w *Worker) Ready(ctx context.Context) error {
	if !w.nc.IsConnected() {
		return fmt.Errorf("check readiness: nats %s", w.nc.Status())
	}
	if _, err := w.js.Stream(ctx, w.cfg.Stream); err != nil {
		return fmt.Errorf("check readiness: stream %s: %w", w.cfg.Stream, err)
	}
	return nil
}
