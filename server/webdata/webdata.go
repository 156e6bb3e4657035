// Package webdata wires the dashboard (server/web) to the server's real
// parts: Backend implements the dashboard's small data interfaces over the
// store, the catalog, the domain service, the notifier and the catalog
// service. The dashboard itself imports none of them, so its handlers are
// tested against an in-memory fake; this package's tests run it over SQLite.
package webdata

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/service"
	"github.com/eolwatch/eolwatch/server/store"
	"github.com/eolwatch/eolwatch/server/web"
)

// Store is what the dashboard reads from, and writes to, the fleet
// database. server/store.Store implements it; every method pages, counts and
// filters in the database (the dashboard never loads more rows than it shows).
//
// The fleet reads take a store.Scope: a session whose token is limited to
// one customer reads only that customer's hosts.
type Store interface {
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
	Compliance(ctx context.Context, sc store.Scope) (api.Compliance, error)
	CountHosts(ctx context.Context) (int, error)
	CountStaleHosts(ctx context.Context, sc store.Scope, before time.Time) (int, error)
	SearchHosts(ctx context.Context, q store.HostSearch) (store.HostSearchPage, error)
	InstalledProducts(ctx context.Context, sc store.Scope) ([]string, error)
	HostOSNames(ctx context.Context, sc store.Scope) ([]string, error)
	FindHost(ctx context.Context, ref string) (api.Host, int64, error)
	FindHostIn(ctx context.Context, sc store.Scope, ref string) (api.Host, int64, error)
	HostDetail(ctx context.Context, sc store.Scope, ref string) (api.HostDetail, error)
	InventoryPage(ctx context.Context, hostID string, offset, limit int) ([]api.InventoryItem, int, error)
	Products(ctx context.Context, sc store.Scope) ([]api.FleetProduct, error)
	ProductVersions(ctx context.Context, sc store.Scope, product string) ([]api.ProductVersion, error)
	ListTokens(ctx context.Context) ([]store.Token, error)
	CreateToken(ctx context.Context, role, name string) (store.Token, string, error)
	CreateCustomerToken(ctx context.Context, name, customer string) (store.Token, string, error)
	HostsPerCustomer(ctx context.Context) (map[string]int, error)
	RevokeToken(ctx context.Context, id string) error
	RevokeSession(ctx context.Context, id string, expires time.Time) error
	SessionRevoked(ctx context.Context, id string) (bool, error)
	PendingEnrollments(ctx context.Context) ([]api.PendingEnrollment, error)
	ApproveEnrollment(ctx context.Context, uid, reqID string) error
	DenyEnrollment(ctx context.Context, uid, reqID string) error
	RevokeHost(ctx context.Context, uid string) error
	RestoreHost(ctx context.Context, uid string) error
	DeleteAsset(ctx context.Context, ref string) (api.Host, error)
}

// Domain is what the dashboard asks of the domain service: the ticket
// check and customer administration. service.Service implements it.
type Domain interface {
	TicketCheck(ctx context.Context, q service.TicketQuery) (api.TicketCheck, error)
	Customers(ctx context.Context) ([]api.Customer, error)
	Customer(ctx context.Context, ref string) (api.Customer, error)
	CreateCustomer(ctx context.Context, s api.CustomerSpec) (api.Customer, error)
	UpdateCustomer(ctx context.Context, ref string, p api.CustomerPatch) (api.Customer, error)
	DeleteCustomer(ctx context.Context, ref string, force bool) (api.Customer, int, error)
	// DeleteAsset deletes an asset, then prunes the software nothing
	// links any more.
	DeleteAsset(ctx context.Context, ref string) (api.Host, error)
}

// Notifier is what the dashboard shows of the notifier, and its wake-up
// call after a release is published. notifier.Service implements it.
type Notifier interface {
	ListGroups(ctx context.Context, p notifier.Page) ([]notifier.GroupInfo, int, error)
	ListSubscriptions(ctx context.Context, f notifier.SubscriptionFilter) ([]notifier.Subscription, int, error)
	ListOutbox(ctx context.Context, f notifier.OutboxFilter) ([]notifier.OutboxEntry, notifier.OutboxCounts, int, error)
	Kick()
}

