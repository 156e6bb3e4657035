package match

import (
	"regexp"
	"strings"
)

// role is what a package is to the software it comes from. A source
// package builds many binary packages: the program itself, its libraries,
// language modules, data files, and others that are never the product
// installed (debug symbols, documentation, development files...).
type role uint8

// The roles. The first four can be claimed by a rule (Rule.Roles); the
// others are never the product.
const (
	roleProgram role = iota // the program, server, interpreter or a plugin of it
	roleLibrary             // a shared library (lib*, *-libs)
	roleModule              // a language module or binding (python3-*, lib*-perl, lib*-java, ruby-*...)
	roleData                // data, fonts, themes, common files (*-data, *-common, fonts-*)

	roleDebug        // debug symbols (-dbg, -dbgsym, -debuginfo)
	roleDoc          // documentation and manual pages (-doc, -manpages, -help-*)
	roleDev          // development files (-dev, -devel, headers)
	roleTests        // test suites and test data
	roleEditor       // editor support (vim-*, elpa-*, *-mode, *-el)
	roleTemplate     // a template for building signed packages (-signed-template)
	roleL10n         // translations, dictionaries (-l10n, -locales, -lang)
	roleExamples     // examples and demos
	roleSource       // source code shipped as a package (-src, -source)
	roleTransitional // an empty package kept for upgrades (its summary or section says so)
)

// roleNames are the roles as explain and rule files spell them.
var roleNames = [...]string{
	roleProgram: "program", roleLibrary: "library", roleModule: "module", roleData: "data",
	roleDebug: "debug symbols", roleDoc: "documentation", roleDev: "development files", roleTests: "tests",
	roleEditor: "editor support", roleTemplate: "signing template", roleL10n: "translations",
	roleExamples: "examples", roleSource: "source code", roleTransitional: "transitional package",
}

func (r role) String() string { return roleNames[r] }

// claimable reports whether a package in this role can be the product.
func (r role) claimable() bool { return r <= roleData }

// roleSet is a set of roles (bit i = role i).
type roleSet uint16

func (s roleSet) has(r role) bool { return s&(1<<r) != 0 }

// claimableRoles are the roles a rule may list in Roles.
var claimableRoles = map[string]role{"program": roleProgram, "library": roleLibrary, "module": roleModule, "data": roleData}

// allClaimable is every claimable role.
const allClaimable roleSet = 1<<roleProgram | 1<<roleLibrary | 1<<roleModule | 1<<roleData

// String lists the roles in the set.
func (s roleSet) String() string {
	var out []string
	for r := roleProgram; r <= roleTransitional; r++ {
		if s.has(r) {
			out = append(out, r.String())
		}
	}
	return strings.Join(out, ", ")
}

// nameRoles decide a package's role from its name: suffixes first, then
// prefixes, in this order. A name that matches none is a program.
var (
	roleSuffixes = []struct {
		suffix string
		role   role
	}{
		{"-signed-template", roleTemplate},
		{"-dbgsym", roleDebug}, {"-dbg", roleDebug}, {"-debuginfo", roleDebug}, {"-debugsource", roleDebug}, {"-debug-symbols", roleDebug}, {"-debug", roleDebug},
		{"-doc", roleDoc}, {"-docs", roleDoc}, {"-doc-html", roleDoc}, {"-doc-info", roleDoc}, {"-manpages", roleDoc},
		{"-man", roleDoc}, {"-manual", roleDoc}, {"-help", roleDoc}, {"-html", roleDoc}, {"-apidoc", roleDoc}, {"-javadoc", roleDoc},
		{"-dev", roleDev}, {"-devel", roleDev}, {"-headers", roleDev}, {"-static", roleDev}, {"-dev-tools", roleDev}, {"-dev-bin", roleDev},
		{"-tests", roleTests}, {"-test", roleTests}, {"-testsuite", roleTests}, {"-testfiles", roleTests},
		{"-testdata", roleTests}, {"-test-data", roleTests},
		{"-mode", roleEditor}, {"-el", roleEditor}, {"-vim", roleEditor}, {"-syntax", roleEditor},
		{"-l10n", roleL10n}, {"-locales", roleL10n}, {"-lang", roleL10n}, {"-translations", roleL10n}, {"-i18n", roleL10n},
		{"-examples", roleExamples}, {"-example", roleExamples}, {"-demos", roleExamples}, {"-demo", roleExamples}, {"-samples", roleExamples},
		{"-src", roleSource}, {"-source", roleSource},
		{"-perl", roleModule}, {"-java", roleModule}, {"-jni", roleModule}, {"-cil", roleModule}, {"-ocaml", roleModule},
		{"-clojure", roleModule}, {"-jinterface", roleModule},
		{"-data", roleData}, {"-common", roleData}, {"-theme", roleData}, {"-themes", roleData}, {"-icons", roleData},
		{"-wallpapers", roleData}, {"-sounds", roleData}, {"-filesystem", roleData}, {"-config", roleData},
		{"-libs", roleLibrary},
	}
	// weakSuffixes name a part of a language module as often as a role
	// (php-symfony-config is Symfony's Config component, not configuration):
	// a language-module prefix decides over them.
	weakSuffixes = map[string]bool{"-filesystem": true, "-config": true}
	roleInfixes  = []struct {
		infix string
		role  role
	}{
		{"-dbg-", roleDebug}, {"-doc-", roleDoc}, {"-help-", roleDoc}, {"-l10n-", roleL10n}, {"-locale-", roleL10n},
		{"-langpack-", roleL10n}, {"-examples-", roleExamples}, {"-theme-", roleData},
	}
	rolePrefixes = []struct {
		prefix string
		role   role
	}{
		{"vim-", roleEditor}, {"elpa-", roleEditor}, {"emacs-", roleEditor},
		{"linux-headers-", roleDev}, {"linux-kbuild-", roleDev}, {"linux-source", roleSource}, {"manpages-", roleDoc},
		{"hunspell-", roleL10n}, {"myspell-", roleL10n}, {"hyphen-", roleL10n}, {"mythes-", roleL10n},
		{"python-", roleModule}, {"python2-", roleModule}, {"python3-", roleModule}, {"py3-", roleModule}, {"pypy3-", roleModule},
		{"ruby-", roleModule}, {"rubygem-", roleModule}, {"php-", roleModule}, {"node-", roleModule}, {"nodejs-", roleModule},
		{"golang-", roleModule}, {"lua-", roleModule}, {"r-cran-", roleModule}, {"r-bioc-", roleModule}, {"libghc-", roleModule},
		{"librust-", roleModule}, {"gir1.2-", roleModule}, {"guile-", roleModule}, {"cl-", roleModule},
		{"fonts-", roleData}, {"font-", roleData},
		// Plugins built with a server (Apache and nginx modules) and
		// LibreOffice's programs start with "lib" but are not libraries.
		{"libapache2-mod-", roleProgram}, {"libnginx-mod-", roleProgram}, {"libreoffice", roleProgram},
		{"lib", roleLibrary},
	}
)

