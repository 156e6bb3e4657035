package notifier

import (
	"context"
	"fmt"

	"github.com/eolwatch/eolwatch/notifier/events"
)

// QueueDirect queues a message to named recipients (a customer's contract
// notice or weekly risk digest, built by the domain service): rendered once,
// one outbox row per recipient, sent like any other mail. The dedupe key of
// each row is m.Key and the recipient, so queuing the same message again,
// after a restart for instance, adds nothing. It returns how many rows it
// added.
func (s *Service) QueueDirect(ctx context.Context, m events.DirectMail) (int, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	d := msgData{Contract: m.Contract, Risk: m.Risk, PublicURL: s.cfg.PublicURL}
	parts, err := renderParts(m.Kind, d)
	if err != nil {
		return 0, err
	}
	now := s.now()
	added := 0
	err = s.db.inTx(ctx, "queue direct mail", func(t *storeTx) error {
		added = 0
		keys := make([]string, len(m.To))
		for i, to := range m.To {
			keys[i] = m.Key + ":" + to
		}
		have, err := t.outboxKeys(ctx, keys)
		if err != nil {
			return err
		}
		if len(have) == len(keys) {
			return nil // every recipient has it: no body to store
		}
		body, err := t.insertBody(ctx, m.Kind, parts, now)
		if err != nil {
			return err
		}
		for i, to := range m.To {
			if have[keys[i]] {
				continue
			}
			ok, err := t.insertOutboxOnce(ctx, queued{Key: keys[i], Kind: m.Kind, To: to, BodyID: body, MessageID: s.newMessageID(m.Kind)}, now)
			if err != nil {
				return err
			}
			if ok {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("queue %s mail: %w", m.Kind, err)
	}
	if added > 0 {
		s.log.Info("direct mail queued", "kind", m.Kind, "key", m.Key, "recipients", added)
		s.Kick()
	}
	return added, nil
}
