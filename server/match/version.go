package match

import "strings"

// Item sources the matcher knows (api.Item.Source values).
const (
	SourceDpkg     = "dpkg"
	SourceRPM      = "rpm"
	SourceAPK      = "apk"
	SourceOS       = "os"
	SourceWindows  = "windows-registry"
	SourceMacOSApp = "macos-app"
	SourceProbe    = "probe"
)

// Upstream returns the upstream version inside a version string as the
// source spells it, for the verdict; the full string stays what the server
// displays.
//
//   - dpkg: drop the epoch ("1:"), the Debian revision (after the last '-'),
//     a "~" suffix ("~deb12u1", "~bpo12+1") and repack markers ("+dfsg",
//     "+ds", "+repack"); "2.0+really1.5" means 1.5.
//     "1:2.39.5-0+deb12u3" → "2.39.5", "17.0.15+6-1~deb12u1" → "17.0.15+6".
//   - rpm: drop the epoch and the release ("2.4.57-5.el9" → "2.4.57").
//   - apk: drop the "-rN" package release ("1.24.0-r7" → "1.24.0").
//   - windows-registry, macos-app: drop a build number in parentheses
//     ("5.17.5 (31030)" → "5.17.5").
//   - golang: drop a module version's "v" and the toolchain's "go"
//     ("v1.8.0" → "1.8.0", "go1.22.1" → "1.22.1").
//   - anything else: the version with surrounding spaces trimmed.
func Upstream(source, version string) string {
	v := strings.TrimSpace(version)
	switch source {
	case SourceGolang:
		return ecoUpstream(source, v)
	case SourceWindows, SourceMacOSApp:
		// "5.17.5 (31030)": a build number in parentheses after the version.
		if i := strings.Index(v, " ("); i > 0 && strings.HasSuffix(v, ")") {
			v = strings.TrimSpace(v[:i])
		}
		return v
	case SourceDpkg:
		return debianUpstream(v)
	case SourceRPM:
		return rpmUpstream(v)
	case SourceAPK:
		return apkUpstream(v)
	}
	return v
}

// dropEpoch removes a leading "N:" epoch.
func dropEpoch(v string) string {
	if i := strings.IndexByte(v, ':'); i > 0 && allDigits(v[:i]) {
		return v[i+1:]
	}
	return v
}

func debianUpstream(v string) string {
	v = dropEpoch(v)
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		v = v[:i]
	}
	// A release word after the version ("3.2.3-stable", "6.4.2-final")
	// says it is no pre-release; the version is what precedes it.
	for _, w := range []string{"-stable", "-final", "-release", "-ga"} {
		if i := strings.Index(v, w); i > 0 && (i+len(w) == len(v) || !isLetter(v[i+len(w)])) {
			v = v[:i] + v[i+len(w):]
			break
		}
	}
	// "+really" means the package carries an older upstream under a newer number.
	if i := strings.Index(v, "+really"); i >= 0 {
		v = v[i+len("+really"):]
	}
	v = cutRepack(v)
	if i := strings.IndexByte(v, '~'); i > 0 {
		// "~rc1", "~beta2", "~a1" are upstream pre-releases: keep them in the
		// semver spelling ("1.6.7~rc0" → "1.6.7-rc0"); anything else after "~"
		// ("~deb12u1", "~bpo12+1", "~22.04.2") is packaging and goes.
		pre := v[i+1:]
		if j := strings.IndexAny(pre, "~+"); j >= 0 {
			pre = pre[:j]
		}
		if isPreRelease(pre) {
			v = v[:i] + "-" + pre
		} else {
			v = v[:i]
		}
	}
	// Cut at the first "+" followed by a letter: repack markers (+dfsg, +ds,
	// +repack, +git2023, +debian). A "+" followed by a digit is part of the
	// upstream version (Java "17.0.15+6").
	for i := 0; i < len(v); i++ {
		if v[i] == '+' && i+1 < len(v) && isLetter(v[i+1]) && i > 0 {
			v = v[:i]
			break
		}
	}
	return strings.TrimRight(v, ".+")
}

// repackWords are the markers Debian adds to an upstream version whose
// tarball was repacked (Debian Free Software Guidelines, "ds", "repack").
var repackWords = []string{"dfsg", "ds", "repack"}

// cutRepack cuts v at a repack marker after '.', '~' or '+'
// ("1.14.0.dfsg" → "1.14.0", "4.2~ds1" → "4.2").
func cutRepack(v string) string {
	for i := 1; i < len(v); i++ {
		if v[i] != '.' && v[i] != '~' && v[i] != '+' {
			continue
		}
		for _, w := range repackWords {
			rest := v[i+1:]
			if len(rest) >= len(w) && strings.EqualFold(rest[:len(w)], w) && (len(rest) == len(w) || !isLetter(rest[len(w)])) {
				return v[:i]
			}
		}
	}
	return v
}

// isPreRelease reports whether s names an upstream pre-release: a
// pre-release word, optionally followed by a number ("rc0", "beta.2", "a1";
// "a" and "b" only with a number).
func isPreRelease(s string) bool {
	i := 0
	for i < len(s) && isLetter(s[i]) {
		i++
	}
	w, rest := strings.ToLower(s[:i]), s[i:]
	switch w {
	case "alpha", "beta", "rc", "pre", "preview", "dev":
	case "a", "b":
		if rest == "" || !isDigit(rest[0]) {
			return false
		}
	default:
		return false
	}
	rest = strings.TrimPrefix(rest, ".")
	for j := 0; j < len(rest); j++ {
		if !isDigit(rest[j]) {
			return false
		}
	}
	return true
}

func rpmUpstream(v string) string {
	v = dropEpoch(v)
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		v = v[:i]
	}
	return v
}

func apkUpstream(v string) string {
	if i := strings.LastIndex(v, "-r"); i > 0 && allDigits(v[i+2:]) && i+2 < len(v) {
		v = v[:i]
	}
	return v
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// stem returns the leading run of lowercase letters, digits and "@" of s:
// the key rules are indexed by ("python3.11" → "python3", "linux-image-6.1"
// → "linux", "Ivanti Endpoint Manager" → "ivanti", "@angular/core" →
// "@angular"). s must already be lowercase.
func stem(s string) string {
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9' || s[i] == '@') {
		i++
	}
	return s[:i]
}
