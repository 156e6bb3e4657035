package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
)

func customerSpec(name string) api.CustomerSpec {
	return api.CustomerSpec{Name: name, Tier: "premium", ContractStart: "2025-01-01", ContractEnd: "2025-12-31", Timezone: "Europe/Berlin",
		BusinessHours: &api.BusinessHours{Days: []string{"mon", "tue"}, Open: "09:00", Close: "18:00"},
		Holidays:      []string{"2025-12-25"}, Contacts: []string{"ops@" + strings.ToLower(name) + ".example"}}
}

func createCustomer(t testing.TB, st *Store, name string) (api.Customer, string) {
	t.Helper()
	secret := NewEnrollSecret()
	c, err := st.CreateCustomer(context.Background(), customerSpec(name), HashSecret(secret))
	if err != nil {
		t.Fatalf("CreateCustomer(%s): %v", name, err)
	}
	return c, secret
}

func enrollFor(t testing.TB, st *Store, install, hostname, customer string) HostRef {
	t.Helper()
	_, key, err := st.EnrollCustomer(context.Background(), api.HostInfo{InstallID: install, Hostname: hostname, OSName: "os-" + hostname}, customer)
	if err != nil {
		t.Fatalf("EnrollCustomer: %v", err)
	}
	h, err := st.HostByNodeKey(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCustomerCRUD(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	acme, secret := createCustomer(t, st, "Acme")
	if acme.ID == "" || acme.Name != "Acme" || acme.Tier != "premium" || acme.Hosts != 0 || acme.CreatedAt.IsZero() {
		t.Errorf("created = %+v", acme)
	}
	if acme.BusinessHours == nil || acme.BusinessHours.Open != "09:00" || len(acme.Holidays) != 1 || acme.Contacts[0] != "ops@acme.example" {
		t.Errorf("lists and hours not stored: %+v", acme)
	}
	// Names are unique ignoring case.
	if _, err := st.CreateCustomer(ctx, customerSpec("ACME"), HashSecret(NewEnrollSecret())); !errors.Is(err, ErrDuplicateName) || fault.CodeOf(err) != fault.Conflict {
		t.Errorf("duplicate name: %v, want ErrDuplicateName (conflict)", err)
	}
	// By id, by name in any case.
	for _, ref := range []string{acme.ID, "Acme", "acme", " ACME "} {
		if c, err := st.Customer(ctx, ref); err != nil || c.ID != acme.ID {
			t.Errorf("Customer(%q) = %s, %v", ref, c.ID, err)
		}
	}
	if _, err := st.Customer(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Customer(unknown) = %v, want ErrNotFound", err)
	}
	globex, _ := createCustomer(t, st, "Globex")
	list, err := st.ListCustomers(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "Acme" || list[1].Name != "Globex" {
		t.Fatalf("ListCustomers = %+v, %v", list, err)
	}
	// Update: new tier, the name of another customer is refused.
	spec := acme.CustomerSpec
	spec.Tier, spec.AutoRenew = "enterprise", true
	up, err := st.UpdateCustomer(ctx, acme.ID, spec, "")
	if err != nil || up.Tier != "enterprise" || !up.AutoRenew || !up.UpdatedAt.After(acme.CreatedAt) && !up.UpdatedAt.Equal(acme.CreatedAt) {
		t.Errorf("UpdateCustomer = %+v, %v", up, err)
	}
	spec.Name = "globex"
	if _, err := st.UpdateCustomer(ctx, acme.ID, spec, ""); !errors.Is(err, ErrDuplicateName) {
		t.Errorf("rename onto another customer: %v, want ErrDuplicateName", err)
	}
	spec.Name = "ACME" // its own name in another case is fine
	if _, err := st.UpdateCustomer(ctx, acme.ID, spec, ""); err != nil {
		t.Errorf("rename to own name in upper case: %v", err)
	}
	if _, err := st.UpdateCustomer(ctx, "nope", spec, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("update unknown: %v, want ErrNotFound", err)
	}
	// The enroll secret finds the customer until it is rotated.
	if id, err := st.CustomerByEnrollSecret(ctx, secret); err != nil || id != acme.ID {
		t.Errorf("CustomerByEnrollSecret = %q, %v", id, err)
	}
	next := NewEnrollSecret()
	if _, err := st.UpdateCustomer(ctx, acme.ID, spec, HashSecret(next)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CustomerByEnrollSecret(ctx, secret); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("old secret after rotation: %v, want ErrUnauthorized", err)
	}
	if id, _ := st.CustomerByEnrollSecret(ctx, next); id != acme.ID {
		t.Errorf("new secret finds %q", id)
	}
	for _, bad := range []string{"", "wrong", "ewe_" + strings.Repeat("0", 48)} {
		if _, err := st.CustomerByEnrollSecret(ctx, bad); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("CustomerByEnrollSecret(%q) = %v", bad, err)
		}
	}
	// Delete: refused with hosts, forced detaches them and revokes the customer's tokens.
	h := enrollFor(t, st, "i-1", "acme-web1", acme.ID)
	_, tokSecret, err := st.CreateCustomerToken(ctx, "acme it", acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := st.Customer(ctx, acme.ID); c.Hosts != 1 {
		t.Errorf("hosts = %d, want 1", c.Hosts)
	}
	if _, err := st.DeleteCustomer(ctx, acme.ID, false); !errors.Is(err, ErrHasHosts) || fault.CodeOf(err) != fault.Conflict {
		t.Errorf("delete with hosts: %v, want ErrHasHosts (conflict)", err)
	}
	if _, err := st.Customer(ctx, acme.ID); err != nil {
		t.Errorf("refused delete lost the customer: %v", err)
	}
	n, err := st.DeleteCustomer(ctx, acme.ID, true)
	if err != nil || n != 1 {
		t.Fatalf("forced delete = %d, %v", n, err)
	}
	if host, _, err := st.FindHost(ctx, h.UID); err != nil || host.CustomerID != "" {
		t.Errorf("detached host = %+v, %v; want no customer", host, err)
	}
	if _, err := st.Authenticate(ctx, tokSecret); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("token of a deleted customer: %v, want ErrUnauthorized", err)
	}
	if _, err := st.DeleteCustomer(ctx, acme.ID, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v, want ErrNotFound", err)
	}
	if n, err := st.DeleteCustomer(ctx, globex.ID, false); err != nil || n != 0 {
		t.Errorf("delete without hosts = %d, %v", n, err)
	}
}

func TestEnrollCustomer(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	acme, _ := createCustomer(t, st, "Acme")
	globex, _ := createCustomer(t, st, "Globex")
	uid, key, err := st.EnrollCustomer(ctx, api.HostInfo{InstallID: "i-1", Hostname: "web1"}, acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	h := struct{ UID, key string }{uid, key}
	owner := func() string {
		host, _, err := st.FindHost(ctx, h.UID)
		if err != nil {
			t.Fatal(err)
		}
		return host.CustomerID
	}
	if got := owner(); got != acme.ID {
		t.Errorf("customer = %q, want %q", got, acme.ID)
	}
	// Re-enrolling (with the host's key) with another customer's secret
	// moves the host; with the server-wide secret it belongs to no customer.
	res, err := st.EnrollHost(ctx, EnrollInput{Host: api.HostInfo{InstallID: "i-1", Hostname: "web1"}, Customer: globex.ID, PreviousKey: h.key})
	if err != nil {
		t.Fatal(err)
	}
	if got := owner(); got != globex.ID {
		t.Errorf("after re-enrolling with Globex's secret: customer %q", got)
	}
	// A pending request keeps its customer until approved.
	req, err := st.EnrollHost(ctx, EnrollInput{Host: api.HostInfo{InstallID: "i-1", Hostname: "web1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := owner(); got != globex.ID {
		t.Errorf("after a pending request with the server-wide secret: customer %q, want %q", got, globex.ID)
	}
	if err := st.ApproveEnrollment(ctx, h.UID, req.RequestID); err != nil {
		t.Fatal(err)
	}
	if got := owner(); got != "" {
		t.Errorf("after approving a request with the server-wide secret: customer %q, want none", got)
	}
	_ = res
	if _, _, err := st.EnrollCustomer(ctx, api.HostInfo{InstallID: "i-2", Hostname: "x"}, "no-such-customer"); err == nil {
		t.Error("enrolling for a customer that does not exist succeeded")
	}
}

func TestCustomerTokens(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	acme, _ := createCustomer(t, st, "Acme")
	tok, secret, err := st.CreateCustomerToken(ctx, "acme it", acme.ID)
	if err != nil || tok.Role != auth.RoleViewer || tok.Customer != acme.ID {
		t.Fatalf("CreateCustomerToken = %+v, %v", tok, err)
	}
	if p, err := st.Authenticate(ctx, secret); err != nil || p != (auth.Principal{Role: auth.RoleViewer, Customer: acme.ID, TokenID: tok.ID, TokenName: "acme it", CustomerName: "Acme"}) {
		t.Errorf("Authenticate = %+v, %v", p, err)
	}
	if _, _, err := st.CreateCustomerToken(ctx, "x", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("token for an unknown customer: %v, want ErrNotFound", err)
	}
	if _, _, err := st.createToken(ctx, auth.RoleSupport, "x", acme.ID); !fault.Is(err, fault.Invalid) {
		t.Errorf("a support token limited to a customer: %v, want invalid", err)
	}
	ts, _ := st.ListTokens(ctx)
	if len(ts) != 1 || ts[0].Customer != acme.ID || ts[0].CustomerName != "Acme" {
		t.Errorf("ListTokens = %+v, want the customer's id and name", ts)
	}
}

// TestScopedReads: every fleet read limited to a customer counts and lists
// only that customer's hosts.
func TestScopedReads(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	acme, _ := createCustomer(t, st, "Acme")
	globex, _ := createCustomer(t, st, "Globex")
	a := enrollFor(t, st, "ia", "acme-web", acme.ID)
	g := enrollFor(t, st, "ig", "globex-db", globex.ID)
	n := enrollFor(t, st, "in", "nobody-box", "")
	for _, r := range []ReportInput{
		full(a, "r1", item("python3", "3.12.1", "python"), item("acme-tool", "1", "")),
		full(g, "r2", item("python3", "old-3.6", "python"), item("nginx", "old-1.0", "nginx"), item("globex-secret-tool", "1", "")),
		full(n, "r3", item("redis", "7.0", "redis")),
	} {
		r.Report.Host.OSName = "os-" + r.Host.Hostname
		if _, err := st.ApplyReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	as := Scope{Customer: acme.ID}
	forbidden := []string{"globex", "nginx", "redis", "nobody", g.UID, n.UID}
	leak := func(what string, v any) {
		t.Helper()
		s := strings.ToLower(fmt.Sprintf("%+v", v))
		for _, f := range forbidden {
			if strings.Contains(s, strings.ToLower(f)) {
				t.Errorf("%s limited to Acme shows %q: %s", what, f, s)
			}
		}
	}
	list, err := st.ListHosts(ctx, HostFilter{Scope: as})
	if err != nil || list.Total != 1 || len(list.Hosts) != 1 || list.Hosts[0].ID != a.UID || list.Hosts[0].CustomerID != acme.ID {
		t.Errorf("ListHosts = %+v, %v", list, err)
	}
	leak("ListHosts", list)
	if all, _ := st.ListHosts(ctx, HostFilter{}); all.Total != 3 {
		t.Errorf("unscoped ListHosts total = %d, want 3", all.Total)
	}
	page, err := st.SearchHosts(ctx, HostSearch{Scope: as})
	if err != nil || page.Total != 1 || page.Hosts[0].ID != a.UID {
		t.Errorf("SearchHosts = %+v, %v", page, err)
	}
	leak("SearchHosts", page)
	if page, _ := st.SearchHosts(ctx, HostSearch{Scope: as, Product: "nginx"}); page.Total != 0 {
		t.Errorf("SearchHosts(nginx) limited to Acme = %+v", page)
	}
	c, err := st.Compliance(ctx, as)
	if err != nil || c.Hosts != 1 || c.Installs != 1 {
		t.Errorf("Compliance = %+v, %v", c, err)
	}
	leak("Compliance", c.Cycles)
	ps, err := st.Products(ctx, as)
	if err != nil || len(ps) != 1 || ps[0].Product != "python" || ps[0].Hosts != 1 || len(ps[0].Versions) != 1 {
		t.Errorf("Products = %+v, %v", ps, err)
	}
	leak("Products", ps)
	var nc []NonCompliantInstall
	if err := st.EachNonCompliant(ctx, Scope{Customer: globex.ID}, func(x NonCompliantInstall) error { nc = append(nc, x); return nil }); err != nil || len(nc) != 2 {
		t.Errorf("EachNonCompliant(Globex) = %+v, %v; want 2 installs", nc, err)
	}
	nc = nil
	if err := st.EachNonCompliant(ctx, as, func(x NonCompliantInstall) error { nc = append(nc, x); return nil }); err != nil || len(nc) != 0 {
		t.Errorf("EachNonCompliant(Acme) = %+v, %v; want none", nc, err)
	}
	un, err := st.Unmatched(ctx, as, 100)
	if err != nil || len(un) != 1 || un[0].Name != "acme-tool" {
		t.Errorf("Unmatched = %+v, %v", un, err)
	}
	leak("Unmatched", un)
	if ip, _ := st.InstalledProducts(ctx, as); len(ip) != 1 || ip[0] != "python" {
		t.Errorf("InstalledProducts = %q", ip)
	}
	if os, _ := st.HostOSNames(ctx, as); len(os) != 1 || os[0] != "os-acme-web" {
		t.Errorf("HostOSNames = %q", os)
	}
	if vs, _ := st.ProductVersions(ctx, as, "python"); len(vs) != 1 || vs[0].Version != "3.12.1" {
		t.Errorf("ProductVersions = %+v", vs)
	}
	if n, _ := st.CountStaleHosts(ctx, as, time.Now().Add(time.Hour)); n != 1 {
		t.Errorf("CountStaleHosts = %d, want 1", n)
	}
}

func TestCustomerMail(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	acme, _ := createCustomer(t, st, "Acme")
	if sent, err := st.CustomerMailSent(ctx, acme.ID, "contract-ending", "2025-12-31"); err != nil || sent {
		t.Fatalf("CustomerMailSent before = %v, %v", sent, err)
	}
	for range 2 { // marking twice is a no-op
		if err := st.MarkCustomerMail(ctx, acme.ID, "contract-ending", "2025-12-31", 2); err != nil {
			t.Fatal(err)
		}
	}
	if sent, _ := st.CustomerMailSent(ctx, acme.ID, "contract-ending", "2025-12-31"); !sent {
		t.Error("mail not recorded")
	}
	if sent, _ := st.CustomerMailSent(ctx, acme.ID, "contract-ending", "2026-12-31"); sent {
		t.Error("another period counts as sent")
	}
}
