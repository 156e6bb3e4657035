// Package api holds the wire types of eolwatch's HTTP API, shared by the
// server and the agent. It imports only the standard library so the agent
// stays small and builds with CGO_ENABLED=0 everywhere.
package api

import "time"

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
}

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
}

// EnrollResponse answers a successful enrollment with the host's key.
// The agent sends it as "Authorization: Bearer <NodeKey>" from then on.
type EnrollResponse struct {
	HostID  string `json:"host_id"`
	NodeKey string `json:"node_key"`
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
}
