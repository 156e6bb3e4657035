package match

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
)

// Rule maps inventory items to a catalog product, or marks them as known
// non-products (Ignore). Rules are checked before the catalog's
// identifiers; the first rule that matches an item wins, user rules before
// the built-in ones. docs/matching.md explains how to write one.
//
// Exactly one of Name, Prefix, Pattern, SourcePkg, SourcePattern or
// BundleID selects the items; Publisher narrows any of them. Names are
// compared case-insensitively.
type Rule struct {
	// ID names the rule in `match explain` output and in Result.Rule.
	ID string `yaml:"id" json:"id"`
	// Sources lists the item sources the rule applies to (dpkg, rpm, apk,
	// windows-registry, macos-app, probe, and the package ecosystems pypi,
	// npm, maven, nuget, golang, gem, composer, cargo, generic); empty
	// means dpkg, rpm and apk.
	Sources []string `yaml:"sources,omitempty" json:"sources,omitempty"`
	// Name matches the whole item name.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Prefix matches item names that start with it.
	Prefix string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	// Pattern is a regular expression (RE2 syntax, written in lowercase)
	// matched against the whole lowercased item name. Capture groups can
	// feed Version.
	Pattern string `yaml:"pattern,omitempty" json:"pattern,omitempty"`
	// SourcePkg matches items built from this source package (dpkg, rpm, apk).
	SourcePkg string `yaml:"source_pkg,omitempty" json:"source_pkg,omitempty"`
	// SourcePattern is a regular expression matched against the whole
	// lowercased source package ("qt6-.+|qt.+-opensource-src").
	SourcePattern string `yaml:"source_pattern,omitempty" json:"source_pattern,omitempty"`
	// BundleID matches a macOS application's bundle identifier.
	BundleID string `yaml:"bundle_id,omitempty" json:"bundle_id,omitempty"`
	// Publisher, when set, must occur in the item's Publisher (case-insensitive).
	Publisher string `yaml:"publisher,omitempty" json:"publisher,omitempty"`
	// Roles lists the package roles (program, library, binding, data; see
	// docs/matching.md) the rule claims. Empty means every role for a rule
	// that selects by name, and program alone for a rule that selects by
	// source package: a source builds libraries, bindings and data files
	// that are not the product. Roles never admits debug symbols,
	// documentation, development files, tests, editor modes, templates,
	// translations, examples or transitional packages: those are not the
	// product whatever the rule says.
	Roles []string `yaml:"roles,omitempty" json:"roles,omitempty"`
	// Product is the catalog product id (or alias) the items belong to.
	Product string `yaml:"product,omitempty" json:"product,omitempty"`
	// Version is a template for the version used in the verdict, expanded
	// with Pattern's or SourcePattern's groups ("${1}u${2}" turns "java 8
	// update 391" into "8u391"), or with VersionPattern's groups matched
	// against the item's upstream version, written ${v1}, ${v2}...
	// ("0.5.${v1}" with version_pattern `2\.3\.(\d+).*` turns Dovecot's
	// 2.3.19.1 into Pigeonhole's 0.5.19); one template uses one kind. Empty
	// means the upstream part of the item's version.
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
	// VersionPattern, when set, is a regular expression the version (after
	// Version/upstream extraction; the upstream version itself when Version
	// uses ${v1}...) must match in full, or the rule does not apply: it
	// keeps out packages that share a name but not a numbering (Google
	// Cloud SDK's kubectl is versioned like the SDK, 528.0.0), and lets an
	// ignore rule apply to some versions only (Ubuntu's firefox 1snap1).
	VersionPattern string `yaml:"version_pattern,omitempty" json:"version_pattern,omitempty"`
	// Ignore marks the items as not being a product (meta-packages,
	// language modules), so neither later rules nor identifiers match them.
	Ignore bool `yaml:"ignore,omitempty" json:"ignore,omitempty"`
	// Why is the sentence `match explain` prints when the rule matches.
	Why string `yaml:"why,omitempty" json:"why,omitempty"`

	re  *regexp.Regexp // Pattern or SourcePattern
	vre *regexp.Regexp
	// fromVersion: Version takes VersionPattern's groups (${v1}...), not
	// the name's.
	fromVersion bool
	// lit and suf are literal text every name the pattern matches starts
	// and ends with: cheap checks before running the regexp.
	lit, suf string
	// lower is Name, Prefix or SourcePkg lowercased, once.
	lower string
	roles roleSet
	order int
	user  bool
}

