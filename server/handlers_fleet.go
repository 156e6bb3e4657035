package server

import (
	"encoding/base64"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/httpjson"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/store"
)

func validStatus(st string) bool {
	return st == store.StatusNone || catalog.StatusRank(st) < len(catalog.Statuses)
}

// limitParam reads the limit query parameter (1 to 1000), def when absent.
func limitParam(r *http.Request, def int) (int, error) {
	l := r.URL.Query().Get("limit")
	if l == "" {
		return def, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > 1000 {
		return 0, fault.Invalidf("limit", "limit %q: want 1 to 1000", l)
	}
	return n, nil
}

// handleHosts lists hosts, filtered by status, product and cycle, a page at a time.
func (s *Server) handleHosts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.HostFilter{Status: q.Get("status"), Product: q.Get("product"), Cycle: q.Get("cycle"), Kind: q.Get("kind"), Scope: scope(r)}
	if f.Kind != "" && f.Kind != api.KindHost && f.Kind != api.KindAsset {
		return fault.Invalidf("kind", "kind %q: want %s or %s", f.Kind, api.KindHost, api.KindAsset)
	}
	if f.Status != "" && !validStatus(f.Status) {
		return fault.Invalidf("status", "status %q: want one of %s, none", f.Status, strings.Join(catalog.Statuses, ", "))
	}
	if f.Cycle != "" && f.Product == "" {
		return fault.Invalidf("cycle", "cycle needs product")
	}
	if f.Product != "" {
		if p := s.svc.Catalog().Product(f.Product); p != nil {
			f.Product = p.ID // accept aliases
		}
	}
	var err error
	if f.Limit, err = limitParam(r, 0); err != nil {
		return err
	}
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			return fault.Invalidf("cursor", "cursor: not a cursor from a previous page")
		}
		f.After = string(b)
	}
	list, err := s.st.ListHosts(r.Context(), f)
	if err != nil {
		return err
	}
	if list.Next != "" {
		list.Next = base64.RawURLEncoding.EncodeToString([]byte(list.Next))
	}
	httpjson.Write(w, http.StatusOK, list)
	return nil
}

// handleHost shows one host (by id or hostname) with its verdicts and
// inventory; another customer's host is not found for a limited token.
func (s *Server) handleHost(w http.ResponseWriter, r *http.Request) error {
	d, err := s.st.HostDetail(r.Context(), scope(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	// Where a re-enrolment came from (an address on a customer's network,
	// an attacker's) is for the admins who approve it only.
	if !principal(r).May(auth.Admin) {
		for i := range d.Host.PendingEnrollments {
			d.Host.PendingEnrollments[i].From = ""
		}
	}
	httpjson.Write(w, http.StatusOK, d)
	return nil
}

// handleHostAction answers a host's pending re-enrolment (approve: its
// key becomes the host's; deny: it never works) or lifts a revocation
// (restore), by the last element of the path.
func (s *Server) handleHostAction(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	action := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	var err error
	var req api.EnrollmentAction
	switch action {
	case "approve", "deny":
		if err := httpjson.Decode(w, r, maxJSONBody, &req); err != nil {
			return err
		}
		if req.RequestID == "" {
			return fault.New(fault.Invalid, "request_id", "name the pending request to %s (request_id, listed by GET /api/v1/enrollments and in the host's pending_enrollments)", action)
		}
		if action == "approve" {
			err = s.st.ApproveEnrollment(r.Context(), id, req.RequestID)
		} else {
			err = s.st.DenyEnrollment(r.Context(), id, req.RequestID)
		}
	case "restore":
		err = s.st.RestoreHost(r.Context(), id)
	default:
		return fault.New(fault.NotFound, "", "no host action %q", action)
	}
	if err != nil {
		return err
	}
	s.log.Info("host "+action, "host_id", id, "request_id", req.RequestID, "by", "api")
	out := map[string]any{"host_id": id, "action": action}
	if req.RequestID != "" {
		out["request_id"] = req.RequestID
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

// handleEnrollments lists every pending re-enrolment request with its id,
// host, time and source address (admins only).
func (s *Server) handleEnrollments(w http.ResponseWriter, r *http.Request) error {
	list, err := s.st.PendingEnrollments(r.Context())
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, api.PendingEnrollmentList{Pending: append([]api.PendingEnrollment{}, list...)})
	return nil
}

// handleDeleteAsset deletes an asset (by id or name) with its inventory,
// verdicts and upload history; a host is refused (it is revoked instead).
func (s *Server) handleDeleteAsset(w http.ResponseWriter, r *http.Request) error {
	h, err := s.svc.DeleteAsset(r.Context(), r.PathValue("id")) // and prunes its software
	if err != nil {
		return err
	}
	s.log.Info("asset deleted", "asset_id", h.ID, "asset", h.Hostname, "token", principal(r).TokenID, "by", "api")
	httpjson.Write(w, http.StatusOK, map[string]any{"deleted": true, "id": h.ID, "name": h.Hostname, "kind": h.Kind})
	return nil
}

// handleRevokeHost invalidates a host's node key.
func (s *Server) handleRevokeHost(w http.ResponseWriter, r *http.Request) error {
	if err := s.st.RevokeHost(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	s.log.Info("host key revoked", "host_id", r.PathValue("id"))
	httpjson.Write(w, http.StatusOK, map[string]any{"revoked": true, "host_id": r.PathValue("id")})
	return nil
}

// handleProducts lists the products in the fleet with versions and host counts.
func (s *Server) handleProducts(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.st.Products(r.Context(), scope(r))
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"products": ps})
	return nil
}

// handleCompliance summarises the fleet per status, product and cycle.
func (s *Server) handleCompliance(w http.ResponseWriter, r *http.Request) error {
	c, err := s.st.Compliance(r.Context(), scope(r))
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, c)
	return nil
}

// handleUnmatched lists the inventory items no product matched, most hosts first.
func (s *Server) handleUnmatched(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r, 100)
	if err != nil {
		return err
	}
	items, err := s.st.Unmatched(r.Context(), scope(r), limit)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"unmatched": items})
	return nil
}

