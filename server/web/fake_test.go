package web

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/contract"
)

// fakeNow is the fixed "today" of the fake fleet.
var fakeNow = time.Date(2025, 9, 15, 12, 0, 0, 0, time.UTC)

// The fake's failures, as the real data sources report them.
var (
	errNotFound     = &fault.Error{Code: fault.NotFound, Msg: "not found"}
	errUnauthorized = &fault.Error{Code: fault.Unauthorized, Msg: "unauthorized"}
)

func day(s string) catalog.Date {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return catalog.Date{Time: t}
}

func eolOn(s string) catalog.Milestone { return catalog.Milestone{Set: true, Date: day(s)} }

// fakeCatalog is a small hand-written catalog for the fake.
func fakeCatalog() map[string]*catalog.Product {
	cy := func(name, latest, released, eol string) *catalog.Cycle {
		c := &catalog.Cycle{Name: name, Latest: latest, ReleaseDate: day(released), LatestDate: day("2025-08-01")}
		switch eol {
		case "false":
			c.EOL = catalog.Milestone{Set: true}
		default:
			c.EOL = eolOn(eol)
		}
		return c
	}
	ps := []*catalog.Product{
		{ID: "python", Label: "Python", Category: "lang", Source: "endoflife.date", Cycles: []*catalog.Cycle{
			cy("3.13", "3.13.7", "2024-10-07", "2029-10-31"), cy("3.12", "3.12.11", "2023-10-02", "2028-10-31"),
			cy("3.11", "3.11.13", "2022-10-24", "2027-10-31"), cy("3.9", "3.9.23", "2020-10-05", "2025-10-31"),
			cy("3.8", "3.8.20", "2019-10-14", "2024-10-07")}},
		{ID: "debian", Label: "Debian", Category: "os", Source: "endoflife.date", Cycles: []*catalog.Cycle{
			cy("12", "12.11", "2023-06-10", "2026-06-10"), cy("11", "11.11", "2021-08-14", "2024-08-14"),
			cy("10", "10.13", "2019-07-06", "2022-09-10")}},
		{ID: "nginx", Label: "nginx", Category: "server-app", Source: "endoflife.date", Cycles: []*catalog.Cycle{
			cy("1.28", "1.28.0", "2025-04-23", "false"), cy("1.26", "1.26.3", "2024-04-23", "2025-04-23")}},
		{ID: "postgresql", Label: "PostgreSQL", Category: "database", Source: "endoflife.date", Cycles: []*catalog.Cycle{
			cy("17", "17.6", "2024-09-26", "2029-11-08"), cy("16", "16.10", "2023-09-14", "2028-11-09"),
			cy("13", "13.22", "2020-09-24", "2025-11-13")}},
		{ID: "nodejs", Label: "Node.js", Category: "framework", Source: "endoflife.date", Cycles: []*catalog.Cycle{
			cy("22", "22.19.0", "2024-04-24", "2027-04-30"), cy("20", "20.19.5", "2023-04-18", "2026-04-30"),
			cy("18", "18.20.8", "2022-04-19", "2025-04-30")}},
		{ID: "openssl", Label: "OpenSSL", Category: "app", Source: "endoflife.date", Cycles: []*catalog.Cycle{
			cy("3.5", "3.5.2", "2025-04-08", "2030-04-08"), cy("3.0", "3.0.17", "2021-09-07", "2026-09-07"),
			cy("1.1.1", "1.1.1w", "2018-09-11", "2023-09-11")}},
	}
	ps[1].Cycles[1].EOES = eolOn("2026-08-31")
	ps[0].Cycles[1].EOAS = eolOn("2025-04-02")
	m := map[string]*catalog.Product{}
	for _, p := range ps {
		m[p.ID] = p
	}
	return m
}