// packageSources are the sources a rule without Sources applies to.
var packageSources = []string{SourceDpkg, SourceRPM, SourceAPK}

// knownSources are the item sources rules may name.
var knownSources = map[string]bool{
	SourceDpkg: true, SourceRPM: true, SourceAPK: true, SourceOS: true,
	SourceWindows: true, SourceMacOSApp: true, SourceProbe: true,
	SourcePyPI: true, SourceNPM: true, SourceMaven: true, SourceNuGet: true, SourceGolang: true,
	SourceGem: true, SourceComposer: true, SourceCargo: true, SourceGeneric: true,
}

// compile checks the rule and prepares its pattern.
func (r *Rule) compile() error {
	if r.ID == "" {
		return fmt.Errorf("rule has no id")
	}
	n := 0
	for _, s := range []string{r.Name, r.Prefix, r.Pattern, r.SourcePkg, r.SourcePattern, r.BundleID} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("rule %q: exactly one of name, prefix, pattern, source_pkg, source_pattern, bundle_id is needed, got %d", r.ID, n)
	}
	if r.Ignore == (r.Product != "") {
		return fmt.Errorf("rule %q: give either product or ignore: true", r.ID)
	}
	for _, s := range r.Sources {
		if !knownSources[s] {
			return fmt.Errorf("rule %q: unknown source %q", r.ID, s)
		}
	}
	r.lower = strings.ToLower(r.Name + r.Prefix + r.SourcePkg) // at most one of them is set
	r.fromVersion = versionGroupRef.MatchString(r.Version)
	pattern := r.Pattern + r.SourcePattern
	if pattern != "" {
		re, err := regexp.Compile("^(?:" + pattern + ")$")
		if err != nil {
			return fmt.Errorf("rule %q: pattern: %w", r.ID, err)
		}
		r.re = re
		r.lit, _ = re.LiteralPrefix()
		r.suf = literalSuffix(pattern)
	} else if !r.fromVersion && strings.Contains(r.Version, "$") {
		return fmt.Errorf("rule %q: version template %q needs a pattern", r.ID, r.Version)
	}
	if r.VersionPattern != "" {
		re, err := regexp.Compile("^(?:" + r.VersionPattern + ")$")
		if err != nil {
			return fmt.Errorf("rule %q: version_pattern: %w", r.ID, err)
		}
		r.vre = re
	}
	if r.fromVersion {
		if r.vre == nil {
			return fmt.Errorf("rule %q: version template %q takes the groups of a version_pattern (${v1}...), and the rule has none", r.ID, r.Version)
		}
		if strings.Contains(versionGroupRef.ReplaceAllString(r.Version, ""), "$") {
			return fmt.Errorf("rule %q: version template %q mixes the name's groups (${1}) and the version's (${v1}); use one kind", r.ID, r.Version)
		}
		for _, m := range versionGroupRef.FindAllStringSubmatch(r.Version, -1) {
			if n, _ := strconv.Atoi(m[1]); n < 1 || n > r.vre.NumSubexp() {
				return fmt.Errorf("rule %q: version template %q uses ${v%s}, but version_pattern %q has %d group(s)", r.ID, r.Version, m[1], r.VersionPattern, r.vre.NumSubexp())
			}
		}
	}
	r.roles = 0
	for _, s := range r.Roles {
		k, ok := claimableRoles[s]
		if !ok {
			return fmt.Errorf("rule %q: unknown role %q (want program, library, binding or data)", r.ID, s)
		}
		r.roles |= 1 << k
	}
	if r.roles == 0 {
		if r.bySource() {
			r.roles = 1 << roleProgram
		} else {
			r.roles = allClaimable
		}
	}
	return nil
}

// bySource reports whether the rule selects items by their source package.
func (r *Rule) bySource() bool { return r.SourcePkg != "" || r.SourcePattern != "" }

// sources returns the sources the rule applies to.
func (r *Rule) sources() []string {
	if len(r.Sources) == 0 {
		return packageSources
	}
	return r.Sources
}

