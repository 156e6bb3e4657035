package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// TestPrintEligibilityAligned: every "label: value" line of the eligibility
// answer, each one present, starts its value in the same column (the
// longest label, "end of life:", once set it one column off the others).
func TestPrintEligibilityAligned(t *testing.T) {
	days := -785
	e := api.Eligibility{
		Product: "python", Version: "3.8.10", Host: "web1", HostID: "h1",
		Status: "eol", Support: "ended", Phase: "eol", Patch: "behind",
		Cycle: "3.8", Latest: "3.8.20", EOL: "2024-10-07", DaysToEOL: &days, UpgradeTo: "3.13",
		Installed: "3.8.10-1", LastReportAt: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		Maintainer: "debian", MaintainerRelease: "11", Candidate: "3.8.10-2", Upstream: &api.Eligibility{Status: "eol"},
		Reason: "python 3.8 reached end of life", Warnings: []string{"catalog data is 40 days old", "second warning"},
		Installs: []api.Eligibility{{Version: "3.8.10", Status: "eol"}, {Version: "3.11.2", Status: "supported"}},
		AsOf:     "2026-12-01", CatalogDate: "2026-11-30",
	}
	var out bytes.Buffer
	printEligibility(&out, e)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if want := "NOT ELIGIBLE: python 3.8.10 on web1 (h1)"; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	labels := map[string]bool{}
	column := -1
	for _, l := range lines[1:] {
		label, value, ok := strings.Cut(strings.TrimPrefix(l, "  "), ": ")
		if !ok || !strings.HasPrefix(l, "  ") {
			t.Fatalf("line %q is not \"  label: value\"", l)
		}
		labels[label] = true
		// the value starts at its first non-blank after the label's colon
		col := len(l) - len(strings.TrimLeft(value, " "))
		if column == -1 {
			column = col
		} else if col != column {
			t.Errorf("value of %q starts in column %d, the first line's in %d:\n%s", label, col, column, out.String())
		}
	}
	for _, l := range eligibilityLabels {
		if !labels[l] {
			t.Errorf("no %q line in:\n%s", l, out.String())
		}
	}
	for _, want := range []string{
		"  end of life: 2024-10-07 (785 days ago)\n",
		"  status:      eol (support ended, phase eol, patch behind)\n",
		"  as of:       2026-12-01 (catalog data of 2026-11-30)\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no line %q in:\n%s", want, out.String())
		}
	}
}
