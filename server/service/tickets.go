package service

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/contract"
)

// TicketQuery is a ticket check as asked (GET /api/v1/tickets/check, the
// dashboard, the command line): Customer with Product and Version, or
// Host with Product; Severity 1 to 4; At an RFC 3339 time ("" for now).
type TicketQuery struct {
	Customer, Host, Product, Version string
	Severity                         string
	At                               string
}

// ParseSeverity reads a ticket severity, 1 (urgent) to 4 (low impact).
func ParseSeverity(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > len(contract.Severities) {
		var opts []string
		for _, s := range contract.Severities {
			opts = append(opts, fmt.Sprintf("%d (%s)", s.Level, strings.ToLower(s.Name)))
		}
		return 0, fault.Invalidf("severity", "severity %q: want %s or %s", v, strings.Join(opts[:len(opts)-1], ", "), opts[len(opts)-1])
	}
	return n, nil
}

// ParseAt reads the moment of a ticket: RFC 3339 (at most api.MaxAtLen
// bytes), or now when empty.
func ParseAt(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return now, nil
	}
	if err := CheckText("at", v, api.MaxAtLen, false); err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fault.Invalidf("at", "at %q: want an RFC 3339 time such as 2025-03-10T14:30:00Z or 2025-03-10T15:30:00+01:00", v)
	}
	return t, nil
}

// TicketCheck decides whether support takes a ticket: the customer's
// contract (given, or the customer the host enrolled for) on the ticket's
// day and severity, and the version's eligibility on that day. Bad input is
// a fault.Invalid error naming the field; an unknown customer or host, or a
// product not installed on the host, wraps store.ErrNotFound. A host that
// belongs to no customer is an answer (refused), not an error.
func (s *Service) TicketCheck(ctx context.Context, q TicketQuery) (api.TicketCheck, error) {
	if _, err := s.customers(); err != nil {
		return api.TicketCheck{}, err
	}
	sev, err := ParseSeverity(q.Severity)
	if err != nil {
		return api.TicketCheck{}, err
	}
	at, err := ParseAt(q.At, s.cfg.Now())
	if err != nil {
		return api.TicketCheck{}, err
	}
	at = at.UTC().Truncate(time.Second)
	if err := checkProduct(q.Product); err != nil {
		return api.TicketCheck{}, err
	}
	switch {
	case q.Customer != "" && q.Host != "":
		return api.TicketCheck{}, fault.Invalidf("host", "give either customer (with version) or host, not both")
	case q.Customer == "" && q.Host == "":
		return api.TicketCheck{}, fault.Invalidf("customer", "give customer (with product and version) or host (with product)")
	case q.Host != "" && q.Version != "":
		return api.TicketCheck{}, fault.Invalidf("version", "with host, the version is the one the host reported: leave version out")
	case q.Customer != "" && q.Version == "":
		return api.TicketCheck{}, fault.Invalidf("version", "version is required with customer (the version the customer runs)")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"customer", q.Customer, api.MaxCustomerLen}, {"host", q.Host, api.MaxHostLen}, {"version", q.Version, api.MaxVersionLen}} {
		if err := CheckText(f.name, f.v, f.max, false); err != nil {
			return api.TicketCheck{}, err
		}
	}
	var cust api.Customer
	if q.Customer != "" {
		if cust, err = s.Customer(ctx, q.Customer); err != nil {
			return api.TicketCheck{}, err
		}
	} else {
		if s.st == nil {
			return api.TicketCheck{}, fault.New(fault.Unavailable, "host", "host %q: no fleet database to look it up in", q.Host)
		}
		h, _, err := s.st.FindHost(ctx, q.Host)
		if err != nil {
			return api.TicketCheck{}, err
		}
		if h.CustomerID == "" {
			return s.noCustomer(ctx, h, q.Product, sev, at)
		}
		if cust, err = s.Customer(ctx, h.CustomerID); err != nil {
			return api.TicketCheck{}, err
		}
	}
	k, err := contract.New(cust.CustomerSpec, contract.Tiers)
	if err != nil {
		return api.TicketCheck{}, fmt.Errorf("customer %s: stored contract is invalid: %w", cust.ID, err)
	}
	day := k.Today(at).String()
	el, _, err := s.judge(ctx, q.Product, q.Version, q.Host, day)
	if err != nil {
		return api.TicketCheck{}, err
	}
	d := k.Decide(contract.Ticket{Severity: sev, At: at, Eligibility: el})
	cust.Contract = &d.State
	return api.TicketCheck{Accept: d.Accept, PhoneNow: d.PhoneNow, WorkStarts: d.WorkStarts, Route: d.Route, Customer: &cust,
		Reasons: d.Reasons, Eligibility: el, Severity: sev, At: at}, nil
}

// noCustomer answers for a host of no customer (enrolled with the
// server-wide secret, or detached) or an asset uploaded without one: no
// contract covers it, so the ticket is refused.
func (s *Service) noCustomer(ctx context.Context, h api.Host, product string, sev int, at time.Time) (api.TicketCheck, error) {
	el, _, err := s.judge(ctx, product, "", h.ID, at.Format(time.DateOnly))
	if err != nil {
		return api.TicketCheck{}, err
	}
	why := fmt.Sprintf("Host %s (%s) belongs to no customer (it enrolled with the server-wide enroll secret, or its customer was deleted), so no contract covers it: enroll it with the customer's own secret, or check by customer, product and version.", h.Hostname, h.ID)
	if h.Kind == api.KindAsset {
		why = fmt.Sprintf("Asset %s (%s) was uploaded without a customer, so it belongs to no customer and no contract covers it: upload its SBOM again naming the customer (POST /api/v1/sboms?customer=...), or check by customer, product and version.", h.Hostname, h.ID)
	}
	return api.TicketCheck{Accept: false, WorkStarts: at, Route: api.RouteVendor, Severity: sev, At: at, Eligibility: el,
		Reasons: []string{
			why,
			contract.VersionReason(el),
			"The ticket is refused: no work starts and no phone callback is offered until the reasons above are resolved.",
		}}, nil
}