// csvSafe keeps a cell from being read as a formula by spreadsheets.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// handleComplianceCSV streams the installs that void support eligibility.
func (s *Server) handleComplianceCSV(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="eolwatch-noncompliant-`+s.svc.Today()+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"host_id", "hostname", "product", "version", "installed", "cycle", "status", "eol", "upgrade_to", "reason"})
	err := s.st.EachNonCompliant(r.Context(), scope(r), func(n store.NonCompliantInstall) error {
		return cw.Write([]string{n.HostID, csvSafe(n.Hostname), csvSafe(n.Product), csvSafe(n.Version), csvSafe(n.Installed),
			csvSafe(n.Cycle), n.Status, api.EOLText(n.EOL), csvSafe(n.UpgradeTo), csvSafe(n.Reason)})
	})
	cw.Flush()
	if err != nil {
		// Headers are gone: log it (the truncated CSV is the caller's signal).
		s.log.Error("csv export failed", "err", err)
	}
	return nil
}

// handleEligibility answers "is this install eligible for support?" for a
// bare product + version or for a product on a host.
func (s *Server) handleEligibility(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var e api.Eligibility
	var err error
	if a := q.Get("asset"); a != "" {
		if q.Get("host") != "" || q.Get("version") != "" {
			return fault.Invalidf("asset", "give one of version, host and asset")
		}
		e, err = s.svc.AssetEligibility(r.Context(), q.Get("product"), a)
	} else {
		e, err = s.svc.Eligibility(r.Context(), q.Get("product"), q.Get("version"), q.Get("host"))
	}
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, e)
	return nil
}

// handleCatalog describes the loaded catalog and the fleet's evaluation state.
func (s *Server) handleCatalog(w http.ResponseWriter, r *http.Request) error {
	st, err := s.st.FleetState(r.Context())
	if err != nil {
		return err
	}
	p := s.svc.Policy()
	ext := p.ExtendedSupport
	if ext == "" {
		ext = catalog.ExtendedFree
	}
	extFor := p.ExtendedSupportFor
	if extFor == nil {
		extFor = map[string]string{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{
		"catalog": s.svc.Catalog().Info(),
		"policy": map[string]any{"warn_days": p.WarnDays, "grace_days": p.GraceDays, "extended_support": ext,
			"extended_support_for": extFor},
		"fleet_catalog_version": st.CatalogVersion,
		"fleet_as_of":           st.AsOf,
	})
	return nil
}

// handlePublishRelease publishes a release into the catalog; the catalog
// service signals the change (the fleet is re-evaluated, subscribers told).
func (s *Server) handlePublishRelease(w http.ResponseWriter, r *http.Request) error {
	var rel api.Release
	if err := httpjson.Decode(w, r, maxJSONBody, &rel); err != nil {
		return err
	}
	if s.publish == nil {
		return fault.New(fault.Unavailable, "", "release publishing is not available in this server")
	}
	pub, err := s.publish(r.Context(), catalogsvc.Release{Product: rel.Product, Cycle: rel.Cycle, Version: rel.Version, Date: rel.Date,
		Link: rel.Link, AllowOlder: rel.AllowOlder, NewCycle: rel.NewCycle, By: "api:" + principal(r).Role})
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusCreated, map[string]any{"published": pub, "catalog_version": s.svc.CatalogVersion()})
	return nil
}

// handleHealthz says the process is alive.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// handleReadyz says the server can take traffic: database answering, catalog loaded.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	if err := s.st.Ping(r.Context()); err != nil {
		s.log.Warn("not ready", "err", err)
		httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		return nil
	}
	if !s.ready.Load() {
		httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		return nil
	}
	httpjson.Write(w, http.StatusOK, map[string]string{"status": "ready", "catalog_version": s.svc.CatalogVersion()})
	return nil
}
