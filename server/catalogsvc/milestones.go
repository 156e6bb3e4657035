package catalogsvc

import (
	"fmt"
	"sort"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier/events"
)

// WarnDays are the end-of-life warnings subscribers get, in days before the
// eol date; 0 stands for "reached" (the day after the eol date).
var WarnDays = []int{90, 30, 7}

// DefaultMilestoneWindow is how far back a due milestone is still sent: a
// server that was down for a few days catches up, but a first start does
// not announce every end of life in history.
const DefaultMilestoneWindow = 7 * 24 * time.Hour

// Milestone is an end-of-life milestone of a cycle that is due.
type Milestone struct {
	// Key is stable across runs and restarts: product, cycle, eol date and
	// days ("eol/python/3.9/2025-10-31/30"). A changed eol date makes new keys.
	Key     string `json:"key"`
	Product string `json:"product"`
	Cycle   string `json:"cycle"`
	EOL     string `json:"eol"`  // YYYY-MM-DD
	Days    int    `json:"days"` // 90, 30, 7 before eol; 0 = reached
	Due     string `json:"due"`  // the day it became due, YYYY-MM-DD
}

// Event is the notifier event announcing the milestone.
func (m Milestone) Event() events.Event {
	reason := fmt.Sprintf("%s %s reaches end of life on %s, in %d days", m.Product, m.Cycle, m.EOL, m.Days)
	if m.Days == 0 {
		reason = fmt.Sprintf("%s %s reached end of life: support ended after %s", m.Product, m.Cycle, m.EOL)
	}
	return events.Event{Kind: events.KindEOL, Product: m.Product, Cycle: m.Cycle, Date: m.EOL, Days: m.Days, Reason: reason}
}

// day truncates t to its UTC calendar day.
func day(t time.Time) time.Time {
	y, mo, d := t.UTC().Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

// Milestones lists the eol milestones of cat due on asOf: for each cycle
// with an eol date, the most recent of "90/30/7 days before" and "reached"
// (the day after the eol date, per endoflife.date) whose due day is on or
// before asOf. Only the most recent one per cycle is listed, so a cycle
// first seen 20 days before its eol gets the 30-day warning, not the 90-day
// one too; "reached" is listed only while its due day lies within
// (asOf-window, asOf], so a first start does not announce every end of life
// in history. The order is stable (product, cycle).
func Milestones(cat *catalog.Catalog, asOf time.Time, window time.Duration) []Milestone {
	if cat == nil {
		return nil
	}
	if window <= 0 {
		window = DefaultMilestoneWindow
	}
	today := day(asOf)
	oldest := today.Add(-window)
	var out []Milestone
	for _, p := range cat.Products() {
		for _, c := range p.Cycles {
			if !c.EOL.Set || c.EOL.Date.IsZero() {
				continue
			}
			eol := day(c.EOL.Date.Time)
			// Candidates from the latest to the earliest due day.
			type cand struct {
				days int
				due  time.Time
			}
			cands := []cand{{0, eol.AddDate(0, 0, 1)}}
			for _, d := range []int{7, 30, 90} {
				cands = append(cands, cand{d, eol.AddDate(0, 0, -d)})
			}
			for _, cd := range cands {
				if cd.due.After(today) {
					continue
				}
				if cd.days == 0 && !cd.due.After(oldest) {
					break // ended before the window: old news, nothing to send
				}
				e := eol.Format(time.DateOnly)
				out = append(out, Milestone{
					Key:     fmt.Sprintf("eol/%s/%s/%s/%d", p.ID, c.Name, e, cd.days),
					Product: p.ID, Cycle: c.Name, EOL: e, Days: cd.days, Due: cd.due.Format(time.DateOnly),
				})
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Product != out[j].Product {
			return out[i].Product < out[j].Product
		}
		return out[i].Cycle < out[j].Cycle
	})
	return out
}