// fakeEvaluate is the fake's verdict: cycles are matched by components.
func fakeEvaluate(cat map[string]*catalog.Product, product, version string, asOf time.Time) catalog.Verdict {
	v := catalog.Verdict{Product: product, Version: version, Phase: catalog.PhaseUnknown, Patch: catalog.PatchUnknown}
	p := cat[product]
	if p == nil {
		v.Support, v.Status = catalog.SupportUnknownProduct, catalog.StatusUnknownProduct
		v.Reason = fmt.Sprintf("%s is not in the catalog.", product)
		return v
	}
	var c *catalog.Cycle
	for _, cc := range p.Cycles {
		if version == cc.Name || strings.HasPrefix(version, cc.Name+".") || (cc.Name == "1.1.1" && strings.HasPrefix(version, "1.1.1")) {
			c = cc
			break
		}
	}
	newest := p.Cycles[0].Latest
	v.Newest = newest
	if c == nil {
		v.Support, v.Status = catalog.SupportUnknownVersion, catalog.StatusUnknownVersion
		v.Reason = fmt.Sprintf("No %s release cycle holds version %s.", p.Label, version)
		v.UpgradeTo = newest
		return v
	}
	v.Cycle, v.Latest = c.Name, c.Latest
	state := cycleState(c.EOL, asOf, 90)
	if c.EOL.Date.IsZero() {
		v.EOL = c.EOL.Ended
	} else {
		v.EOL = c.EOL.Date.Format(time.DateOnly)
		d := int(c.EOL.Date.Sub(asOf.Truncate(24*time.Hour)).Hours() / 24)
		v.DaysToEOL = &d
	}
	oldestSupported := ""
	for _, cc := range p.Cycles {
		if cycleState(cc.EOL, asOf, 0) != "eol" {
			oldestSupported = cc.Latest
		}
	}
	switch {
	case state == "eol":
		v.Support, v.Phase, v.Status = catalog.SupportEOL, catalog.PhaseEOL, catalog.StatusEOL
		v.UpgradeTo = oldestSupported
		v.Reason = fmt.Sprintf("%s %s reached end of life on %s.", p.Label, c.Name, c.EOL.Date.Format(time.DateOnly))
	case version != c.Latest:
		v.Support, v.Phase, v.Patch = catalog.SupportSupported, catalog.PhaseSecurity, catalog.PatchAvailable
		v.Status = catalog.StatusPatchAvailable
		if strings.HasSuffix(version, ".0") || strings.HasSuffix(version, ".1") {
			v.Patch, v.Status = catalog.PatchOverdue, catalog.StatusPatchOverdue
		}
		if state == "eol-soon" && v.Status == catalog.StatusPatchAvailable {
			v.Status = catalog.StatusEOLSoon
		}
		v.UpgradeTo = c.Latest
		v.Reason = fmt.Sprintf("%s %s is supported, but %s is available in cycle %s.", p.Label, version, c.Latest, c.Name)
	case state == "eol-soon":
		v.Support, v.Phase, v.Patch, v.Status = catalog.SupportSupported, catalog.PhaseSecurity, catalog.PatchCurrent, catalog.StatusEOLSoon
		v.UpgradeTo = newest
		v.Reason = fmt.Sprintf("%s %s is current but its cycle ends on %s.", p.Label, version, c.EOL.Date.Format(time.DateOnly))
	default:
		v.Support, v.Phase, v.Patch, v.Status = catalog.SupportSupported, catalog.PhaseActive, catalog.PatchCurrent, catalog.StatusCurrent
		v.Reason = fmt.Sprintf("%s %s is the latest patch of a supported cycle.", p.Label, version)
	}
	return v
}

type fakeHost struct {
	d     HostDetail
	items []api.Item
}

// fake is an in-memory implementation of every data interface of the
// dashboard. It scans instead of aggregating in SQL, and records the
// limits it was asked for so tests can check paging.
type fake struct {
	mu       sync.Mutex
	cat      map[string]*catalog.Product
	hosts    []*fakeHost
	byID     map[string]*fakeHost
	tokens   map[string]Token // secret -> token
	groups   []Group
	subs     []Subscriber
	outbox   []OutboxMessage
	limits   []int // Limit of every Hosts call
	nextTok  int
	failWith error // when set, every read fails with it
	custs    map[string]api.Customer
	nextCust int
	tickets  []TicketQuery       // every ticket check asked
	patches  []api.CustomerPatch // every customer update asked

	endedSessions map[string]time.Time // SessionStore
	actions       map[string]string    // host id -> last HostAction
}

var fakeOSes = []struct{ name, id, ver string }{
	{"Debian GNU/Linux 12 (bookworm)", "debian", "12"},
	{"Debian GNU/Linux 11 (bullseye)", "debian", "11"},
	{"Debian GNU/Linux 10 (buster)", "debian", "10"},
}

var fakeVersions = map[string][]string{
	"python":     {"3.13.7", "3.12.11", "3.12.4", "3.11.13", "3.9.23", "3.8.10", "3.11.1"},
	"nginx":      {"1.28.0", "1.26.3", "1.22.1"},
	"postgresql": {"17.6", "16.10", "13.22", "16.2"},
	"nodejs":     {"22.19.0", "20.19.5", "18.20.8", "20.11.0"},
	"openssl":    {"3.5.2", "3.0.17", "1.1.1w", "3.0.15"},
}

