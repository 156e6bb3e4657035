package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// Field limits of agent requests.
const (
	maxIDLen   = 128
	maxNameLen = 1024
)

// handleEnroll exchanges the enroll secret for a per-host node key.
func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	body, done, err := readBody(w, r, maxJSONBody, false)
	if err != nil {
		s.writeBodyError(w, r, err)
		return
	}
	defer done()
	var req api.EnrollRequest
	if err := decodeJSON(body, &req); err != nil {
		s.writeBodyError(w, r, err)
		return
	}
	if !s.enrollSet {
		s.writeError(w, r, http.StatusForbidden, errors.New("enrollment is disabled: the server has no enroll secret (--enroll-secret)"), "")
		return
	}
	ip := clientIP(r.RemoteAddr)
	if s.enrollFails.blocked(ip) {
		w.Header().Set("Retry-After", "600")
		s.writeError(w, r, http.StatusTooManyRequests, errors.New("too many failed enrollments from this address; try again later"), "")
		return
	}
	if !s.checkEnrollSecret(req.EnrollSecret) {
		s.enrollFails.fail(ip)
		s.metrics.enrollFailures.Inc()
		s.writeError(w, r, http.StatusUnauthorized, errors.New("wrong enroll secret"), "enroll_secret")
		return
	}
	if err := checkHostInfo("host", req.Host); err != nil {
		s.writeBodyError(w, r, err)
		return
	}
	id, key, err := s.st.Enroll(r.Context(), req.Host)
	if err != nil {
		s.writeError(w, r, http.StatusInternalServerError, err, "")
		return
	}
	s.log.Info("host enrolled", "host_id", id, "hostname", req.Host.Hostname)
	writeJSON(w, http.StatusOK, api.EnrollResponse{HostID: id, NodeKey: key})
}

// checkHostInfo validates the host block of an enrollment or report.
func checkHostInfo(prefix string, h api.HostInfo) error {
	checks := []struct {
		field, v string
		max      int
		required bool
	}{
		{"install_id", h.InstallID, maxIDLen, true},
		{"hostname", h.Hostname, 255, true},
		{"machine_id", h.MachineID, maxIDLen, false},
		{"hardware_uuid", h.HardwareUUID, maxIDLen, false},
		{"os", h.OS, 64, false},
		{"arch", h.Arch, 64, false},
		{"os_name", h.OSName, 256, false},
		{"os_id", h.OSID, 64, false},
		{"os_version", h.OSVersion, 64, false},
		{"os_build", h.OSBuild, 64, false},
		{"kernel", h.Kernel, 256, false},
		{"agent_version", h.AgentVersion, 64, false},
	}
	for _, c := range checks {
		if err := checkText(prefix+"."+c.field, c.v, c.max, c.required); err != nil {
			return err
		}
	}
	if len(h.ExtendedSupport) > maxExtendedSupport {
		return &bodyError{http.StatusBadRequest, prefix + ".extended_support",
			fmt.Errorf("%d programmes: at most %d", len(h.ExtendedSupport), maxExtendedSupport)}
	}
	for i, p := range h.ExtendedSupport {
		if err := checkText(fmt.Sprintf("%s.extended_support[%d]", prefix, i), p, 64, true); err != nil {
			return err
		}
	}
	return nil
}

// maxExtendedSupport bounds HostInfo.ExtendedSupport.
const maxExtendedSupport = 32

