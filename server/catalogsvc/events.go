package catalogsvc

import (
	"fmt"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier/events"
)

// EventsFor turns catalog differences into notifier events:
//
//   - a new release (catalog.ChangeRelease) → one "release" event with the
//     version, its date and link;
//   - a new cycle without a release change of its own → one "release"
//     event for the cycle's latest version (or the cycle name);
//   - a changed end of life (catalog.ChangeEOLDate) → one "eol" event:
//     Days 0 and "reached" in Reason when the new date has passed or the
//     cycle is marked ended; otherwise Days is the number of days left and
//     Reason says the date moved; a cycle whose end date was withdrawn
//     (eol: false) makes no event, since nothing is ending;
//   - a new product → no event (nobody subscribes to what they cannot name).
//
// link is the release-notes link of a published release ("" otherwise).
func EventsFor(changes []catalog.Change, cat *catalog.Catalog, link string, now time.Time) []events.Event {
	released := map[[2]string]bool{}
	for _, c := range changes {
		if c.Kind == catalog.ChangeRelease {
			released[[2]string{c.Product, c.Cycle}] = true
		}
	}
	today := day(now)
	var out []events.Event
	for _, c := range changes {
		switch c.Kind {
		case catalog.ChangeRelease:
			out = append(out, events.Event{Kind: events.KindRelease, Product: c.Product, Cycle: c.Cycle,
				Version: c.Version, Date: dateString(c.Date), Link: link,
				Reason: fmt.Sprintf("%s %s was released", c.Product, c.Version)})
		case catalog.ChangeCycle:
			if released[[2]string{c.Product, c.Cycle}] {
				continue
			}
			v := c.Version
			if v == "" {
				if cy := findCycle(cat, c.Product, c.Cycle); cy != nil {
					v = cy.Latest
				}
			}
			if v == "" {
				v = c.Cycle
			}
			out = append(out, events.Event{Kind: events.KindRelease, Product: c.Product, Cycle: c.Cycle,
				Version: v, Date: dateString(c.Date), Link: link,
				Reason: fmt.Sprintf("new release line %s %s", c.Product, c.Cycle)})
		case catalog.ChangeEOLDate:
			ev := events.Event{Kind: events.KindEOL, Product: c.Product, Cycle: c.Cycle}
			cy := findCycle(cat, c.Product, c.Cycle)
			switch {
			case cy == nil:
				continue
			case !cy.EOL.Date.IsZero():
				eol := day(cy.EOL.Date.Time)
				ev.Date = eol.Format(time.DateOnly)
				if today.After(eol) {
					ev.Reason = fmt.Sprintf("%s %s reached end of life: support ended after %s", c.Product, c.Cycle, ev.Date)
				} else {
					ev.Days = int(eol.Sub(today).Hours() / 24)
					ev.Reason = fmt.Sprintf("%s %s end of life is now %s, in %d days", c.Product, c.Cycle, ev.Date, ev.Days)
				}
			case cy.EOL.Ended:
				ev.Reason = fmt.Sprintf("%s %s reached end of life", c.Product, c.Cycle)
			default:
				// No end date any more: nothing is ending, and the eol
				// message (Days 0 = reached) would say the opposite.
				continue
			}
			out = append(out, ev)
		}
	}
	return out
}

func dateString(d catalog.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

func findCycle(cat *catalog.Catalog, product, cycle string) *catalog.Cycle {
	if cat == nil {
		return nil
	}
	p := cat.Product(product)
	if p == nil {
		return nil
	}
	for _, c := range p.Cycles {
		if c.Name == cycle {
			return c
		}
	}
	return nil
}
