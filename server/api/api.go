// Package api holds the wire types of eolwatch's HTTP API, shared by the
// server and the agent. It imports only the standard library so the agent
// stays small and builds with CGO_ENABLED=0 everywhere.
package api

import (
	"fmt"
	"strconv"
	"time"
)

// Version is the path prefix of every API route.
const Version = "/api/v1"

// Routes used by agents.
const (
	PathEnroll = Version + "/enroll"
	PathReport = Version + "/report"
)

// Limits the server enforces and agents respect.
const (
	// MaxReportBytes bounds a report body after gzip decompression.
	MaxReportBytes = 32 << 20
	// MaxItems bounds the number of inventory items in one report.
	MaxItems = 100000
)

// HostInfo identifies an endpoint and its operating system. The InstallID
// is created by the agent at first enrollment and is the host's identity;
// the other IDs are hints (a cloned machine keeps its machine-id but gets a
// new InstallID, so clones never collapse into one host).
type HostInfo struct {
	InstallID    string `json:"install_id"`
	Hostname     string `json:"hostname"`
	MachineID    string `json:"machine_id,omitempty"`    // /etc/machine-id, MachineGuid or IOPlatformUUID
	HardwareUUID string `json:"hardware_uuid,omitempty"` // SMBIOS UUID when readable
	OS           string `json:"os"`                      // linux | windows | darwin
	Arch         string `json:"arch"`                    // amd64 | arm64 ...
	OSName       string `json:"os_name,omitempty"`       // "Debian GNU/Linux 12 (bookworm)", "Windows 11 Pro"
	OSID         string `json:"os_id,omitempty"`         // os-release ID: debian, ubuntu, rhel...; "windows"; "macos"
	OSVersion    string `json:"os_version,omitempty"`    // "12", "22.04", "23H2", "14.5"
	OSBuild      string `json:"os_build,omitempty"`      // Windows "10.0.22631.3296", macOS "23F79"
	Kernel       string `json:"kernel,omitempty"`
	AgentVersion string `json:"agent_version,omitempty"`
	// RepoDataDate is the newest publication date among the package
	// repository metadata cached on the host (apt's Release "Date:", dnf's
	// repomd revision, the APKINDEX build time): how fresh the host's view of
	// its repositories is, so "repository data on this host is N days old"
	// can be said. Zero when the host has no such data.
	RepoDataDate time.Time `json:"repo_data_date,omitzero"`
	// ExtendedSupport lists the paid extended-support programmes the host is
	// enrolled in: "ubuntu-esm-infra", "ubuntu-esm-apps" (Ubuntu Pro attached
	// with the service enabled), "debian-elts" (Freexian's Extended LTS
	// archive configured), "rhel-els" (an enabled RHEL ELS repository).
	ExtendedSupport []string `json:"extended_support,omitempty"`
}

// Extended-support programmes an agent may report in HostInfo.ExtendedSupport.
const (
	ExtUbuntuESMInfra = "ubuntu-esm-infra"
	ExtUbuntuESMApps  = "ubuntu-esm-apps"
	ExtDebianELTS     = "debian-elts"
	ExtRHELELS        = "rhel-els"
)

// Item is one installed piece of software as an agent saw it.
type Item struct {
	Source    string `json:"source"`               // dpkg | rpm | apk | os | windows-registry | macos-app | probe
	Name      string `json:"name"`                 // package name, DisplayName, bundle name, probe name
	Version   string `json:"version"`              // exactly as the source spells it
	Arch      string `json:"arch,omitempty"`       // package architecture
	SourcePkg string `json:"source_pkg,omitempty"` // dpkg/rpm source package
	Publisher string `json:"publisher,omitempty"`  // Windows publisher, macOS bundle id vendor
	BundleID  string `json:"bundle_id,omitempty"`  // macOS bundle identifier
	Product   string `json:"product,omitempty"`    // catalog product hint (probes may name it)
	// Origin is who publishes the repository that offers the installed
	// version, lower-cased: apt's Release "Origin:" ("debian", "ubuntu",
	// ". nodistro" for NodeSource), the rpm Vendor tag ("red hat, inc."),
	// "alpine" for Alpine's repositories. Empty when no configured
	// repository offers the installed version (installed by hand, or from a
	// repository since removed) or the agent could not tell.
	Origin string `json:"origin,omitempty"`
	// Suite is the repository that offers the installed version: apt's
	// Codename ("bookworm-security"), the dnf repository id ("baseos"), the
	// Alpine branch/repository ("v3.20/main").
	Suite string `json:"suite,omitempty"`
	// Candidate is the version the host's package manager would install
	// (apt-cache policy's "Candidate:"); equal to Version when the package
	// is up to date. Empty when the agent could not read the repository data.
	Candidate string `json:"candidate,omitempty"`
	// CandidateOrigin and CandidateSuite say where Candidate comes from when
	// it differs from Version: "debian" and "bookworm-security" say the
	// update is a Debian security update. They also tell a package whose
	// installed version the archive no longer offers (superseded by an
	// update the host has not installed) from one installed by hand.
	CandidateOrigin string `json:"candidate_origin,omitempty"`
	CandidateSuite  string `json:"candidate_suite,omitempty"`
	// Section is the package's section as its package manager files it
	// (dpkg "libs", "debug", "doc", "oldlibs", "contrib/net"); the matcher
	// reads a debug, documentation or transitional package from it.
	Section string `json:"section,omitempty"`
	// Summary is the package's one-line description ("transitional dummy
	// package", "debug symbols for nginx"); the matcher reads roles from it.
	Summary string `json:"summary,omitempty"`
}