// newFake returns a fake fleet of n deterministic hosts.
func newFake(n int) *fake {
	f := &fake{cat: fakeCatalog(), byID: map[string]*fakeHost{}, tokens: map[string]Token{}, custs: fakeCustomers()}
	products := []string{"python", "openssl", "nginx", "postgresql", "nodejs"}
	for i := 0; i < n; i++ {
		osv := fakeOSes[(i*7)%len(fakeOSes)]
		if i%5 != 0 {
			osv = fakeOSes[0]
		}
		upToDate := i%6 == 1 // every version the newest
		if upToDate {
			osv.ver = "12.11"
		}
		role := []string{"web", "db", "app", "build"}[i%4]
		h := &fakeHost{d: HostDetail{
			ID:   fmt.Sprintf("h%05d", i+1),
			Kind: api.KindHost,
			Info: api.HostInfo{InstallID: fmt.Sprintf("inst-%d", i), Hostname: fmt.Sprintf("%s-%04d.example.net", role, i+1),
				OS: "linux", Arch: "amd64", OSName: osv.name, OSID: osv.id, OSVersion: osv.ver, Kernel: "6.1.0-25-amd64", AgentVersion: "0.1.0"},
			FirstSeen: fakeNow.AddDate(0, -3, 0),
			LastSeen:  fakeNow.Add(-time.Duration((i*37)%90) * time.Minute),
		}}
		if i%17 == 3 {
			h.d.LastSeen = fakeNow.Add(-time.Duration(4+i%9) * 24 * time.Hour)
		}
		add := func(it api.Item, product, version string) {
			v := fakeEvaluate(f.cat, product, version, fakeNow)
			h.d.Verdicts = append(h.d.Verdicts, InstallVerdict{Item: it, Verdict: v})
		}
		add(api.Item{Source: "os", Name: osv.name, Version: osv.ver}, "debian", osv.ver)
		for j, p := range products {
			if (i+j)%3 == 2 {
				continue
			}
			vs := fakeVersions[p]
			ver := vs[(i*(j+2)+i/7)%len(vs)]
			if upToDate {
				ver = vs[0]
			}
			name := p
			if p == "python" {
				name = "python3." + strings.Split(ver, ".")[1]
			}
			it := api.Item{Source: "dpkg", Name: name, Version: ver + "-1+deb12u1", Arch: "amd64"}
			add(it, p, ver)
		}
		for k := 0; k < 40; k++ {
			h.items = append(h.items, api.Item{Source: "dpkg", Name: fmt.Sprintf("lib%03d", k), Version: "1.0-" + strconv.Itoa(k), Arch: "amd64"})
		}
		for _, v := range h.d.Verdicts {
			h.items = append(h.items, v.Item)
		}
		slices.SortFunc(h.items, func(a, b api.Item) int { return cmp.Compare(a.Name, b.Name) })
		h.d.Items = len(h.items)
		slices.SortStableFunc(h.d.Verdicts, func(a, b InstallVerdict) int {
			return cmp.Compare(catalog.StatusRank(a.Verdict.Status), catalog.StatusRank(b.Verdict.Status))
		})
		if len(h.d.Verdicts) > 0 {
			h.d.Status = h.d.Verdicts[0].Verdict.Status
		}
		if i%23 == 5 {
			h.d.Errors = []api.CollectorError{{Collector: "rpm", Error: "rpm: executable file not found in $PATH"}}
		}
		f.hosts = append(f.hosts, h)
		f.byID[h.d.ID] = h
	}
	f.groups = []Group{
		{Name: "platform", Products: []string{"debian", "openssl", "python"}, Events: []string{"release", "eol"}, Subscribers: 2},
		{Name: "web", Products: []string{"nginx", "nodejs"}, Events: []string{"release", "eol", "fleet"}, Subscribers: 1},
	}
	f.subs = []Subscriber{
		{Email: "ops@example.com", Group: "platform", State: SubConfirmed, Created: fakeNow.AddDate(0, -2, 0), Confirmed: fakeNow.AddDate(0, -2, 0)},
		{Email: "sec@example.com", Group: "platform", State: SubConfirmed, Created: fakeNow.AddDate(0, -1, 0), Confirmed: fakeNow.AddDate(0, -1, 0)},
		{Email: "web-team@example.com", Group: "web", State: SubConfirmed, Created: fakeNow.AddDate(0, 0, -20), Confirmed: fakeNow.AddDate(0, 0, -20)},
		{Email: "new@example.com", Group: "web", State: SubPending, Created: fakeNow.AddDate(0, 0, -1)},
	}
	f.outbox = []OutboxMessage{
		{ID: "m3", To: "ops@example.com", Subject: "[eolwatch] Python 3.9 reaches end of life in 90 days", Kind: "eol", State: OutboxFailed, Attempts: 5, SMTPReply: "550 5.1.1 <ops@example.com>: Recipient address rejected", Created: fakeNow.Add(-3 * time.Hour)},
		{ID: "m2", To: "web-team@example.com", Subject: "[eolwatch] nginx 1.28.0 released", Kind: "release", State: OutboxSent, Attempts: 1, SMTPReply: "250 2.0.0 Ok: queued as 4F1C2", Created: fakeNow.Add(-26 * time.Hour), Sent: fakeNow.Add(-26 * time.Hour)},
		{ID: "m1", To: "sec@example.com", Subject: "[eolwatch] OpenSSL 3.5.2 released", Kind: "release", State: OutboxPending, Attempts: 1, SMTPReply: "421 4.7.0 Try again later", Created: fakeNow.Add(-50 * time.Hour), NextTry: fakeNow.Add(10 * time.Minute)},
	}
	return f
}

// addToken registers a token secret with a role and returns the secret.
func (f *fake) addToken(role, name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextTok++
	secret := fmt.Sprintf("ew_%s_%d_secret", role, f.nextTok)
	f.tokens[secret] = Token{ID: "t" + strconv.Itoa(f.nextTok), Name: name, Role: role, Created: fakeNow.AddDate(0, 0, -f.nextTok)}
	return secret
}

func (f *fake) Authenticate(_ context.Context, token string) (auth.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tokens[token]
	if !ok {
		return auth.Principal{}, fmt.Errorf("token: %w", errUnauthorized)
	}
	return auth.Principal{Role: t.Role, Customer: t.Customer, CustomerName: t.CustomerName}, nil
}