// keys are the index keys of a name- or source-based rule: the leading
// letters of its name, prefix or source package, or of each alternative of
// its pattern. ok is false for a pattern with an alternative without a
// literal start; such rules are checked for every item.
func (r *Rule) keys() (ks []string, ok bool) {
	switch {
	case r.Name != "" || r.Prefix != "" || r.SourcePkg != "":
		return []string{stem(r.lower)}, true
	case r.Pattern != "" || r.SourcePattern != "":
		return patternStems(r.Pattern + r.SourcePattern)
	}
	return nil, false
}

// matches reports whether the rule selects the item q, and returns the
// version template expansion (empty when the rule has no template).
func (r *Rule) matches(q *query) (version string, ok bool) {
	switch {
	case r.Name != "":
		ok = q.lname == r.lower
	case r.Prefix != "":
		ok = strings.HasPrefix(q.lname, r.lower)
	case r.Pattern != "":
		version, ok = r.matchPattern(q.lname)
	case r.SourcePkg != "":
		ok = q.lsrc == r.lower
	case r.SourcePattern != "":
		version, ok = r.matchPattern(q.lsrc)
	case r.BundleID != "":
		ok = strings.EqualFold(q.it.BundleID, r.BundleID)
	}
	if ok && r.Publisher != "" && !containsFold(q.it.Publisher, r.Publisher) {
		return "", false
	}
	if ok && version == "" && r.Version != "" && r.re == nil && !r.fromVersion {
		version = r.Version
	}
	return version, ok
}

// versionGroupRef is a reference to a version_pattern group in a version
// template: ${v1}.
var versionGroupRef = regexp.MustCompile(`\$\{v(\d+)\}`)

// versionFrom builds the version from the item's upstream version with the
// rule's version_pattern groups (fromVersion rules); ok is false when the
// version does not match the pattern.
func (r *Rule) versionFrom(upstream string) (string, bool) {
	m := r.vre.FindStringSubmatch(upstream)
	if m == nil {
		return "", false
	}
	return versionGroupRef.ReplaceAllStringFunc(r.Version, func(ref string) string {
		n, _ := strconv.Atoi(ref[3 : len(ref)-1])
		return m[n]
	}), true
}

// matchPattern runs the rule's regexp on s (the item or source name) and
// expands the version template with its groups.
func (r *Rule) matchPattern(s string) (version string, ok bool) {
	if s == "" || !strings.HasPrefix(s, r.lit) || !strings.HasSuffix(s, r.suf) {
		return "", false
	}
	if r.Version == "" || r.fromVersion {
		return "", r.re.MatchString(s)
	}
	m := r.re.FindStringSubmatchIndex(s)
	if m == nil {
		return "", false
	}
	return string(r.re.ExpandString(nil, r.Version, s, m)), true
}

// describe returns how the rule selects items, for explanations.
func (r *Rule) describe() string {
	var s string
	switch {
	case r.Name != "":
		s = fmt.Sprintf("name %q", r.Name)
	case r.Prefix != "":
		s = fmt.Sprintf("name prefix %q", r.Prefix)
	case r.Pattern != "":
		s = fmt.Sprintf("name pattern %q", r.Pattern)
	case r.SourcePkg != "":
		s = fmt.Sprintf("source package %q", r.SourcePkg)
	case r.SourcePattern != "":
		s = fmt.Sprintf("source package pattern %q", r.SourcePattern)
	case r.BundleID != "":
		s = fmt.Sprintf("bundle id %q", r.BundleID)
	}
	if r.Publisher != "" {
		s += fmt.Sprintf(" and publisher containing %q", r.Publisher)
	}
	return s
}

// Selector returns what the rule matches on, as written ("python3.11",
// "qt6-.+"), for listings.
func (r *Rule) Selector() string {
	return r.Name + r.Prefix + r.Pattern + r.SourcePkg + r.SourcePattern + r.BundleID
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// literalSuffix returns the literal text every match of pattern ends with
// ("lib.+-perl" → "-perl"), or "".
func literalSuffix(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	for re.Op == syntax.OpCapture && len(re.Sub) == 1 {
		re = re.Sub[0]
	}
	if re.Op == syntax.OpConcat && len(re.Sub) > 0 {
		re = re.Sub[len(re.Sub)-1]
	}
	if re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase == 0 {
		return string(re.Rune)
	}
	return ""
}
