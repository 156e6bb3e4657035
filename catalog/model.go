package catalog

import (
	"fmt"
	"strings"
	"time"
)

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
	SchemeAPK     Scheme = "apk"     // 1.36.1-r29, 3.0.15_p1-r0 (Alpine's apk-tools rules)
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
	// Date is the day this product's data was taken (the endoflife.date
	// snapshot date, an API response's generated_at, a file's `date`); the
	// zero Date when the data carries none. Verdicts report it as catalog_date.
	Date Date
	// Extended describes the extended-support programme behind the
	// cycles' eoes dates; nil means the built-in table (see ProgrammeOf) decides,
	// and a product it does not list has a paid programme.
	Extended *Programme
}

// Policy is the customer-facing support policy applied by Evaluate and
// EvaluateIn. A Policy whose WarnDays and GraceDays are both zero gets the
// default 90 and 30 days (so the zero Policy is DefaultPolicy()).
type Policy struct {
	// WarnDays is the window before end of life in which status is eol-soon (default 90).
	WarnDays int
	// GraceDays is how long after a newer patch appears the install may stay
	// on the older patch before it is patch-overdue (default 30).
	GraceDays int
	// ExtendedSupport says which extended-support programmes (a cycle's
	// eoes phase) keep a cycle supported after its regular end of life:
	//   - "free" (ExtendedFree, also the empty string, the default): a free
	//     programme shipped through the normal archive (Debian LTS) counts;
	//     a paid one (Ubuntu Pro ESM, RHEL ELS, a vendor's paid extension)
	//     counts only for a host that reports being enrolled in it
	//     (Context.Enrolled);
	//   - "all" (ExtendedAll): every programme counts, enrolled or not;
	//   - "none" (ExtendedNone): none counts, the regular end of life is final.
	// Whether it counts or not, the extended phase is reported as phase "extended".
	ExtendedSupport string
	// ExtendedSupportFor overrides ExtendedSupport for single products, by
	// catalog product id ("ubuntu": "all"). Values as for ExtendedSupport.
	ExtendedSupportFor map[string]string
}

// Values of Policy.ExtendedSupport.
const (
	ExtendedFree = "free"
	ExtendedAll  = "all"
	ExtendedNone = "none"
)

// DefaultPolicy returns the policy used when none is configured: a 90-day
// warning window, a 30-day patch grace period, and free extended support
// (Debian LTS) counting while paid programmes count only for enrolled hosts.
func DefaultPolicy() Policy {
	return Policy{WarnDays: 90, GraceDays: 30, ExtendedSupport: ExtendedFree}
}

// Validate reports the first setting of p that is not valid, naming it.
func (p Policy) Validate() error {
	if p.WarnDays < 0 {
		return fmt.Errorf("warn days %d: must not be negative", p.WarnDays)
	}
	if p.GraceDays < 0 {
		return fmt.Errorf("grace days %d: must not be negative", p.GraceDays)
	}
	if !validExtended(p.ExtendedSupport) {
		return fmt.Errorf("extended support %q: want free, all or none", p.ExtendedSupport)
	}
	for id, m := range p.ExtendedSupportFor {
		if !validExtended(m) || m == "" {
			return fmt.Errorf("extended support for %s: %q: want free, all or none", id, m)
		}
	}
	return nil
}

// ParseExtendedFor reads extended-support settings for single products
// (Policy.ExtendedSupportFor) from s into m: PRODUCT=MODE, several
// separated by commas ("ubuntu=all,rhel=none", as an environment variable
// gives them), the product id lower-cased, MODE free, all or none. A later
// setting of a product replaces an earlier one. Every command line and
// configuration setting of --extended-support-for reads its value here.
func ParseExtendedFor(s string, m map[string]string) error {
	for _, one := range strings.Split(s, ",") {
		if one = strings.TrimSpace(one); one == "" {
			continue
		}
		id, mode, ok := strings.Cut(one, "=")
		id, mode = strings.ToLower(strings.TrimSpace(id)), strings.TrimSpace(mode)
		if !ok || id == "" {
			return fmt.Errorf("want PRODUCT=free|all|none, got %q", one)
		}
		if mode == "" || !validExtended(mode) {
			return fmt.Errorf("%s: want free, all or none, got %q", id, mode)
		}
		m[id] = mode
	}
	return nil
}

func validExtended(m string) bool {
	return m == "" || m == ExtendedFree || m == ExtendedAll || m == ExtendedNone
}

// IsZero reports whether p is the zero Policy, which every evaluation
// treats as DefaultPolicy (Policy is not comparable with ==: it holds a map).
func (p Policy) IsZero() bool {
	return p.WarnDays == 0 && p.GraceDays == 0 && p.ExtendedSupport == "" && len(p.ExtendedSupportFor) == 0
}

// normalised returns p with the defaults filled in.
func (p Policy) normalised() Policy {
	if p.WarnDays == 0 && p.GraceDays == 0 {
		p.WarnDays, p.GraceDays = 90, 30
	}
	if p.ExtendedSupport == "" {
		p.ExtendedSupport = ExtendedFree
	}
	return p
}