// checkReport validates a decoded report.
func checkReport(rep *api.Report) error {
	if err := checkText("report_id", rep.ReportID, maxIDLen, true); err != nil {
		return err
	}
	if rep.Kind != api.ReportFull && rep.Kind != api.ReportCheckin {
		return &bodyError{http.StatusBadRequest, "kind", fmt.Errorf("kind %q: want %q or %q", rep.Kind, api.ReportFull, api.ReportCheckin)}
	}
	if err := checkHostInfo("host", rep.Host); err != nil {
		return err
	}
	if err := checkText("inventory_hash", rep.InventoryHash, 256, false); err != nil {
		return err
	}
	if len(rep.Items) > api.MaxItems {
		return &bodyError{http.StatusRequestEntityTooLarge, "items", fmt.Errorf("%d items: at most %d per report", len(rep.Items), api.MaxItems)}
	}
	if rep.Kind == api.ReportCheckin && len(rep.Items) > 0 {
		return &bodyError{http.StatusBadRequest, "items", errors.New("a check-in carries no items: send kind \"full\"")}
	}
	for i := range rep.Items {
		it := &rep.Items[i]
		p := fmt.Sprintf("items[%d].", i)
		for _, c := range []struct {
			f, v     string
			required bool
		}{
			{"source", it.Source, true}, {"name", it.Name, true}, {"version", it.Version, false}, {"arch", it.Arch, false},
			{"source_pkg", it.SourcePkg, false}, {"publisher", it.Publisher, false}, {"bundle_id", it.BundleID, false},
			{"product", it.Product, false}, {"origin", it.Origin, false}, {"suite", it.Suite, false},
			{"candidate", it.Candidate, false}, {"candidate_suite", it.CandidateSuite, false},
		} {
			if err := checkText(p+c.f, c.v, maxNameLen, c.required); err != nil {
				return err
			}
		}
	}
	if len(rep.Errors) > 1000 {
		rep.Errors = rep.Errors[:1000]
	}
	for i := range rep.Errors {
		rep.Errors[i].Collector = cleanText(rep.Errors[i].Collector, 128)
		rep.Errors[i].Error = cleanText(rep.Errors[i].Error, 2048)
	}
	return nil
}

// handleReport ingests an agent's report: the inventory diff, verdicts and
// fleet events are stored in one transaction before the answer is sent, so
// an acknowledged report survives a crash.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	host := r.Context().Value(ctxHost).(store.HostRef)
	body, done, err := readBody(w, r, api.MaxReportBytes, true)
	if err != nil {
		s.metrics.reports.WithLabelValues("unknown", "rejected").Inc()
		s.writeBodyError(w, r, err)
		return
	}
	defer done()
	var rep api.Report
	if err := decodeJSON(body, &rep); err != nil {
		s.metrics.reports.WithLabelValues("unknown", "rejected").Inc()
		s.writeBodyError(w, r, err)
		return
	}
	if err := checkReport(&rep); err != nil {
		s.metrics.reports.WithLabelValues("unknown", "rejected").Inc()
		s.writeBodyError(w, r, err)
		return
	}
	if rep.Host.InstallID != host.InstallID {
		s.metrics.reports.WithLabelValues(rep.Kind, "rejected").Inc()
		s.writeError(w, r, http.StatusForbidden, fmt.Errorf("host.install_id %q is not the host this node key was issued to", rep.Host.InstallID), "host.install_id")
		return
	}
	in := store.ReportInput{Host: host, Report: rep}
	if rep.Kind == api.ReportFull {
		seen, err := s.st.ReportSeen(r.Context(), host.ID, rep.ReportID)
		if err != nil {
			s.writeError(w, r, http.StatusInternalServerError, err, "")
			return
		}
		if seen { // a repeat: acknowledge without matching anything
			s.metrics.reports.WithLabelValues(rep.Kind, "duplicate").Inc()
			writeJSON(w, http.StatusOK, api.ReportResponse{Accepted: true, Duplicate: true, HostID: host.UID})
			return
		}
		e := s.engine()
		in.AsOf = s.today()
		in.CatalogVersion = e.version
		in.Items, in.Verdicts = e.prepare(&rep, in.AsOf)
	}
	res, err := s.st.ApplyReport(r.Context(), in) // re-checks the report id in its transaction
	if err != nil {
		s.metrics.reports.WithLabelValues(rep.Kind, "error").Inc()
		s.writeError(w, r, http.StatusInternalServerError, err, "")
		return
	}
	result := "applied"
	if res.Duplicate {
		result = "duplicate"
	}
	s.metrics.reports.WithLabelValues(rep.Kind, result).Inc()
	s.metrics.ingestSeconds.WithLabelValues(rep.Kind).Observe(time.Since(start).Seconds())
	if res.Changes > 0 && s.notifier != nil {
		s.notifier.Kick()
	}
	s.log.Debug("report", "host_id", host.UID, "report_id", rep.ReportID, "kind", rep.Kind, "items", len(rep.Items),
		"added", res.Added, "removed", res.Removed, "changes", res.Changes, "duplicate", res.Duplicate)
	writeJSON(w, http.StatusOK, api.ReportResponse{Accepted: true, Duplicate: res.Duplicate, NeedFull: res.NeedFull, HostID: host.UID})
}
