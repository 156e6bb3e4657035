package server

import (
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/store"
)

// storeError answers a store failure: 404 for a missing row, 409 for an
// ambiguous hostname, 400 for invalid input, else 500.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.writeError(w, r, http.StatusNotFound, err, "")
	case errors.Is(err, store.ErrAmbiguous):
		s.writeError(w, r, http.StatusConflict, err, "host")
	case errors.Is(err, store.ErrInvalid):
		s.writeError(w, r, http.StatusBadRequest, err, "")
	default:
		s.writeError(w, r, http.StatusInternalServerError, err, "")
	}
}

func validStatus(st string) bool {
	return st == store.StatusNone || catalog.StatusRank(st) < len(catalog.Statuses)
}

// handleHosts lists hosts, filtered by status, product and cycle, a page at a time.
func (s *Server) handleHosts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.HostFilter{Status: q.Get("status"), Product: q.Get("product"), Cycle: q.Get("cycle")}
	if f.Status != "" && !validStatus(f.Status) {
		s.writeError(w, r, http.StatusBadRequest, fmt.Errorf("status %q: want one of %s, none", f.Status, strings.Join(catalog.Statuses, ", ")), "status")
		return
	}
	if f.Cycle != "" && f.Product == "" {
		s.writeError(w, r, http.StatusBadRequest, errors.New("cycle needs product"), "cycle")
		return
	}
	if f.Product != "" {
		if p := s.engine().cat.Product(f.Product); p != nil {
			f.Product = p.ID // accept aliases
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, http.StatusBadRequest, fmt.Errorf("limit %q: want 1 to 1000", l), "limit")
			return
		}
		f.Limit = n
	}
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			s.writeError(w, r, http.StatusBadRequest, errors.New("cursor: not a cursor from a previous page"), "cursor")
			return
		}
		f.After = string(b)
	}
	list, err := s.st.ListHosts(r.Context(), f)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if list.Next != "" {
		list.Next = base64.RawURLEncoding.EncodeToString([]byte(list.Next))
	}
	writeJSON(w, http.StatusOK, list)
}

// handleHost shows one host (by id or hostname) with its verdicts and inventory.
func (s *Server) handleHost(w http.ResponseWriter, r *http.Request) {
	d, err := s.st.HostDetail(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// handleRevokeHost invalidates a host's node key.
func (s *Server) handleRevokeHost(w http.ResponseWriter, r *http.Request) {
	if err := s.st.RevokeHost(r.Context(), r.PathValue("id")); err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("host key revoked", "host_id", r.PathValue("id"))
	writeJSON(w, http.StatusOK, map[string]any{"revoked": true, "host_id": r.PathValue("id")})
}

// handleProducts lists the products in the fleet with versions and host counts.
func (s *Server) handleProducts(w http.ResponseWriter, r *http.Request) {
	ps, err := s.st.Products(r.Context())
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"products": ps})
}

// handleCompliance summarises the fleet per status, product and cycle.
func (s *Server) handleCompliance(w http.ResponseWriter, r *http.Request) {
	c, err := s.st.Compliance(r.Context())
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// handleUnmatched lists the inventory items no product matched, most hosts first.
func (s *Server) handleUnmatched(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, http.StatusBadRequest, fmt.Errorf("limit %q: want 1 to 1000", l), "limit")
			return
		}
		limit = n
	}
	items, err := s.st.Unmatched(r.Context(), limit)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"unmatched": items})
}

// csvSafe keeps a cell from being read as a formula by spreadsheets.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func eolString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// handleComplianceCSV streams the installs that void support eligibility.
func (s *Server) handleComplianceCSV(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="eolwatch-noncompliant-`+s.today()+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"host_id", "hostname", "product", "version", "installed", "cycle", "status", "eol", "upgrade_to", "reason"})
	err := s.st.EachNonCompliant(r.Context(), func(n store.NonCompliantInstall) error {
		return cw.Write([]string{n.HostID, csvSafe(n.Hostname), csvSafe(n.Product), csvSafe(n.Version), csvSafe(n.Installed),
			csvSafe(n.Cycle), n.Status, eolString(n.EOL), csvSafe(n.UpgradeTo), csvSafe(n.Reason)})
	})
	cw.Flush()
	if err != nil {
		// Headers are gone: log it (the truncated CSV is the caller's signal).
		s.log.Error("csv export failed", "err", err)
	}
}

// handleEligibility answers "is this install eligible for support?" for a
// bare product + version or for a product on a host.
func (s *Server) handleEligibility(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	e, err := s.checkEligibility(r.Context(), q.Get("product"), q.Get("version"), q.Get("host"))
	if err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			s.writeError(w, r, fe.code, fe, fe.field)
			return
		}
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// handleCatalog describes the loaded catalog and the fleet's evaluation state.
func (s *Server) handleCatalog(w http.ResponseWriter, r *http.Request) {
	e := s.engine()
	st, err := s.st.FleetState(r.Context())
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"catalog":               e.cat.Info(),
		"policy":                map[string]int{"warn_days": e.policy.WarnDays, "grace_days": e.policy.GraceDays},
		"fleet_catalog_version": st.CatalogVersion,
		"fleet_as_of":           st.AsOf,
	})
}

// handlePublishRelease publishes a release into the catalog; the fleet is
// re-evaluated and subscribers are told.
func (s *Server) handlePublishRelease(w http.ResponseWriter, r *http.Request) {
	body, done, err := readBody(w, r, maxJSONBody, false)
	if err != nil {
		s.writeBodyError(w, r, err)
		return
	}
	defer done()
	var rel api.Release
	if err := decodeJSON(body, &rel); err != nil {
		s.writeBodyError(w, r, err)
		return
	}
	if s.publish == nil {
		s.writeError(w, r, http.StatusServiceUnavailable, errors.New("release publishing is not available in this server"), "")
		return
	}
	role, _ := r.Context().Value(ctxRole).(string)
	pub, err := s.publish(r.Context(), catalogsvc.Release{Product: rel.Product, Cycle: rel.Cycle, Version: rel.Version, Date: rel.Date,
		Link: rel.Link, AllowOlder: rel.AllowOlder, NewCycle: rel.NewCycle, By: "api:" + role})
	var fe *catalogsvc.FieldError
	switch {
	case errors.As(err, &fe):
		s.writeError(w, r, http.StatusBadRequest, fe, fe.Field)
		return
	case errors.Is(err, catalogsvc.ErrConflict):
		s.writeError(w, r, http.StatusConflict, err, "version")
		return
	case err != nil:
		s.writeError(w, r, http.StatusInternalServerError, err, "")
		return
	}
	s.engine() // picks up the new catalog and schedules the re-evaluation
	s.kickReEval()
	if s.notifier != nil {
		s.notifier.Kick()
	}
	writeJSON(w, http.StatusCreated, map[string]any{"published": pub, "catalog_version": s.engine().version})
}

// handleHealthz says the process is alive.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz says the server can take traffic: database answering, catalog loaded.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if err := s.st.Ping(r.Context()); err != nil {
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		return
	}
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "catalog_version": s.engine().version})
}