// addCustomerToken registers a viewer token limited to a customer.
func (f *fake) addCustomerToken(name, customer string) string {
	secret := f.addToken(auth.RoleViewer, name)
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tokens[secret]
	t.Customer, t.CustomerName = customer, f.custs[customer].Name
	f.tokens[secret] = t
	return secret
}

// fakeCustomerOf is the customer a fake host belongs to: "c-web" for the
// web hosts, "c-db" for the database hosts, none for the others.
func fakeCustomerOf(h *fakeHost) string {
	switch {
	case strings.HasPrefix(h.d.Info.Hostname, "web-"):
		return "c-web"
	case strings.HasPrefix(h.d.Info.Hostname, "db-"):
		return "c-db"
	}
	return ""
}

// forCustomer is the fake fleet of one customer's hosts.
func (f *fake) forCustomer(customer string) Fleet {
	sub := &fake{cat: f.cat, byID: map[string]*fakeHost{}, tokens: map[string]Token{}}
	for _, h := range f.hosts {
		if fakeCustomerOf(h) == customer {
			sub.hosts = append(sub.hosts, h)
			sub.byID[h.d.ID] = h
		}
	}
	return sub
}

func (f *fake) Overview(_ context.Context, asOf, staleBefore time.Time) (Overview, error) {
	if f.failWith != nil {
		return Overview{}, f.failWith
	}
	o := Overview{HostsByStatus: map[string]int{}, InstallsByStatus: map[string]int{}}
	unsup := map[string]*ProductCount{}
	up := map[string]*UpcomingEOL{}
	for _, h := range f.hosts {
		if h.d.Kind == api.KindAsset {
			o.Assets++
		} else {
			o.Hosts++
			if h.d.LastSeen.Before(staleBefore) {
				o.StaleHosts++
			}
			o.HostsByStatus[h.d.Status]++
		}
		for _, iv := range h.d.Verdicts {
			v := iv.Verdict
			o.Installs++
			o.InstallsByStatus[v.Status]++
			pc := unsup[v.Product]
			if pc == nil {
				pc = &ProductCount{Product: v.Product, Label: f.cat[v.Product].Label}
				unsup[v.Product] = pc
			}
			pc.Installs++
			if v.Status == catalog.StatusEOL || v.Status == catalog.StatusUnknownVersion {
				pc.Unsupported++
			}
			if v.DaysToEOL != nil && *v.DaysToEOL >= 0 && *v.DaysToEOL <= 90 {
				k := v.Product + " " + v.Cycle
				if up[k] == nil {
					d, _ := time.Parse(time.DateOnly, v.EOL.(string))
					up[k] = &UpcomingEOL{Product: v.Product, Label: f.cat[v.Product].Label, Cycle: v.Cycle, EOL: d}
				}
				up[k].Hosts++
			}
		}
	}
	for _, pc := range unsup {
		if pc.Unsupported > 0 {
			o.TopUnsupported = append(o.TopUnsupported, *pc)
		}
	}
	slices.SortFunc(o.TopUnsupported, func(a, b ProductCount) int {
		return cmp.Or(cmp.Compare(b.Unsupported, a.Unsupported), cmp.Compare(a.Product, b.Product))
	})
	for _, u := range up {
		o.Upcoming = append(o.Upcoming, *u)
	}
	slices.SortFunc(o.Upcoming, func(a, b UpcomingEOL) int { return cmp.Or(a.EOL.Compare(b.EOL), cmp.Compare(a.Product, b.Product)) })
	return o, nil
}

func (f *fake) statusFor(h *fakeHost, product string) (string, string, bool) {
	if product == "" {
		return h.d.Status, "", true
	}
	for _, iv := range h.d.Verdicts {
		if iv.Verdict.Product == product {
			return iv.Verdict.Status, iv.Verdict.Version, true
		}
	}
	return "", "", false
}

func (f *fake) Hosts(_ context.Context, q HostQuery) (HostPage, error) {
	f.mu.Lock()
	f.limits = append(f.limits, q.Limit)
	f.mu.Unlock()
	if f.failWith != nil {
		return HostPage{}, f.failWith
	}
	var rows []HostRow
	for _, h := range f.hosts {
		st, ver, ok := f.statusFor(h, q.Product)
		if !ok || (q.Status != "" && st != q.Status) || (q.OS != "" && h.d.Info.OSName != q.OS) ||
			(q.Kind != "" && h.d.Kind != q.Kind) ||
			(q.Stale && (h.d.Kind == api.KindAsset || !h.d.LastSeen.Before(q.StaleBefore))) ||
			(q.Search != "" && !strings.Contains(strings.ToLower(h.d.Info.Hostname), strings.ToLower(q.Search))) {
			continue
		}
		rows = append(rows, HostRow{ID: h.d.ID, Hostname: h.d.Info.Hostname, Kind: h.d.Kind, OSName: h.d.Info.OSName, Status: st,
			Installs: len(h.d.Verdicts), LastSeen: h.d.LastSeen, Version: ver})
	}
	slices.SortStableFunc(rows, func(a, b HostRow) int {
		var c int
		switch q.Sort {
		case SortStatus:
			c = cmp.Compare(catalog.StatusRank(a.Status), catalog.StatusRank(b.Status))
		case SortOS:
			c = cmp.Compare(a.OSName, b.OSName)
		case SortLastSeen:
			c = a.LastSeen.Compare(b.LastSeen)
		}
		c = cmp.Or(c, cmp.Compare(a.Hostname, b.Hostname))
		if q.Desc {
			c = -c
		}
		return c
	})
	page := HostPage{Total: len(rows)}
	if q.Offset < len(rows) {
		page.Rows = rows[q.Offset:min(len(rows), q.Offset+q.Limit)]
	}
	return page, nil
}

