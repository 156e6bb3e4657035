package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/contract"
)

// severityOption is one entry of the severity select.
type severityOption struct{ Value, Label string }

// severityOptions are the ticket severities, from the contract rules.
func severityOptions() []severityOption {
	out := []severityOption{{"", "Choose the ticket's severity"}}
	for _, s := range contract.Severities {
		out = append(out, severityOption{strconv.Itoa(s.Level), "Severity " + strconv.Itoa(s.Level) + " — " + s.Name + ": " + s.Means})
	}
	return out
}

// ticketView is the ticket check page.
type ticketView struct {
	Q          TicketQuery
	Severities []severityOption
	Customers  []string // names, for suggestions
	Asked      bool
	A          api.TicketCheck
	StartsNow  bool
	Starts     string // when work starts, for people: local time and UTC
	AskedAt    string // the ticket's moment, for people: local time and UTC
	TierLabel  string
	SevName    string
	FieldErr   map[string]string
}

// ticketCheck is the eligibility page turned ticket check: customer (with
// version) or host, product, severity and an optional time; the answer is
// ACCEPT or REFUSE in large type, when work starts, and why. The form is
// checked here first (every missing field named at once), then asked of
// the Checker, whose bad-input answers are shown at the field they name.
func (u *UI) ticketCheck(w http.ResponseWriter, r *http.Request, s *session) {
	qs := r.URL.Query()
	v := &ticketView{Q: TicketQuery{Customer: strings.TrimSpace(qs.Get("customer")), Host: strings.TrimSpace(qs.Get("host")),
		Product: strings.TrimSpace(qs.Get("product")), Version: strings.TrimSpace(qs.Get("version")),
		Severity: strings.TrimSpace(qs.Get("severity")), At: strings.TrimSpace(qs.Get("at"))},
		Severities: severityOptions(), FieldErr: map[string]string{}}
	vw := view{Title: "Ticket check", Nav: "eligibility", Session: s, Page: v}
	names, err := u.cfg.Checker.CustomerNames(r.Context())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	v.Customers = names
	q := v.Q
	if q == (TicketQuery{}) {
		u.render(w, r, http.StatusOK, "eligibility", vw)
		return
	}
	if v.FieldErr = ticketFormErrors(q); len(v.FieldErr) > 0 {
		u.render(w, r, http.StatusBadRequest, "eligibility", vw)
		return
	}
	a, err := u.cfg.Checker.TicketCheck(r.Context(), q)
	if err != nil {
		code, field, msg := ticketFault(q, err)
		if code == 0 {
			u.fail(w, r, s, err)
			return
		}
		v.FieldErr[field] = msg
		u.render(w, r, code, "eligibility", vw)
		return
	}
	v.show(a)
	u.render(w, r, http.StatusOK, "eligibility", vw)
}

// ticketFormErrors says, by field, what the ticket form lacks: a customer
// with its version or a host without one, the product, the severity;
// none too long.
func ticketFormErrors(q TicketQuery) map[string]string {
	errs := map[string]string{}
	switch {
	case q.Customer == "" && q.Host == "":
		errs["customer"] = "Enter the customer (or a host instead)."
	case q.Customer != "" && q.Host != "":
		errs["host"] = "Enter a customer or a host, not both."
	case q.Customer != "" && q.Version == "":
		errs["version"] = "Enter the version the customer runs."
	case q.Host != "" && q.Version != "":
		errs["version"] = "With a host, the version is the one it reported: leave this empty."
	}
	if q.Product == "" {
		errs["product"] = "Enter the product, e.g. python."
	}
	if q.Severity == "" {
		errs["severity"] = "Choose the ticket's severity."
	}
	for _, f := range []struct{ name, v string }{{"customer", q.Customer}, {"host", q.Host}, {"product", q.Product}, {"version", q.Version}, {"at", q.At}} {
		if max := fieldLimits["ticket."+f.name]; len(f.v) > max {
			errs[f.name] = fmt.Sprintf("%s is %d bytes long, at most %d.", f.name, len(f.v), max)
		}
	}
	return errs
}

// ticketFault turns the Checker's refusal of q into the status, field and
// message the form shows; code 0 for a failure that is not the asker's.
func ticketFault(q TicketQuery, err error) (code int, field, msg string) {
	fe, _ := fault.As(err)
	switch {
	case fault.Is(err, fault.Invalid) || fault.Is(err, fault.Conflict):
		field = fe.Field
		if field == "" {
			field = "customer"
		}
		return http.StatusBadRequest, field, fe.Msg
	case fault.Is(err, fault.NotFound):
		if q.Host != "" {
			return http.StatusNotFound, "host", "No host with that id or hostname runs " + q.Product + " (as of its last report), or none has reported."
		}
		return http.StatusNotFound, "customer", "No customer with that name or id."
	}
	return 0, "", ""
}

// show puts the Checker's answer on the page: when work starts and when
// the question was asked (in the customer's zone and in UTC), the tier and
// the severity by name.
func (v *ticketView) show(a api.TicketCheck) {
	v.Asked, v.A = true, a
	v.StartsNow = a.WorkStarts.Equal(a.At)
	zone := "UTC"
	if a.Customer != nil {
		zone = a.Customer.Timezone
		if t := contract.Tiers.Tier(a.Customer.Tier); t != nil {
			v.TierLabel = t.Label
		}
	}
	v.Starts = localAndUTC(a.WorkStarts, zone)
	v.AskedAt = localAndUTC(a.At, zone)
	if a.Severity >= 1 && a.Severity <= len(contract.Severities) {
		v.SevName = contract.Severities[a.Severity-1].Name
	}
}

// localAndUTC says t in a zone and in UTC: "Monday 2025-12-15 09:00
// Europe/Berlin (08:00 UTC)".
func localAndUTC(t time.Time, zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "UTC" {
		return t.UTC().Format("Monday 2006-01-02 15:04 UTC")
	}
	l := t.In(loc)
	utc := t.UTC().Format("15:04 UTC")
	if l.Format(time.DateOnly) != t.UTC().Format(time.DateOnly) { // another day in UTC: say which
		utc = t.UTC().Format("2006-01-02 15:04 UTC")
	}
	return l.Format("Monday 2006-01-02 15:04") + " " + zone + " (" + utc + ")"
}