// Backend implements every data interface of the dashboard (Authenticator,
// Fleet and its per-customer views, Checker, Customers, Notifications,
// Settings) over the server's real parts: the store, the current catalog,
// the domain service (ticket check, customers), the notifier and the
// release publisher. The server builds one at start-up and passes it as
// each of web.Config's data sources:
//
//	b := &webdata.Backend{Store: st, Catalog: cats.Current, Domain: svc, Notifier: nt,
//		Publish: publish, EnrollSecretSet: cfg.EnrollSecret != ""}
//	ui := web.New(web.Config{Auth: b, Fleet: b, CustomerFleet: b.ForCustomer, Checker: b, Customers: b,
//		Notifications: b, Settings: b, ...})
//
// Store and Catalog are required; Domain, Notifier and Publish may be nil
// (the ticket check and customers pages then answer unavailable, the
// notifications page is empty and publishing answers an error).
type Backend struct {
	// Store is the fleet database.
	Store Store
	// Catalog returns the catalog in use now (it changes when a release is published).
	Catalog func() *catalog.Catalog
	// Domain is the domain service's customers and ticket check
	// (service.Service); nil answers the ticket check and the customers
	// pages with "unavailable".
	Domain Domain
	// Notifier is the notifier service (groups, subscriptions, outbox).
	Notifier Notifier
	// Publish publishes a release, as POST /api/v1/catalog/releases does.
	Publish func(ctx context.Context, product, cycle, version string, date time.Time, link string) error
	// EnrollSecretSet reports whether the server was started with an enroll secret.
	EnrollSecretSet bool
	// LastSync returns when the catalog was last synced from its feed and
	// the last sync's error; nil when there is no feed (the newest feed
	// document's time is shown instead, when Documents is set).
	LastSync func() (time.Time, error)
	// Documents lists the catalog documents applied over the embedded
	// catalog (catalogsvc.Service.Documents); optional.
	Documents func() []catalogsvc.Document
	// Published lists the releases published so far
	// (catalogsvc.Service.Published); optional.
	Published func() []catalogsvc.Published
	// AggregateTTL is how long fleet-wide aggregates (the overview, the
	// products list, a product's versions, the host filter values) are reused before they are
	// counted again (default 30s; negative: never reused). Counting reads
	// every verdict row: about a second per 100,000 hosts.
	AggregateTTL time.Duration

	viewsMu sync.Mutex
	views   map[string]*fleetView // by customer id; "" is the whole fleet
}

// fleetView is the fleet as one scope sees it (the whole fleet, or one
// customer's hosts), with its own memoised aggregates: a customer's counts
// are never served to another.
type fleetView struct {
	b  *Backend
	sc store.Scope

	overview cached[web.Overview]
	products cached[[]web.ProductSummary]
	facets   cached[web.Facets]

	versionsMu sync.Mutex
	versions   map[string]*cached[[]web.VersionCount] // per product id
}

// view returns the fleet view of a scope.
func (b *Backend) view(sc store.Scope) *fleetView {
	b.viewsMu.Lock()
	defer b.viewsMu.Unlock()
	if b.views == nil || len(b.views) > 1000 {
		b.views = map[string]*fleetView{}
	}
	fv := b.views[sc.Customer]
	if fv == nil {
		fv = &fleetView{b: b, sc: sc}
		b.views[sc.Customer] = fv
	}
	return fv
}

// ForCustomer implements the dashboard's per-customer fleet
// (web.Config.CustomerFleet): every page reads only the hosts of the
// customer (by id) a limited token belongs to.
func (b *Backend) ForCustomer(customer string) web.Fleet {
	if customer == "" { // never the whole fleet by accident
		customer = "\x00none"
	}
	return b.view(store.Scope{Customer: customer})
}

// cached is one memoised aggregate. get holds the lock while loading, so
// concurrent page views share one count instead of starting several.
type cached[T any] struct {
	mu  sync.Mutex
	key string
	at  time.Time
	v   T
}

