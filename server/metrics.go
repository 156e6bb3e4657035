package server

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, in their own registry.
type metrics struct {
	reg            *prometheus.Registry
	reports        *prometheus.CounterVec
	ingestSeconds  *prometheus.HistogramVec
	reevalSeconds  prometheus.Histogram
	enrollFailures prometheus.Counter
}

func newMetrics(st interface {
	HostsByStatus(ctx context.Context) (map[string]int, error)
}) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eolwatch_reports_ingested_total",
			Help: "Agent reports received, by kind (full, checkin) and result (applied, duplicate, rejected, error).",
		}, []string{"kind", "result"}),
		ingestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "eolwatch_ingest_duration_seconds",
			Help:    "Time to ingest one report, from request to commit.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"kind"}),
		reevalSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "eolwatch_fleet_reevaluation_seconds",
			Help:    "Time to re-evaluate the fleet after a catalog change or a new day.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		enrollFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "eolwatch_enroll_failures_total",
			Help: "Enrollments refused for a wrong enroll secret.",
		}),
	}
	hosts := prometheus.NewDesc("eolwatch_hosts", "Hosts by worst verdict status.", []string{"status"}, nil)
	m.reg.MustRegister(m.reports, m.ingestSeconds, m.reevalSeconds, m.enrollFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		hostCollector{desc: hosts, st: st})
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// hostCollector counts hosts by status from the store at scrape time.
type hostCollector struct {
	desc *prometheus.Desc
	st   interface {
		HostsByStatus(ctx context.Context) (map[string]int, error)
	}
}

func (c hostCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c hostCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.st.HostsByStatus(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), st)
	}
}
