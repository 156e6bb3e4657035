package catalog

import "strconv"

// ageDays is how many days after the product's data was taken day d is
// (0 when the data has no date).
func (ix *prodIndex) ageDays(d int32) int {
	if ix.dateDay == noDay {
		return 0
	}
	return int(d - ix.dateDay)
}

// ageWarnings returns the verdict warnings about the age of the product's
// data on day d: none while it is at most StaleAfterDays old. Memoised
// for the last day asked; the slice is shared.
func (ix *prodIndex) ageWarnings(d int32) []string {
	if ix.dateDay == noDay || d-ix.dateDay <= StaleAfterDays {
		return noWarnings
	}
	if m := ix.ageMemo.Load(); m != nil && m.day == d {
		return m.warnings
	}
	w := []string{ageWarning(ix.date, d)}
	ix.ageMemo.Store(&warnMemo{day: d, warnings: w})
	return w
}

// ageWarning is the sentence naming the catalog data's age on day d.
func ageWarning(taken Date, d int32) string {
	return "The catalog data is " + strconv.Itoa(int(d-taken.day())) + " days old (taken on " + taken.String() +
		"); releases and end-of-life changes since then are not known."
}

// dateStr is the catalog's date (Info.Date) as YYYY-MM-DD, "" when unknown.
func (c *Catalog) dateStr() string { return c.info.Date.String() }

// ageWarnings is ageWarnings for the whole catalog (unknown products).
func (c *Catalog) ageWarnings(d int32) []string {
	taken := c.info.Date
	if taken.IsZero() || d-taken.day() <= StaleAfterDays {
		return noWarnings
	}
	if m := c.ageMemo.Load(); m != nil && m.day == d {
		return m.warnings
	}
	w := []string{ageWarning(taken, d)}
	c.ageMemo.Store(&warnMemo{day: d, warnings: w})
	return w
}
