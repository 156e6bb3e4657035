package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// Version is the agent's version, set at build time with -ldflags -X.
var Version = "dev"

// Inventory is one collection run: the host, its items and the collectors
// that failed. Its JSON form is what `eolwatch-agent inventory --json` prints.
type Inventory struct {
	Host   api.HostInfo         `json:"host"`
	Items  []api.Item           `json:"items"`
	Errors []api.CollectorError `json:"errors,omitempty"`
}

// Hash is the sha256 of the canonical (sorted) item list and of the host
// facts the server keeps from full reports only: the day of the host's
// newest repository data and its extended-support enrolment (a check-in
// does not carry them to the store, so a change must make a full report).
// The day, not the time: the security suites are re-signed daily or more,
// and "repository data is N days old" needs no finer grain.
func (inv *Inventory) Hash() string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for i := range inv.Items {
		_ = enc.Encode(&inv.Items[i])
	}
	if !inv.Host.RepoDataDate.IsZero() || len(inv.Host.ExtendedSupport) > 0 {
		day := ""
		if !inv.Host.RepoDataDate.IsZero() {
			day = inv.Host.RepoDataDate.UTC().Format("2006-01-02")
		}
		_ = enc.Encode(struct {
			RepoDataDay     string   `json:"repo_data_day,omitempty"`
			ExtendedSupport []string `json:"extended_support,omitempty"`
		}{day, inv.Host.ExtendedSupport})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Agent collects inventories and delivers reports. Its methods are not safe
// for concurrent use; Run serializes everything in one goroutine.
type Agent struct {
	cfg        Config
	env        *Env
	log        *slog.Logger
	collectors []Collector
	state      *State
	client     *Client
	now        func() time.Time
}

// New builds an agent from a validated config. The state directory and the
// server client are opened lazily by the commands that need them.
func New(cfg Config, log *slog.Logger) (*Agent, error) {
	if log == nil {
		log = slog.Default()
	}
	a := &Agent{cfg: cfg, log: log, now: time.Now}
	a.env = &Env{Root: cfg.Root, Log: log, CacheDir: cfg.StateDir}
	disabled := map[string]bool{}
	for _, d := range cfg.Disable {
		disabled[d] = true
	}
	for _, c := range builtins {
		if !disabled[c.Name()] {
			a.collectors = append(a.collectors, c)
		}
	}
	for i, p := range cfg.Probes {
		pc, err := newProbeCollector(i, p)
		if err != nil {
			return nil, err
		}
		if !disabled[pc.Name()] {
			a.collectors = append(a.collectors, pc)
		}
	}
	return a, nil
}

// hostInfo describes this host (without the install id).
func (a *Agent) hostInfo(ctx context.Context) api.HostInfo {
	h := api.HostInfo{OS: runtime.GOOS, Arch: runtime.GOARCH, AgentVersion: Version}
	h.Hostname, _ = os.Hostname()
	h.MachineID, h.HardwareUUID = machineIDs(ctx, a.env)
	if d, err := readOS(ctx, a.env); err == nil || d.ID != "" {
		h.OSName, h.OSID, h.OSVersion, h.OSBuild, h.Kernel = d.Name, d.ID, d.Version, d.Build, d.Kernel
	}
	h.ExtendedSupport = extendedSupport(a.env, a.now())
	return h
}

// Collect runs every collector and returns the inventory.
func (a *Agent) Collect(ctx context.Context) *Inventory {
	env, facts := a.env.withFacts()
	items, errs := RunCollectors(ctx, env, a.collectors, a.cfg.CollectorTimeout)
	if items == nil {
		items = []api.Item{}
	}
	inv := &Inventory{Host: a.hostInfo(ctx), Items: items, Errors: errs}
	facts.mu.Lock()
	inv.Host.RepoDataDate = facts.repoDate
	facts.mu.Unlock()
	return inv
}

func (a *Agent) open() error {
	if a.state == nil {
		st, err := OpenState(a.cfg.StateDir, a.log)
		if err != nil {
			return err
		}
		// A spool left corrupt by a crash is found (and dropped, with its
		// log line) now, before a new report is written over it.
		if _, err := st.Pending(); err != nil {
			return err
		}
		a.state = st
	}
	if a.client == nil {
		c, err := NewClient(&a.cfg)
		if err != nil {
			return err
		}
		a.client = c
	}
	return nil
}

// buildReport turns inv into a report: full when its hash differs from the
// last full report the server acknowledged (or force), else a check-in.
func (a *Agent) buildReport(inv *Inventory, id Identity, force bool) *api.Report {
	r := &api.Report{
		ReportID:      newID(),
		Kind:          api.ReportCheckin,
		CollectedAt:   a.now().UTC().Truncate(time.Second),
		Host:          inv.Host,
		InventoryHash: inv.Hash(),
		Errors:        inv.Errors,
	}
	r.Host.InstallID = id.InstallID
	if force || r.InventoryHash != id.LastFullHash {
		r.Kind = api.ReportFull
		r.Items = inv.Items
	}
	if len(r.Items) > api.MaxItems {
		r.Items = r.Items[:api.MaxItems]
		r.Errors = append(r.Errors, api.CollectorError{Collector: "agent", Error: fmt.Sprintf("inventory truncated to %d items", api.MaxItems)})
	}
	return r
}

// CollectAndSpool collects an inventory, builds the report and spools it,
// replacing any older pending report (the newest state wins).
func (a *Agent) CollectAndSpool(ctx context.Context, force bool) (*Inventory, *api.Report, error) {
	if err := a.open(); err != nil {
		return nil, nil, err
	}
	inv := a.Collect(ctx)
	id, err := a.state.LoadIdentity()
	if err != nil {
		return inv, nil, err
	}
	if id.Server != "" && id.Server != a.cfg.Server {
		id.LastFullHash = "" // a new server has seen nothing
	}
	r := a.buildReport(inv, id, force)
	if err := a.state.Spool(r); err != nil {
		return inv, r, err
	}
	a.log.Debug("report spooled", "report_id", r.ReportID, "kind", r.Kind, "items", len(r.Items), "errors", len(r.Errors))
	return inv, r, nil
}

// errNothingPending is returned by Deliver when the spool is empty.
var errNothingPending = errors.New("no pending report")

// Deliver sends the spooled report, enrolling first when the agent has no
// node key (or a key for another server) and again on a 401. On success the
// spool is cleared; on failure the report stays for a retry with the same
// ReportID. needFull reports the server's request for a full inventory.
func (a *Agent) Deliver(ctx context.Context) (needFull bool, err error) {
	if err := a.open(); err != nil {
		return false, err
	}
	r, err := a.state.Pending()
	if err != nil {
		a.log.Warn("spool", "err", err)
	}
	if r == nil {
		return false, errNothingPending
	}
	id, err := a.state.LoadIdentity()
	if err != nil {
		return false, err
	}
	r.Host.InstallID = id.InstallID
	for attempt := 0; ; attempt++ {
		if id.NodeKey == "" || id.Server != a.cfg.Server || id.Pending {
			if id, err = a.enroll(ctx, id, r.Host); err != nil {
				return false, err
			}
		}
		resp, err := a.client.Report(ctx, id.NodeKey, r)
		if errors.Is(err, ErrUnauthorized) && attempt == 0 {
			// Enroll again, proving who we are with the key the server
			// just refused (it still proves it if the server re-keyed
			// us; a revoked host is refused until an admin restores it).
			a.log.Info("node key rejected; enrolling again with it as proof")
			if id, err = a.enroll(ctx, id, r.Host); err != nil {
				return false, err
			}
			continue
		}
		var he *HTTPError
		if errors.As(err, &he) && he.Permanent() {
			// Retrying the same body cannot help: drop it; the next
			// inventory makes a new report.
			a.log.Error("report rejected; dropped", "report_id", r.ReportID, "err", err)
			if uerr := a.state.Unspool(r.ReportID); uerr != nil {
				return false, uerr
			}
			return false, err
		}
		if err != nil {
			return false, err
		}
		if r.Kind == api.ReportFull {
			id.LastFullHash = r.InventoryHash
		}
		if resp.NeedFull {
			id.LastFullHash = ""
		}
		if resp.HostID != "" {
			id.HostID = resp.HostID
		}
		if err := a.state.SaveIdentity(id); err != nil {
			return false, err
		}
		if err := a.state.Unspool(r.ReportID); err != nil {
			return false, err
		}
		a.log.Info("report delivered", "report_id", r.ReportID, "kind", r.Kind, "items", len(r.Items),
			"duplicate", resp.Duplicate, "need_full", resp.NeedFull)
		return resp.NeedFull, nil
	}
}

// ErrEnrollPending is returned while the server holds the agent's
// enrollment for an admin's approval; the report stays spooled.
var ErrEnrollPending = errors.New("enroll: this install id is enrolled on the server already and the agent has no key it knows: " +
	"an admin must approve the request by its id, logged with this message (dashboard: Hosts, pending re-enrolments; or POST /api/v1/hosts/ID/approve)")

// enroll enrolls with the secret, sending the node key the agent has for
// this server (if any) as proof that it is the host already enrolled.
func (a *Agent) enroll(ctx context.Context, id Identity, host api.HostInfo) (Identity, error) {
	secret, err := a.cfg.enrollSecret()
	if err != nil {
		return id, err
	}
	host.InstallID = id.InstallID
	previous := ""
	if id.Server == a.cfg.Server {
		previous = id.NodeKey
	}
	resp, err := a.client.Enroll(ctx, secret, host, previous)
	switch {
	case errors.Is(err, ErrUnauthorized):
		return id, errors.New("enroll: the server rejected the enroll secret")
	case err != nil:
		// A revoked host is refused (403) until an admin restores it; the
		// identity is kept as it is, so the key works again then.
		return id, err
	}
	if resp.Status == api.EnrollPending {
		if resp.NodeKey != "" { // a new request; otherwise ours is still waiting
			id.NodeKey = resp.NodeKey
		}
		id.Server, id.Pending, id.HostID, id.LastFullHash = a.cfg.Server, true, "", ""
		if err := a.state.SaveIdentity(id); err != nil {
			return id, err
		}
		// The admin approves the request by this id (it is listed with
		// its time and source address): compare it with theirs.
		a.log.Warn("enrollment awaits an admin's approval on the server", "install_id", id.InstallID, "request_id", resp.RequestID)
		return id, ErrEnrollPending
	}
	id.NodeKey, id.HostID, id.Server, id.EnrolledAt, id.Pending = resp.NodeKey, resp.HostID, a.cfg.Server, a.now().UTC(), false
	id.LastFullHash = ""
	if err := a.state.SaveIdentity(id); err != nil {
		return id, err
	}
	a.log.Info("enrolled", "host_id", id.HostID, "install_id", id.InstallID, "proof", previous != "")
	return id, nil
}

// Once collects, spools and delivers one report. When the server asks for a
// full inventory after a check-in it sends one at once. On a delivery
// failure the report stays spooled for the next run.
func (a *Agent) Once(ctx context.Context) (*api.Report, error) {
	_, r, err := a.CollectAndSpool(ctx, false)
	if err != nil {
		return r, err
	}
	needFull, err := a.Deliver(ctx)
	if err != nil {
		return r, fmt.Errorf("%w (report %s kept in %s for retry)", err, r.ReportID, a.cfg.StateDir)
	}
	if needFull {
		if _, r, err = a.CollectAndSpool(ctx, true); err != nil {
			return r, err
		}
		if _, err := a.Deliver(ctx); err != nil {
			return r, fmt.Errorf("%w (report %s kept for retry)", err, r.ReportID)
		}
	}
	return r, nil
}

// backoff returns the delay before retry number n (0-based): exponential
// from RetryMin, capped at RetryMax, with jitter in [d/2, d].
func backoff(n int, lo, hi time.Duration, rnd func(int64) int64) time.Duration {
	d := lo
	for i := 0; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + time.Duration(rnd(int64(d-half)+1))
}

// Run runs the agent until ctx ends: a first inventory after a random delay
// up to Splay, then one every Interval; a report that could not be delivered
// is retried with exponential backoff and jitter until it is delivered or a
// newer inventory replaces it.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.open(); err != nil {
		return err
	}
	first := time.Duration(0)
	if a.cfg.Splay > 0 {
		first = time.Duration(rand.Int64N(int64(a.cfg.Splay)))
	}
	a.log.Info("agent running", "server", a.cfg.Server, "interval", a.cfg.Interval, "first_in", first.Round(time.Second),
		"collectors", collectorNames(a.collectors))
	collectT := time.NewTimer(first)
	defer collectT.Stop()
	retryT := time.NewTimer(time.Hour)
	retryT.Stop()
	defer retryT.Stop()
	attempts := 0
	scheduleRetry := func(err error) {
		d := backoff(attempts, a.cfg.RetryMin, a.cfg.RetryMax, rand.Int64N)
		attempts++
		a.log.Warn("delivery failed; will retry", "err", err, "in", d.Round(time.Millisecond), "attempt", attempts)
		retryT.Reset(d)
	}
	deliver := func() {
		needFull, err := a.Deliver(ctx)
		switch {
		case errors.Is(err, errNothingPending):
			attempts = 0
		case err != nil && ctx.Err() == nil:
			if _, perr := a.state.Pending(); perr == nil {
				scheduleRetry(err)
			}
		case needFull:
			attempts = 0
			collectT.Reset(0)
		default:
			attempts = 0
		}
	}
	if p, _ := a.state.Pending(); p != nil {
		// A report left from an earlier run: try it soon, jittered.
		retryT.Reset(time.Duration(rand.Int64N(int64(max(a.cfg.RetryMin, time.Millisecond)))))
	}
	for {
		select {
		case <-ctx.Done():
			a.log.Info("agent stopping")
			return nil
		case <-collectT.C:
			collectT.Reset(a.cfg.Interval)
			force := false
			if _, _, err := a.CollectAndSpool(ctx, force); err != nil {
				a.log.Error("inventory", "err", err)
				continue
			}
			retryT.Stop()
			attempts = 0
			deliver()
		case <-retryT.C:
			deliver()
		}
	}
}

func collectorNames(cs []Collector) []string {
	n := make([]string, len(cs))
	for i, c := range cs {
		n[i] = c.Name()
	}
	return slices.Clip(n)
}