func (c *cached[T]) get(key string, ttl time.Duration, load func() (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ttl > 0 && !c.at.IsZero() && c.key == key && time.Since(c.at) < ttl {
		return c.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.key, c.at, c.v = key, time.Now(), v
	return v, nil
}

func (b *Backend) ttl() time.Duration {
	if b.AggregateTTL == 0 {
		return 30 * time.Second
	}
	return b.AggregateTTL
}

// Authenticate implements Authenticator with the store's API tokens (an
// unknown or revoked one is the store's fault.Unauthorized error).
func (b *Backend) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	return b.Store.Authenticate(ctx, token)
}

// The whole fleet: Backend implements web.Fleet through its unscoped view.

// Overview implements Fleet for the whole fleet.
func (b *Backend) Overview(ctx context.Context, asOf, staleBefore time.Time) (web.Overview, error) {
	return b.view(store.Scope{}).Overview(ctx, asOf, staleBefore)
}

// Hosts implements Fleet for the whole fleet.
func (b *Backend) Hosts(ctx context.Context, q web.HostQuery) (web.HostPage, error) {
	return b.view(store.Scope{}).Hosts(ctx, q)
}

// Facets implements Fleet for the whole fleet.
func (b *Backend) Facets(ctx context.Context) (web.Facets, error) {
	return b.view(store.Scope{}).Facets(ctx)
}

// Host implements Fleet for the whole fleet.
func (b *Backend) Host(ctx context.Context, id string) (web.HostDetail, error) {
	return b.view(store.Scope{}).Host(ctx, id)
}

// Inventory implements Fleet for the whole fleet.
func (b *Backend) Inventory(ctx context.Context, hostID string, offset, limit int) ([]api.Item, int, error) {
	return b.view(store.Scope{}).Inventory(ctx, hostID, offset, limit)
}

// Products implements Fleet for the whole fleet.
func (b *Backend) Products(ctx context.Context) ([]web.ProductSummary, error) {
	return b.view(store.Scope{}).Products(ctx)
}

// Product implements Fleet for the whole fleet.
func (b *Backend) Product(ctx context.Context, id string, maxVersions int) (web.ProductDetail, error) {
	return b.view(store.Scope{}).Product(ctx, id, maxVersions)
}

// inputError is bad form input, said for the person at the dashboard.
func inputError(field, msg string) error {
	return &fault.Error{Code: fault.Invalid, Field: field, Msg: msg}
}

// Overview implements Fleet from the store's compliance counts (SQL GROUP
// BY) and the catalog's end-of-life dates, reused for AggregateTTL.
func (fv *fleetView) Overview(ctx context.Context, asOf, staleBefore time.Time) (web.Overview, error) {
	key := asOf.UTC().Format(time.DateOnly) + " " + staleBefore.UTC().Truncate(time.Minute).String()
	return fv.overview.get(key, fv.b.ttl(), func() (web.Overview, error) { return fv.countOverview(ctx, asOf, staleBefore) })
}

func (fv *fleetView) countOverview(ctx context.Context, asOf, staleBefore time.Time) (web.Overview, error) {
	b := fv.b
	c, err := b.Store.Compliance(ctx, fv.sc)
	if err != nil {
		return web.Overview{}, err
	}
	o := web.Overview{Hosts: c.Hosts, Assets: c.Assets, Installs: c.Installs, HostsByStatus: c.HostsByStatus, InstallsByStatus: c.InstallsByStatus}
	if o.StaleHosts, err = b.Store.CountStaleHosts(ctx, fv.sc, staleBefore); err != nil {
		return web.Overview{}, err
	}
	cat := b.Catalog()
	today := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	byProduct := map[string]*web.ProductCount{}
	for _, cc := range c.Cycles {
		pc := byProduct[cc.Product]
		if pc == nil {
			pc = &web.ProductCount{Product: cc.Product, Label: labelOf(cat, cc.Product)}
			byProduct[cc.Product] = pc
		}
		pc.Installs += cc.Installs
		pc.Unsupported += cc.ByStatus[catalog.StatusEOL] + cc.ByStatus[catalog.StatusUnknownVersion]
		if cc.Cycle == "" || cat == nil {
			continue
		}
		p := cat.Product(cc.Product)
		if p == nil {
			continue
		}
		for _, cy := range p.Cycles {
			if cy.Name != cc.Cycle || cy.EOL.Date.IsZero() {
				continue
			}
			end := cy.EOL.Date.Time
			if !end.Before(today) && !end.After(today.AddDate(0, 0, web.UpcomingDays)) {
				o.Upcoming = append(o.Upcoming, web.UpcomingEOL{Product: p.ID, Label: p.Label, Cycle: cy.Name, EOL: end, Hosts: cc.Installs})
			}
		}
	}
	for _, pc := range byProduct {
		if pc.Unsupported > 0 {
			o.TopUnsupported = append(o.TopUnsupported, *pc)
		}
	}
	slices.SortFunc(o.TopUnsupported, func(a, b web.ProductCount) int {
		return cmp.Or(cmp.Compare(b.Unsupported, a.Unsupported), cmp.Compare(a.Product, b.Product))
	})
	if len(o.TopUnsupported) > 10 {
		o.TopUnsupported = o.TopUnsupported[:10]
	}
	slices.SortFunc(o.Upcoming, func(a, b web.UpcomingEOL) int {
		return cmp.Or(a.EOL.Compare(b.EOL), cmp.Compare(a.Product, b.Product), cmp.Compare(a.Cycle, b.Cycle))
	})
	if len(o.Upcoming) > 50 {
		o.Upcoming = o.Upcoming[:50]
	}
	return o, nil
}

func labelOf(cat *catalog.Catalog, id string) string {
	if cat != nil {
		if p := cat.Product(id); p != nil && p.Label != "" {
			return p.Label
		}
	}
	return id
}

// Hosts implements Fleet with the store's host search (one paged SQL query).
func (fv *fleetView) Hosts(ctx context.Context, q web.HostQuery) (web.HostPage, error) {
	s := store.HostSearch{Search: q.Search, Status: q.Status, Product: q.Product, OS: q.OS, Kind: q.Kind,
		Sort: q.Sort, Desc: q.Desc, Offset: max(q.Offset, 0), Limit: min(max(q.Limit, 1), web.MaxPerPage), Scope: fv.sc}
	if q.Stale {
		s.StaleBefore = q.StaleBefore
	}
	res, err := fv.b.Store.SearchHosts(ctx, s)
	if err != nil {
		return web.HostPage{}, err
	}
	page := web.HostPage{Total: res.Total}
	for _, h := range res.Hosts {
		page.Rows = append(page.Rows, web.HostRow{ID: h.ID, Hostname: h.Hostname, Kind: h.Kind, OSName: h.OSName, Status: h.Status,
			Installs: h.Installs, LastSeen: h.LastCheckinAt, Version: h.Version})
	}
	return page, nil
}

// Facets implements Fleet; the values are reused for AggregateTTL.
func (fv *fleetView) Facets(ctx context.Context) (web.Facets, error) {
	return fv.facets.get("", fv.b.ttl(), func() (web.Facets, error) { return fv.queryFacets(ctx) })
}

func (fv *fleetView) queryFacets(ctx context.Context) (web.Facets, error) {
	var f web.Facets
	var err error
	if f.Products, err = fv.b.Store.InstalledProducts(ctx, fv.sc); err != nil {
		return f, fmt.Errorf("host facets: %w", err)
	}
	if f.OSes, err = fv.b.Store.HostOSNames(ctx, fv.sc); err != nil {
		return f, fmt.Errorf("host facets: %w", err)
	}
	return f, nil
}

// Host implements Fleet with the store's host detail.
func (fv *fleetView) Host(ctx context.Context, id string) (web.HostDetail, error) {
	d, err := fv.b.Store.HostDetail(ctx, fv.sc, id)
	if err != nil {
		return web.HostDetail{}, err
	}
	h := web.HostDetail{ID: d.ID, Kind: d.Kind, Labels: d.Labels, Uploads: d.Uploads, Info: d.Info, FirstSeen: d.EnrolledAt,
		LastSeen: d.LastCheckinAt, Status: d.Status, Items: d.Items, Errors: d.Errors, Revoked: d.Revoked, Pending: d.PendingEnrollments,
		CustomerID: d.CustomerID, Customer: d.Customer}
	if h.Info.Hostname == "" {
		h.Info.Hostname = d.Hostname
	}
	for _, v := range d.Verdicts {
		iv := web.InstallVerdict{Item: api.Item{Version: v.Installed}, Verdict: catalog.Verdict{Product: v.Product, Version: v.Version,
			Support: v.Support, Phase: v.Phase, Patch: v.Patch, Status: v.Status, Cycle: v.Cycle, Latest: v.Latest, EOL: v.EOL,
			DaysToEOL: v.DaysToEOL, UpgradeTo: v.UpgradeTo, Newest: v.Newest, Reason: v.Reason, Maintainer: v.Maintainer,
			MaintainerRelease: v.MaintainerRelease, Installed: v.Installed, Candidate: v.Candidate, CatalogDate: v.CatalogDate,
			Warnings: v.Warnings}}
		if u := v.Upstream; u != nil {
			iv.Verdict.Upstream = &catalog.Verdict{Product: v.Product, Version: v.Version, Support: u.Support, Phase: u.Phase, Patch: u.Patch,
				Status: u.Status, Cycle: u.Cycle, Latest: u.Latest, EOL: u.EOL, UpgradeTo: u.UpgradeTo, Reason: u.Reason,
				Maintainer: catalog.MaintainerUpstream, CatalogDate: v.CatalogDate, Warnings: []string{}}
		}
		for _, it := range d.Inventory {
			if it.MatchProduct == v.Product && it.MatchVersion == v.Version {
				iv.Item = it.Item
				break
			}
		}
		h.Verdicts = append(h.Verdicts, iv)
	}
	return h, nil
}

// RevokeSession implements web.SessionStore in the store, so a logout holds
// across restarts and instances.
func (b *Backend) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	return b.Store.RevokeSession(ctx, id, expires)
}

