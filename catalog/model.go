package catalog

import "time"

// Scheme names a version scheme: how a product's versions are parsed,
// ordered and mapped to release cycles.
type Scheme string

// The version schemes the catalog knows.
const (
	SchemeAuto    Scheme = ""        // pick per version: semver-like, dotted, letter suffix, java...
	SchemeSemver  Scheme = "semver"  // Masterminds/semver/v3 for the semver-like ones
	SchemeDotted  Scheme = "dotted"  // any number of numeric components, optional letter suffix (1.1.1w, 10.0.19045.3693)
	SchemeJava    Scheme = "java"    // 8u392-b08, 17.0.9+9, jdk-21.0.1
	SchemeDebian  Scheme = "debian"  // 1:2.39.5-0+deb12u3 (epoch, revision, ~)
	SchemeRPM     Scheme = "rpm"     // 1:2.4.57-5.el9 (epoch, rpmvercmp)
	SchemeCalver  Scheme = "calver"  // 2024.1, 2022 SU3, 2022.3.1
	SchemeWindows Scheme = "windows" // 10.0.26100.2314: mapped to a release by its build number
)

// Date is a calendar day in UTC (time at midnight). The zero Date means "no date".
type Date struct{ time.Time }

// Milestone is an end-of-phase value from endoflife.date conventions: a date
// (the phase ends after that day), or, when Date is zero, Ended=true (ended,
// date unknown) or Ended=false (not ended / no end date yet). Set reports
// whether the field was present at all.
type Milestone struct {
	Set   bool
	Date  Date
	Ended bool
}

// Identifier is an external identifier of a product (purl, cpe, repology).
type Identifier struct {
	Type string `json:"type" yaml:"type"`
	ID   string `json:"id" yaml:"id"`
}

// Release is one individual, dated release (a patch) inside a cycle.
type Release struct {
	Version string
	Date    Date
}

// Cycle is a release line of a product (Python 3.12, Ubuntu 22.04).
type Cycle struct {
	Name        string // unique per product, e.g. "3.12", "11-24h2-e"
	Label       string // display label when it differs from Name
	Codename    string
	ReleaseDate Date
	EOAS        Milestone // end of active support (does not end support)
	EOL         Milestone // end of life (security support)
	EOES        Milestone // end of extended / paid support
	LTS         bool
	LTSFrom     Date   // LTS from this date, when given as a date
	Latest      string // newest patch of this cycle, as spelled by the vendor
	LatestDate  Date
	Releases    []Release // dated releases in this cycle, newest first (may be empty)
}

// Product is a piece of software or an OS that has release cycles.
type Product struct {
	ID          string // endoflife.date API id, e.g. "python"
	Label       string // "Python"
	Category    string // os | lang | framework | database | server-app | app | service | device | standard
	Aliases     []string
	Identifiers []Identifier
	Scheme      Scheme
	Cycles      []*Cycle // newest first
	Source      string   // where this product's data came from (file name or "endoflife.date")
}

// Policy is the customer-facing support policy applied by Evaluate.
type Policy struct {
	// WarnDays is the window before end of life in which status is eol-soon (default 90).
	WarnDays int
	// GraceDays is how long after a newer patch appears the install may stay
	// on the older patch before it is patch-overdue (default 30).
	GraceDays int
}

// DefaultPolicy returns the policy used when none is configured: a 90-day
// warning window and a 30-day patch grace period.
func DefaultPolicy() Policy { return Policy{WarnDays: 90, GraceDays: 30} }

// Values of Verdict.Support.
const (
	SupportSupported      = "supported"
	SupportEOL            = "eol"
	SupportUnknownVersion = "unknown-version"
	SupportUnknownProduct = "unknown-product"
)

// Values of Verdict.Phase.
const (
	PhaseActive   = "active"
	PhaseSecurity = "security"
	PhaseExtended = "extended"
	PhaseEOL      = "eol"
	PhaseUnknown  = "unknown"
)

// Values of Verdict.Patch.
const (
	PatchCurrent   = "current"
	PatchAvailable = "available"
	PatchOverdue   = "overdue"
	PatchUnknown   = "unknown"
)

// Values of Verdict.Status, worst first; see StatusRank.
const (
	StatusEOL            = "eol"
	StatusUnknownVersion = "unknown-version"
	StatusUnknownProduct = "unknown-product"
	StatusPatchOverdue   = "patch-overdue"
	StatusEOLSoon        = "eol-soon"
	StatusPatchAvailable = "patch-available"
	StatusCurrent        = "current"
)

// Statuses lists every status, worst first.
var Statuses = []string{StatusEOL, StatusUnknownVersion, StatusUnknownProduct, StatusPatchOverdue, StatusEOLSoon, StatusPatchAvailable, StatusCurrent}

// StatusRank returns 0 for the worst status (eol) up to 6 for current, and 7 for an unknown string.
func StatusRank(s string) int {
	for i, v := range Statuses {
		if v == s {
			return i
		}
	}
	return len(Statuses)
}

// Verdict is the answer to "is this installed version still supported?".
// Its JSON form is part of the eolwatch contracts (catalog evaluate, the API).
type Verdict struct {
	Product string `json:"product"`
	Version string `json:"version"`
	Support string `json:"support"`
	Phase   string `json:"phase"`
	Patch   string `json:"patch"`
	Status  string `json:"status"`
	Cycle   string `json:"cycle,omitempty"`
	Latest  string `json:"latest,omitempty"`
	// EOL is the cycle's end-of-life date "YYYY-MM-DD", or true/false when the data has no date; nil when no cycle.
	EOL       any    `json:"eol"`
	DaysToEOL *int   `json:"days_to_eol"`
	UpgradeTo string `json:"upgrade_to,omitempty"`
	Newest    string `json:"newest,omitempty"`
	Reason    string `json:"reason"`
}
