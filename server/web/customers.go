package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/contract"
)

// customerForm is the create and edit form: every field as typed.
type customerForm struct {
	Name, Tier, ContractStart, ContractEnd, NoticeGiven, SoldBy, Timezone, Open, Close string
	AutoRenew                                                                          bool
	Days                                                                               []string
	Holidays, Contacts                                                                 string // one per line
	Rotate                                                                             bool
}

// formOf fills the form from a stored customer.
func formOf(c api.Customer) customerForm {
	f := customerForm{Name: c.Name, Tier: c.Tier, ContractStart: c.ContractStart, ContractEnd: c.ContractEnd, NoticeGiven: c.NoticeGiven,
		SoldBy: c.SoldBy, Timezone: c.Timezone, AutoRenew: c.AutoRenew, Holidays: strings.Join(c.Holidays, "\n"),
		Contacts: strings.Join(c.Contacts, "\n")}
	if h := c.BusinessHours; h != nil {
		f.Days, f.Open, f.Close = h.Days, h.Open, h.Close
	}
	return f
}

// readForm reads the posted form.
func readForm(v url.Values) customerForm {
	t := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return customerForm{Name: t("name"), Tier: t("tier"), ContractStart: t("contract_start"), ContractEnd: t("contract_end"),
		NoticeGiven: t("notice_given"), SoldBy: t("sold_by"), Timezone: t("timezone"), Open: t("open"), Close: t("close"),
		AutoRenew: v.Get("auto_renew") == "on", Days: v["days"], Holidays: v.Get("holidays"), Contacts: v.Get("contacts"),
		Rotate: v.Get("rotate") == "on"}
}

// list splits a textarea into its entries (lines, commas or spaces).
func list(s string) []string {
	out := []string{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == '\t' || r == ';' }) {
		out = append(out, f)
	}
	return out
}

// spec is the customer the form describes.
func (f customerForm) spec() api.CustomerSpec {
	return api.CustomerSpec{Name: f.Name, Tier: f.Tier, ContractStart: f.ContractStart, ContractEnd: f.ContractEnd, AutoRenew: f.AutoRenew,
		NoticeGiven: f.NoticeGiven, SoldBy: f.SoldBy, Timezone: f.Timezone, Holidays: list(f.Holidays), Contacts: list(f.Contacts),
		BusinessHours: &api.BusinessHours{Days: f.Days, Open: f.Open, Close: f.Close}}
}

// patch is what the edit form changes on old: only the fields that differ,
// so turning auto-renew off gives notice today unless a day is typed.
func (f customerForm) patch(old api.Customer) api.CustomerPatch {
	n := f.spec()
	var p api.CustomerPatch
	str := func(dst **string, was, now string) {
		if was != now {
			*dst = &now
		}
	}
	str(&p.Name, old.Name, n.Name)
	str(&p.Tier, old.Tier, n.Tier)
	str(&p.ContractStart, old.ContractStart, n.ContractStart)
	str(&p.ContractEnd, old.ContractEnd, n.ContractEnd)
	str(&p.NoticeGiven, old.NoticeGiven, n.NoticeGiven)
	str(&p.SoldBy, old.SoldBy, n.SoldBy)
	str(&p.Timezone, old.Timezone, n.Timezone)
	if old.AutoRenew != n.AutoRenew {
		p.AutoRenew = &n.AutoRenew
	}
	if oh := old.BusinessHours; oh == nil || !slices.Equal(oh.Days, n.BusinessHours.Days) || oh.Open != n.BusinessHours.Open || oh.Close != n.BusinessHours.Close {
		p.BusinessHours = n.BusinessHours
	}
	if !slices.Equal(old.Holidays, n.Holidays) {
		p.Holidays = &n.Holidays
	}
	if !slices.Equal(old.Contacts, n.Contacts) {
		p.Contacts = &n.Contacts
	}
	p.RotateEnrollSecret = f.Rotate
	return p
}

// formField maps a field the API names to the form's input: "holidays[1]"
// is the holidays box, "business_hours.open" the open time.
func formField(field string) string {
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	return strings.TrimPrefix(field, "business_hours.")
}

// customersView is the customers page: the list and the create form.
type customersView struct {
	Customers []api.Customer
	Form      customerForm
	Tiers     contract.Rules
	Days      []string
	FieldErr  map[string]string
	Created   *api.Customer // just created: its enroll secret is shown once
	Deleted   string
	Detached  int
}

func (u *UI) customers(w http.ResponseWriter, r *http.Request, s *session) {
	v := &customersView{FieldErr: map[string]string{}, Deleted: r.URL.Query().Get("deleted")}
	v.Detached, _ = strconv.Atoi(r.URL.Query().Get("detached"))
	v.Form = customerForm{Tier: contract.TierStandard, Timezone: "UTC", Days: contract.DefaultDays, Open: contract.DefaultOpen, Close: contract.DefaultClose}
	u.showCustomers(w, r, s, http.StatusOK, v)
}

