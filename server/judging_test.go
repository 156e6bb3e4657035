package server

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
)

// TestJudgingLead: of servers with different judging settings on one
// database, the one that claimed last leads; the others do not, until no
// server with the leading settings has been heard of for judgingTimeout,
// when the next one asked takes the lead (a stopped or dead leader does not
// leave the fleet without re-evaluation). Servers with the same settings
// all lead. The settings name the catalog and every policy field.
func TestJudgingLead(t *testing.T) {
	ctx := context.Background()
	st := newTestEnv(t).st
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := catalog.DefaultPolicy()
	keyOld, keyNew := judgingKey("old", p), judgingKey("new", p)
	oldA, err := claimJudging(ctx, st, keyOld, clock, log)
	if err != nil {
		t.Fatal(err)
	}
	oldB, _ := claimJudging(ctx, st, keyOld, clock, log)
	lead := func(name string, f func(context.Context) (bool, string, error), want bool) {
		t.Helper()
		if got, leader, err := f(ctx); err != nil || got != want {
			t.Errorf("%s leads = %v (leader %q), %v; want %v", name, got, leader, err, want)
		}
	}
	lead("old a", oldA, true)
	lead("old b, same settings", oldB, true)
	newC, _ := claimJudging(ctx, st, keyNew, clock, log)
	lead("new c, started last", newC, true)
	lead("old a", oldA, false)
	now = now.Add(judgingTimeout - time.Second)
	lead("new c", newC, true) // heard of: the clock starts again
	now = now.Add(judgingTimeout - time.Second)
	lead("old a while new c was heard of lately", oldA, false)
	now = now.Add(2 * time.Second)
	lead("old a once new c went unheard of", oldA, true)
	lead("old b, same settings as a", oldB, true)
	lead("new c, back", newC, false)

	for _, tc := range []struct {
		name string
		mod  func(*catalog.Policy)
	}{
		{"warn days", func(p *catalog.Policy) { p.WarnDays++ }},
		{"grace days", func(p *catalog.Policy) { p.GraceDays++ }},
		{"extended support", func(p *catalog.Policy) { p.ExtendedSupport = catalog.ExtendedAll }},
		{"extended support for a product", func(p *catalog.Policy) { p.ExtendedSupportFor = map[string]string{"ubuntu": "all"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := catalog.DefaultPolicy()
			tc.mod(&q)
			if judgingKey("c", q) == judgingKey("c", catalog.DefaultPolicy()) {
				t.Errorf("judgingKey does not change with the %s", tc.name)
			}
		})
	}
}
