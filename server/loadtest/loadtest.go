// Package loadtest is eolwatch's HTTP load generator: it simulates a fleet
// of hosts with realistic inventories (built from a real package list, with
// versions taken from the catalog so verdicts vary) against a running
// server over HTTP — enrollment, first full reports, steady-state
// check-ins — then asks eligibility questions, and reports throughput and
// latency percentiles per phase. `eolwatch-server loadgen` runs it.
package loadtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match"
)

var timeZero = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Config is one load run.
type Config struct {
	// Server is the server's base URL (http://127.0.0.1:8480).
	Server string
	// EnrollSecret is the server's --enroll-secret.
	EnrollSecret string
	// Hosts is the number of simulated hosts.
	Hosts int
	// Items is the number of inventory items per host.
	Items int
	// Concurrency is the number of requests in flight.
	Concurrency int
	// Checkins is the number of steady-state check-ins per host after its
	// first full report (default 1; negative: none).
	Checkins int
	// ChangeRate is the share of check-ins sent as a full report with a
	// few changed items instead (0-1), as hosts that were upgraded.
	ChangeRate float64
	// Eligibility is the number of eligibility queries (by product and
	// version, and by host and product) after the reports; they need Token.
	Eligibility int
	// Token is a support (or admin) API token for the eligibility queries;
	// empty skips them.
	Token string
	// Template is the package list inventories are built from (default:
	// this machine's dpkg list, else a built-in Debian 12 slice).
	Template []api.Item
	// Catalog supplies the versions (default catalog.Default()).
	Catalog *catalog.Catalog
	// Seed makes the fleet reproducible; the same seed re-uses the same
	// install ids, which a server that enrolled them before only takes
	// with an admin's approval (re-enrolling needs the previous node key):
	// give each run against one server its own seed.
	Seed uint64
	// NoGzip sends report bodies uncompressed.
	NoGzip bool
	// HTTPClient is the client to use (default: keep-alive, 60 s timeout).
	HTTPClient *http.Client
	// Progress, when set, receives one line per finished phase.
	Progress io.Writer
}