func (u *UI) showCustomers(w http.ResponseWriter, r *http.Request, s *session, code int, v *customersView) {
	cs, err := u.cfg.Customers.Customers(r.Context())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	v.Customers, v.Tiers, v.Days = cs, contract.Tiers, weekDays
	u.render(w, r, code, "customers", view{Title: "Customers", Nav: "customers", Session: s, Page: v})
}

// weekDays are the working-day checkboxes, Monday first.
var weekDays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

func (u *UI) createCustomer(w http.ResponseWriter, r *http.Request, s *session) {
	f := readForm(r.PostForm)
	v := &customersView{FieldErr: map[string]string{}, Form: f}
	if f.Name == "" {
		v.FieldErr["name"] = "Enter the customer's name."
	}
	if len(v.FieldErr) == 0 {
		c, err := u.cfg.Customers.CreateCustomer(r.Context(), f.spec())
		switch fe, _ := fault.As(err); {
		case err == nil:
			u.log.Info("customer created", "customer", c.ID, "name", c.Name, "by", s.Role)
			v.Created = &c
			v.Form = customerForm{Tier: contract.TierStandard, Timezone: "UTC", Days: contract.DefaultDays, Open: contract.DefaultOpen, Close: contract.DefaultClose}
			u.showCustomers(w, r, s, http.StatusOK, v)
			return
		case fault.Is(err, fault.Invalid) || fault.Is(err, fault.Conflict):
			v.FieldErr[formField(fe.Field)] = fe.Msg
		default:
			u.fail(w, r, s, err)
			return
		}
	}
	code := http.StatusBadRequest
	if v.FieldErr["name"] != "" && strings.Contains(v.FieldErr["name"], "exists") {
		code = http.StatusConflict
	}
	u.showCustomers(w, r, s, code, v)
}

// customerView is one customer's page: its contract, the edit form and
// the delete form.
type customerView struct {
	C         api.Customer
	Form      customerForm
	Tiers     contract.Rules
	Days      []string
	FieldErr  map[string]string
	Saved     bool
	NewSecret string
	DeleteErr string
	TierLabel string
	Hours     string
}

func (u *UI) customer(w http.ResponseWriter, r *http.Request, s *session) {
	c, err := u.cfg.Customers.Customer(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.showCustomer(w, r, s, http.StatusOK, &customerView{C: c, Form: formOf(c), Saved: r.URL.Query().Get("saved") == "1"})
}

func (u *UI) showCustomer(w http.ResponseWriter, r *http.Request, s *session, code int, v *customerView) {
	if v.FieldErr == nil {
		v.FieldErr = map[string]string{}
	}
	v.Tiers, v.Days = contract.Tiers, weekDays
	if t := contract.Tiers.Tier(v.C.Tier); t != nil {
		v.TierLabel = t.Label
	}
	if k, err := contract.New(v.C.CustomerSpec, contract.Tiers); err == nil {
		v.Hours = k.Hours.String()
	}
	u.render(w, r, code, "customer", view{Title: v.C.Name, Nav: "customers", Session: s, Page: v})
}

func (u *UI) updateCustomer(w http.ResponseWriter, r *http.Request, s *session) {
	old, err := u.cfg.Customers.Customer(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := readForm(r.PostForm)
	c, err := u.cfg.Customers.UpdateCustomer(r.Context(), old.ID, f.patch(old))
	switch fe, _ := fault.As(err); {
	case err == nil:
		u.log.Info("customer updated", "customer", c.ID, "by", s.Role, "secret_rotated", f.Rotate)
		if c.EnrollSecret != "" { // shown once: render, do not redirect
			u.showCustomer(w, r, s, http.StatusOK, &customerView{C: c, Form: formOf(c), Saved: true, NewSecret: c.EnrollSecret})
			return
		}
		http.Redirect(w, r, "/customers/"+url.PathEscape(c.ID)+"?saved=1", http.StatusSeeOther)
	case fault.Is(err, fault.Invalid) || fault.Is(err, fault.Conflict):
		code := http.StatusBadRequest
		if fault.Is(err, fault.Conflict) {
			code = http.StatusConflict
		}
		u.showCustomer(w, r, s, code, &customerView{C: old, Form: f, FieldErr: map[string]string{formField(fe.Field): fe.Msg}})
	default:
		u.fail(w, r, s, err)
	}
}

func (u *UI) deleteCustomer(w http.ResponseWriter, r *http.Request, s *session) {
	c, err := u.cfg.Customers.Customer(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	n, err := u.cfg.Customers.DeleteCustomer(r.Context(), c.ID, r.PostForm.Get("force") == "on")
	switch {
	case err == nil:
		u.log.Info("customer deleted", "customer", c.ID, "detached_hosts", n, "by", s.Role)
		q := url.Values{"deleted": {c.Name}, "detached": {strconv.Itoa(n)}}
		http.Redirect(w, r, "/customers?"+q.Encode(), http.StatusSeeOther)
	case fault.Is(err, fault.Conflict):
		u.showCustomer(w, r, s, http.StatusConflict, &customerView{C: c, Form: formOf(c),
			DeleteErr: c.Name + " has " + strconv.Itoa(c.Hosts) + " host(s). Tick “detach its hosts” to delete it anyway: they become hosts of no customer."})
	default:
		u.fail(w, r, s, err)
	}
}
