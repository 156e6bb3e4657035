package catalog

import (
	"encoding/json"
	"fmt"
	"time"
)

// DateLayout is the only accepted spelling of a date in catalog data.
const DateLayout = "2006-01-02"

// ParseDate parses a YYYY-MM-DD date strictly (no time, no zone).
func ParseDate(s string) (Date, error) {
	if len(s) != len(DateLayout) {
		return Date{}, fmt.Errorf("bad date %q: want YYYY-MM-DD", s)
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("bad date %q: want a real YYYY-MM-DD day", s)
	}
	return Date{t}, nil
}

// DateOf returns the calendar day of t in UTC.
func DateOf(t time.Time) Date {
	if t.IsZero() {
		return Date{}
	}
	y, m, d := t.UTC().Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// String returns YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(DateLayout)
}

// day returns the number of days since 1970-01-01 (for cheap comparisons).
func (d Date) day() int32 {
	if d.IsZero() {
		return noDay
	}
	return int32(d.Unix() / 86400)
}

// noDay marks a missing date in day numbers.
const noDay int32 = -1 << 31

func dayOf(t time.Time) int32 {
	return int32(t.UTC().Unix() / 86400)
}

func dayString(d int32) string {
	return time.Unix(int64(d)*86400, 0).UTC().Format(DateLayout)
}

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date must be a \"YYYY-MM-DD\" string, got %s", b)
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Value returns the milestone in its endoflife.date form: "YYYY-MM-DD",
// true or false; nil when the milestone is not set.
func (m Milestone) Value() any {
	switch {
	case !m.Set:
		return nil
	case !m.Date.IsZero():
		return m.Date.String()
	default:
		return m.Ended
	}
}

// endedBy reports whether the phase is over on day d: a dated milestone
// ends on the day after its date.
func (m Milestone) endedBy(d int32) bool {
	if !m.Set {
		return false
	}
	if !m.Date.IsZero() {
		return d > m.Date.day()
	}
	return m.Ended
}

// MarshalJSON writes the endoflife.date form (date string or boolean).
func (m Milestone) MarshalJSON() ([]byte, error) { return json.Marshal(m.Value()) }
