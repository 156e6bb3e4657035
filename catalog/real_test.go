package catalog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// realCase is one line of testdata/real-verdicts.jsonl: a real version from
// the extract's releases.json, a date, and the verdict derived from the data
// by testdata/gen_real_verdicts.py (an independent re-implementation of the
// rules, not this package).
type realCase struct {
	Product   string  `json:"product"`
	Version   string  `json:"version"`
	AsOf      string  `json:"as_of"`
	Cycle     string  `json:"cycle"`
	Support   string  `json:"support"`
	Phase     string  `json:"phase"`
	Patch     string  `json:"patch"`
	Status    string  `json:"status"`
	Latest    string  `json:"latest"`
	EOL       any     `json:"eol"`
	DaysToEOL *int    `json:"days_to_eol"`
	UpgradeTo *string `json:"upgrade_to"`
	Newest    string  `json:"newest"`
}

// TestRealVersions evaluates over a thousand real versions of 41 products (Java spellings included) at
// dates around their release and end of life, and checks every verdict field.
func TestRealVersions(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/real-verdicts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, bad := 0, 0
	for sc.Scan() {
		var c realCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
		v := cat.Evaluate(c.Product, c.Version, day(c.AsOf), DefaultPolicy())
		got := fmt.Sprint(v.Cycle, " ", v.Support, " ", v.Phase, " ", v.Patch, " ", v.Status, " ", v.Latest, " ", v.EOL, " ", deref(v.DaysToEOL), " ", v.Newest)
		want := fmt.Sprint(c.Cycle, " ", c.Support, " ", c.Phase, " ", c.Patch, " ", c.Status, " ", c.Latest, " ", c.EOL, " ", deref(c.DaysToEOL), " ", c.Newest)
		if c.UpgradeTo != nil {
			got += " upgrade " + v.UpgradeTo
			want += " upgrade " + *c.UpgradeTo
		}
		if got != want {
			bad++
			if bad <= 25 {
				t.Errorf("Evaluate(%s, %q, %s):\n got cycle/support/phase/patch/status/latest/eol/days/newest %s\nwant %s\n(reason: %s)", c.Product, c.Version, c.AsOf, got, want, v.Reason)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 300 {
		t.Fatalf("only %d cases in testdata/real-verdicts.jsonl", n)
	}
	if bad > 0 {
		t.Errorf("%d of %d real verdicts differ", bad, n)
	}
}