// CollectorError reports a collector that failed or timed out, so failures
// are visible on the server rather than silently shrinking the inventory.
type CollectorError struct {
	Collector string `json:"collector"`
	Error     string `json:"error"`
}

// EnrollRequest is the body of POST /api/v1/enroll.
type EnrollRequest struct {
	EnrollSecret string   `json:"enroll_secret"`
	Host         HostInfo `json:"host"`
	// NodeKey is the agent's previous node key, when it has one: the proof
	// that lets a host that is already enrolled (same install id) enroll
	// again at once. Without it, enrolling a known install id only asks an
	// admin to approve (EnrollPending).
	NodeKey string `json:"node_key,omitempty"`
}

// Enrollment states (EnrollResponse.Status).
const (
	// EnrollEnrolled: the node key works from now on (200).
	EnrollEnrolled = "enrolled"
	// EnrollPending: the install id belongs to an enrolled host and no
	// proof came with the request, so an admin must approve it (202). The
	// node key, when one is given, starts working once approved; until
	// then the agent asks again with it as NodeKey.
	EnrollPending = "pending"
)

// EnrollResponse answers an enrollment with the host's key.
// The agent sends it as "Authorization: Bearer <NodeKey>" from then on.
type EnrollResponse struct {
	HostID  string `json:"host_id,omitempty"`
	NodeKey string `json:"node_key,omitempty"`
	Status  string `json:"status"` // EnrollEnrolled or EnrollPending
	// RequestID names a pending request (EnrollPending), new or asked
	// about again: the id the admin approves, which the agent logs.
	RequestID string `json:"request_id,omitempty"`
}

// Report kinds.
const (
	ReportFull    = "full"    // Items holds the whole inventory
	ReportCheckin = "checkin" // inventory unchanged since InventoryHash was last sent in full
)

// Report is the body of POST /api/v1/report (optionally gzip-encoded with
// Content-Encoding: gzip). ReportID is an idempotency key: the server
// acknowledges a repeated ReportID without applying it twice.
type Report struct {
	ReportID      string           `json:"report_id"`
	Kind          string           `json:"kind"`
	CollectedAt   time.Time        `json:"collected_at"`
	Host          HostInfo         `json:"host"`
	InventoryHash string           `json:"inventory_hash"` // sha256 of the canonical item list
	Items         []Item           `json:"items,omitempty"`
	Errors        []CollectorError `json:"errors,omitempty"`
}

// ReportResponse acknowledges a report. NeedFull asks the agent to send a
// full inventory next (e.g. a check-in whose hash the server does not know).
type ReportResponse struct {
	Accepted  bool   `json:"accepted"`
	Duplicate bool   `json:"duplicate,omitempty"`
	NeedFull  bool   `json:"need_full,omitempty"`
	HostID    string `json:"host_id"`
}

