package notifier

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/notifier/events"
)

// TestQueueDirect queues a contract notice and a risk digest to named
// recipients, sends them to a real SMTP server, and checks that queuing
// the same messages again (after a restart) sends nothing more.
func TestQueueDirect(t *testing.T) {
	w, r, _ := openTestDB(t)
	mb := &mailbox{}
	srv := startSMTP(t, mb, "", nil, false)
	s := newTestService(t, w, r, Config{SMTPAddr: srv.addr, SMTPTLS: TLSNone, PublicURL: "https://eolwatch.example", Now: newClock("2026-03-02T10:00:00Z").Now})
	ctx := context.Background()
	contract := events.DirectMail{Kind: events.KindContract, Key: "contract:c1:contract-ending:2026-05-01",
		To:       []string{"it@acme.example", "admin@vendor.example"},
		Contract: &events.ContractNotice{Customer: "Acme GmbH", Tier: "Premium", End: "2026-05-01", DaysLeft: 60, SoldBy: "Contoso Ltd"}}
	risk := events.DirectMail{Kind: events.KindRisk, Key: "risk:c1:2026-W10", To: []string{"it@acme.example"},
		Risk: &events.RiskDigest{Customer: "Acme GmbH", Week: "2026-W10", Hosts: []events.RiskHost{
			{Hostname: "web1", HostID: "h1", Installs: []events.RiskInstall{{Product: "python", Version: "3.8.10", Installed: "3.8.10-0ubuntu1", Status: "eol", UpgradeTo: "3.9.21", Reason: "Python 3.8 reached end of life."}}},
			{Hostname: "db1", HostID: "h2", Installs: []events.RiskInstall{{Product: "postgresql", Version: "16.2", Status: "patch-overdue", UpgradeTo: "16.10"}}},
			{Hostname: "registry.example/shop:1", HostID: "a3", Kind: events.KindAssetHost, Installs: []events.RiskInstall{{Product: "nodejs", Version: "16.20.2", Status: "eol", UpgradeTo: "20.19.5"}}},
		}}}
	for _, m := range []events.DirectMail{contract, risk} {
		n, err := s.QueueDirect(ctx, m)
		if err != nil || n != len(m.To) {
			t.Fatalf("QueueDirect(%s) = %d, %v; want %d", m.Kind, n, err, len(m.To))
		}
	}
	drain(t, s)
	// A restart queues the same messages again: nothing is added or sent.
	for _, m := range []events.DirectMail{contract, risk} {
		if n, err := s.QueueDirect(ctx, m); err != nil || n != 0 {
			t.Errorf("QueueDirect(%s) again = %d, %v; want 0", m.Kind, n, err)
		}
	}
	// A contact added since gets the message; the others do not get it twice.
	contract.To = append(contract.To, "cto@acme.example")
	if n, err := s.QueueDirect(ctx, contract); err != nil || n != 1 {
		t.Errorf("QueueDirect with a new contact = %d, %v; want 1", n, err)
	}
	drain(t, s)
	got := map[string][]string{}
	for _, m := range mb.all() {
		pm := parseMail(t, m.Data)
		got[m.To[0]] = append(got[m.To[0]], pm.subject(t))
		if pm.Header.Get("List-Unsubscribe") != "" {
			t.Errorf("direct mail to %s carries List-Unsubscribe", m.To[0])
		}
		switch {
		case strings.Contains(pm.subject(t), "contract"):
			if !strings.Contains(pm.Text, "ends in 60 days, on 2026-05-01") || !strings.Contains(pm.Text, "sold by Contoso Ltd") || !strings.Contains(pm.HTML, "ends in 60 days") {
				t.Errorf("contract notice text:\n%s", pm.Text)
			}
		default:
			if !strings.Contains(pm.Text, `host "web1" (h1)`) || !strings.Contains(pm.Text, "python 3.8.10 (installed 3.8.10-0ubuntu1): eol, move to 3.9.21") ||
				!strings.Contains(pm.Text, "postgresql 16.2: patch-overdue, move to 16.10") || !strings.Contains(pm.HTML, "<td>&#34;db1&#34;<br>") ||
				!strings.Contains(pm.Text, "these hosts and assets of Acme GmbH run software") || !strings.Contains(pm.Text, `asset "registry[.]example[/]shop[:]1" (a3)`) ||
				!strings.Contains(pm.HTML, "<td>asset &#34;registry[.]example[/]shop[:]1&#34;<br>") {
				t.Errorf("risk digest text:\n%s", pm.Text)
			}
		}
	}
	want := map[string][]string{
		"it@acme.example":      {"Acme GmbH: the Premium support contract ends in 60 days, on 2026-05-01", "Acme GmbH: 3 hosts and assets not eligible for support (2026-W10)"},
		"admin@vendor.example": {"Acme GmbH: the Premium support contract ends in 60 days, on 2026-05-01"},
		"cto@acme.example":     {"Acme GmbH: the Premium support contract ends in 60 days, on 2026-05-01"},
	}
	for to, subjects := range want {
		if strings.Join(sortStrings(got[to]), "|") != strings.Join(sortStrings(subjects), "|") {
			t.Errorf("%s received %q, want %q", to, got[to], subjects)
		}
	}
	if len(mb.all()) != 4 {
		t.Errorf("%d messages sent, want 4", len(mb.all()))
	}
}

// TestContractNoticeWording: the last day and a late notice say so.
func TestContractNoticeWording(t *testing.T) {
	for _, tc := range []struct {
		days    int
		subject string
		text    string
	}{
		{1, "ends in 1 day, on 2026-05-01", "ends in 1 day"},
		{0, "ends today", "ends today, 2026-05-01"},
		{-3, "ended on 2026-05-01", "ended on 2026-05-01"},
	} {
		t.Run(fmt.Sprint("days=", tc.days), func(t *testing.T) {
			p, err := renderParts(events.KindContract, msgData{Contract: &events.ContractNotice{Customer: "Acme", Tier: "Standard", End: "2026-05-01", DaysLeft: tc.days}})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(p.Subject, tc.subject) || !strings.Contains(p.Text, tc.text) {
				t.Errorf("days %d: subject %q, text %q", tc.days, p.Subject, p.Text)
			}
		})
	}
}

func TestDirectMailValidate(t *testing.T) {
	ok := events.DirectMail{Kind: events.KindContract, Key: "k", To: []string{"a@b.example"}, Contract: &events.ContractNotice{Customer: "A", End: "2026-01-01"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid mail: %v", err)
	}
	for name, edit := range map[string]func(*events.DirectMail){
		"no kind":           func(m *events.DirectMail) { m.Kind = "" },
		"no key":            func(m *events.DirectMail) { m.Key = "" },
		"no recipient":      func(m *events.DirectMail) { m.To = nil },
		"header injection":  func(m *events.DirectMail) { m.To = []string{"a@b.example\r\nBcc: x@y.example"} },
		"display name":      func(m *events.DirectMail) { m.To = []string{"A <a@b.example>"} },
		"risk without risk": func(m *events.DirectMail) { m.Kind = events.KindRisk },
		"two contents":      func(m *events.DirectMail) { m.Risk = &events.RiskDigest{Customer: "A"} },
	} {
		m := ok
		edit(&m)
		if err := m.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
