package notifier

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/eolwatch/eolwatch/server/api"
)

// TestParseEmailRefusesDomainLiterals: an address must name a mail domain,
// not an IP address (issue 13, item 7).
func TestParseEmailRefusesDomainLiterals(t *testing.T) {
	for _, in := range []string{"a@[127.0.0.1]", "a@[IPv6:::1]", "a@127.0.0.1", "a@[10.0.0.1]", "a@exa_mple.com", "a@-example.com",
		"a@example..com", "a@.example.com"} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseEmail(in)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Field != "email" {
				t.Errorf("ParseEmail(%q) = %v, want an error naming email", in, err)
			}
		})
	}
	for in, want := range map[string]string{"Bob@Mail.Example.COM": "Bob@mail.example.com", "a@bücher.example": "a@bücher.example",
		"a@xn--bcher-kva.example":  "a@xn--bcher-kva.example",
		"x@sub-domain.example.org": "x@sub-domain.example.org"} {
		if got, err := ParseEmail(in); err != nil || got != want {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestParseEmailRefusesSingleLabelAndBadIDNA: a subscriber's domain has a
// dot (a@localhost, a@corp are no mail domains another server delivers to)
// and is a valid internationalised domain name (IDNA 2008: no invisible
// joiners, no punycode that does not decode, no mixed-direction labels).
func TestParseEmailRefusesSingleLabelAndBadIDNA(t *testing.T) {
	for _, in := range []string{"a@localhost", "a@LOCALHOST", "root@corp", "a@bücher", "a@example.com.", "a@xn--zz.example",
		"a@exa\u200bmple.com", "a@bü\u200dcher.example", "a@xn--.example", "a@ex--ample.com", "a@\u05d0\u05d1a.example"} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseEmail(in)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Field != "email" {
				t.Errorf("ParseEmail(%q) = %v, want an error naming email", in, err)
			}
		})
	}
}

// TestPerAddressCapIgnoresCase: the confirmation cap per address counts
// Bomb@x, bOmb@x and BOMB@X as one mailbox (issue 13, item 7).
func TestPerAddressCapIgnoresCase(t *testing.T) {
	e := newEnv(t, Config{SubscribeRatePerIP: 100, SubscribeRatePerAddress: 2})
	e.do(t, "POST", "/api/v1/groups", `{"name":"g","products":["nginx"],"events":["release"]}`, nil)
	for _, addr := range []string{"Bomb@x.example", "bOmb@x.example", "BOMB@X.EXAMPLE", "bomb@x.example"} {
		if c := e.do(t, "POST", "/api/v1/subscriptions", `{"group":"g","email":"`+addr+`"}`, nil); c != http.StatusAccepted {
			t.Fatalf("subscribe %s: %d", addr, c)
		}
	}
	drain(t, e.svc)
	if n := len(e.mb.all()); n != 2 {
		t.Errorf("%d confirmation emails to one mailbox spelled four ways, want the per-address limit of 2", n)
	}
}

// fakeResolver answers from a map, and can change its answers (DNS
// rebinding).
type fakeResolver struct {
	mu  sync.Mutex
	ips map[string][]netip.Addr
}

func (f *fakeResolver) set(host string, ips ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var as []netip.Addr
	for _, s := range ips {
		as = append(as, netip.MustParseAddr(s))
	}
	f.ips[host] = as
}