// Error is the body of every 4xx/5xx answer.
type Error struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// Eligibility answers GET /api/v1/eligibility.
type Eligibility struct {
	Eligible  bool   `json:"eligible"`
	Host      string `json:"host,omitempty"`
	Product   string `json:"product"`
	Version   string `json:"version"`
	Support   string `json:"support"`
	Phase     string `json:"phase"`
	Patch     string `json:"patch"`
	Status    string `json:"status"`
	Cycle     string `json:"cycle,omitempty"`
	Latest    string `json:"latest,omitempty"`
	EOL       any    `json:"eol"`
	DaysToEOL *int   `json:"days_to_eol"`
	UpgradeTo string `json:"upgrade_to,omitempty"`
	Newest    string `json:"newest,omitempty"`
	Reason    string `json:"reason"`
	AsOf      string `json:"as_of"`
	// Maintainer is whose support the answer follows: "upstream" or the
	// distribution whose archive the package came from ("debian"), with its
	// release in MaintainerRelease ("12") and the package's candidate
	// version (what the host's package manager would install) in Candidate.
	Maintainer        string `json:"maintainer"`
	MaintainerRelease string `json:"maintainer_release,omitempty"`
	Candidate         string `json:"candidate,omitempty"`
	// CatalogDate is the day the catalog data was taken (YYYY-MM-DD).
	CatalogDate string `json:"catalog_date"`
	// Warnings are sentences to show besides the reason (the catalog data's
	// age past 30 days, a coming end of life the status does not show); [] when none.
	Warnings []string `json:"warnings"`
	// Upstream is, for a distribution's package, the answer the product
	// would get upstream, kept as context.
	Upstream *Eligibility `json:"upstream,omitempty"`
	// HostID, Installed and LastReportAt are set for a host question: the
	// host's id, the version as installed, and when its inventory was last reported.
	HostID       string    `json:"host_id,omitempty"`
	Installed    string    `json:"installed,omitempty"`
	LastReportAt time.Time `json:"last_report_at,omitzero"`
	// Installs lists every install of the product on the host when there is
	// more than one; the top-level answer is the worst of them.
	Installs []Eligibility `json:"installs,omitempty"`
}

// Routes used by people (tokens) and the dashboard. Every route is documented in docs/api.md.
const (
	PathHosts           = Version + "/hosts"
	PathProducts        = Version + "/products"
	PathCompliance      = Version + "/compliance"
	PathComplianceCSV   = Version + "/compliance/export.csv"
	PathEligibility     = Version + "/eligibility"
	PathCatalog         = Version + "/catalog"
	PathCatalogReleases = Version + "/catalog/releases"
	PathSBOMs           = Version + "/sboms"
)

// Host is one host as the server knows it (GET /api/v1/hosts lists these).
type Host struct {
	ID            string    `json:"id"`
	Hostname      string    `json:"hostname"`          // an asset's name
	Kind          string    `json:"kind"`              // KindHost (an agent's endpoint) or KindAsset (an SBOM's subject)
	OS            string    `json:"os"`                // os-release style "debian 12", "windows 11 23H2"
	OSName        string    `json:"os_name,omitempty"` // as the agent reported it
	Status        string    `json:"status"`            // worst verdict status on the host; "none" when nothing matched
	Items         int       `json:"items"`             // inventory items last reported
	Unmatched     int       `json:"unmatched"`         // items that match no catalog product
	EnrolledAt    time.Time `json:"enrolled_at"`
	LastReportAt  time.Time `json:"last_report_at,omitzero"`  // last full inventory
	LastCheckinAt time.Time `json:"last_checkin_at,omitzero"` // last report of any kind (an asset's last upload)
	Revoked       bool      `json:"revoked,omitempty"`
	// PendingRequests counts the requests to enroll this host's install id
	// again without the host's node key, waiting for an admin (approve or
	// deny one by its id).
	PendingRequests int `json:"pending_requests,omitempty"`
	// PendingEnrollments are those requests, oldest first, in a single
	// host's answer (GET /api/v1/hosts/{id}); lists carry only the count.
	PendingEnrollments []PendingEnrollment `json:"pending_enrollments,omitempty"`
	// Labels are an asset's labels ("team": "payments"), as last uploaded.
	Labels map[string]string `json:"labels,omitempty"`
	// CustomerID is the customer the host belongs to: the one whose enroll
	// secret it enrolled with, or the one an asset's last SBOM upload named;
	// empty for none (the server-wide secret, an upload without customer).
	CustomerID string `json:"customer_id,omitempty"`
	// Customer is that customer's name.
	Customer string `json:"customer,omitempty"`
}

// Kinds of Host: an endpoint running the agent, or an asset (a container
// image, a build artefact) registered by uploading its SBOM.
const (
	KindHost  = "host"
	KindAsset = "asset"
)