func (f *fake) Facets(context.Context) (Facets, error) {
	fc := Facets{}
	seen := map[string]bool{}
	for _, h := range f.hosts {
		if !seen["os:"+h.d.Info.OSName] {
			seen["os:"+h.d.Info.OSName] = true
			fc.OSes = append(fc.OSes, h.d.Info.OSName)
		}
		for _, iv := range h.d.Verdicts {
			if !seen["p:"+iv.Verdict.Product] {
				seen["p:"+iv.Verdict.Product] = true
				fc.Products = append(fc.Products, iv.Verdict.Product)
			}
		}
	}
	slices.Sort(fc.OSes)
	slices.Sort(fc.Products)
	return fc, nil
}

func (f *fake) find(id string) *fakeHost {
	if h := f.byID[id]; h != nil {
		return h
	}
	for _, h := range f.hosts {
		if strings.EqualFold(h.d.Info.Hostname, id) {
			return h
		}
	}
	return nil
}

func (f *fake) Host(_ context.Context, id string) (HostDetail, error) {
	h := f.find(id)
	if h == nil {
		return HostDetail{}, fmt.Errorf("host %q: %w", id, errNotFound)
	}
	d := h.d
	if d.CustomerID = fakeCustomerOf(h); d.CustomerID != "" {
		d.Customer = fakeCustomers()[d.CustomerID].Name
	}
	return d, nil
}

func (f *fake) Inventory(_ context.Context, id string, offset, limit int) ([]api.Item, int, error) {
	h := f.byID[id]
	if h == nil {
		return nil, 0, errNotFound
	}
	if offset >= len(h.items) {
		return nil, len(h.items), nil
	}
	return h.items[offset:min(len(h.items), offset+limit)], len(h.items), nil
}