// nameRole decides a package's role from its lowercased name alone; source
// is the item source (dpkg, rpm, apk).
func nameRole(source, lname string) role {
	for _, s := range roleSuffixes {
		if strings.HasSuffix(lname, s.suffix) {
			if weakSuffixes[s.suffix] && hasModulePrefix(lname) {
				continue
			}
			return s.role
		}
	}
	for _, s := range roleInfixes {
		if strings.Contains(lname, s.infix) {
			return s.role
		}
	}
	// RPM and Alpine name Perl modules perl-*; Debian's perl-base is Perl.
	if source != SourceDpkg && strings.HasPrefix(lname, "perl-") {
		return roleModule
	}
	for _, p := range rolePrefixes {
		if strings.HasPrefix(lname, p.prefix) {
			return p.role
		}
	}
	return roleProgram
}

// hasModulePrefix reports whether a lowercased package name starts like a
// language module's (php-, python3-, node-...).
func hasModulePrefix(lname string) bool {
	for _, p := range rolePrefixes {
		if p.role == roleModule && strings.HasPrefix(lname, p.prefix) {
			return true
		}
	}
	return false
}

// metaRoles decide a role from a package's summary (its one-line
// description, lowercased): the first that matches wins. What a package
// holds is said at the end of its summary ("Apache Tomcat 10 -- documentation",
// "debug symbols for nginx"), so documentation, examples and translations
// count only there, not in "module for generating documentation".
var metaRoles = []struct {
	re   *regexp.Regexp
	role role
}{
	{regexp.MustCompile(`transitional|dummy package|\(dummy\)|dummy transitional`), roleTransitional},
	{regexp.MustCompile(`debug(ging)? symbols|debug information|debuginfo`), roleDebug},
	{regexp.MustCompile(docEnding + `(documentation|docs|manual|manual pages|man pages|manpages)\)?$|^(documentation|manual pages|man pages) (for|of)\b`), roleDoc},
	{regexp.MustCompile(`development files|header files|development headers|static librar`), roleDev},
	{regexp.MustCompile(`test ?suite|test files|test data`), roleTests},
	{regexp.MustCompile(`syntax highlighting|vim syntax|syntax files|emacs mode|major mode`), roleEditor},
	{regexp.MustCompile(docEnding + `(translations|language pack|localization files|locale files)\)?$|^translations (for|of)\b`), roleL10n},
	{regexp.MustCompile(docEnding + `(examples?|example files|example programs|demos?)\)?$|^examples? (for|of)\b`), roleExamples},
	{regexp.MustCompile(`truetype font|opentype font`), roleData},
}

// docEnding is what precedes a summary's last words when they say what
// the package holds: a separator ("nginx - documentation", "(examples)")
// and qualifiers ("html/pdf documentation").
const docEnding = `(^|[-(:,] ?|-- |\(|— )((html|api|pdf|user|developer|reference|online|on-site|offline|full|common|sphinx|html/pdf)[ /])*`

// sectionRoles decide a role from a Debian section (without its area,
// "main/debug" → "debug").
var sectionRoles = map[string]role{
	"debug": roleDebug, "doc": roleDoc, "libdevel": roleDev, "oldlibs": roleTransitional,
	"localization": roleL10n, "fonts": roleData,
}

// metaRole refines a name's role with the package's metadata when the
// collector reported it: the section and the summary can only move a
// package away from being the product (a program whose summary says
// "transitional dummy package" is transitional), never towards it. why
// says what decided, for explanations; it is empty when the name alone did.
func metaRole(r role, section, summary string) (role, string) {
	if !r.claimable() {
		return r, ""
	}
	if section != "" {
		s := strings.ToLower(section)
		if i := strings.LastIndexByte(s, '/'); i >= 0 {
			s = s[i+1:]
		}
		if mr, ok := sectionRoles[s]; ok && mr > r {
			return mr, "its section is " + section
		}
	}
	if summary != "" {
		s := strings.ToLower(summary)
		for _, p := range metaRoles {
			if p.role > r {
				if m := p.re.FindString(s); m != "" {
					return p.role, "its summary says " + `"` + strings.TrimSpace(m) + `"`
				}
			}
		}
	}
	return r, ""
}
