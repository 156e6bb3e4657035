package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/contract"
	"github.com/eolwatch/eolwatch/server/store"
)

// Mailer queues direct mail in the notifier's outbox. notifier.Service
// implements it; queuing a message whose Key was queued before adds
// nothing (the outbox dedupes per key and recipient).
type Mailer interface {
	QueueDirect(ctx context.Context, m events.DirectMail) (int, error)
}

// Kinds of customer mail recorded by the store (with a period: the
// contract's last day, or the ISO week of a risk digest).
const (
	mailRisk = "risk-digest"
)

// maxRiskHosts bounds the hosts listed in one risk digest.
const maxRiskHosts = 200

// ContractMail queues the customer mail due now and returns how many
// messages it queued (one per recipient):
//
//   - for a contract that does not renew, a notice from 60 days before its
//     last day, and another from its last day (contract.NoticeDue), each
//     once per end date;
//   - each week, from RiskWeekday at RiskHour UTC, a digest of the
//     customer's hosts whose installs are not eligible for support (none
//     for a week without such a host).
//
// Recipients are the customer's contacts and AdminEmails. Each mail is
// queued in the notifier's outbox first (its dedupe key makes a second
// queuing a no-op), then recorded in the store, so a restart at any point
// neither loses nor repeats one. Run calls it every 10 minutes.
func (s *Service) ContractMail(ctx context.Context) (int, error) {
	if s.cfg.Mailer == nil || s.cfg.Customers == nil {
		return 0, nil
	}
	list, err := s.cfg.Customers.ListCustomers(ctx)
	if err != nil {
		return 0, err
	}
	now := s.cfg.Now()
	queued := 0
	var errs []error
	for _, c := range list {
		n, err := s.customerMail(ctx, c, now)
		queued += n
		if err != nil {
			errs = append(errs, fmt.Errorf("customer %s (%s): %w", c.Name, c.ID, err))
		}
	}
	if queued > 0 {
		s.log.Info("contract and risk mail queued", "messages", queued)
	}
	return queued, errors.Join(errs...)
}

// customerMail queues the mail of one customer that is due at now.
func (s *Service) customerMail(ctx context.Context, c api.Customer, now time.Time) (int, error) {
	k, err := contract.New(c.CustomerSpec, contract.Tiers)
	if err != nil {
		return 0, err
	}
	to := recipients(c.Contacts, s.cfg.AdminEmails)
	if len(to) == 0 {
		return 0, nil
	}
	queued := 0
	if n, ok := k.NoticeDue(k.Today(now)); ok {
		m := events.DirectMail{Kind: events.KindContract, Key: "contract:" + c.ID + ":" + n.Kind + ":" + n.End.String(), To: to,
			Contract: &events.ContractNotice{Customer: c.Name, Tier: k.Tier.Label, End: n.End.String(), DaysLeft: n.DaysLeft, SoldBy: c.SoldBy}}
		q, err := s.mailOnce(ctx, c.ID, n.Kind, n.End.String(), m)
		if err != nil {
			return queued, err
		}
		queued += q
	}
	week, due := RiskWeek(now, s.cfg.RiskWeekday, s.cfg.RiskHour)
	if !due {
		return queued, nil
	}
	sent, err := s.cfg.Customers.CustomerMailSent(ctx, c.ID, mailRisk, week)
	if err != nil || sent {
		return queued, err
	}
	d, err := s.riskDigest(ctx, c, week)
	if err != nil {
		return queued, err
	}
	if len(d.Hosts) == 0 { // nothing at risk this week: record the week, send nothing
		return queued, s.cfg.Customers.MarkCustomerMail(ctx, c.ID, mailRisk, week, 0)
	}
	q, err := s.mailOnce(ctx, c.ID, mailRisk, week, events.DirectMail{Kind: events.KindRisk, Key: "risk:" + c.ID + ":" + week, To: to, Risk: d})
	return queued + q, err
}

// mailOnce queues m unless the store records the mail (kind, period) of
// the customer, then records it.
func (s *Service) mailOnce(ctx context.Context, customerID, kind, period string, m events.DirectMail) (int, error) {
	sent, err := s.cfg.Customers.CustomerMailSent(ctx, customerID, kind, period)
	if err != nil || sent {
		return 0, err
	}
	n, err := s.cfg.Mailer.QueueDirect(ctx, m)
	if err != nil {
		return 0, err
	}
	return n, s.cfg.Customers.MarkCustomerMail(ctx, customerID, kind, period, len(m.To))
}

// riskDigest lists the customer's hosts with installs that are not
// eligible for support, by hostname (at most maxRiskHosts; More counts the rest).
func (s *Service) riskDigest(ctx context.Context, c api.Customer, week string) (*events.RiskDigest, error) {
	d := &events.RiskDigest{Customer: c.Name, Week: week}
	last, skipping := "", false
	err := s.cfg.Customers.EachNonCompliant(ctx, store.Scope{Customer: c.ID}, func(n store.NonCompliantInstall) error {
		if n.HostID != last { // installs come by host
			last = n.HostID
			skipping = len(d.Hosts) == maxRiskHosts
			if skipping {
				d.More++
			} else {
				rh := events.RiskHost{Hostname: n.Hostname, HostID: n.HostID}
				if n.Kind == api.KindAsset {
					rh.Kind = events.KindAssetHost
				}
				d.Hosts = append(d.Hosts, rh)
			}
		}
		if skipping {
			return nil
		}
		h := &d.Hosts[len(d.Hosts)-1]
		h.Installs = append(h.Installs, events.RiskInstall{Product: n.Product, Version: n.Version, Installed: n.Installed,
			Status: n.Status, UpgradeTo: n.UpgradeTo, Reason: CleanText(n.Reason, 500)})
		return nil
	})
	return d, err
}

// RiskWeek returns the ISO week of t ("2026-W03") and whether that week's
// risk digests are due at t: from weekday at hour:00 UTC of the week
// (ISO weeks start on Monday; Sunday is their last day).
func RiskWeek(t time.Time, weekday time.Weekday, hour int) (string, bool) {
	t = t.UTC()
	y, w := t.ISOWeek()
	monday := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
	due := monday.AddDate(0, 0, (int(weekday)+6)%7).Add(time.Duration(hour) * time.Hour)
	return fmt.Sprintf("%04d-W%02d", y, w), !t.Before(due)
}

// recipients merges the customer's contacts and the admins, without
// duplicates (ignoring case).
func recipients(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, a := range l {
			if a != "" && !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, a) }) {
				out = append(out, a)
			}
		}
	}
	return out
}