// SessionRevoked implements web.SessionStore.
func (b *Backend) SessionRevoked(ctx context.Context, id string) (bool, error) {
	return b.Store.SessionRevoked(ctx, id)
}

// PendingEnrollments implements web.HostAdmin.
func (b *Backend) PendingEnrollments(ctx context.Context) ([]web.PendingHost, error) {
	ps, err := b.Store.PendingEnrollments(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.PendingHost, 0, len(ps))
	for _, p := range ps {
		out = append(out, web.PendingHost{ID: p.HostID, Hostname: p.HostHostname, Request: p})
	}
	return out, nil
}

// HostAction implements web.HostAdmin with the store's enrolment methods.
func (b *Backend) HostAction(ctx context.Context, id, action, request string) error {
	switch action {
	case web.HostApprove:
		return b.Store.ApproveEnrollment(ctx, id, request)
	case web.HostDeny:
		return b.Store.DenyEnrollment(ctx, id, request)
	case web.HostRevoke:
		return b.Store.RevokeHost(ctx, id)
	case web.HostRestore:
		return b.Store.RestoreHost(ctx, id)
	case web.HostDelete:
		if b.Domain != nil { // deletes, then prunes the asset's software
			_, err := b.Domain.DeleteAsset(ctx, id)
			return err
		}
		_, err := b.Store.DeleteAsset(ctx, id)
		return err
	}
	return fault.New(fault.Invalid, "action", "unknown host action %q", action)
}

