package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/eolwatch/eolwatch/catalog"

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

// newMetrics registers the server's metrics; cat returns the catalog in
// force (nil: no catalog metrics).
func newMetrics(st interface {
	HostsByStatus(ctx context.Context) (map[string]int, error)
}, cat func() *catalog.Catalog) *metrics {
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
	if cat != nil {
		m.reg.MustRegister(catalogCollector{cat: cat, now: time.Now})
	}
	return m
}

// Catalog metrics: how old the data behind every verdict is.
var (
	catalogDateDesc = prometheus.NewDesc("eolwatch_catalog_date_timestamp_seconds",
		"The day the catalog data in force was taken (catalog_date), as a Unix time at 00:00 UTC.", nil, nil)
	catalogAgeDesc = prometheus.NewDesc("eolwatch_catalog_age_days",
		"Days from the catalog data's date to today (UTC); verdicts warn past "+strconv.Itoa(catalog.StaleAfterDays)+".", nil, nil)
)

// catalogCollector reports the catalog's date and age at scrape time, so
// the age grows by the day and a feed sync resets it. A catalog without a
// date reports neither.
type catalogCollector struct {
	cat func() *catalog.Catalog
	now func() time.Time
}

func (c catalogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- catalogDateDesc
	ch <- catalogAgeDesc
}

func (c catalogCollector) Collect(ch chan<- prometheus.Metric) {
	cat := c.cat()
	if cat == nil {
		return
	}
	date := cat.Info().Date
	if date.IsZero() {
		return
	}
	ch <- prometheus.MustNewConstMetric(catalogDateDesc, prometheus.GaugeValue, float64(date.Unix()))
	ch <- prometheus.MustNewConstMetric(catalogAgeDesc, prometheus.GaugeValue, float64(catalogAgeDays(date.Time, c.now())))
}

// catalogAgeDays is how many whole days lie between the catalog's date and
// now's day (UTC).
func catalogAgeDays(date, now time.Time) int {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return int(today.Sub(date.UTC()).Hours() / 24)
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
