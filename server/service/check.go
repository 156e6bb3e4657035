package service

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
)

// Field limits of agent requests.
const (
	// MaxIDLen bounds ids (install id, report id, machine id).
	MaxIDLen = 128
	// MaxNameLen bounds every text field of an inventory item.
	MaxNameLen = 1024
)

// CheckText rejects strings that are too long, not UTF-8, or hold control
// characters, with a fault.Invalid error naming field.
func CheckText(field, v string, max int, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return fault.Invalidf(field, "%s is required", field)
	}
	if len(v) > max {
		return fault.Invalidf(field, "%s is %d bytes long, at most %d", field, len(v), max)
	}
	if !utf8.ValidString(v) {
		return fault.Invalidf(field, "%s is not valid UTF-8", field)
	}
	for _, c := range v {
		if isControl(c) {
			return fault.Invalidf(field, "%s holds control character %U", field, c)
		}
	}
	return nil
}

func isControl(c rune) bool { return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) }

// CleanText replaces control characters and bounds the length (for free
// text such as collector errors).
func CleanText(v string, max int) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.Map(func(c rune) rune {
		if isControl(c) {
			return ' '
		}
		return c
	}, v)
	if len(v) > max {
		v = v[:max]
		for !utf8.ValidString(v) {
			v = v[:len(v)-1]
		}
	}
	return v
}

// CheckHostInfo validates the host block of an enrollment or report; the
// fields are named under prefix ("host.hostname").
func CheckHostInfo(prefix string, h api.HostInfo) error {
	checks := []struct {
		field, v string
		max      int
		required bool
	}{
		{"install_id", h.InstallID, MaxIDLen, true},
		{"hostname", h.Hostname, api.MaxHostLen, true},
		{"machine_id", h.MachineID, MaxIDLen, false},
		{"hardware_uuid", h.HardwareUUID, MaxIDLen, false},
		{"os", h.OS, 64, false},
		{"arch", h.Arch, 64, false},
		{"os_name", h.OSName, 256, false},
		{"os_id", h.OSID, 64, false},
		{"os_version", h.OSVersion, 64, false},
		{"os_build", h.OSBuild, 64, false},
		{"kernel", h.Kernel, 256, false},
		{"agent_version", h.AgentVersion, 64, false},
	}
	for _, c := range checks {
		if err := CheckText(prefix+"."+c.field, c.v, c.max, c.required); err != nil {
			return err
		}
	}
	if len(h.ExtendedSupport) > maxExtendedSupport {
		return fault.Invalidf(prefix+".extended_support", "%d programmes: at most %d", len(h.ExtendedSupport), maxExtendedSupport)
	}
	for i, p := range h.ExtendedSupport {
		if err := CheckText(fmt.Sprintf("%s.extended_support[%d]", prefix, i), p, 64, true); err != nil {
			return err
		}
	}
	return nil
}

// maxExtendedSupport bounds HostInfo.ExtendedSupport.
const maxExtendedSupport = 32

// CheckReport validates a decoded report, naming the field at fault, and
// cleans its collector errors (control characters out, at most 1,000).
func CheckReport(rep *api.Report) error {
	if err := CheckText("report_id", rep.ReportID, MaxIDLen, true); err != nil {
		return err
	}
	if rep.Kind != api.ReportFull && rep.Kind != api.ReportCheckin {
		return fault.Invalidf("kind", "kind %q: want %q or %q", rep.Kind, api.ReportFull, api.ReportCheckin)
	}
	if err := CheckHostInfo("host", rep.Host); err != nil {
		return err
	}
	if err := CheckText("inventory_hash", rep.InventoryHash, 256, false); err != nil {
		return err
	}
	if len(rep.Items) > api.MaxItems {
		return fault.New(fault.TooLarge, "items", "%d items: at most %d per report", len(rep.Items), api.MaxItems)
	}
	if rep.Kind == api.ReportCheckin && len(rep.Items) > 0 {
		return fault.Invalidf("items", "a check-in carries no items: send kind \"full\"")
	}
	for i := range rep.Items {
		if err := checkItem(fmt.Sprintf("items[%d].", i), &rep.Items[i]); err != nil {
			return err
		}
	}
	if len(rep.Errors) > 1000 {
		rep.Errors = rep.Errors[:1000]
	}
	for i := range rep.Errors {
		rep.Errors[i].Collector = CleanText(rep.Errors[i].Collector, 128)
		rep.Errors[i].Error = CleanText(rep.Errors[i].Error, 2048)
	}
	return nil
}

// checkItem validates one inventory item; its fields are named under prefix.
func checkItem(prefix string, it *api.Item) error {
	for _, c := range []struct {
		f, v     string
		required bool
	}{
		{"source", it.Source, true}, {"name", it.Name, true}, {"version", it.Version, false}, {"arch", it.Arch, false},
		{"source_pkg", it.SourcePkg, false}, {"publisher", it.Publisher, false}, {"bundle_id", it.BundleID, false},
		{"product", it.Product, false}, {"origin", it.Origin, false}, {"suite", it.Suite, false},
		{"candidate", it.Candidate, false}, {"candidate_origin", it.CandidateOrigin, false},
		{"candidate_suite", it.CandidateSuite, false}, {"section", it.Section, false}, {"summary", it.Summary, false},
	} {
		if err := CheckText(prefix+c.f, c.v, MaxNameLen, c.required); err != nil {
			return err
		}
	}
	return nil
}