// Inventory implements Fleet with the store's inventory page (one paged SQL
// query); an item's Product is the catalog product it matched. A host
// outside the view is not found.
func (fv *fleetView) Inventory(ctx context.Context, hostID string, offset, limit int) ([]api.Item, int, error) {
	if fv.sc.Customer != "" {
		if h, _, err := fv.b.Store.FindHostIn(ctx, fv.sc, hostID); err != nil || h.ID != hostID {
			return nil, 0, fault.New(fault.NotFound, "", "host %q: not found", hostID)
		}
	}
	its, total, err := fv.b.Store.InventoryPage(ctx, hostID, max(offset, 0), min(max(limit, 1), 1000))
	if err != nil {
		return nil, 0, err
	}
	var out []api.Item
	for _, it := range its {
		item := it.Item
		item.Product = it.MatchProduct
		out = append(out, item)
	}
	return out, total, nil
}

// Products implements Fleet from the store's per-version counts (SQL GROUP
// BY), reused for AggregateTTL.
func (fv *fleetView) Products(ctx context.Context) ([]web.ProductSummary, error) {
	return fv.products.get("", fv.b.ttl(), func() ([]web.ProductSummary, error) { return fv.countProducts(ctx) })
}

func (fv *fleetView) countProducts(ctx context.Context) ([]web.ProductSummary, error) {
	fps, err := fv.b.Store.Products(ctx, fv.sc)
	if err != nil {
		return nil, err
	}
	cat := fv.b.Catalog()
	out := make([]web.ProductSummary, 0, len(fps))
	for _, fp := range fps {
		s := web.ProductSummary{ID: fp.Product, Label: fp.Product, Hosts: fp.Hosts}
		if p := catProduct(cat, fp.Product); p != nil {
			s.Label, s.Category, s.Source = cmp.Or(p.Label, p.ID), p.Category, p.Source
		}
		for _, v := range fp.Versions {
			if v.Status == catalog.StatusEOL || v.Status == catalog.StatusUnknownVersion {
				s.Unsupported += v.Hosts
			}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b web.ProductSummary) int {
		return cmp.Or(cmp.Compare(b.Unsupported, a.Unsupported), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func catProduct(cat *catalog.Catalog, id string) *catalog.Product {
	if cat == nil {
		return nil
	}
	return cat.Product(id)
}

// Product implements Fleet: the catalog's product and the store's
// per-version host counts.
func (fv *fleetView) Product(ctx context.Context, id string, maxVersions int) (web.ProductDetail, error) {
	b := fv.b
	p := catProduct(b.Catalog(), id)
	if p == nil {
		return web.ProductDetail{}, fault.New(fault.NotFound, "", "product %q is not in the catalog", id)
	}
	d := web.ProductDetail{Product: p, CycleHosts: map[string]int{}}
	fv.versionsMu.Lock()
	if fv.versions == nil || len(fv.versions) > 1000 {
		fv.versions = map[string]*cached[[]web.VersionCount]{}
	}
	c := fv.versions[p.ID]
	if c == nil {
		c = &cached[[]web.VersionCount]{}
		fv.versions[p.ID] = c
	}
	fv.versionsMu.Unlock()
	vs, err := c.get("", b.ttl(), func() ([]web.VersionCount, error) { return fv.productVersions(ctx, p.ID) })
	if err != nil {
		return web.ProductDetail{}, err
	}
	for _, v := range vs {
		d.CycleHosts[v.Cycle] += v.Hosts
	}
	d.Versions = slices.Clone(vs) // the cached slice stays unsorted and whole
	slices.SortStableFunc(d.Versions, func(a, b web.VersionCount) int { return cmp.Compare(b.Hosts, a.Hosts) })
	if maxVersions > 0 && len(d.Versions) > maxVersions {
		for _, v := range d.Versions[maxVersions:] {
			d.OtherHosts += v.Hosts
		}
		d.Versions = d.Versions[:maxVersions]
	}
	return d, nil
}

// productVersions counts hosts per installed version of one product.
func (fv *fleetView) productVersions(ctx context.Context, product string) ([]web.VersionCount, error) {
	pvs, err := fv.b.Store.ProductVersions(ctx, fv.sc, product)
	if err != nil {
		return nil, err
	}
	var out []web.VersionCount
	for _, v := range pvs {
		out = append(out, web.VersionCount{Version: v.Version, Cycle: v.Cycle, Status: v.Status, Hosts: v.Hosts})
	}
	return out, nil
}

// TicketCheck implements Checker with the domain service's ticket check.
func (b *Backend) TicketCheck(ctx context.Context, q web.TicketQuery) (api.TicketCheck, error) {
	if b.Domain == nil {
		return api.TicketCheck{}, fault.New(fault.Unavailable, "", "this server has no customers")
	}
	a, err := b.Domain.TicketCheck(ctx, service.TicketQuery{Customer: q.Customer, Host: q.Host, Product: q.Product, Version: q.Version,
		Severity: q.Severity, At: q.At})
	if errors.Is(err, store.ErrAmbiguous) {
		return a, inputError("host", strings.TrimPrefix(err.Error(), store.ErrAmbiguous.Error()+": "))
	}
	return a, err
}

// CustomerNames implements Checker.
func (b *Backend) CustomerNames(ctx context.Context) ([]string, error) {
	if b.Domain == nil {
		return nil, nil
	}
	cs, err := b.Domain.Customers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out, nil
}

// domain returns the domain service, or a fault.Unavailable error.
func (b *Backend) domain() (Domain, error) {
	if b.Domain == nil {
		return nil, fault.New(fault.Unavailable, "", "this server has no customers")
	}
	return b.Domain, nil
}

// Customers implements web.Customers.
func (b *Backend) Customers(ctx context.Context) ([]api.Customer, error) {
	d, err := b.domain()
	if err != nil {
		return nil, err
	}
	return d.Customers(ctx)
}

// Customer implements web.Customers.
func (b *Backend) Customer(ctx context.Context, ref string) (api.Customer, error) {
	d, err := b.domain()
	if err != nil {
		return api.Customer{}, err
	}
	return d.Customer(ctx, ref)
}

// CreateCustomer implements web.Customers.
func (b *Backend) CreateCustomer(ctx context.Context, s api.CustomerSpec) (api.Customer, error) {
	d, err := b.domain()
	if err != nil {
		return api.Customer{}, err
	}
	return d.CreateCustomer(ctx, s)
}

// UpdateCustomer implements web.Customers.
func (b *Backend) UpdateCustomer(ctx context.Context, ref string, p api.CustomerPatch) (api.Customer, error) {
	d, err := b.domain()
	if err != nil {
		return api.Customer{}, err
	}
	return d.UpdateCustomer(ctx, ref, p)
}

// DeleteCustomer implements web.Customers.
func (b *Backend) DeleteCustomer(ctx context.Context, ref string, force bool) (int, error) {
	d, err := b.domain()
	if err != nil {
		return 0, err
	}
	_, n, err := d.DeleteCustomer(ctx, ref, force)
	return n, err
}

// checkInput refuses what the API would refuse, naming the field.
func checkInput(field, v string) error {
	if len(v) > 200 {
		return inputError(field, "At most 200 characters.")
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return inputError(field, "Control characters are not allowed.")
	}
	return nil
}

// Groups implements Notifications.
func (b *Backend) Groups(ctx context.Context) ([]web.Group, error) {
	if b.Notifier == nil {
		return nil, nil
	}
	gs, _, err := b.Notifier.ListGroups(ctx, notifier.Page{Limit: 1000})
	if err != nil {
		return nil, err
	}
	out := make([]web.Group, 0, len(gs))
	for _, g := range gs {
		out = append(out, web.Group{Name: g.Name, Webhook: g.Webhook, Products: g.Products, Cycles: g.Cycles, Events: g.Events,
			Subscribers: g.Confirmed, Pending: g.Pending})
	}
	return out, nil
}

// Subscribers implements Notifications.
func (b *Backend) Subscribers(ctx context.Context, offset, limit int) ([]web.Subscriber, int, error) {
	if b.Notifier == nil {
		return nil, 0, nil
	}
	subs, total, err := b.Notifier.ListSubscriptions(ctx, notifier.SubscriptionFilter{Page: notifier.Page{Limit: limit, Offset: offset}})
	if err != nil {
		return nil, 0, err
	}
	out := make([]web.Subscriber, 0, len(subs))
	for _, s := range subs {
		sub := web.Subscriber{Email: s.Email, Group: s.Group, State: s.State, Created: s.Created}
		if s.ConfirmedAt != nil {
			sub.Confirmed = *s.ConfirmedAt
		}
		out = append(out, sub)
	}
	return out, total, nil
}

// Outbox implements Notifications.
func (b *Backend) Outbox(ctx context.Context, q web.OutboxQuery) (web.OutboxPage, error) {
	if b.Notifier == nil {
		return web.OutboxPage{Counts: map[string]int{}}, nil
	}
	es, c, total, err := b.Notifier.ListOutbox(ctx, notifier.OutboxFilter{State: q.State, Page: notifier.Page{Limit: q.Limit, Offset: q.Offset}})
	if err != nil {
		return web.OutboxPage{}, err
	}
	p := web.OutboxPage{Total: total, Counts: map[string]int{web.OutboxPending: c.Pending, web.OutboxSent: c.Sent, web.OutboxFailed: c.Failed, web.OutboxCancelled: c.Cancelled}}
	for _, e := range es {
		m := web.OutboxMessage{ID: fmt.Sprint(e.ID), To: e.Recipient, Subject: e.Subject, Kind: e.Kind, State: e.State,
			Attempts: e.Attempts, SMTPReply: e.LastError, Created: e.Created}
		if e.SentAt != nil {
			m.Sent = *e.SentAt
		}
		if e.NextAttempt != nil {
			m.NextTry = *e.NextAttempt
		}
		p.Rows = append(p.Rows, m)
	}
	return p, nil
}

// PublishRelease implements Notifications with the server's publisher;
// the notifier fans the release out to subscribers in the background.
func (b *Backend) PublishRelease(ctx context.Context, r web.ReleaseRequest) (web.PublishResult, error) {
	if b.Publish == nil {
		return web.PublishResult{}, inputError("product", "This server cannot publish releases (no catalog manager).")
	}
	if err := cmp.Or(checkInput("product", r.Product), checkInput("cycle", r.Cycle), checkInput("version", r.Version)); err != nil {
		return web.PublishResult{}, err
	}
	err := b.Publish(ctx, r.Product, r.Cycle, r.Version, r.Date, "")
	switch {
	case errors.Is(err, catalogsvc.ErrConflict):
		return web.PublishResult{}, inputError("version", "This release is already in the catalog.")
	case fault.Is(err, fault.Invalid):
		fe, _ := fault.As(err)
		return web.PublishResult{}, inputError(fe.Field, strings.TrimPrefix(fe.Msg, fe.Field+": "))
	case err != nil:
		return web.PublishResult{}, err
	}
	if b.Notifier != nil {
		b.Notifier.Kick()
	}
	return web.PublishResult{}, nil
}

// Tokens implements Settings; revoked tokens are left out.
func (b *Backend) Tokens(ctx context.Context) ([]web.Token, error) {
	ts, err := b.Store.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	var out []web.Token
	for _, t := range ts {
		if t.RevokedAt.IsZero() {
			out = append(out, web.Token{ID: t.ID, Name: t.Name, Role: t.Role, Customer: t.Customer, CustomerName: t.CustomerName, Created: t.CreatedAt})
		}
	}
	slices.Reverse(out) // newest first
	return out, nil
}

// CreateToken implements Settings: with a customer id, a viewer token
// limited to that customer's hosts.
func (b *Backend) CreateToken(ctx context.Context, role, name, customer string) (string, web.Token, error) {
	var (
		t      store.Token
		secret string
		err    error
		cname  string
	)
	if customer == "" {
		t, secret, err = b.Store.CreateToken(ctx, role, name)
	} else {
		if role != auth.RoleViewer {
			return "", web.Token{}, inputError("customer", "Only viewer tokens can be limited to one customer.")
		}
		c, cerr := b.Domain.Customer(ctx, customer)
		if fault.Is(cerr, fault.NotFound) {
			return "", web.Token{}, inputError("customer", "No such customer (it may have been deleted).")
		} else if cerr != nil {
			return "", web.Token{}, cerr
		}
		cname = c.Name
		t, secret, err = b.Store.CreateCustomerToken(ctx, name, c.ID)
		if fault.Is(err, fault.NotFound) { // deleted meanwhile
			return "", web.Token{}, inputError("customer", "No such customer (it may have been deleted).")
		}
	}
	if err != nil {
		return "", web.Token{}, err
	}
	return secret, web.Token{ID: t.ID, Name: t.Name, Role: t.Role, Customer: t.Customer, CustomerName: cname, Created: t.CreatedAt}, nil
}

// RevokeToken implements Settings.
func (b *Backend) RevokeToken(ctx context.Context, id string) error {
	return b.Store.RevokeToken(ctx, id)
}

// EnrollSecrets implements Settings: the server-wide secret from the
// configuration (its hosts are those of no customer) and each customer's
// own secret with the customer's hosts; all stored only as hashes.
func (b *Backend) EnrollSecrets(ctx context.Context) ([]web.EnrollSecret, error) {
	per, err := b.Store.HostsPerCustomer(ctx)
	if err != nil {
		return nil, err
	}
	var out []web.EnrollSecret
	if b.EnrollSecretSet {
		out = append(out, web.EnrollSecret{ID: "config", Name: "--enroll-secret (server configuration): hosts of no customer", Hosts: per[""]})
	}
	if b.Domain == nil {
		return out, nil
	}
	cs, err := b.Domain.Customers(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		out = append(out, web.EnrollSecret{ID: "customer:" + c.ID, Name: "customer " + c.Name + "'s own secret", Created: c.CreatedAt, Hosts: per[c.ID]})
	}
	return out, nil
}

// CatalogDate is web.Config.CatalogDate: the day the catalog data in force
// was taken, zero when it carries none.
func (b *Backend) CatalogDate() time.Time {
	cat := b.Catalog()
	if cat == nil {
		return time.Time{}
	}
	return cat.Info().Date.Time
}

// CatalogInfo implements Settings.
func (b *Backend) CatalogInfo(context.Context) (web.CatalogStatus, error) {
	var s web.CatalogStatus
	if cat := b.Catalog(); cat != nil {
		s.Info = cat.Info()
	}
	if b.Documents != nil {
		for _, d := range b.Documents() {
			s.Documents = append(s.Documents, web.CatalogDocument{Name: d.Name, Kind: d.Kind, Hash: d.Hash, Created: d.Created})
			if d.Kind == catalogsvc.DocFeed && d.Created.After(s.LastSync) {
				s.LastSync = d.Created
			}
		}
	}
	if b.Published != nil {
		ps := b.Published()
		for i := len(ps) - 1; i >= 0 && len(s.Releases) < 20; i-- {
			p := ps[i]
			s.Releases = append(s.Releases, web.PublishedRelease{Product: p.Product, Cycle: p.Cycle, Version: p.Version, Date: p.Date, By: p.By, Created: p.Created})
		}
	}
	if b.LastSync != nil {
		t, err := b.LastSync()
		s.LastSync = t
		if err != nil {
			s.SyncError = err.Error()
		}
	}
	return s, nil
}
