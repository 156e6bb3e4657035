package store

import (
	"context"
	"fmt"
	"testing"
)

// TestSoftwareIDCacheBounded: the software id cache holds at most its
// bound, however many distinct items hosts report (an enrolled endpoint
// sending fresh junk in every report grew it, and the server's memory,
// without end: issue 13 item 1), and an item whose id was dropped from the
// cache still gets its row's id, not a new row; a restart warms at most the
// bound.
func TestSoftwareIDCacheBounded(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	st.swMax = 100
	h := enroll(t, st, "i1", "junk")
	first := map[string]int64{}
	for r := range 5 {
		var items []MatchedItem
		for i := range 60 {
			items = append(items, item(fmt.Sprintf("junk-%d-%d", r, i), "1.0", ""))
		}
		items = append(items, item("junk-0-0", "1.0", "")) // reported by every round
		if _, err := st.ApplyReport(ctx, full(h, fmt.Sprint("r", r), items...)); err != nil {
			t.Fatal(err)
		}
		if n := st.swCacheLen(); n > st.swMax {
			t.Errorf("round %d: software id cache holds %d ids, bound %d", r, n, st.swMax)
		}
		id := softwareID(t, st, "junk-0-0")
		if first["junk-0-0"] == 0 {
			first["junk-0-0"] = id
		} else if id != first["junk-0-0"] {
			t.Errorf("round %d: junk-0-0 has row %d, was %d", r, id, first["junk-0-0"])
		}
	}
	var rows int
	st.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM software WHERE name = 'junk-0-0'`).Scan(&rows)
	var links int
	st.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM host_software`).Scan(&links)
	if rows != 1 || links != 61 {
		t.Errorf("junk-0-0 has %d software rows (want 1); the host links %d items (want 61)", rows, links)
	}
	st.swIDs = map[swKey]int64{}
	if err := st.warmCache(ctx); err != nil {
		t.Fatal(err)
	}
	if n := st.swCacheLen(); n != st.swMax {
		t.Errorf("warm cache holds %d ids of 300 rows, want the bound %d", n, st.swMax)
	}
}