// Phase is what one phase measured.
type Phase struct {
	Name       string        `json:"name"`
	Requests   int           `json:"requests"`
	Errors     int           `json:"errors"`
	NeedFull   int           `json:"need_full,omitempty"` // check-ins answered "send a full report"
	Items      int           `json:"items,omitempty"`     // inventory items sent
	Bytes      int64         `json:"bytes,omitempty"`     // request bytes on the wire
	Duration   time.Duration `json:"duration_ns"`
	PerSecond  float64       `json:"per_second"`
	ItemsPerS  float64       `json:"items_per_second,omitempty"`
	P50        time.Duration `json:"p50_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
	Max        time.Duration `json:"max_ns"`
	FirstError string        `json:"first_error,omitempty"`
}

// Result is a whole run.
type Result struct {
	Hosts  int     `json:"hosts"`
	Items  int     `json:"items"`
	Phases []Phase `json:"phases"`
}

// Phase returns the phase named name, or a zero Phase.
func (r *Result) Phase(name string) Phase {
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return Phase{}
}

// Print writes the result as a table.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "%d hosts x %d items\n", r.Hosts, r.Items)
	fmt.Fprintf(w, "%-12s %8s %6s %9s %10s %12s %9s %9s %9s %9s\n", "phase", "requests", "errors", "seconds", "req/s", "items/s", "p50", "p90", "p99", "max")
	for _, p := range r.Phases {
		items := "-"
		if p.ItemsPerS > 0 {
			items = fmt.Sprintf("%.0f", p.ItemsPerS)
		}
		fmt.Fprintf(w, "%-12s %8d %6d %9.2f %10.1f %12s %9s %9s %9s %9s\n", p.Name, p.Requests, p.Errors, p.Duration.Seconds(),
			p.PerSecond, items, ms(p.P50), ms(p.P90), ms(p.P99), ms(p.Max))
		if p.FirstError != "" {
			fmt.Fprintf(w, "  first error: %s\n", p.FirstError)
		}
		if p.NeedFull > 0 {
			fmt.Fprintf(w, "  %d check-ins were answered need_full and resent in full\n", p.NeedFull)
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// recorder collects one phase's measurements from many goroutines.
type recorder struct {
	mu       sync.Mutex
	lat      []time.Duration
	errors   int
	needFull int
	items    int
	bytes    int64
	first    string
}

func (r *recorder) ok(d time.Duration, items int, bytes int64) {
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.items += items
	r.bytes += bytes
	r.mu.Unlock()
}

func (r *recorder) fail(d time.Duration, err error) {
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.errors++
	if r.first == "" {
		r.first = err.Error()
	}
	r.mu.Unlock()
}

func (r *recorder) phase(name string, took time.Duration) Phase {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	p := Phase{Name: name, Requests: len(r.lat), Errors: r.errors, NeedFull: r.needFull, Items: r.items, Bytes: r.bytes,
		Duration: took, FirstError: r.first}
	if took > 0 {
		p.PerSecond = float64(p.Requests) / took.Seconds()
		p.ItemsPerS = float64(p.Items) / took.Seconds()
	}
	if n := len(r.lat); n > 0 {
		p.P50, p.P90, p.P99, p.Max = r.lat[pct(n, 50)], r.lat[pct(n, 90)], r.lat[pct(n, 99)], r.lat[n-1]
	}
	return p
}

// pct is the index of the p-th percentile (nearest rank) of n sorted values.
func pct(n, p int) int {
	i := (n*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return i - 1
}

// hostState is what the generator keeps per host between phases.
type hostState struct {
	id      string // server host id
	nodeKey string
	hash    string // inventory hash last sent in full
	variant int
}

// Run runs the load: enroll every host, send each a full report, then
// Checkins check-ins each, then the eligibility queries. It returns the
// figures even when requests failed (the failures are counted); it returns
// an error only when the run could not start or every request of a phase
// failed.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Server == "" {
		return nil, errors.New("loadtest: no server URL")
	}
	if _, err := url.Parse(cfg.Server); err != nil {
		return nil, fmt.Errorf("loadtest: server URL: %w", err)
	}
	cfg.Server = strings.TrimRight(cfg.Server, "/")
	if cfg.Hosts <= 0 || cfg.Items <= 0 {
		return nil, fmt.Errorf("loadtest: hosts (%d) and items (%d) must be positive", cfg.Hosts, cfg.Items)
	}
	if cfg.Items > api.MaxItems {
		return nil, fmt.Errorf("loadtest: items %d is above the server's limit %d", cfg.Items, api.MaxItems)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Checkins == 0 {
		cfg.Checkins = 1
	}
	if cfg.Catalog == nil {
		c, err := catalog.Default()
		if err != nil {
			return nil, fmt.Errorf("loadtest: catalog: %w", err)
		}
		cfg.Catalog = c
	}
	if cfg.Template == nil {
		if t, err := LocalDpkgList(); err == nil {
			cfg.Template = t
		}
	}
	if cfg.Seed == 0 {
		var b [8]byte
		rand.Read(b[:])
		for _, x := range b {
			cfg.Seed = cfg.Seed<<8 | uint64(x)
		}
	}
	if cfg.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Concurrency * 2
		tr.MaxConnsPerHost = cfg.Concurrency * 2
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second, Transport: tr}
	}
	l := &loader{cfg: cfg, gen: NewGenerator(cfg.Template, cfg.Items, cfg.Catalog, cfg.Seed), hosts: make([]hostState, cfg.Hosts)}
	res := &Result{Hosts: cfg.Hosts, Items: cfg.Items}
	phase := func(name string, n int, fn func(i int, rec *recorder)) Phase {
		p := l.parallel(ctx, name, n, fn)
		res.Phases = append(res.Phases, p)
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "%s: %d requests in %.2fs (%.1f/s), p50 %s p99 %s, %d errors\n", p.Name, p.Requests,
				p.Duration.Seconds(), p.PerSecond, ms(p.P50), ms(p.P99), p.Errors)
		}
		return p
	}
	if p := phase("enroll", cfg.Hosts, l.enroll); p.Errors == p.Requests {
		return res, fmt.Errorf("loadtest: every enrollment failed: %s", p.FirstError)
	}
	if p := phase("full", cfg.Hosts, l.full); p.Errors == p.Requests {
		return res, fmt.Errorf("loadtest: every full report failed: %s", p.FirstError)
	}
	for k := 0; k < cfg.Checkins; k++ {
		phase("checkin", cfg.Hosts, l.checkin)
	}
	if cfg.Eligibility > 0 && cfg.Token != "" {
		l.prepareQueries()
		phase("eligibility", cfg.Eligibility, l.eligibility)
	}
	if len(res.Phases) > 3 { // merge repeated check-in rounds into one line
		res.Phases = mergeCheckins(res.Phases)
	}
	return res, ctx.Err()
}

// mergeCheckins sums repeated check-in phases (their percentiles are those
// of the slowest round: an upper bound).
func mergeCheckins(ps []Phase) []Phase {
	var out []Phase
	ci := -1
	for _, p := range ps {
		if p.Name != "checkin" {
			out = append(out, p)
			continue
		}
		if ci < 0 {
			ci = len(out)
			out = append(out, p)
			continue
		}
		c := &out[ci]
		c.Requests += p.Requests
		c.Errors += p.Errors
		c.NeedFull += p.NeedFull
		c.Items += p.Items
		c.Bytes += p.Bytes
		c.Duration += p.Duration
		c.P50, c.P90, c.P99, c.Max = max(c.P50, p.P50), max(c.P90, p.P90), max(c.P99, p.P99), max(c.Max, p.Max)
		if c.FirstError == "" {
			c.FirstError = p.FirstError
		}
		c.PerSecond = float64(c.Requests) / c.Duration.Seconds()
		c.ItemsPerS = float64(c.Items) / c.Duration.Seconds()
	}
	return out
}

type loader struct {
	cfg     Config
	gen     *Generator
	hosts   []hostState
	queries []string // eligibility query strings
}

// parallel runs fn for 0..n-1 on Concurrency goroutines and measures it.
func (l *loader) parallel(ctx context.Context, name string, n int, fn func(i int, rec *recorder)) Phase {
	rec := &recorder{lat: make([]time.Duration, 0, n)}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < l.cfg.Concurrency && w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i, rec)
			}
		}()
	}
	wg.Wait()
	return rec.phase(name, time.Since(start))
}

// post sends a JSON body and decodes a JSON answer.
func (l *loader) post(path, bearer string, body any, gz bool, out any) (int64, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	if gz {
		zw := gzip.NewWriter(&buf)
		zw.Write(raw)
		zw.Close()
	} else {
		buf.Write(raw)
	}
	n := int64(buf.Len())
	req, err := http.NewRequest(http.MethodPost, l.cfg.Server+path, &buf)
	if err != nil {
		return n, err
	}
	req.Header.Set("Content-Type", "application/json")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return n, l.do(req, out)
}

func (l *loader) do(req *http.Request, out any) error {
	resp, err := l.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e api.Error
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: HTTP %d: %s", req.Method, req.URL.Path, resp.StatusCode, e.Error)
		}
		return fmt.Errorf("%s %s: HTTP %d", req.Method, req.URL.Path, resp.StatusCode)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: answer: %w", req.Method, req.URL.Path, err)
		}
	}
	return nil
}

func (l *loader) enroll(i int, rec *recorder) {
	start := time.Now()
	var er api.EnrollResponse
	n, err := l.post(api.PathEnroll, "", api.EnrollRequest{EnrollSecret: l.cfg.EnrollSecret, Host: l.gen.Host(i)}, false, &er)
	switch {
	case err == nil && er.Status == api.EnrollPending:
		err = fmt.Errorf("enroll: install id %s is enrolled on this server already (the same seed as an earlier run?): "+
			"re-enrolling needs its previous node key or an admin's approval; run with another --seed", l.gen.Host(i).InstallID)
	case err == nil && er.NodeKey == "":
		err = errors.New("enroll: answer has no node_key")
	}
	if err != nil {
		rec.fail(time.Since(start), err)
		return
	}
	l.hosts[i].id, l.hosts[i].nodeKey = er.HostID, er.NodeKey
	rec.ok(time.Since(start), 0, n)
}

func reportID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sendFull sends host i's full inventory (variant v) and returns the
// number of items sent.
func (l *loader) sendFull(i, v int) (int, int64, error) {
	h := &l.hosts[i]
	items, hash := l.gen.Inventory(i, v)
	rep := api.Report{ReportID: reportID(), Kind: api.ReportFull, CollectedAt: time.Now().UTC(), Host: l.gen.Host(i),
		InventoryHash: hash, Items: items}
	var rr api.ReportResponse
	n, err := l.post(api.PathReport, h.nodeKey, rep, !l.cfg.NoGzip, &rr)
	if err == nil && !rr.Accepted {
		err = errors.New("report: not accepted")
	}
	if err != nil {
		return 0, n, err
	}
	h.hash, h.variant = hash, v
	return len(items), n, nil
}

func (l *loader) full(i int, rec *recorder) {
	if l.hosts[i].nodeKey == "" {
		return // its enrollment failed, already counted
	}
	start := time.Now()
	items, n, err := l.sendFull(i, 0)
	if err != nil {
		rec.fail(time.Since(start), err)
		return
	}
	rec.ok(time.Since(start), items, n)
}

func (l *loader) checkin(i int, rec *recorder) {
	h := &l.hosts[i]
	if h.nodeKey == "" || h.hash == "" {
		return
	}
	start := time.Now()
	// A few hosts changed: they send a full report instead.
	if l.cfg.ChangeRate > 0 && float64(fnv(uint64(i), uint64(h.variant))%10000)/10000 < l.cfg.ChangeRate {
		items, n, err := l.sendFull(i, h.variant+1)
		if err != nil {
			rec.fail(time.Since(start), err)
			return
		}
		rec.ok(time.Since(start), items, n)
		return
	}
	rep := api.Report{ReportID: reportID(), Kind: api.ReportCheckin, CollectedAt: time.Now().UTC(), Host: l.gen.Host(i), InventoryHash: h.hash}
	var rr api.ReportResponse
	n, err := l.post(api.PathReport, h.nodeKey, rep, !l.cfg.NoGzip, &rr)
	if err != nil {
		rec.fail(time.Since(start), err)
		return
	}
	if rr.NeedFull {
		rec.mu.Lock()
		rec.needFull++
		rec.mu.Unlock()
		items, m, err := l.sendFull(i, h.variant)
		if err != nil {
			rec.fail(time.Since(start), err)
			return
		}
		rec.ok(time.Since(start), items, n+m)
		return
	}
	rec.ok(time.Since(start), 0, n)
}

func fnv(a, b uint64) uint64 {
	h := uint64(14695981039346656037)
	for _, x := range []uint64{a, b} {
		for k := 0; k < 8; k++ {
			h ^= (x >> (8 * k)) & 0xff
			h *= 1099511628211
		}
	}
	return h
}

// prepareQueries builds the eligibility queries: half by product and
// version (what a customer reads out on the phone), half by host and
// product, taken from the generated inventories.
func (l *loader) prepareQueries() {
	m := match.New(l.cfg.Catalog)
	n := l.cfg.Eligibility
	sample := min(l.cfg.Hosts, 50)
	for k := 0; k < sample && len(l.queries) < n; k++ {
		i := k * l.cfg.Hosts / sample
		h := l.hosts[i]
		for j, pv := range l.gen.Pairs(m, i) {
			q := url.Values{"product": {pv[0]}}
			if j%2 == 0 || h.id == "" {
				q.Set("version", pv[1])
			} else {
				q.Set("host", h.id)
			}
			l.queries = append(l.queries, q.Encode())
		}
	}
	if len(l.queries) == 0 {
		l.queries = []string{url.Values{"product": {"python"}, "version": {"3.11.2"}}.Encode()}
	}
}

func (l *loader) eligibility(i int, rec *recorder) {
	q := l.queries[i%len(l.queries)]
	req, err := http.NewRequest(http.MethodGet, l.cfg.Server+"/api/v1/eligibility?"+q, nil)
	if err != nil {
		rec.fail(0, err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+l.cfg.Token)
	start := time.Now()
	var e api.Eligibility
	err = l.do(req, &e)
	if err == nil && e.Status == "" {
		err = fmt.Errorf("eligibility %s: answer has no status", q)
	}
	if err != nil {
		rec.fail(time.Since(start), err)
		return
	}
	rec.ok(time.Since(start), 0, 0)
}