// PendingEnrollment is a re-enrolment of a known install id that came
// without the host's node key, waiting for an admin.
type PendingEnrollment struct {
	// ID names this request: an approval or denial names it, so a later
	// request for the same host is never granted in its place.
	ID string `json:"id"`
	// HostID and HostHostname are the host the request is for, as it is
	// now (in GET /api/v1/enrollments).
	HostID       string    `json:"host_id,omitempty"`
	HostHostname string    `json:"host_hostname,omitempty"`
	RequestedAt  time.Time `json:"requested_at"`
	Hostname     string    `json:"hostname"` // as the request reported it
	OSName       string    `json:"os_name,omitempty"`
	// From is the requester's address, shown to admins only.
	From string `json:"from,omitempty"`
}

// EnrollmentAction is the body of POST /api/v1/hosts/{id}/approve and
// .../deny: the pending request acted on.
type EnrollmentAction struct {
	RequestID string `json:"request_id"`
}

// PendingEnrollmentList answers GET /api/v1/enrollments.
type PendingEnrollmentList struct {
	Pending []PendingEnrollment `json:"pending"`
}

// HostList answers GET /api/v1/hosts: one page, and the cursor of the next
// page ("" on the last one).
type HostList struct {
	Hosts []Host `json:"hosts"`
	Total int    `json:"total"`
	Next  string `json:"next,omitempty"`
}

// HostVerdict is the verdict for one product installed on a host.
type HostVerdict struct {
	Product        string    `json:"product"`
	Version        string    `json:"version"`   // upstream version the verdict is for
	Installed      string    `json:"installed"` // version as installed (e.g. the full Debian version)
	Support        string    `json:"support"`
	Phase          string    `json:"phase"`
	Patch          string    `json:"patch"`
	Status         string    `json:"status"`
	Cycle          string    `json:"cycle,omitempty"`
	Latest         string    `json:"latest,omitempty"`
	EOL            any       `json:"eol"`
	DaysToEOL      *int      `json:"days_to_eol"`
	UpgradeTo      string    `json:"upgrade_to,omitempty"`
	Newest         string    `json:"newest,omitempty"`
	Reason         string    `json:"reason"`
	CatalogVersion string    `json:"catalog_version"` // the catalog that produced this status
	ChangedAt      time.Time `json:"changed_at"`
	// Maintainer is whose support the verdict follows: "upstream", or the
	// distribution whose own archive the package came from ("debian"), with
	// its release in MaintainerRelease ("12") and the package's candidate
	// version (what the host's package manager would install) in Candidate.
	Maintainer        string `json:"maintainer"`
	MaintainerRelease string `json:"maintainer_release,omitempty"`
	Candidate         string `json:"candidate,omitempty"`
	// CatalogDate is the day the catalog data behind the verdict was taken
	// (YYYY-MM-DD).
	CatalogDate string `json:"catalog_date"`
	// Warnings are sentences to show besides the reason: the catalog data's
	// age past 30 days, the host's repository data's age past 30 days, a
	// coming end of life the status does not show; [] when none.
	Warnings []string `json:"warnings"`
	// Upstream is, for a distribution's package, what the product's own
	// lifecycle says (kept as context: "Perl 5.36 reached end of life
	// upstream").
	Upstream *UpstreamVerdict `json:"upstream,omitempty"`
}

// UpstreamVerdict is the upstream verdict kept as context beside a
// distribution's verdict.
type UpstreamVerdict struct {
	Support   string `json:"support"`
	Phase     string `json:"phase"`
	Patch     string `json:"patch"`
	Status    string `json:"status"`
	Cycle     string `json:"cycle,omitempty"`
	Latest    string `json:"latest,omitempty"`
	EOL       any    `json:"eol"`
	UpgradeTo string `json:"upgrade_to,omitempty"`
	Reason    string `json:"reason"`
}

// InventoryItem is one installed item with what it matched.
type InventoryItem struct {
	Item
	MatchProduct string `json:"match_product,omitempty"` // catalog product, "" when unmatched
	MatchVersion string `json:"match_version,omitempty"` // upstream version used for the verdict
	MatchRule    string `json:"match_rule,omitempty"`
}

// HostDetail answers GET /api/v1/hosts/{id}.
type HostDetail struct {
	Host
	Info      HostInfo         `json:"info"`
	Errors    []CollectorError `json:"collector_errors,omitempty"`
	Verdicts  []HostVerdict    `json:"verdicts"`
	Inventory []InventoryItem  `json:"inventory"`
	// Uploads is an asset's SBOM history, newest first (at most 100).
	Uploads []SBOMUpload `json:"uploads,omitempty"`
}

