package contract

import (
	"fmt"
	"time"
)

// Day is a calendar day without a time zone: a date in a customer's own
// calendar (contract dates, holidays).
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDay parses YYYY-MM-DD, refusing impossible dates (2025-02-30).
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Day{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return DayOf(t), nil
}

// DayOf is the day t falls on in t's location.
func DayOf(t time.Time) Day {
	y, m, d := t.Date()
	return Day{y, m, d}
}

// IsZero reports whether d is the zero Day (no date).
func (d Day) IsZero() bool { return d == Day{} }

// String formats d as YYYY-MM-DD ("" for the zero Day).
func (d Day) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// midnightUTC is d at 00:00 UTC, for day arithmetic.
func (d Day) midnightUTC() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// AddDays returns d moved by n days.
func (d Day) AddDays(n int) Day { return DayOf(d.midnightUTC().AddDate(0, 0, n)) }

// AddYears returns the same day n years later; 29 February becomes 28
// February in a year without it (an anniversary never spills into March).
func (d Day) AddYears(n int) Day {
	y := d.Year + n
	last := time.Date(y, d.Month+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return Day{y, d.Month, min(d.Day, last)}
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Day) Compare(e Day) int { return d.midnightUTC().Compare(e.midnightUTC()) }

// Before reports whether d is before e.
func (d Day) Before(e Day) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Day) After(e Day) bool { return d.Compare(e) > 0 }

// Weekday is d's day of the week.
func (d Day) Weekday() time.Weekday { return d.midnightUTC().Weekday() }

// DaysUntil counts the days from d to e (negative when e is before d).
func (d Day) DaysUntil(e Day) int {
	return int(e.midnightUTC().Sub(d.midnightUTC()) / (24 * time.Hour)) // exact: UTC days are 24 h
}

// at is the instant of minute minutes after midnight on d in loc. A local
// time that a daylight-saving change skips (02:30 on a spring-forward
// night) resolves as the zone's clocks read it: with the offset in force
// before the change, so an hour (the gap) later, 03:30. time.Date alone
// does not promise this: west of Greenwich it picks the offset after the
// change, an hour earlier (01:30), which would open before the opening
// time.
func (d Day) at(minute int, loc *time.Location) time.Time {
	if minute >= 24*60 { // 24:00 closes at the next day's midnight
		return d.AddDays(1).at(minute-24*60, loc)
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, minute, 0, 0, loc)
	if l := t.In(loc); DayOf(l) == d && l.Hour()*60+l.Minute() == minute {
		return t // the local time exists
	}
	// Skipped: of the readings with the offsets in force around the
	// change, the latest.
	wall := time.Date(d.Year, d.Month, d.Day, 0, minute, 0, 0, time.UTC)
	best := t
	for _, probe := range []time.Time{t.Add(-26 * time.Hour), t.Add(26 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		if c := wall.Add(-time.Duration(off) * time.Second); c.After(best) {
			best = c
		}
	}
	return best
}
