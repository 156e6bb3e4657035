package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/httpjson"
	"github.com/eolwatch/eolwatch/internal/intake"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/service"
	"github.com/eolwatch/eolwatch/server/store"
)

// handleEnroll exchanges the enroll secret for a per-host node key.
func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) error {
	var req api.EnrollRequest
	if err := httpjson.Decode(w, r, maxJSONBody, &req); err != nil {
		return err
	}
	ip := s.proxies.clientIP(r)
	// The secret is judged first: a correct one is never refused because
	// others guessed wrong from the same address (a proxy, a NAT).
	customer := ""
	if !s.checkEnrollSecret(req.EnrollSecret) {
		// The server-wide secret enrolls a host of no customer; a
		// customer's own secret enrolls a host of that customer.
		id, err := s.st.CustomerByEnrollSecret(r.Context(), req.EnrollSecret)
		switch {
		case errors.Is(err, store.ErrUnauthorized):
			if !s.enrollSet && !store.IsEnrollSecret(req.EnrollSecret) {
				return fault.New(fault.Forbidden, "", "enrollment is disabled: the server has no enroll secret (--enroll-secret) and this is no customer's enroll secret")
			}
			blocked, err := s.enrollFails.Exceeded(r.Context(), ip)
			if err != nil {
				return err
			}
			if blocked {
				w.Header().Set("Retry-After", "600")
				return fault.New(fault.TooMany, "", "too many failed enrollments from this address; try again later")
			}
			if _, err := s.enrollFails.Allow(r.Context(), ip); err != nil {
				return err
			}
			s.metrics.enrollFailures.Inc()
			return fault.New(fault.Unauthorized, "enroll_secret", "wrong enroll secret")
		case err != nil:
			return err
		}
		customer = id
	}
	if err := service.CheckHostInfo("host", req.Host); err != nil {
		return err
	}
	res, err := s.st.EnrollHost(r.Context(), store.EnrollInput{Host: req.Host, Customer: customer, PreviousKey: req.NodeKey, From: ip})
	if err != nil {
		if errors.Is(err, store.ErrHostRevoked) {
			s.log.Warn("enrolment of a revoked host refused", "install_id", req.Host.InstallID, "remote", ip)
		}
		return err
	}
	if res.Pending {
		s.log.Warn("re-enrolment without the host's key: awaiting an admin's approval", "request_id", res.RequestID,
			"install_id", req.Host.InstallID, "hostname", req.Host.Hostname, "remote", ip, "customer", customer)
		httpjson.Write(w, http.StatusAccepted, api.EnrollResponse{NodeKey: res.NodeKey, Status: api.EnrollPending, RequestID: res.RequestID})
		return nil
	}
	s.log.Info("host enrolled", "host_id", res.HostID, "hostname", req.Host.Hostname, "customer", customer)
	httpjson.Write(w, http.StatusOK, api.EnrollResponse{HostID: res.HostID, NodeKey: res.NodeKey, Status: api.EnrollEnrolled})
	return nil
}

// handleReport ingests an agent's report: the inventory diff, verdicts and
// fleet events are stored in one transaction before the answer is sent, so
// an acknowledged report survives a crash.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	host := r.Context().Value(ctxHost).(store.HostRef)
	body, err := intake.Open(w, r, intake.Limits{Bytes: api.MaxReportBytes, Gzip: true}, s.reportBudget)
	if err != nil {
		s.metrics.reports.WithLabelValues("unknown", "rejected").Inc()
		return err
	}
	defer body.Close() // the budget comes back once the report is stored
	rep, err := service.DecodeReport(body, service.DecodeOptions{
		CheckHost: func(h api.HostInfo) error { return service.SameHost(host, h) },
		Charge:    body.Charge,
	})
	if err != nil {
		if errors.Is(err, intake.ErrBusy) {
			w.Header().Set("Retry-After", "30")
			s.metrics.reports.WithLabelValues("unknown", "busy").Inc()
			return err
		}
		s.metrics.reports.WithLabelValues("unknown", "rejected").Inc()
		return err
	}
	res, err := s.svc.Ingest(r.Context(), host, rep)
	if err != nil {
		result := "error"
		if fault.CodeOf(err) != "" {
			result = "rejected"
		}
		s.metrics.reports.WithLabelValues(rep.Kind, result).Inc()
		return err
	}
	if res.Duplicate {
		s.metrics.reports.WithLabelValues(rep.Kind, "duplicate").Inc()
	} else {
		s.metrics.reports.WithLabelValues(rep.Kind, "applied").Inc()
		s.metrics.ingestSeconds.WithLabelValues(rep.Kind).Observe(time.Since(start).Seconds())
	}
	httpjson.Write(w, http.StatusOK, api.ReportResponse{Accepted: true, Duplicate: res.Duplicate, NeedFull: res.NeedFull, HostID: host.UID})
	return nil
}
