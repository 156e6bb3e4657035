package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
)

// statusNone is the status of a host none of whose items matched a product.
const statusNone = "none"

const (
	defaultPerPage = 50
	inventoryPage  = 100
	maxVersions    = 25
	maxPage        = 1_000_000 // page numbers beyond this are clamped (no offset overflow)
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// pager is pagination state shown under a table.
type pager struct {
	Page, Pages, Total, From, To int
	Prev, Next                   string // URLs, empty when none
}

// newPager builds the pager for page (1-based) of total rows; param names
// the query parameter holding the page number in base.
func newPager(base *url.URL, param string, page, per, total int) pager {
	p := pager{Page: page, Total: total, Pages: (total + per - 1) / per}
	if p.Pages == 0 {
		p.Pages = 1
	}
	if total > 0 {
		p.From = (page-1)*per + 1
		p.To = min(page*per, total)
	}
	link := func(n int) string {
		q := base.Query()
		q.Set(param, strconv.Itoa(n))
		return base.Path + "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = link(min(page-1, p.Pages))
	}
	if page < p.Pages {
		p.Next = link(page + 1)
	}
	return p
}

// intParam reads a positive integer query parameter, def when absent or bad.
func intParam(q url.Values, name string, def, maxV int) int {
	n, err := strconv.Atoi(q.Get(name))
	if err != nil || n < 1 {
		return def
	}
	if maxV > 0 && n > maxV {
		return maxV
	}
	return n
}

// ---- overview ----

type statusCount struct {
	Status string
	Hosts  int
	Inst   int
}

type overviewView struct {
	O          Overview
	AsOf       time.Time
	Counts     []statusCount
	HostChart  barChart
	InstChart  barChart
	Timeline   timeline
	Compliant  int // hosts with no unsupported or overdue install
	StaleAfter time.Duration
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request, s *session) {
	now := u.cfg.Now()
	o, err := u.fleet(s).Overview(r.Context(), now, now.Add(-u.cfg.StaleAfter))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	v := overviewView{O: o, AsOf: now, StaleAfter: u.cfg.StaleAfter}
	var hostBars, instBars []bar
	statuses := catalog.Statuses
	if o.HostsByStatus[statusNone] > 0 {
		statuses = append(slices.Clip(statuses), statusNone)
	}
	for _, st := range statuses {
		c := statusCount{Status: st, Hosts: o.HostsByStatus[st], Inst: o.InstallsByStatus[st]}
		v.Counts = append(v.Counts, c)
		hostBars = append(hostBars, bar{Label: statusLabel(st), Value: c.Hosts, Class: "st-" + st})
		instBars = append(instBars, bar{Label: statusLabel(st), Value: c.Inst, Class: "st-" + st})
		if st == catalog.StatusCurrent || st == catalog.StatusPatchAvailable || st == catalog.StatusEOLSoon {
			v.Compliant += c.Hosts
		}
	}
	v.HostChart = newBarChart("Hosts by worst status", hostBars)
	v.InstChart = newBarChart("Installs by status", instBars)
	v.Timeline = newTimeline(now, UpcomingDays, o.Upcoming)
	u.render(w, r, http.StatusOK, "overview", view{Title: "Overview", Nav: "overview", Session: s, Page: v})
}

// ---- hosts ----

type sortLink struct {
	Key, Label, URL, Aria string // Aria: "ascending", "descending" or ""
}

type hostsView struct {
	Q        HostQuery
	PerPage  int
	Facets   Facets
	Kinds    []kindOption
	Noun     string // "host" or "asset": what the count counts
	Statuses []string
	Page     HostPage
	Pager    pager
	Sorts    map[string]sortLink
	Stale    time.Time
	Filtered bool
	// Pending are the re-enrolments awaiting an admin (admins only).
	Pending []PendingHost
	// Deleted says an asset was just deleted (?done=delete).
	Deleted bool
}

var hostSorts = []string{SortHostname, SortStatus, SortOS, SortLastSeen}

// kindOption is one choice of the hosts page's kind filter.
type kindOption struct{ Value, Label string }

// hostKinds are the choices of the kind filter: both, endpoints running the
// agent, or assets registered by SBOM.
var hostKinds = []kindOption{{"", "hosts and assets"}, {api.KindHost, "hosts (agents)"}, {api.KindAsset, "assets (SBOMs)"}}

func (u *UI) hosts(w http.ResponseWriter, r *http.Request, s *session) {
	qs := r.URL.Query()
	per := intParam(qs, "per", defaultPerPage, MaxPerPage)
	page := intParam(qs, "page", 1, maxPage)
	now := u.cfg.Now()
	q := HostQuery{
		Search:      strings.TrimSpace(qs.Get("q")),
		Status:      qs.Get("status"),
		Product:     strings.TrimSpace(qs.Get("product")),
		OS:          qs.Get("os"),
		Kind:        qs.Get("kind"),
		Stale:       qs.Get("stale") == "1",
		StaleBefore: now.Add(-u.cfg.StaleAfter),
		Sort:        qs.Get("sort"),
		Desc:        qs.Get("dir") == "desc",
		Offset:      (page - 1) * per,
		Limit:       per,
	}
	if !slices.Contains(hostSorts, q.Sort) {
		q.Sort = SortHostname
	}
	if q.Status != "" && q.Status != statusNone && !slices.Contains(catalog.Statuses, q.Status) {
		u.fail(w, r, s, fault.InvalidField("status", "unknown status "+strconv.Quote(q.Status)))
		return
	}
	if q.Kind != "" && q.Kind != api.KindHost && q.Kind != api.KindAsset {
		u.fail(w, r, s, fault.InvalidField("kind", "unknown kind "+strconv.Quote(q.Kind)+": want host or asset"))
		return
	}
	facets, err := u.fleet(s).Facets(r.Context())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	res, err := u.fleet(s).Hosts(r.Context(), q)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	v := hostsView{Q: q, PerPage: per, Facets: facets, Kinds: hostKinds, Noun: "host", Statuses: append(slices.Clip(catalog.Statuses), statusNone),
		Page: res, Stale: q.StaleBefore, Filtered: q.Search != "" || q.Status != "" || q.Product != "" || q.OS != "" || q.Stale || q.Kind != "",
		Pager: newPager(r.URL, "page", page, per, res.Total), Sorts: map[string]sortLink{}}
	if q.Kind == api.KindAsset {
		v.Noun = "asset"
	}
	v.Deleted = qs.Get("done") == HostDelete
	if u.cfg.Hosts != nil && s.Can("hosts") {
		if v.Pending, err = u.cfg.Hosts.PendingEnrollments(r.Context()); err != nil {
			u.fail(w, r, s, err)
			return
		}
	}
	for _, key := range hostSorts {
		sq := r.URL.Query()
		sq.Del("page")
		sq.Set("sort", key)
		l := sortLink{Key: key}
		if key == q.Sort {
			if q.Desc {
				l.Aria = "descending"
				sq.Del("dir")
			} else {
				l.Aria = "ascending"
				sq.Set("dir", "desc")
			}
		} else {
			sq.Del("dir")
		}
		l.URL = "/hosts?" + sq.Encode()
		v.Sorts[key] = l
	}
	u.render(w, r, http.StatusOK, "hosts", view{Title: "Hosts", Nav: "hosts", Session: s, Page: v})
}

type hostView struct {
	Done      string // the host action just applied
	Admin     bool   // the session may approve, deny, revoke, restore, delete an asset
	H         HostDetail
	Items     []api.Item
	Pager     pager
	StaleFrom time.Time
	Stale     bool
	Asset     bool // an asset registered by SBOM, not an agent's host
}

// hostAction answers a host's pending re-enrolment (approve, deny),
// revokes or restores the host, then shows the host; or deletes an asset,
// then shows the assets.
func (u *UI) hostAction(w http.ResponseWriter, r *http.Request, s *session) {
	id, action := r.PathValue("id"), r.PathValue("action")
	switch action {
	case HostApprove, HostDeny, HostRevoke, HostRestore, HostDelete:
	default:
		u.errorPage(w, r, s, http.StatusNotFound, "Not found", "Nothing here by that name.")
		return
	}
	request := r.PostFormValue("request")
	if err := u.cfg.Hosts.HostAction(r.Context(), id, action, request); err != nil {
		if fault.Is(err, fault.Conflict) {
			u.errorPage(w, r, s, http.StatusConflict, "Nothing to "+action, err.Error())
			return
		}
		u.fail(w, r, s, err)
		return
	}
	u.log.Info("host "+action, "host_id", id, "request_id", request, "by", "dashboard")
	if action == HostDelete { // the asset's page is gone: back to the assets
		http.Redirect(w, r, "/hosts?kind=asset&done="+HostDelete, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/hosts/"+url.PathEscape(id)+"?done="+action, http.StatusSeeOther)
}

func (u *UI) host(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	h, err := u.fleet(s).Host(r.Context(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	page := intParam(r.URL.Query(), "inv", 1, maxPage)
	items, total, err := u.fleet(s).Inventory(r.Context(), h.ID, (page-1)*inventoryPage, inventoryPage)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	stale := u.cfg.Now().Add(-u.cfg.StaleAfter)
	v := hostView{H: h, Items: items, Pager: newPager(r.URL, "inv", page, inventoryPage, total), StaleFrom: stale,
		Stale: h.Kind != api.KindAsset && h.LastSeen.Before(stale), Asset: h.Kind == api.KindAsset,
		Admin: u.cfg.Hosts != nil && s.Can("hosts")}
	if !s.Can("hosts") { // where a request came from is for admins only
		v.H.Pending = slices.Clone(v.H.Pending)
		for i := range v.H.Pending {
			v.H.Pending[i].From = ""
		}
	}
	switch d := r.URL.Query().Get("done"); d {
	case HostApprove, HostDeny, HostRevoke, HostRestore:
		v.Done = d
	}
	u.render(w, r, http.StatusOK, "host", view{Title: h.Info.Hostname, Nav: "hosts", Session: s, Page: v})
}

// ---- products ----

func (u *UI) products(w http.ResponseWriter, r *http.Request, s *session) {
	ps, err := u.fleet(s).Products(r.Context())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.render(w, r, http.StatusOK, "products", view{Title: "Products", Nav: "products", Session: s, Page: ps})
}

type cycleRow struct {
	C       *catalog.Cycle
	State   string // supported | eol-soon | eol
	Hosts   int
	Current bool
}

type productView struct {
	P      ProductDetail
	Cycles []cycleRow
	Chart  barChart
	AsOf   time.Time
	Hosts  int
}

func (u *UI) product(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := u.fleet(s).Product(r.Context(), r.PathValue("id"), maxVersions)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	if d.Product == nil {
		u.fail(w, r, s, &fault.Error{Code: fault.NotFound, Msg: "not found"})
		return
	}
	now := u.cfg.Now()
	v := productView{P: d, AsOf: now}
	for _, c := range d.Product.Cycles {
		v.Cycles = append(v.Cycles, cycleRow{C: c, State: cycleState(c.EOL, now, UpcomingDays), Hosts: d.CycleHosts[c.Name]})
	}
	var bars []bar
	for _, vc := range d.Versions {
		bars = append(bars, bar{Label: vc.Version, Value: vc.Hosts, Class: "st-" + vc.Status})
		v.Hosts += vc.Hosts
	}
	if d.OtherHosts > 0 {
		bars = append(bars, bar{Label: "other versions", Value: d.OtherHosts, Class: "st-other"})
		v.Hosts += d.OtherHosts
	}
	v.Chart = newBarChart("Hosts per installed version of "+productLabel(d.Product), bars)
	u.render(w, r, http.StatusOK, "product", view{Title: productLabel(d.Product), Nav: "products", Session: s, Page: v})
}

func productLabel(p *catalog.Product) string {
	if p.Label != "" {
		return p.Label
	}
	return p.ID
}

// cycleState is "eol" when m has ended by asOf (the day after its date),
// "eol-soon" when it ends within warnDays, else "supported".
func cycleState(m catalog.Milestone, asOf time.Time, warnDays int) string {
	if !m.Set {
		return "supported"
	}
	if m.Date.IsZero() {
		if m.Ended {
			return "eol"
		}
		return "supported"
	}
	day := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	end := m.Date.Time
	switch {
	case day.After(end):
		return "eol"
	case !day.AddDate(0, 0, warnDays).Before(end):
		return "eol-soon"
	}
	return "supported"
}

// ---- notifications ----

type notificationsView struct {
	Admin      bool // subscribers, the outbox and webhook URLs are shown
	Groups     []Group
	Subs       []Subscriber
	SubsPager  pager
	Outbox     OutboxPage
	OutPager   pager
	State      string
	StateTabs  []stateTab
	Form       ReleaseRequest
	FormDate   string
	FieldErr   map[string]string
	Published  *PublishResult
	PublishMsg string
}

type stateTab struct {
	Label, URL string
	Count      int
	Current    bool
}

func (u *UI) notifications(w http.ResponseWriter, r *http.Request, s *session) {
	v := &notificationsView{FieldErr: map[string]string{}, FormDate: u.cfg.Now().UTC().Format(time.DateOnly)}
	qs := r.URL.Query()
	if qs.Get("published") != "" {
		ev, _ := strconv.Atoi(qs.Get("events"))
		ms, _ := strconv.Atoi(qs.Get("messages"))
		v.Published = &PublishResult{Events: ev, Messages: ms}
		v.PublishMsg = qs.Get("published")
	}
	u.showNotifications(w, r, s, http.StatusOK, v)
}

func (u *UI) showNotifications(w http.ResponseWriter, r *http.Request, s *session, code int, v *notificationsView) {
	ctx := r.Context()
	qs := r.URL.Query()
	var err error
	if v.Groups, err = u.cfg.Notifications.Groups(ctx); err != nil {
		u.fail(w, r, s, err)
		return
	}
	v.Admin = s.Can("subscribers")
	if !v.Admin { // addresses, the outbox and webhook URLs are for admins only
		v.Groups = slices.Clone(v.Groups)
		for i := range v.Groups {
			v.Groups[i].Webhook = ""
		}
		u.render(w, r, code, "notifications", view{Title: "Notifications", Nav: "notifications", Session: s, Page: v})
		return
	}
	sp := intParam(qs, "subs", 1, maxPage)
	subs, total, err := u.cfg.Notifications.Subscribers(ctx, (sp-1)*defaultPerPage, defaultPerPage)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	base := &url.URL{Path: "/notifications", RawQuery: qs.Encode()}
	base.RawQuery = dropParams(qs, "published", "events", "messages").Encode()
	v.Subs, v.SubsPager = subs, newPager(base, "subs", sp, defaultPerPage, total)
	v.State = qs.Get("state")
	if v.State != OutboxPending && v.State != OutboxSent && v.State != OutboxFailed && v.State != OutboxCancelled {
		v.State = ""
	}
	op := intParam(qs, "page", 1, maxPage)
	if v.Outbox, err = u.cfg.Notifications.Outbox(ctx, OutboxQuery{State: v.State, Offset: (op - 1) * defaultPerPage, Limit: defaultPerPage}); err != nil {
		u.fail(w, r, s, err)
		return
	}
	v.OutPager = newPager(base, "page", op, defaultPerPage, v.Outbox.Total)
	all := 0
	for _, n := range v.Outbox.Counts {
		all += n
	}
	for _, st := range []string{"", OutboxPending, OutboxSent, OutboxFailed, OutboxCancelled} {
		if st == OutboxCancelled && v.Outbox.Counts[st] == 0 {
			continue
		}
		tq := dropParams(qs, "published", "events", "messages", "page")
		tq.Set("state", st)
		if st == "" {
			tq.Del("state")
		}
		label, n := st, v.Outbox.Counts[st]
		if st == "" {
			label, n = "all", all
		}
		v.StateTabs = append(v.StateTabs, stateTab{Label: label, URL: "/notifications?" + tq.Encode() + "#outbox", Count: n, Current: st == v.State})
	}
	u.render(w, r, code, "notifications", view{Title: "Notifications", Nav: "notifications", Session: s, Page: v})
}

func dropParams(q url.Values, names ...string) url.Values {
	out := url.Values{}
	for k, vs := range q {
		if !slices.Contains(names, k) {
			out[k] = vs
		}
	}
	return out
}

func (u *UI) publishRelease(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	v := &notificationsView{FieldErr: map[string]string{}, FormDate: strings.TrimSpace(f.Get("date"))}
	v.Form = ReleaseRequest{Product: strings.TrimSpace(f.Get("product")), Cycle: strings.TrimSpace(f.Get("cycle")), Version: strings.TrimSpace(f.Get("version"))}
	if v.Form.Product == "" {
		v.FieldErr["product"] = "Enter the product id, e.g. python."
	}
	if v.Form.Cycle == "" {
		v.FieldErr["cycle"] = "Enter the release cycle, e.g. 3.12."
	}
	if v.Form.Version == "" {
		v.FieldErr["version"] = "Enter the new version, e.g. 3.12.8."
	}
	if v.FormDate == "" {
		v.FormDate = u.cfg.Now().UTC().Format(time.DateOnly)
	}
	d, err := time.Parse(time.DateOnly, v.FormDate)
	if err != nil {
		v.FieldErr["date"] = "Use the form YYYY-MM-DD."
	}
	v.Form.Date = d
	for _, s := range []string{v.Form.Product, v.Form.Cycle, v.Form.Version} {
		if len(s) > 100 {
			v.FieldErr["version"] = "Product, cycle and version are at most 100 characters."
		}
	}
	if len(v.FieldErr) == 0 {
		res, err := u.cfg.Notifications.PublishRelease(r.Context(), v.Form)
		switch fe, _ := fault.As(err); {
		case fault.Is(err, fault.Invalid):
			v.FieldErr[fe.Field] = fe.Msg
		case fault.Is(err, fault.NotFound):
			v.FieldErr["product"] = "The catalog has no product " + strconv.Quote(v.Form.Product) + "."
		case err != nil:
			u.fail(w, r, s, err)
			return
		default:
			u.log.Info("release published", "product", v.Form.Product, "cycle", v.Form.Cycle, "version", v.Form.Version, "events", res.Events, "messages", res.Messages)
			q := url.Values{}
			q.Set("published", v.Form.Product+" "+v.Form.Version)
			q.Set("events", strconv.Itoa(res.Events))
			q.Set("messages", strconv.Itoa(res.Messages))
			http.Redirect(w, r, "/notifications?"+q.Encode()+"#outbox", http.StatusSeeOther)
			return
		}
	}
	u.showNotifications(w, r, s, http.StatusBadRequest, v)
}

// ---- settings ----

type settingsView struct {
	Catalog    CatalogStatus
	Tokens     []Token
	Secrets    []EnrollSecret
	Roles      []string
	NewToken   string
	NewTokenOf Token
	Revoked    bool
	FieldErr   map[string]string
	Name, Role string
	// Customers are offered to limit a viewer token to; Customer is the
	// chosen one's id.
	Customers []api.Customer
	Customer  string
}

func (u *UI) settings(w http.ResponseWriter, r *http.Request, s *session) {
	u.showSettings(w, r, s, http.StatusOK, &settingsView{Revoked: r.URL.Query().Get("revoked") == "1"})
}

func (u *UI) showSettings(w http.ResponseWriter, r *http.Request, s *session, code int, v *settingsView) {
	ctx := r.Context()
	var err error
	if v.FieldErr == nil {
		v.FieldErr = map[string]string{}
	}
	v.Roles = []string{auth.RoleViewer, auth.RoleSupport, auth.RoleAdmin, auth.RoleCI}
	if v.Catalog, err = u.cfg.Settings.CatalogInfo(ctx); err != nil {
		u.fail(w, r, s, err)
		return
	}
	if s.Can("tokens") {
		if v.Tokens, err = u.cfg.Settings.Tokens(ctx); err != nil {
			u.fail(w, r, s, err)
			return
		}
		if v.Customers, err = u.cfg.Customers.Customers(ctx); err != nil {
			u.fail(w, r, s, err)
			return
		}
		if v.Secrets, err = u.cfg.Settings.EnrollSecrets(ctx); err != nil {
			u.fail(w, r, s, err)
			return
		}
	}
	u.render(w, r, code, "settings", view{Title: "Settings", Nav: "settings", Session: s, Page: v})
}

func (u *UI) createToken(w http.ResponseWriter, r *http.Request, s *session) {
	v := &settingsView{FieldErr: map[string]string{}, Name: strings.TrimSpace(r.PostForm.Get("name")), Role: r.PostForm.Get("role"),
		Customer: strings.TrimSpace(r.PostForm.Get("customer"))}
	if !slices.Contains([]string{auth.RoleAdmin, auth.RoleSupport, auth.RoleViewer, auth.RoleCI}, v.Role) {
		v.FieldErr["role"] = "Choose admin, support or viewer, or ci for a build pipeline that only uploads SBOMs."
	} else if v.Customer != "" && !auth.CanScope(v.Role) {
		v.FieldErr["customer"] = "Only viewer tokens can be limited to one customer (its own IT team): choose the viewer role, or no customer."
	}
	if v.Name == "" {
		v.FieldErr["name"] = "Name the token after who or what uses it."
	} else if len(v.Name) > 100 {
		v.FieldErr["name"] = "At most 100 characters."
	}
	if len(v.FieldErr) > 0 {
		u.showSettings(w, r, s, http.StatusBadRequest, v)
		return
	}
	secret, t, err := u.cfg.Settings.CreateToken(r.Context(), v.Role, v.Name, v.Customer)
	if fe, ok := fault.As(err); ok && fe.Code == fault.Invalid && fe.Field != "" {
		v.FieldErr[fe.Field] = fe.Msg
		u.showSettings(w, r, s, http.StatusBadRequest, v)
		return
	}
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.log.Info("token created", "id", t.ID, "role", t.Role, "customer", t.Customer, "by", s.Role)
	v.NewToken, v.NewTokenOf, v.Name, v.Role, v.Customer = secret, t, "", "", ""
	u.showSettings(w, r, s, http.StatusOK, v)
}

func (u *UI) revokeToken(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if err := u.cfg.Settings.RevokeToken(r.Context(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.log.Info("token revoked", "id", id)
	http.Redirect(w, r, "/settings?revoked=1", http.StatusSeeOther)
}