func (f *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if as, ok := f.ips[host]; ok {
		return as, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestWebhookToPrivateAddressRefused: a group's webhook may not target
// loopback, link-local, private or unique-local addresses (a literal, or
// a name that resolves there) unless the admin allow-list names it
// (issue 13, item 8).
func TestWebhookToPrivateAddressRefused(t *testing.T) {
	res := &fakeResolver{ips: map[string][]netip.Addr{}}
	res.set("internal.example", "10.0.0.5")
	res.set("mixed.example", "203.0.113.5", "192.168.1.9")
	res.set("public.example", "203.0.113.5", "2001:db8::5")
	res.set("allowed.example", "10.9.9.9")
	res.set("nat.example", "100.64.1.1")
	res.set("nat64.example", "64:ff9b::a9fe:a9fe")
	e := newEnv(t, Config{Resolver: res, WebhookAllow: []string{"allowed.example", "172.16.0.0/12"}})
	for i, tc := range []struct {
		url  string
		code int
	}{
		{"http://127.0.0.1:9/x", 400},
		{"http://[::1]/x", 400},
		{"http://10.1.2.3/x", 400},
		{"http://169.254.169.254/latest/meta-data", 400},
		{"http://192.168.1.1/x", 400},
		{"http://[fd00::1]/x", 400},
		{"http://[fe80::1]/x", 400},
		{"http://0.0.0.0:8480/x", 400},
		{"http://[::ffff:127.0.0.1]/x", 400},
		{"http://localhost:8480/x", 400},
		{"https://internal.example/hook", 400},
		{"https://mixed.example/hook", 400},
		{"https://nat.example/hook", 400},
		{"https://nowhere.example/hook", 400},
		// not unicast on the internet: broadcast, reserved, IPv4-compatible, site-local
		{"http://255.255.255.255/x", 400},
		{"http://240.0.0.1/x", 400},
		{"http://[::127.0.0.1]/x", 400},
		{"http://[fec0::1]/x", 400},
		// IPv6 forms that a NAT64 gateway or a 6to4 relay turns into an internal IPv4 address
		{"http://[64:ff9b::7f00:1]/x", 400},
		{"http://[64:ff9b::a9fe:a9fe]/x", 400},
		{"http://[64:ff9b:1::a00:1]/x", 400},
		{"http://[2002:7f00:1::]/x", 400},
		{"http://[2002:a00:1::1]/x", 400},
		{"https://nat64.example/hook", 400},
		{"http://[64:ff9b::cb00:7105]/x", 201}, // NAT64 of 203.0.113.5
		{"http://[2002:cb00:7105::1]/x", 201},  // 6to4 of 203.0.113.5
		{"https://public.example/hook", 201},
		{"https://allowed.example/hook", 201},
		{"http://172.20.1.1/x", 201},
	} {
		t.Run(tc.url, func(t *testing.T) {
			var fe api.Error
			body := `{"name":"g` + strconv.Itoa(i) + `","products":["nginx"],"events":["release"],"webhook":"` + tc.url + `"}`
			if c := e.do(t, "POST", "/api/v1/groups", body, &fe); c != tc.code || (c == 400 && fe.Field != "webhook") {
				t.Errorf("webhook %s: %d %+v, want %d", tc.url, c, fe, tc.code)
			}
		})
	}
}

// TestWebhookCheckedAgainAtSendTime: a name that resolved to a public
// address when the group was saved but resolves to loopback when the
// delivery is sent (DNS rebinding) is not connected to (issue 13, item 8).
func TestWebhookCheckedAgainAtSendTime(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer hook.Close()
	_, port, _ := net.SplitHostPort(hook.Listener.Addr().String())
	res := &fakeResolver{ips: map[string][]netip.Addr{}}
	res.set("rebind.example", "203.0.113.5")
	e := newEnv(t, Config{Resolver: res})
	if c := e.do(t, "POST", "/api/v1/groups", `{"name":"g","products":["nginx"],"events":["release"],"webhook":"http://rebind.example:`+port+`/hook"}`, nil); c != 201 {
		t.Fatalf("create group: %d", c)
	}
	res.set("rebind.example", "127.0.0.1")
	ctx := context.Background()
	enqueue(t, e.svc.db.w, events.Event{Kind: events.KindRelease, Product: "nginx", Cycle: "1.26", Version: "1.26.9"})
	if _, err := e.svc.ProcessEvents(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.SendWebhooks(ctx); err != nil || n != 1 {
		t.Fatalf("SendWebhooks = %d, %v", n, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Errorf("the webhook reached a loopback address after DNS rebinding (%d requests)", hits)
	}
	var last string
	e.svc.db.r.QueryRowContext(ctx, `SELECT last_error FROM notifier_webhooks`).Scan(&last)
	if !strings.Contains(last, "not allowed") {
		t.Errorf("delivery error %q, want one saying the address is not allowed", last)
	}
}

// renderFleetAndDigest renders d's fleet changes as an alert and as a daily
// digest of both, each in a subtest named by its kind, where check reads it.
func renderFleetAndDigest(t *testing.T, d msgData, check func(t *testing.T, kind string, p msgParts)) {
	t.Helper()
	for _, kind := range []string{events.KindFleet, kindDigest} {
		t.Run(kind, func(t *testing.T) {
			dd := d
			if kind == kindDigest {
				dd.Period, dd.Count = "daily", 2
			}
			p, err := renderParts(kind, dd)
			if err != nil {
				t.Fatal(err)
			}
			check(t, kind, p)
		})
	}
}

// TestFleetMailShowsHostnamesAsPlainData: a hostname reaches alert emails
// quoted, length-capped and defanged (no link a mail client would make),
// next to the host id, which stays the key (issue 13, item 10).
func TestFleetMailShowsHostnamesAsPlainData(t *testing.T) {
	evil := "URGENT: re-authenticate at http://evil.example/login?u=admin@corp.example " + strings.Repeat("A", 300)
	d := msgData{Group: "ops", Fleet: []eventView{{Event: events.Event{Kind: events.KindFleet, Product: "python", Version: "3.8.10",
		HostID: "0f896ace78c46948", Host: evil, To: "eol"}, ProductLabel: "Python"},
		{Event: events.Event{Kind: events.KindFleet, Product: "nginx", Version: "1.22.1", HostID: "42bc0d39c00aed38", Host: "web1.corp.example", To: "eol"},
			ProductLabel: "nginx"}}}
	renderFleetAndDigest(t, d, func(t *testing.T, kind string, p msgParts) {
		for name, body := range map[string]string{"text": p.Text, "html": p.HTML} {
			for _, bad := range []string{"http://", "evil.example", "admin@corp", strings.Repeat("A", 100), "web1.corp"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s body holds %q", name, bad)
				}
			}
			for _, want := range []string{"0f896ace78c46948", "42bc0d39c00aed38", "web1[.]corp[.]example", "URGENT"} {
				if !strings.Contains(body, want) {
					t.Errorf("%s body lacks %q", name, want)
				}
			}
			if strings.Count(body, "href=") > strings.Count(body, "unsubscribe")+strings.Count(body, "preferences")+2 {
				t.Errorf("%s body has unexpected links", name)
			}
		}
	})
	if got := plainHost("web1.corp.example"); got != `"web1[.]corp[.]example"` {
		t.Errorf("plainHost = %s", got)
	}
	if got := []rune(plainHost(evil)); len(got) > maxHostShown+20 {
		t.Errorf("plainHost of a long name is %d runes", len(got))
	}
}

// TestFleetMailNamesAssetsAsAssets: a fleet change of an asset (an SBOM's
// subject, HostKind "asset") reads `asset "NAME" (ID)`, not `host`, in the
// alert and the digest, text and HTML, with the asset's name quoted, cut
// and defanged as a hostname is; a host's still reads `host "NAME" (ID)`.
func TestFleetMailNamesAssetsAsAssets(t *testing.T) {
	image := "registry.example/app:1.4 " + strings.Repeat("B", 100)
	d := msgData{Group: "ops", Fleet: []eventView{
		{Event: events.Event{Kind: events.KindFleet, Product: "python", Version: "3.11.2", HostID: "a1b2c3d4e5f60718", Host: image, HostKind: events.HostKindAsset, To: "eol"}, ProductLabel: "Python"},
		{Event: events.Event{Kind: events.KindFleet, Product: "nginx", Version: "1.22.1", HostID: "42bc0d39c00aed38", Host: "web1", To: "eol"}, ProductLabel: "nginx"}}}
	shown := plainHost(image)
	renderFleetAndDigest(t, d, func(t *testing.T, kind string, p msgParts) {
		text := p.Text
		for _, want := range []string{`asset ` + shown + ` (a1b2c3d4e5f60718)`, `host "web1" (42bc0d39c00aed38)`} {
			if !strings.Contains(text, want) {
				t.Errorf("text body lacks %s:\n%s", want, text)
			}
		}
		if strings.Contains(text, `host `+shown) || strings.Contains(text, "registry.example") || strings.Contains(text, strings.Repeat("B", 100)) {
			t.Errorf("text body names the asset a host, or shows its name raw:\n%s", text)
		}
		html := p.HTML
		if !strings.Contains(html, "asset ") || !strings.Contains(html, "registry[.]example[/]app[:]1[.]4") || strings.Contains(html, "registry.example") {
			t.Errorf("html body does not name the asset as an asset, defanged:\n%s", html)
		}
		if kind == events.KindFleet && !strings.Contains(html, "Host or asset") {
			t.Errorf("html table header does not say host or asset:\n%s", html)
		}
	})
	if err := (events.Event{Kind: events.KindFleet, Product: "p", HostID: "h", HostKind: "vm"}).Validate(); err == nil || !strings.Contains(err.Error(), "host_kind") {
		t.Errorf("Validate of host_kind vm = %v, want an error naming host_kind", err)
	}
}

// TestMailShowsReportedVersionsAsPlainData: an installed version is what
// an agent reports, as free as its hostname: one that does not look like a
// version ("1.18.0 URGENT visit https://evil.example/login") reaches fleet
// alerts, digests and risk digests quoted, cut and defanged like a
// hostname, in the version column and wherever the verdict's reason
// repeats it; versions that look like versions are shown as they are
// (issue 13 item 10).
func TestMailShowsReportedVersionsAsPlainData(t *testing.T) {
	evil := "1.18.0 URGENT visit https://evil.example/login?u=admin@corp.example"
	reason := "nginx has no release cycle that contains version " + evil + ", so its support status is unknown."
	fleet := []eventView{
		{Event: events.Event{Kind: events.KindFleet, Product: "nginx", Version: evil, HostID: "0f896ace78c46948", Host: "web1", To: "unknown-version",
			Reason: reason}, ProductLabel: "nginx"},
		{Event: events.Event{Kind: events.KindFleet, Product: "openssl", Version: "3.0.11-1~deb12u2", HostID: "42bc0d39c00aed38", Host: "web2", To: "eol"},
			ProductLabel: "OpenSSL"},
		{Event: events.Event{Kind: events.KindFleet, Product: "python", Version: "2.7.18.evil.com", HostID: "42bc0d39c00aed38", Host: "web2", To: "eol"},
			ProductLabel: "Python"},
	}
	risk := &events.RiskDigest{Customer: "Acme", Week: "2026-W10", Hosts: []events.RiskHost{{Hostname: "web1", HostID: "0f896ace78c46948",
		Installs: []events.RiskInstall{{Product: "nginx", Version: evil, Installed: evil, Status: "unknown-version", Reason: reason},
			{Product: "openssl", Version: "3.0.11", Installed: "3.0.11-1~deb12u2", Status: "eol"}}}}}
	for _, tc := range []struct {
		kind string
		d    msgData
	}{
		{events.KindFleet, msgData{Group: "ops", Fleet: fleet}},
		{kindDigest, msgData{Group: "ops", Fleet: fleet, Period: "daily", Count: 3}},
		{events.KindRisk, msgData{Risk: risk}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			p, err := renderParts(tc.kind, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			for name, body := range map[string]string{"text": p.Text, "html": p.HTML} {
				for _, bad := range []string{"https://", "evil.example", "admin@corp", "evil.com"} {
					if strings.Contains(body, bad) {
						t.Errorf("%s body holds %q", name, bad)
					}
				}
				for _, want := range []string{"URGENT", "3.0.11-1~deb12u2", "evil[.]example"} {
					if tc.kind == events.KindRisk && want == "3.0.11-1~deb12u2" {
						continue // the risk digest shows the judged version with the installed one
					}
					if !strings.Contains(body, want) {
						t.Errorf("%s body lacks %q", name, want)
					}
				}
			}
		})
	}
	if fleet[0].Version != evil || risk.Hosts[0].Installs[0].Version != evil {
		t.Error("rendering changed the caller's data")
	}
}

// TestDeadInstanceLeaseReclaimedWithinAMinute: rows claimed by an instance
// that died (its lease is no longer renewed) are claimed by another within
// a minute with the default settings, while a live instance's renewed
// lease keeps them its own (issue 13, item 12).
func TestDeadInstanceLeaseReclaimedWithinAMinute(t *testing.T) {
	w, r, _ := openTestDB(t)
	clock := newClock("2026-03-02T10:00:00Z")
	a := newTestService(t, w, r, Config{Now: clock.Now, InstanceID: "a", SMTPTimeout: 30 * time.Second})
	b := newTestService(t, w, r, Config{Now: clock.Now, InstanceID: "b", SMTPTimeout: 30 * time.Second})
	ctx := context.Background()
	if _, err := a.CreateGroup(ctx, Group{Name: "g", Products: []string{"nginx"}, Events: []string{"release"}}); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"one@example.com", "two@example.com"} {
		if err := a.Subscribe(ctx, "g", addr); err != nil {
			t.Fatal(err)
		}
	}
	_, _, rows, err := a.claim(ctx) // a claims the batch, then dies (no renewal ever)
	if err != nil || len(rows) != 2 {
		t.Fatalf("claim: %d rows, %v", len(rows), err)
	}
	if _, _, got, _ := b.claim(ctx); len(got) != 0 {
		t.Fatalf("b claimed %d rows a holds", len(got))
	}
	clock.Advance(time.Minute)
	if _, _, got, err := b.claim(ctx); err != nil || len(got) != 2 {
		t.Errorf("a minute after a died, b claimed %d rows (%v), want 2", len(got), err)
	}
	// A live instance renews: its rows stay its own past the first lease.
	clock.Advance(2 * time.Minute) // b's claim lapses too
	token, until, rows, err := a.claim(ctx)
	if err != nil || len(rows) != 2 {
		t.Fatalf("claim: %d rows, %v", len(rows), err)
	}
	l := a.holdLease(until, func(ctx context.Context, until time.Time) (int64, error) { return a.db.renewOutbox(ctx, token, until) })
	defer l.end()
	for range 4 {
		clock.Advance(a.cfg.LeaseDuration / 2)
		l.renewNow(ctx)
		if _, _, got, _ := b.claim(ctx); len(got) != 0 {
			t.Fatalf("b claimed %d rows of a live instance", len(got))
		}
	}
	if !l.ok() {
		t.Error("a renewed lease is not ok")
	}
}
