package match

import "slices"

// Shorthands for the item sources in the built-in tables.
var (
	deb     = []string{SourceDpkg}
	rpm     = []string{SourceRPM}
	apk     = []string{SourceAPK}
	debrpm  = []string{SourceDpkg, SourceRPM}
	debapk  = []string{SourceDpkg, SourceAPK}
	rpmapk  = []string{SourceRPM, SourceAPK}
	win     = []string{SourceWindows}
	mac     = []string{SourceMacOSApp}
	allPkgs = packageSources

	pypi     = []string{SourcePyPI}
	npm      = []string{SourceNPM}
	maven    = []string{SourceMaven}
	nuget    = []string{SourceNuGet}
	gomod    = []string{SourceGolang}
	gem      = []string{SourceGem}
	composer = []string{SourceComposer}
)

// Program roles for rules that select by source package (Rule.Roles).
var (
	programs       = []string{"program"}
	programsLibs   = []string{"program", "library"}
	programsModule = []string{"program", "module"}
)

// BuiltinRules returns a copy of the built-in rules table, in the order it
// is checked. docs/matching.md describes each group.
func BuiltinRules() []Rule {
	out := make([]Rule, len(builtinRules))
	copy(out, builtinRules)
	return out
}

// builtinRules is the rules table: what the catalog's identifiers miss or
// get wrong. Within each table, ignore rules come before the rules they
// protect.
var builtinRules = slices.Concat(packageRules, ecosystemRules, programRules)