// extendedMode returns the extended-support setting that applies to product id.
func (p *Policy) extendedMode(id string) string {
	if len(p.ExtendedSupportFor) > 0 {
		if m, ok := p.ExtendedSupportFor[id]; ok && m != "" {
			return m
		}
	}
	return p.ExtendedSupport
}

// Context is what EvaluateIn knows about where an install came from and
// the host it is on. The zero Context means an upstream install on a host
// enrolled in nothing: EvaluateIn then answers exactly as Evaluate.
type Context struct {
	// Distro is the catalog product id of the distribution whose own archive
	// the package was installed from ("debian", "ubuntu", "rhel",
	// "alpine-linux"); empty for software from the vendor or a third-party
	// repository (NodeSource, PGDG, Docker) or installed by hand, which is
	// judged upstream.
	Distro string
	// DistroRelease is the release of that distribution the host runs, as a
	// cycle of the Distro product ("12", "22.04", "9", "3.20"; a point
	// release such as "12.8" finds its cycle too).
	DistroRelease string
	// Installed is the full installed package version ("5.36.0-7+deb12u1").
	Installed string
	// Candidate is the version the host's package manager would install
	// (apt's Candidate); empty when unknown.
	Candidate string
	// CandidateSeen is when Candidate was first seen for this host (the
	// patch grace period runs from it); zero when unknown.
	CandidateSeen time.Time
	// Package is, when the product is the distribution itself (the host's
	// OS), the name of the release package Installed and Candidate are
	// versions of ("base-files", "redhat-release", "rocky-release"); empty
	// means the first of ReleasePackages(Distro). It only names the package
	// in the reason.
	Package string
	// Enrolled lists the paid extended-support programmes the host is
	// enrolled in, by the ids of Programme.Enrolment; the ids agents report
	// in api.HostInfo.ExtendedSupport ("ubuntu-esm-infra", "ubuntu-esm-apps",
	// "rhel-els") are among them. Matched without regard to case.
	Enrolled []string
}

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

// Values of Verdict.Maintainer besides a distribution's product id.
const MaintainerUpstream = "upstream"

// Verdict is the answer to "is this installed version still supported?".
// Its JSON form is part of the eolwatch contracts (catalog evaluate, the API).
// The verdicts this package returns always have a non-nil Warnings, so it
// is [] in JSON when empty; code that builds a Verdict itself should do the same.
type Verdict struct {
	Product string `json:"product"`
	Version string `json:"version"`
	Support string `json:"support"`
	Phase   string `json:"phase"`
	Patch   string `json:"patch"`
	Status  string `json:"status"`
	Cycle   string `json:"cycle,omitempty"`
	Latest  string `json:"latest,omitempty"`
	// EOL is the last day of support that applies, "YYYY-MM-DD" (the cycle's
	// end of life, or the end of its extended support when the policy counts
	// it; for a distribution's package, the end of the distribution release's
	// support), or true/false when the data has no date; nil when no cycle.
	EOL       any    `json:"eol"`
	DaysToEOL *int   `json:"days_to_eol"`
	UpgradeTo string `json:"upgrade_to,omitempty"`
	Newest    string `json:"newest,omitempty"`
	Reason    string `json:"reason"`
	// Maintainer is whose support the verdict follows: "upstream" (the
	// product's own lifecycle) or the product id of the distribution whose
	// archive the package came from ("debian").
	Maintainer string `json:"maintainer"`
	// MaintainerRelease is the distribution release for a distribution's
	// package ("12"); empty for upstream verdicts.
	MaintainerRelease string `json:"maintainer_release,omitempty"`
	// Installed and Candidate are the package versions a distribution
	// verdict was judged on (Context.Installed, Context.Candidate).
	Installed string `json:"installed,omitempty"`
	Candidate string `json:"candidate,omitempty"`
	// CatalogDate is the day the catalog data behind the verdict was taken,
	// "YYYY-MM-DD" (the older of the two products' for a distribution
	// verdict; the catalog's oldest for an unknown product); empty when the
	// data carries no date.
	CatalogDate string `json:"catalog_date"`
	// Warnings are sentences the reader should see besides the reason: the
	// catalog data's age when the verdict's day is more than 30 days after
	// CatalogDate ("The catalog data is 101 days old ..."), an end of life
	// within the warning window that the status does not show, a context
	// that could not be used. The slice may be shared: do not modify it.
	Warnings []string `json:"warnings"`
	// Upstream is, for a distribution's package, the verdict the product
	// would get upstream (kept as context); nil otherwise.
	Upstream *Verdict `json:"upstream,omitempty"`
}

// noWarnings is the empty, non-nil warning list verdicts start with.
var noWarnings = []string{}

// EOLWords spells an end-of-phase value the way the catalog's JSON carries
// it (Verdict.EOL; a cycle's eoas, eol and eoes: a date, true, false or
// nothing) for a table people read: the date, "ended" (ended, no date
// known), "no date" (no end date yet) or "-" (none).
func EOLWords(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case bool:
		if x {
			return "ended"
		}
		return "no date"
	case string:
		return x
	}
	return fmt.Sprint(v)
}
