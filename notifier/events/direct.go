package events

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// Direct mail kinds: messages to named addresses (a customer's contacts
// and the admins), outside groups and subscriptions.
const (
	KindContract = "contract" // a contract that does not renew ends soon, or today
	KindRisk     = "risk"     // a customer's weekly list of hosts not eligible for support
)

// DirectMail is one message to named recipients. The domain decides what
// is due and builds it; the notifier renders it, queues one outbox row per
// recipient and sends it like any other mail.
type DirectMail struct {
	// Kind is KindContract or KindRisk.
	Kind string
	// Key names the message for good: with each recipient it is the
	// outbox's dedupe key, so queuing the same Key again queues nothing.
	Key string
	// To are the recipients' addresses.
	To []string
	// Contract is the content of a KindContract message.
	Contract *ContractNotice
	// Risk is the content of a KindRisk message.
	Risk *RiskDigest
}

// ContractNotice says a customer's contract ends.
type ContractNotice struct {
	Customer string // the customer's name
	Tier     string // the tier's label, "Premium"
	End      string // the contract's last day, YYYY-MM-DD
	DaysLeft int    // days from today to End: 60 ... 1, 0 on the last day, negative when late
	SoldBy   string // the partner that sold it, "" for direct
}

// RiskDigest lists a customer's hosts (and assets) whose installs are not
// eligible for support.
type RiskDigest struct {
	Customer string // the customer's name
	Week     string // ISO week, "2026-W03"
	Hosts    []RiskHost
	More     int // hosts not listed (the list is bounded)
}

// Total is how many hosts and assets the digest is about, listed or not.
func (d *RiskDigest) Total() int { return len(d.Hosts) + d.More }

// Noun names what the digest lists, for its subject and first sentence:
// "host", "hosts", "asset", "assets" or "hosts and assets".
func (d *RiskDigest) Noun() string {
	hosts, assets := false, false
	for _, h := range d.Hosts {
		if h.Kind == KindAssetHost {
			assets = true
		} else {
			hosts = true
		}
	}
	switch {
	case hosts && assets:
		return "hosts and assets"
	case assets && d.Total() == 1:
		return "asset"
	case assets:
		return "assets"
	case d.Total() == 1:
		return "host"
	}
	return "hosts"
}

// KindAssetHost is RiskHost.Kind for an asset (a container image or build
// artefact registered by its SBOM).
const KindAssetHost = "asset"

// RiskHost is one host (or asset) of a RiskDigest.
type RiskHost struct {
	Hostname string
	HostID   string
	Kind     string // KindAssetHost for an asset, else a host
	Installs []RiskInstall
}

// RiskInstall is one install that is not eligible for support.
type RiskInstall struct {
	Product   string
	Version   string // the version judged
	Installed string // as installed
	Status    string // eol, unknown-version, unknown-product, patch-overdue
	UpgradeTo string
	Reason    string
}

// maxRecipients bounds a direct message's recipients.
const maxRecipients = 100

// Validate reports the first problem with m, naming the field.
func (m DirectMail) Validate() error {
	switch m.Kind {
	case KindContract:
		if m.Contract == nil || m.Risk != nil {
			return errors.New("direct mail: a contract message carries Contract only")
		}
		if m.Contract.Customer == "" || m.Contract.End == "" {
			return errors.New("direct mail: contract: customer and end are required")
		}
	case KindRisk:
		if m.Risk == nil || m.Contract != nil {
			return errors.New("direct mail: a risk message carries Risk only")
		}
		if m.Risk.Customer == "" || len(m.Risk.Hosts) == 0 {
			return errors.New("direct mail: risk: customer and hosts are required")
		}
	default:
		return fmt.Errorf("direct mail: kind %q is not %s or %s", m.Kind, KindContract, KindRisk)
	}
	if m.Key == "" || len(m.Key) > 200 || strings.ContainsAny(m.Key, "\r\n") {
		return errors.New("direct mail: key is empty, too long or holds a line break")
	}
	if len(m.To) == 0 || len(m.To) > maxRecipients {
		return fmt.Errorf("direct mail: %d recipients, want 1 to %d", len(m.To), maxRecipients)
	}
	for i, a := range m.To {
		p, err := mail.ParseAddress(a)
		if err != nil || p.Address != a || strings.ContainsAny(a, "\r\n") {
			return fmt.Errorf("direct mail: to[%d] %q is not a bare email address", i, a)
		}
	}
	return nil
}