func (f *fake) Products(context.Context) ([]ProductSummary, error) {
	m := map[string]*ProductSummary{}
	for _, h := range f.hosts {
		for _, iv := range h.d.Verdicts {
			p := f.cat[iv.Verdict.Product]
			s := m[p.ID]
			if s == nil {
				s = &ProductSummary{ID: p.ID, Label: p.Label, Category: p.Category, Source: p.Source}
				m[p.ID] = s
			}
			s.Hosts++
			if iv.Verdict.Status == catalog.StatusEOL || iv.Verdict.Status == catalog.StatusUnknownVersion {
				s.Unsupported++
			}
		}
	}
	var out []ProductSummary
	for _, s := range m {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b ProductSummary) int {
		return cmp.Or(cmp.Compare(b.Unsupported, a.Unsupported), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (f *fake) Product(_ context.Context, id string, maxVersions int) (ProductDetail, error) {
	f.mu.Lock()
	p := f.cat[id]
	f.mu.Unlock()
	if p == nil {
		return ProductDetail{}, fmt.Errorf("product %q: %w", id, errNotFound)
	}
	d := ProductDetail{Product: p, CycleHosts: map[string]int{}}
	counts := map[string]*VersionCount{}
	for _, h := range f.hosts {
		for _, iv := range h.d.Verdicts {
			v := iv.Verdict
			if v.Product != id {
				continue
			}
			d.CycleHosts[v.Cycle]++
			if counts[v.Version] == nil {
				counts[v.Version] = &VersionCount{Version: v.Version, Cycle: v.Cycle, Status: v.Status}
			}
			counts[v.Version].Hosts++
		}
	}
	for _, c := range counts {
		d.Versions = append(d.Versions, *c)
	}
	slices.SortFunc(d.Versions, func(a, b VersionCount) int {
		return cmp.Or(cmp.Compare(b.Hosts, a.Hosts), cmp.Compare(a.Version, b.Version))
	})
	if len(d.Versions) > maxVersions {
		for _, v := range d.Versions[maxVersions:] {
			d.OtherHosts += v.Hosts
		}
		d.Versions = d.Versions[:maxVersions]
	}
	return d, nil
}

func eligibilityOf(v catalog.Verdict, host string) api.Eligibility {
	ok := v.Status == catalog.StatusCurrent || v.Status == catalog.StatusPatchAvailable || v.Status == catalog.StatusEOLSoon
	return api.Eligibility{Eligible: ok, Host: host, Product: v.Product, Version: v.Version, Support: v.Support, Phase: v.Phase,
		Patch: v.Patch, Status: v.Status, Cycle: v.Cycle, Latest: v.Latest, EOL: v.EOL, DaysToEOL: v.DaysToEOL,
		UpgradeTo: v.UpgradeTo, Newest: v.Newest, Reason: v.Reason, AsOf: fakeNow.Format(time.DateOnly)}
}

// fakeCustomers are the fake's customers: the web hosts belong to c-web,
// the database hosts to c-db (fakeCustomerOf).
func fakeCustomers() map[string]api.Customer {
	return map[string]api.Customer{
		"c-web": {ID: "c-web", CustomerSpec: api.CustomerSpec{Name: "Webshop AG", Tier: "premium", ContractStart: "2025-01-01", ContractEnd: "2026-12-31",
			Timezone: "Europe/Berlin", Holidays: []string{"2025-12-25"}, Contacts: []string{"it@webshop.example"}}, Hosts: 2},
		"c-db": {ID: "c-db", CustomerSpec: api.CustomerSpec{Name: "Databank BV", Tier: "standard", ContractStart: "2024-01-01", ContractEnd: "2024-12-31",
			SoldBy: "Contoso Ltd", Timezone: "Europe/Amsterdam"}, Hosts: 1},
	}
}

// customerByRef finds a fake customer by id or name, ignoring case.
func (f *fake) customerByRef(ref string) (api.Customer, bool) {
	for _, c := range f.custs {
		if c.ID == ref || strings.EqualFold(c.Name, strings.TrimSpace(ref)) {
			return c, true
		}
	}
	return api.Customer{}, false
}

// TicketCheck implements Checker with the real contract rules over the
// fake's customers, hosts and catalog.
func (f *fake) TicketCheck(_ context.Context, q TicketQuery) (api.TicketCheck, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tickets = append(f.tickets, q)
	sev, err := strconv.Atoi(q.Severity)
	if err != nil || sev < 1 || sev > 4 {
		return api.TicketCheck{}, fault.Invalidf("severity", "severity %q: want 1, 2, 3 or 4", q.Severity)
	}
	at := fakeNow
	if q.At != "" {
		if at, err = time.Parse(time.RFC3339, q.At); err != nil {
			return api.TicketCheck{}, fault.Invalidf("at", "at %q: want an RFC 3339 time", q.At)
		}
	}
	var c api.Customer
	var el api.Eligibility
	if q.Host != "" {
		h := f.find(q.Host)
		if h == nil {
			return api.TicketCheck{}, fmt.Errorf("host %q: %w", q.Host, errNotFound)
		}
		found := false
		for _, iv := range h.d.Verdicts {
			if iv.Verdict.Product == q.Product {
				el, found = eligibilityOf(iv.Verdict, h.d.Info.Hostname), true
			}
		}
		if !found {
			return api.TicketCheck{}, fmt.Errorf("product %q on %s: %w", q.Product, q.Host, errNotFound)
		}
		id := fakeCustomerOf(h)
		if id == "" {
			return api.TicketCheck{Route: api.RouteVendor, WorkStarts: at, At: at, Severity: sev, Eligibility: el,
				Reasons: []string{"Host " + h.d.Info.Hostname + " belongs to no customer, so no contract covers it."}}, nil
		}
		c = f.custs[id]
	} else {
		var ok bool
		if c, ok = f.customerByRef(q.Customer); !ok {
			return api.TicketCheck{}, fmt.Errorf("customer %q: %w", q.Customer, errNotFound)
		}
		el = eligibilityOf(fakeEvaluate(f.cat, q.Product, q.Version, fakeNow), "")
	}
	k, err := contract.New(c.CustomerSpec, contract.Tiers)
	if err != nil {
		return api.TicketCheck{}, err
	}
	d := k.Decide(contract.Ticket{Severity: sev, At: at, Eligibility: el})
	c.Contract = &d.State
	return api.TicketCheck{Accept: d.Accept, PhoneNow: d.PhoneNow, WorkStarts: d.WorkStarts, Route: d.Route, Customer: &c,
		Reasons: d.Reasons, Eligibility: el, Severity: sev, At: at.UTC()}, nil
}

// CustomerNames implements Checker.
func (f *fake) CustomerNames(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.custs {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out, nil
}

// Customers implements Customers.
func (f *fake) Customers(context.Context) ([]api.Customer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.Customer
	for _, c := range f.custs {
		out = append(out, f.withState(c))
	}
	slices.SortFunc(out, func(a, b api.Customer) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out, nil
}

func (f *fake) withState(c api.Customer) api.Customer {
	if k, err := contract.New(c.CustomerSpec, contract.Tiers); err == nil {
		st := k.State(k.Today(fakeNow))
		c.Contract = &st
	}
	return c
}

// Customer implements Customers.
func (f *fake) Customer(_ context.Context, ref string) (api.Customer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.customerByRef(ref)
	if !ok {
		return api.Customer{}, fmt.Errorf("customer %q: %w", ref, errNotFound)
	}
	return f.withState(c), nil
}

// CreateCustomer implements Customers with the real validation.
func (f *fake) CreateCustomer(_ context.Context, s api.CustomerSpec) (api.Customer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := contract.Normalize(&s, contract.Tiers); err != nil {
		return api.Customer{}, err
	}
	if _, dup := f.customerByRef(s.Name); dup {
		return api.Customer{}, fault.New(fault.Conflict, "name", "customer name %q: a customer with this name exists", s.Name)
	}
	f.nextCust++
	c := api.Customer{ID: "c-" + strconv.Itoa(f.nextCust), CustomerSpec: s}
	f.custs[c.ID] = c
	c = f.withState(c)
	c.EnrollSecret = "ewe_fake_secret_" + strconv.Itoa(f.nextCust)
	return c, nil
}

// UpdateCustomer implements Customers: the patch's fields, validated.
func (f *fake) UpdateCustomer(_ context.Context, ref string, p api.CustomerPatch) (api.Customer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.patches = append(f.patches, p)
	c, ok := f.customerByRef(ref)
	if !ok {
		return api.Customer{}, fmt.Errorf("customer %q: %w", ref, errNotFound)
	}
	s := c.CustomerSpec
	for _, x := range []struct {
		dst *string
		v   *string
	}{{&s.Name, p.Name}, {&s.Tier, p.Tier}, {&s.ContractStart, p.ContractStart}, {&s.ContractEnd, p.ContractEnd},
		{&s.NoticeGiven, p.NoticeGiven}, {&s.SoldBy, p.SoldBy}, {&s.Timezone, p.Timezone}} {
		if x.v != nil {
			*x.dst = *x.v
		}
	}
	if p.AutoRenew != nil {
		s.AutoRenew = *p.AutoRenew
	}
	if p.BusinessHours != nil {
		s.BusinessHours = p.BusinessHours
	}
	if p.Holidays != nil {
		s.Holidays = *p.Holidays
	}
	if p.Contacts != nil {
		s.Contacts = *p.Contacts
	}
	if err := contract.Normalize(&s, contract.Tiers); err != nil {
		return api.Customer{}, err
	}
	c.CustomerSpec = s
	f.custs[c.ID] = c
	c = f.withState(c)
	if p.RotateEnrollSecret {
		c.EnrollSecret = "ewe_fake_rotated"
	}
	return c, nil
}

// DeleteCustomer implements Customers.
func (f *fake) DeleteCustomer(_ context.Context, ref string, force bool) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.customerByRef(ref)
	if !ok {
		return 0, fmt.Errorf("customer %q: %w", ref, errNotFound)
	}
	if c.Hosts > 0 && !force {
		return 0, fault.New(fault.Conflict, "force", "customer %s has hosts", c.Name)
	}
	delete(f.custs, c.ID)
	return c.Hosts, nil
}

func (f *fake) Groups(context.Context) ([]Group, error) { return f.groups, nil }

// RevokeSession implements SessionStore.
func (f *fake) RevokeSession(_ context.Context, id string, expires time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.endedSessions == nil {
		f.endedSessions = map[string]time.Time{}
	}
	f.endedSessions[id] = expires
	return nil
}

// SessionRevoked implements SessionStore.
func (f *fake) SessionRevoked(_ context.Context, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.endedSessions[id]
	return ok, nil
}

// PendingEnrollments implements HostAdmin.
func (f *fake) PendingEnrollments(context.Context) ([]PendingHost, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []PendingHost
	for _, h := range f.hosts {
		for _, p := range h.d.Pending {
			out = append(out, PendingHost{ID: h.d.ID, Hostname: h.d.Info.Hostname, Request: p})
		}
	}
	return out, nil
}

// HostAction implements HostAdmin.
func (f *fake) HostAction(_ context.Context, id, action, request string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.byID[id]
	if !ok {
		return fmt.Errorf("host %q: %w", id, errNotFound)
	}
	conflict := &fault.Error{Code: fault.Conflict, Msg: "nothing to " + action}
	switch action {
	case HostApprove, HostDeny:
		i := slices.IndexFunc(h.d.Pending, func(p api.PendingEnrollment) bool { return p.ID == request })
		if i < 0 {
			return conflict
		}
		if action == HostApprove {
			h.d.Pending = nil
		} else {
			h.d.Pending = slices.Delete(h.d.Pending, i, i+1)
		}
	case HostRestore:
		if !h.d.Revoked {
			return conflict
		}
		h.d.Revoked = false
	case HostRevoke:
		h.d.Revoked = true
	case HostDelete:
		if h.d.Kind != api.KindAsset {
			return &fault.Error{Code: fault.Conflict, Msg: id + " is a host, not an asset: revoke it instead"}
		}
		delete(f.byID, id)
		f.hosts = slices.DeleteFunc(f.hosts, func(x *fakeHost) bool { return x == h })
	}
	if f.actions == nil {
		f.actions = map[string]string{}
	}
	f.actions[id] = action
	return nil
}

func (f *fake) Subscribers(_ context.Context, offset, limit int) ([]Subscriber, int, error) {
	if offset >= len(f.subs) {
		return nil, len(f.subs), nil
	}
	return f.subs[offset:min(len(f.subs), offset+limit)], len(f.subs), nil
}

func (f *fake) Outbox(_ context.Context, q OutboxQuery) (OutboxPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := OutboxPage{Counts: map[string]int{}}
	var rows []OutboxMessage
	for _, m := range f.outbox {
		p.Counts[m.State]++
		if q.State == "" || m.State == q.State {
			rows = append(rows, m)
		}
	}
	p.Total = len(rows)
	if q.Offset < len(rows) {
		p.Rows = rows[q.Offset:min(len(rows), q.Offset+q.Limit)]
	}
	return p, nil
}

func (f *fake) PublishRelease(_ context.Context, r ReleaseRequest) (PublishResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.cat[r.Product]
	if p == nil {
		return PublishResult{}, fault.Invalidf("product", "the catalog has no product %q", r.Product)
	}
	res := PublishResult{Events: 1}
	for _, g := range f.groups {
		if !slices.Contains(g.Products, r.Product) {
			continue
		}
		for _, s := range f.subs {
			if s.Group == g.Name && s.State == SubConfirmed {
				res.Messages++
				f.outbox = slices.Insert(f.outbox, 0, OutboxMessage{ID: fmt.Sprintf("m%d", len(f.outbox)+1), To: s.Email,
					Subject: fmt.Sprintf("[eolwatch] %s %s released", p.Label, r.Version), Kind: "release", State: OutboxPending, Created: fakeNow})
			}
		}
	}
	return res, nil
}

func (f *fake) Tokens(context.Context) ([]Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Token
	for _, t := range f.tokens {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Token) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (f *fake) CreateToken(_ context.Context, role, name, customer string) (string, Token, error) {
	var cname string
	if customer != "" {
		f.mu.Lock()
		c, ok := f.custs[customer]
		f.mu.Unlock()
		if !ok {
			return "", Token{}, fault.Invalidf("customer", "No such customer (it may have been deleted).")
		}
		cname = c.Name
	}
	s := f.addToken(role, name)
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tokens[s]
	t.Customer, t.CustomerName = customer, cname
	f.tokens[s] = t
	return s, t, nil
}

func (f *fake) RevokeToken(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s, t := range f.tokens {
		if t.ID == id {
			delete(f.tokens, s)
			return nil
		}
	}
	return fmt.Errorf("token %q: %w", id, errNotFound)
}

func (f *fake) EnrollSecrets(context.Context) ([]EnrollSecret, error) {
	return []EnrollSecret{{ID: "e1", Name: "--enroll-secret flag", Created: fakeNow.AddDate(0, -3, 0), Hosts: len(f.hosts)}}, nil
}

func (f *fake) CatalogInfo(context.Context) (CatalogStatus, error) {
	return CatalogStatus{Info: catalog.Info{Source: "endoflife.date snapshot 2025-09-01", Commit: "a1b2c3d", License: "MIT (endoflife.date)",
		Version: "sha256:5e1f…", Products: 464, Cycles: 8351, Loaded: fakeNow.Add(-2 * time.Hour)}, LastSync: fakeNow.Add(-2 * time.Hour)}, nil
}

// newTestUI returns a dashboard over f with the fake clock.
func newTestUI(f *fake) *UI {
	return New(Config{Auth: f, Fleet: f, CustomerFleet: f.forCustomer, Checker: f, Customers: f, Notifications: f, Settings: f, Sessions: f, Hosts: f, Now: func() time.Time { return fakeNow },
		SessionKey: []byte("0123456789abcdef0123456789abcdef"), Logger: slog.New(slog.DiscardHandler)})
}

// addAsset adds an asset registered by SBOM: a Debian 12 image with an
// end-of-life Python, two uploads in its history, last uploaded a month ago
// (an asset is never stale).
func (f *fake) addAsset(id, name string) *fakeHost {
	h := &fakeHost{d: HostDetail{ID: id, Kind: api.KindAsset, Labels: map[string]string{"team": "payments"},
		Info:      api.HostInfo{InstallID: "asset:" + name, Hostname: name, OSID: "debian", OSVersion: "12", OSName: "debian"},
		FirstSeen: fakeNow.AddDate(0, -2, 0), LastSeen: fakeNow.AddDate(0, -1, 0),
		Uploads: []api.SBOMUpload{
			{UploadedAt: fakeNow.AddDate(0, -1, 0), UploadedBy: "api:ci", Format: "cyclonedx", SpecVersion: "1.7", Document: name,
				Tools: []string{"syft 1.57.1"}, SHA256: "5e0f4c8b2a6d1e3f9a7b5c4d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f", Bytes: 1638881,
				Components: 894, Matched: 20, Added: 3, Removed: 1, Status: catalog.StatusEOL},
			{UploadedAt: fakeNow.AddDate(0, -2, 0), UploadedBy: "api:admin", Format: "spdx", SpecVersion: "2.3",
				SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Components: 893, Matched: 19, Added: 893, Status: catalog.StatusEOL},
		}}}
	it := api.Item{Source: "dpkg", Name: "python3.8", Version: "3.8.10-0ubuntu1", Arch: "amd64"}
	h.d.Verdicts = []InstallVerdict{{Item: it, Verdict: fakeEvaluate(f.cat, "python", "3.8.10", fakeNow)}}
	h.items = []api.Item{it}
	h.d.Items = 1
	h.d.Status = h.d.Verdicts[0].Verdict.Status
	f.mu.Lock()
	f.hosts = append(f.hosts, h)
	f.byID[id] = h
	f.mu.Unlock()
	return h
}
