package agent

import (
	"strings"

	"github.com/eolwatch/eolwatch/internal/pkgver"
)

// rpmEVR is an rpm package version: epoch, version, release.
type rpmEVR struct{ Epoch, Version, Release string }

// parseRPMEVR splits "[epoch:]version[-release]" as the rpm collector
// spells versions.
func parseRPMEVR(s string) rpmEVR {
	var e rpmEVR
	if i := strings.IndexByte(s, ':'); i >= 0 {
		e.Epoch, s = s[:i], s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		e.Version, e.Release = s[:i], s[i+1:]
	} else {
		e.Version = s
	}
	return e
}

// String spells the EVR as the rpm collector does: the epoch only when not 0.
func (e rpmEVR) String() string {
	s := e.Version
	if e.Release != "" {
		s += "-" + e.Release
	}
	if ep := strings.TrimLeft(e.Epoch, "0"); ep != "" {
		s = ep + ":" + s
	}
	return s
}

// compareRPMEVR orders two EVRs as rpm does: epoch (numerically, missing
// is 0), then version, then release (ignored when either lacks one).
func compareRPMEVR(a, b rpmEVR) int {
	if c := compareDigits(orZero(a.Epoch), orZero(b.Epoch)); c != 0 {
		return c
	}
	if c := pkgver.RPMCompare(a.Version, b.Version); c != 0 {
		return c
	}
	if a.Release == "" || b.Release == "" {
		return 0
	}
	return pkgver.RPMCompare(a.Release, b.Release)
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
