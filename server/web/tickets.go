package web

import (
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
// ACCEPT or REFUSE in large type, when work starts, and why.
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
	switch {
	case q.Customer == "" && q.Host == "":
		v.FieldErr["customer"] = "Enter the customer (or a host instead)."
	case q.Customer != "" && q.Host != "":
		v.FieldErr["host"] = "Enter a customer or a host, not both."
	case q.Customer != "" && q.Version == "":
		v.FieldErr["version"] = "Enter the version the customer runs."
	case q.Host != "" && q.Version != "":
		v.FieldErr["version"] = "With a host, the version is the one it reported: leave this empty."
	}
	if q.Product == "" {
		v.FieldErr["product"] = "Enter the product, e.g. python."
	}
	if q.Severity == "" {
		v.FieldErr["severity"] = "Choose the ticket's severity."
	}
	for _, f := range []struct{ name, v string }{{"customer", q.Customer}, {"host", q.Host}, {"product", q.Product}, {"version", q.Version}, {"at", q.At}} {
		if len(f.v) > 200 {
			v.FieldErr[f.name] = "At most 200 characters."
		}
	}
	if len(v.FieldErr) > 0 {
		u.render(w, r, http.StatusBadRequest, "eligibility", vw)
		return
	}
	a, err := u.cfg.Checker.TicketCheck(r.Context(), q)
	switch fe, _ := fault.As(err); {
	case err == nil:
	case fault.Is(err, fault.Invalid) || fault.Is(err, fault.Conflict):
		field := fe.Field
		if field == "" {
			field = "customer"
		}
		v.FieldErr[field] = fe.Msg
		u.render(w, r, http.StatusBadRequest, "eligibility", vw)
		return
	case fault.Is(err, fault.NotFound):
		if q.Host != "" {
			v.FieldErr["host"] = "No host with that id or hostname runs " + q.Product + " (as of its last report), or none has reported."
		} else {
			v.FieldErr["customer"] = "No customer with that name or id."
		}
		u.render(w, r, http.StatusNotFound, "eligibility", vw)
		return
	default:
		u.fail(w, r, s, err)
		return
	}
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
	u.render(w, r, http.StatusOK, "eligibility", vw)
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
