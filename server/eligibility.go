package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// fieldError is bad input naming the field at fault.
type fieldError struct {
	code  int
	field string
	msg   string
}

func (e *fieldError) Error() string { return e.msg }

func badField(field, format string, args ...any) error {
	return &fieldError{code: http.StatusBadRequest, field: field, msg: fmt.Sprintf(format, args...)}
}

// checkEligibility answers the support question. With version it judges a
// bare product + version (a version read out on the phone); with host (an id
// or a hostname) it judges the product's installs on that host, live against
// the current catalog and today's date. Exactly one of version and host is given.
func (s *Server) checkEligibility(ctx context.Context, product, version, host string) (api.Eligibility, error) {
	if err := checkText("product", product, 128, true); err != nil {
		return api.Eligibility{}, badField("product", "product is required (a catalog product id such as python or debian)")
	}
	switch {
	case version != "" && host != "":
		return api.Eligibility{}, badField("host", "give either version or host, not both")
	case version == "" && host == "":
		return api.Eligibility{}, badField("version", "give version (product+version) or host (product on a host)")
	}
	e := s.engine()
	day := s.today()
	if version != "" {
		if err := checkText("version", version, 256, true); err != nil {
			return api.Eligibility{}, badField("version", "%v", err)
		}
		return eligibility(e.cat.Evaluate(product, version, mustDay(day), e.policy), day), nil
	}
	if err := checkText("host", host, 255, true); err != nil {
		return api.Eligibility{}, badField("host", "%v", err)
	}
	h, hostID, err := s.st.FindHost(ctx, host)
	if err != nil {
		return api.Eligibility{}, err
	}
	id := product
	if p := e.cat.Product(product); p != nil {
		id = p.ID
	}
	installs, err := s.st.HostInstalls(ctx, hostID, id)
	if err != nil {
		return api.Eligibility{}, err
	}
	if len(installs) == 0 {
		return api.Eligibility{}, fmt.Errorf("product %q is not installed on host %s (%s) as of its last report: %w", product, h.Hostname, h.ID, store.ErrNotFound)
	}
	var all []api.Eligibility
	worst := -1
	for _, in := range installs {
		v := e.evaluate(id, in.Version, day)
		el := eligibility(v, day)
		el.Host, el.HostID, el.Installed, el.LastReportAt = h.Hostname, h.ID, in.Installed, h.LastReportAt
		all = append(all, el)
		if worst < 0 || worse(el, all[worst]) {
			worst = len(all) - 1
		}
	}
	out := all[worst]
	if len(all) > 1 {
		out.Installs = all
		out.Eligible = true
		for _, a := range all {
			out.Eligible = out.Eligible && a.Eligible
		}
	}
	return out, nil
}

// worse orders answers: not eligible first, then by status rank.
func worse(a, b api.Eligibility) bool {
	if a.Eligible != b.Eligible {
		return !a.Eligible
	}
	return catalog.StatusRank(a.Status) < catalog.StatusRank(b.Status)
}

// mustDay parses a YYYY-MM-DD day produced by Server.today.
func mustDay(d string) time.Time {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		panic(errors.New("bad day " + d))
	}
	return t
}