// SBOMUpload is one SBOM received for an asset: the asset's history keeps
// one per upload.
type SBOMUpload struct {
	UploadedAt  time.Time `json:"uploaded_at"`
	UploadedBy  string    `json:"uploaded_by,omitempty"` // the name of the token that uploaded it ("token ID" for a token without a name)
	TokenID     string    `json:"token_id,omitempty"`    // the id of that token (token list, token revoke ID)
	Format      string    `json:"format"`                // cyclonedx | spdx
	SpecVersion string    `json:"spec_version"`          // "1.6", "2.3"
	Document    string    `json:"document,omitempty"`    // the name the document gives its subject
	Serial      string    `json:"serial,omitempty"`      // CycloneDX serialNumber, SPDX documentNamespace
	Tools       []string  `json:"tools,omitempty"`       // the generators named in the document
	SHA256      string    `json:"sha256"`                // of the body as received
	Bytes       int64     `json:"bytes"`                 // of the document, decompressed
	Components  int       `json:"components"`
	Matched     int       `json:"matched"` // components a catalog product claimed
	Added       int       `json:"added"`   // inventory items the upload added to the asset
	Removed     int       `json:"removed"` // inventory items it removed (the previous upload's)
	Status      string    `json:"status"`  // the asset's worst status after the upload
}

// SBOMResult answers POST /api/v1/sboms.
type SBOMResult struct {
	AssetID string `json:"asset_id"`
	Name    string `json:"name"`
	// Created is true for a new asset, false when the upload replaced the
	// asset's previous SBOM (kept in its history).
	Created bool              `json:"created"`
	Upload  SBOMUpload        `json:"upload"`
	Labels  map[string]string `json:"labels,omitempty"`
	// CustomerID and Customer are the customer the upload assigned the
	// asset to (?customer=), empty for none.
	CustomerID string `json:"customer_id,omitempty"`
	Customer   string `json:"customer,omitempty"`
	// ByStatus counts the asset's verdicts (one per product version) per status.
	ByStatus map[string]int `json:"by_status"`
	Changes  int            `json:"changes"` // verdicts that changed (one fleet event each)
	// Warnings are sentences about the document worth reading (components
	// without a version, naming their fields).
	Warnings []string `json:"warnings,omitempty"`
}

// ProductVersion is one version of a product in the fleet.
type ProductVersion struct {
	Version string `json:"version"`
	Cycle   string `json:"cycle,omitempty"`
	Status  string `json:"status"`
	Hosts   int    `json:"hosts"`
}

// FleetProduct is one product installed in the fleet (GET /api/v1/products).
type FleetProduct struct {
	Product  string           `json:"product"`
	Hosts    int              `json:"hosts"`
	Versions []ProductVersion `json:"versions"`
}

// CycleCount counts installs per status for one product cycle.
type CycleCount struct {
	Product  string         `json:"product"`
	Cycle    string         `json:"cycle"`
	Installs int            `json:"installs"`
	ByStatus map[string]int `json:"by_status"`
}

// Compliance answers GET /api/v1/compliance.
type Compliance struct {
	Hosts            int            `json:"hosts"`
	HostsByStatus    map[string]int `json:"hosts_by_status"`  // worst status per host
	Assets           int            `json:"assets"`           // assets registered by SBOM (not counted in hosts)
	AssetsByStatus   map[string]int `json:"assets_by_status"` // worst status per asset
	Installs         int            `json:"installs"`         // matched installs (host or asset x product version)
	InstallsByStatus map[string]int `json:"installs_by_status"`
	Cycles           []CycleCount   `json:"cycles"`
	Items            int            `json:"items"`           // distinct software items in the fleet
	UnmatchedItems   int            `json:"unmatched_items"` // distinct items no product matched
	CatalogVersion   string         `json:"catalog_version"`
	AsOf             string         `json:"as_of"`
}

// Release is the body of POST /api/v1/catalog/releases.
type Release struct {
	Product string `json:"product"`
	Cycle   string `json:"cycle"` // empty: the cycle the version belongs to
	Version string `json:"version"`
	Date    string `json:"date"` // YYYY-MM-DD; today when empty
	Link    string `json:"link,omitempty"`
	// AllowOlder publishes a version older than the cycle's latest (a back-filled release).
	AllowOlder bool `json:"allow_older,omitempty"`
	// NewCycle allows a cycle the product does not have yet.
	NewCycle bool `json:"new_cycle,omitempty"`
}

// EOLText formats a verdict's eol field for people and CSV: the date, true
// or false (ended or not, no date known), or "" when there is none.
func EOLText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}
