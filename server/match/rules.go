package match

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Rule maps inventory items to a catalog product, or marks them as known
// non-products (Ignore). Rules are checked before the catalog's
// identifiers; the first rule that matches an item wins, user rules before
// the built-in ones. docs/matching.md explains how to write one.
//
// Exactly one of Name, Prefix, Pattern, SourcePkg or BundleID selects the
// items; Publisher narrows any of them. Names are compared case-insensitively.
type Rule struct {
	// ID names the rule in `match explain` output and in Result.Rule.
	ID string `yaml:"id" json:"id"`
	// Sources lists the item sources the rule applies to (dpkg, rpm, apk,
	// windows-registry, macos-app, probe); empty means dpkg, rpm and apk.
	Sources []string `yaml:"sources,omitempty" json:"sources,omitempty"`
	// Name matches the whole item name.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Prefix matches item names that start with it.
	Prefix string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	// Pattern is a regular expression (RE2 syntax, written in lowercase)
	// matched against the whole lowercased item name. Capture groups can
	// feed Version.
	Pattern string `yaml:"pattern,omitempty" json:"pattern,omitempty"`
	// SourcePkg matches items built from this source package (dpkg, rpm).
	SourcePkg string `yaml:"source_pkg,omitempty" json:"source_pkg,omitempty"`
	// BundleID matches a macOS application's bundle identifier.
	BundleID string `yaml:"bundle_id,omitempty" json:"bundle_id,omitempty"`
	// Publisher, when set, must occur in the item's Publisher (case-insensitive).
	Publisher string `yaml:"publisher,omitempty" json:"publisher,omitempty"`
	// Product is the catalog product id (or alias) the items belong to.
	Product string `yaml:"product,omitempty" json:"product,omitempty"`
	// Version is a template for the version used in the verdict, expanded
	// with Pattern's groups ("${1}u${2}" turns "java 8 update 391" into
	// "8u391"). Empty means the upstream part of the item's version.
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
	// VersionPattern, when set, is a regular expression the version (after
	// Version/upstream extraction) must match in full, or the rule does not
	// apply: it keeps out packages that share a name but not a numbering
	// (Google Cloud SDK's kubectl is versioned like the SDK, 528.0.0).
	VersionPattern string `yaml:"version_pattern,omitempty" json:"version_pattern,omitempty"`
	// Ignore marks the items as not being a product (meta-packages,
	// language modules), so neither later rules nor identifiers match them.
	Ignore bool `yaml:"ignore,omitempty" json:"ignore,omitempty"`
	// Why is the sentence `match explain` prints when the rule matches.
	Why string `yaml:"why,omitempty" json:"why,omitempty"`

	re  *regexp.Regexp
	vre *regexp.Regexp
	// lit and suf are literal text every name the pattern matches starts
	// and ends with: cheap checks before running the regexp.
	lit, suf string
	// lower is Name or Prefix lowercased, once.
	lower string
	order int
}

// packageSources are the sources a rule without Sources applies to.
var packageSources = []string{SourceDpkg, SourceRPM, SourceAPK}

// knownSources are the item sources rules may name.
var knownSources = map[string]bool{
	SourceDpkg: true, SourceRPM: true, SourceAPK: true, SourceOS: true,
	SourceWindows: true, SourceMacOSApp: true, SourceProbe: true,
}

// compile checks the rule and prepares its pattern.
func (r *Rule) compile() error {
	if r.ID == "" {
		return fmt.Errorf("rule has no id")
	}
	n := 0
	for _, s := range []string{r.Name, r.Prefix, r.Pattern, r.SourcePkg, r.BundleID} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("rule %q: exactly one of name, prefix, pattern, source_pkg, bundle_id is needed, got %d", r.ID, n)
	}
	if r.Ignore == (r.Product != "") {
		return fmt.Errorf("rule %q: give either product or ignore: true", r.ID)
	}
	for _, s := range r.Sources {
		if !knownSources[s] {
			return fmt.Errorf("rule %q: unknown source %q", r.ID, s)
		}
	}
	r.lower = strings.ToLower(r.Name + r.Prefix) // at most one of them is set
	if r.Pattern != "" {
		re, err := regexp.Compile("^(?:" + r.Pattern + ")$")
		if err != nil {
			return fmt.Errorf("rule %q: pattern: %w", r.ID, err)
		}
		r.re = re
		r.lit, _ = re.LiteralPrefix()
		r.suf = literalSuffix(r.Pattern)
	} else if strings.Contains(r.Version, "$") {
		return fmt.Errorf("rule %q: version template %q needs a pattern", r.ID, r.Version)
	}
	if r.VersionPattern != "" {
		re, err := regexp.Compile("^(?:" + r.VersionPattern + ")$")
		if err != nil {
			return fmt.Errorf("rule %q: version_pattern: %w", r.ID, err)
		}
		r.vre = re
	}
	return nil
}

// sources returns the sources the rule applies to.
func (r *Rule) sources() []string {
	if len(r.Sources) == 0 {
		return packageSources
	}
	return r.Sources
}

// key is the index key of a name-based rule: the leading letters of its
// name, prefix or the literal start of its pattern. ok is false for a
// pattern without a literal start; such rules are checked for every item.
func (r *Rule) key() (k string, ok bool) {
	switch {
	case r.Name != "":
		return stem(strings.ToLower(r.Name)), true
	case r.Prefix != "":
		return stem(strings.ToLower(r.Prefix)), true
	case r.re != nil:
		lp, _ := r.re.LiteralPrefix()
		if lp == "" {
			return "", false
		}
		return stem(lp), true
	}
	return "", false
}

// matches reports whether the rule selects the item whose lowercased name
// is lname, and returns the version template expansion (empty when the
// rule has no template).
func (r *Rule) matches(lname, srcPkg, publisher, bundle string) (version string, ok bool) {
	switch {
	case r.Name != "":
		ok = lname == r.lower
	case r.Prefix != "":
		ok = strings.HasPrefix(lname, r.lower)
	case r.re != nil:
		if !strings.HasPrefix(lname, r.lit) || !strings.HasSuffix(lname, r.suf) {
			return "", false
		}
		if r.Version == "" {
			ok = r.re.MatchString(lname)
			break
		}
		m := r.re.FindStringSubmatchIndex(lname)
		if m == nil {
			return "", false
		}
		if r.Version != "" {
			version = string(r.re.ExpandString(nil, r.Version, lname, m))
		}
		ok = true
	case r.SourcePkg != "":
		ok = srcPkg == r.SourcePkg
	case r.BundleID != "":
		ok = strings.EqualFold(bundle, r.BundleID)
	}
	if ok && r.Publisher != "" && !containsFold(publisher, r.Publisher) {
		return "", false
	}
	if ok && version == "" && r.Version != "" && r.re == nil {
		version = r.Version
	}
	return version, ok
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
	case r.BundleID != "":
		s = fmt.Sprintf("bundle id %q", r.BundleID)
	}
	if r.Publisher != "" {
		s += fmt.Sprintf(" and publisher containing %q", r.Publisher)
	}
	return s
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// pkgs is shorthand for the package sources in the built-in table.
var (
	deb     = []string{SourceDpkg}
	rpm     = []string{SourceRPM}
	apk     = []string{SourceAPK}
	debrpm  = []string{SourceDpkg, SourceRPM}
	win     = []string{SourceWindows}
	mac     = []string{SourceMacOSApp}
	allPkgs = packageSources
)

// BuiltinRules returns a copy of the built-in rules table, in the order it
// is checked. docs/matching.md describes each group.
func BuiltinRules() []Rule {
	out := make([]Rule, len(builtinRules))
	copy(out, builtinRules)
	return out
}

// builtinRules is the rules table: what the catalog's identifiers miss or
// get wrong. Ignore rules come first so a meta-package never reaches the
// identifier index.
var builtinRules = []Rule{
	// --- Not products: meta-packages whose version is not the product's,
	// and language modules named after the language.
	{ID: "ignore postgresql-common", Sources: deb, SourcePkg: "postgresql-common", Ignore: true,
		Why: "postgresql, postgresql-contrib and postgresql-client-common are meta-packages from postgresql-common (version like 15+248); the server itself is postgresql-NN"},
	{ID: "ignore php-defaults", Sources: deb, SourcePkg: "php-defaults", Ignore: true,
		Why: "php, php-cli, php-fpm... are meta-packages from php-defaults (version like 2:8.2+93); the real packages are phpX.Y-*"},
	{ID: "ignore postgresql meta-packages", Sources: deb, Pattern: `postgresql(-client|-contrib)?`, Ignore: true,
		Why: "postgresql, postgresql-client and postgresql-contrib are meta-packages (version like 15+248) even without their source package named; the server itself is postgresql-NN"},
	{ID: "ignore php meta-package", Sources: deb, Name: "php", Ignore: true,
		Why: "php is a meta-package (version like 2:8.2+93); the real packages are phpX.Y-*"},
	{ID: "ignore golang meta-package", Sources: deb, Name: "golang", Ignore: true,
		Why: "golang is a meta-package; the real toolchain is golang-X.Y-go"},
	{ID: "ignore spring", Sources: deb, Name: "spring", Ignore: true,
		Why: "Debian's spring is the Spring RTS game engine, not the Spring Framework"},
	{ID: "ignore heartbeat", Sources: deb, Name: "heartbeat", Ignore: true,
		Why: "Debian's heartbeat is the Linux-HA cluster daemon, not Elastic Heartbeat"},
	{ID: "ignore loki", Sources: deb, Name: "loki", Ignore: true,
		Why: "Debian's loki is a genetics analysis tool, not Grafana Loki"},
	{ID: "ignore golang-defaults", Sources: deb, SourcePkg: "golang-defaults", Ignore: true,
		Why: "golang-go is a meta-package (version 2:1.19~1); the real toolchain is golang-X.Y-go"},
	// --- Languages.
	{ID: "python versioned name", Sources: allPkgs, Pattern: `python(\d)\.(\d+)(-minimal)?`, Product: "python",
		Why: "Debian/Ubuntu/Fedora name the interpreter pythonX.Y; the package version is Python's"},
	{ID: "python3 default", Sources: deb, Pattern: `python3(-minimal)?`, Product: "python",
		Why: "python3 (from python3-defaults) carries the default interpreter's version"},
	{ID: "python3 (rpm/apk)", Sources: []string{SourceRPM, SourceAPK}, Pattern: `python3(\d+)?`, Product: "python",
		Why: "python3/python39 is the interpreter package"},
	{ID: "ruby versioned name", Sources: deb, Pattern: `ruby(\d+\.\d+)`, Product: "ruby",
		Why: "Debian names the interpreter rubyX.Y"},
	{ID: "go versioned toolchain", Sources: deb, Pattern: `golang-(\d+\.\d+)-go`, Product: "go",
		Why: "Debian ships the Go toolchain as golang-X.Y-go"},
	{ID: "go (rpm/apk)", Sources: []string{SourceRPM, SourceAPK}, Pattern: `golang|go`, Product: "go",
		Why: "the Go toolchain package"},
	{ID: "lua versioned name", Sources: deb, Pattern: `lua(\d+\.\d+)`, Product: "lua",
		Why: "Debian names the interpreter luaX.Y"},
	{ID: "php versioned name", Sources: deb, Pattern: `php(\d+\.\d+)(-(cli|fpm|cgi|common))?`, Product: "php",
		Why: "Debian/Ubuntu ship PHP as phpX.Y-*; cli, fpm, cgi and common stand for the others (extensions share the version)"},
	{ID: "php apache module", Sources: deb, Pattern: `libapache2-mod-php(\d+\.\d+)`, Product: "php",
		Why: "the Apache PHP module is PHP"},
	{ID: "php (rpm)", Sources: rpm, Pattern: `php(-cli|-fpm|-common)?`, Product: "php",
		Why: "RHEL/Fedora ship PHP as php-*"},
	{ID: "php (apk)", Sources: apk, Pattern: `php(\d+)(-cli|-fpm|-common)?`, Product: "php",
		Why: "Alpine ships PHP as phpNN"},
	{ID: "perl (rpm)", Sources: rpm, Pattern: `perl(-interpreter|-libs)?`, Product: "perl",
		Why: "the Perl interpreter package"},
	{ID: "nodejs", Sources: allPkgs, Pattern: `nodejs(\d+)?`, Product: "nodejs",
		Why: "the Node.js runtime package"},
	{ID: "erlang", Sources: allPkgs, Name: "erlang-base", Product: "erlang",
		Why: "erlang-base is the Erlang/OTP runtime"},
	{ID: "dotnet runtime", Sources: allPkgs, Pattern: `(dotnet|aspnetcore)-runtime-(\d+\.\d+)`, Product: "dotnet",
		Why: "Microsoft's .NET runtime packages carry the runtime version"},

	// --- Language modules named after their language: not the language.
	{ID: "ignore python modules", Sources: allPkgs, Pattern: `python[23]?-.+`, Ignore: true,
		Why: "python3-* packages are Python modules with their own versions, not Python itself"},
	{ID: "ignore python3 modules (rpm)", Sources: rpm, Pattern: `python3\d*-.+`, Ignore: true,
		Why: "python3-*/python39-* packages are Python modules with their own versions, not Python itself"},
	{ID: "ignore py3 modules (apk)", Sources: apk, Pattern: `py3-.+`, Ignore: true,
		Why: "py3-* packages are Python modules, not Python itself"},
	{ID: "ignore perl modules", Sources: deb, Pattern: `lib.+-perl`, Ignore: true,
		Why: "lib*-perl packages are Perl modules, not Perl"},
	{ID: "ignore ruby modules", Sources: deb, Pattern: `ruby-.+`, Ignore: true,
		Why: "ruby-* packages are language modules with their own versions"},
	{ID: "ignore node modules", Sources: deb, Pattern: `node-.+`, Ignore: true,
		Why: "node-* packages are language modules with their own versions"},
	{ID: "ignore golang modules", Sources: deb, Pattern: `golang-.+`, Ignore: true,
		Why: "golang-* packages are language modules with their own versions"},
	{ID: "ignore php modules", Sources: deb, Pattern: `php-.+`, Ignore: true,
		Why: "php-* packages are language modules with their own versions"},
	{ID: "ignore unity", Sources: deb, Name: "unity", Ignore: true,
		Why: "Ubuntu's Unity desktop shell, not the Unity game engine"},

	// --- Java: Debian/Ubuntu/Alpine OpenJDK packages are built from the
	// OpenJDK updates project, whose LTS lines are the ones Eclipse Temurin
	// tracks with the same version numbers; "OpenJDK builds from Oracle"
	// ends each release after six months, which is not what distributions do.
	{ID: "openjdk (deb)", Sources: deb, Pattern: `openjdk-(\d+)-(jre|jdk)(-headless)?`, Product: "eclipse-temurin",
		Why: "Debian/Ubuntu OpenJDK follows the OpenJDK updates project; its lifecycle and versions are Eclipse Temurin's"},
	{ID: "openjdk (apk)", Sources: apk, Pattern: `openjdk(\d+)(-jre|-jdk|-jre-headless)?`, Product: "eclipse-temurin",
		Why: "Alpine OpenJDK follows the OpenJDK updates project; its lifecycle and versions are Eclipse Temurin's"},
	{ID: "temurin", Sources: allPkgs, Pattern: `temurin-(\d+)-(jdk|jre)`, Product: "eclipse-temurin",
		Why: "Adoptium's own packages"},
	{ID: "corretto", Sources: allPkgs, Pattern: `java-(\d+)-amazon-corretto(-jdk|-devel|-headless)?`, Product: "amazon-corretto",
		Why: "Amazon Corretto packages"},
	{ID: "microsoft openjdk", Sources: allPkgs, Pattern: `msopenjdk-(\d+)`, Product: "microsoft-build-of-openjdk",
		Why: "Microsoft Build of OpenJDK packages"},

	// --- Libraries that stand for their product when nothing else is installed.
	{ID: "openssl library", Sources: []string{SourceDpkg, SourceAPK}, Pattern: `libssl(\d+(\.\d+)*)|libcrypto(\d+)`, Product: "openssl",
		Why: "libssl is OpenSSL's library; on most hosts it is the only OpenSSL package"},
	{ID: "openssl library (rpm)", Sources: rpm, Name: "openssl-libs", Product: "openssl",
		Why: "openssl-libs is OpenSSL's library on RHEL/Fedora"},
	{ID: "sqlite", Sources: allPkgs, Name: "sqlite3", Product: "sqlite",
		Why: "the SQLite shell package"},

	// --- Databases and servers whose binary package names differ from the product.
	{ID: "postgresql versioned server", Sources: deb, Pattern: `postgresql-(client-)?(\d+)`, Product: "postgresql",
		Why: "Debian/Ubuntu ship each PostgreSQL major as postgresql-NN (and postgresql-client-NN); the meta-package postgresql is ignored"},
	{ID: "postgresql (rpm/apk)", Sources: []string{SourceRPM, SourceAPK}, Pattern: `postgresql(\d+)?(-server)?`, Product: "postgresql",
		Why: "PostgreSQL server packages (distribution and PGDG)"},
	{ID: "mariadb", Sources: allPkgs, Pattern: `mariadb-(server|client)(-core)?(-\d+\.\d+)?`, Product: "mariadb",
		Why: "MariaDB server/client packages"},
	{ID: "mysql", Sources: allPkgs, Pattern: `mysql-(community-)?server(-core)?(-\d+\.\d+)?`, Product: "mysql",
		Why: "MySQL server packages"},
	{ID: "mongodb", Sources: allPkgs, Pattern: `mongodb-(org|enterprise)-server`, Product: "mongodb",
		Why: "MongoDB server packages"},
	{ID: "redis", Sources: allPkgs, Pattern: `redis-(server|tools)`, Product: "redis",
		Why: "Debian/Ubuntu ship Redis as redis-server and redis-tools"},
	{ID: "mssql", Sources: debrpm, Name: "mssql-server", Product: "mssqlserver",
		Why: "Microsoft SQL Server for Linux"},
	{ID: "nginx", Sources: allPkgs, Pattern: `nginx(-core|-full|-light|-extras)?`, Product: "nginx",
		Why: "nginx and its Debian flavours"},
	{ID: "apache2", Sources: []string{SourceDpkg, SourceAPK}, Pattern: `apache2(-bin)?`, Product: "apache-http-server",
		Why: "Debian/Ubuntu/Alpine ship the Apache HTTP Server as apache2"},
	{ID: "httpd", Sources: rpm, Pattern: `httpd(-core)?`, Product: "apache-http-server",
		Why: "RHEL/Fedora ship the Apache HTTP Server as httpd"},
	{ID: "tomcat versioned name", Sources: allPkgs, Pattern: `tomcat(\d+)?`, Product: "tomcat",
		Why: "Debian/Ubuntu ship Apache Tomcat as tomcatN"},
	{ID: "exim", Sources: deb, Pattern: `exim4-daemon-(light|heavy)`, Product: "exim",
		Why: "the Exim daemon packages"},
	{ID: "dovecot", Sources: allPkgs, Name: "dovecot-core", Product: "dovecot",
		Why: "the Dovecot core package"},
	{ID: "rabbitmq", Sources: allPkgs, Name: "rabbitmq-server", Product: "rabbitmq",
		Why: "the RabbitMQ server package"},
	{ID: "zabbix", Sources: allPkgs, Pattern: `zabbix-(server-\w+|agent2?|proxy-\w+)`, Product: "zabbix",
		Why: "Zabbix server, proxy and agent packages"},
	{ID: "libreoffice", Sources: allPkgs, Name: "libreoffice-core", Product: "libreoffice",
		Why: "libreoffice-core carries the LibreOffice version"},
	{ID: "wireshark", Sources: allPkgs, Pattern: `wireshark|tshark`, Product: "wireshark",
		Why: "Wireshark and its terminal version"},
	{ID: "virtualbox", Sources: allPkgs, Pattern: `virtualbox(-\d+\.\d+)?`, Product: "virtualbox",
		Why: "Oracle VirtualBox packages"},
	{ID: "git", Sources: allPkgs, Name: "git", Product: "git",
		Why: "the git package (applies when the catalog has a git product)"},
	{ID: "docker", Sources: allPkgs, Pattern: `docker-ce(-cli)?|docker\.io|docker-engine|moby-engine`, Product: "docker-engine",
		Why: "Docker Engine packages (Docker's docker-ce, Debian's docker.io, Microsoft's moby-engine)"},
	{ID: "containerd", Sources: allPkgs, Pattern: `containerd(\.io)?`, Product: "containerd",
		Why: "containerd packages (Docker's containerd.io, distribution containerd)"},
	{ID: "kubernetes", Sources: allPkgs, Pattern: `kubelet|kubeadm|kubectl`, Product: "kubernetes", VersionPattern: `1\.\d+\.\d+.*`,
		Why: "Kubernetes node and client packages (versioned 1.x; Google Cloud SDK's kubectl carries the SDK's version and is left out)"},
	{ID: "gitlab", Sources: allPkgs, Pattern: `gitlab-(ce|ee)`, Product: "gitlab",
		Why: "GitLab Omnibus packages"},

	// --- The kernel.
	{ID: "linux kernel image", Sources: deb, Pattern: `linux-image-\d.*`, Product: "linux",
		Why: "linux-image-<abi>-<flavour> is an installed kernel; its package version is the kernel's"},
	{ID: "linux kernel (rpm)", Sources: rpm, Pattern: `kernel(-core)?`, Product: "linux",
		Why: "the kernel package (judged by the upstream kernel lifecycle)"},
	{ID: "linux kernel (apk)", Sources: apk, Pattern: `linux-(lts|virt|edge)`, Product: "linux",
		Why: "Alpine kernel packages"},

	// --- Windows programs (DisplayName as in the registry's Uninstall key).
	{ID: "windows python", Sources: win, Pattern: `python (\d+\.\d+\.\d+) .*`, Product: "python", Version: "${1}",
		Why: "Python's Windows installer; DisplayVersion is 3.11.5150.0-style, so the version is read from the name"},
	{ID: "windows python launcher", Sources: win, Prefix: "python launcher", Ignore: true,
		Why: "the py launcher is not Python itself"},
	{ID: "windows firefox", Sources: win, Prefix: "mozilla firefox", Product: "firefox",
		Why: "Mozilla Firefox"},
	{ID: "windows chrome", Sources: win, Name: "google chrome", Product: "chrome",
		Why: "Google Chrome"},
	{ID: "windows node", Sources: win, Name: "node.js", Product: "nodejs",
		Why: "the Node.js installer"},
	{ID: "windows git", Sources: win, Name: "git", Product: "git",
		Why: "Git for Windows"},
	{ID: "windows postgresql", Sources: win, Pattern: `postgresql \d+.*`, Product: "postgresql",
		Why: "EDB's PostgreSQL installer"},
	{ID: "windows mysql", Sources: win, Pattern: `mysql server \d+\.\d+`, Product: "mysql",
		Why: "MySQL Server installer"},
	{ID: "windows mariadb", Sources: win, Pattern: `mariadb \d+\.\d+.*`, Product: "mariadb",
		Why: "MariaDB installer"},
	{ID: "windows java update", Sources: win, Pattern: `java (\d+) update (\d+).*`, Product: "oracle-jdk", Version: "${1}u${2}",
		Why: "Oracle Java 8 (\"Java 8 Update 391\"); the version is 8u391"},
	{ID: "windows oracle jdk", Sources: win, Pattern: `java\(tm\) se development kit (\d+(\.\d+)*).*`, Product: "oracle-jdk", Version: "${1}",
		Why: "Oracle JDK"},
	{ID: "windows temurin", Sources: win, Pattern: `eclipse temurin .*?(\d+\.\d+\.\d+(\.\d+)?\+\d+).*`, Product: "eclipse-temurin", Version: "${1}",
		Why: "Eclipse Temurin's MSI; the name carries the Java version"},
	{ID: "windows microsoft openjdk", Sources: win, Pattern: `microsoft build of openjdk .*?(\d+\.\d+\.\d+(\.\d+)?\+\d+).*`, Product: "microsoft-build-of-openjdk", Version: "${1}",
		Why: "Microsoft Build of OpenJDK's MSI"},
	{ID: "windows corretto", Sources: win, Prefix: "amazon corretto", Product: "amazon-corretto",
		Why: "Amazon Corretto"},
	{ID: "windows dotnet", Sources: win, Pattern: `microsoft (\.net|asp\.net core) (runtime - |)(\d+\.\d+\.\d+).*`, Product: "dotnet", Version: "${3}",
		Why: ".NET runtime installers name the runtime version"},
	{ID: "windows notepad++", Sources: win, Prefix: "notepad++", Product: "notepad-plus-plus",
		Why: "Notepad++"},
	{ID: "windows virtualbox", Sources: win, Prefix: "oracle vm virtualbox", Product: "virtualbox",
		Why: "Oracle VirtualBox"},
	{ID: "windows wireshark", Sources: win, Prefix: "wireshark", Product: "wireshark",
		Why: "Wireshark"},
	{ID: "windows libreoffice", Sources: win, Prefix: "libreoffice", Product: "libreoffice",
		Why: "LibreOffice"},
	{ID: "windows powershell", Sources: win, Pattern: `powershell \d+.*`, Product: "powershell",
		Why: "PowerShell 7"},
	{ID: "windows visual studio", Sources: win, Pattern: `visual studio (community|professional|enterprise|build tools) \d{4}`, Product: "visual-studio",
		Why: "Visual Studio"},
	{ID: "windows zabbix", Sources: win, Prefix: "zabbix agent", Product: "zabbix",
		Why: "Zabbix agent"},
	{ID: "windows tomcat", Sources: win, Prefix: "apache tomcat", Product: "tomcat",
		Why: "Apache Tomcat"},
	{ID: "windows ivanti agent", Sources: win, Prefix: "ivanti endpoint manager", Publisher: "ivanti", Product: "ivanti-endpoint-manager",
		Why: "Ivanti Endpoint Manager agent (needs an ivanti-endpoint-manager product in a catalog file)"},

	// --- macOS applications by bundle identifier.
	{ID: "macos firefox", Sources: mac, BundleID: "org.mozilla.firefox", Product: "firefox", Why: "Firefox.app"},
	{ID: "macos chrome", Sources: mac, BundleID: "com.google.Chrome", Product: "chrome", Why: "Google Chrome.app"},
	{ID: "macos libreoffice", Sources: mac, BundleID: "org.libreoffice.script", Product: "libreoffice", Why: "LibreOffice.app"},
	{ID: "macos virtualbox", Sources: mac, BundleID: "org.virtualbox.app.VirtualBox", Product: "virtualbox", Why: "VirtualBox.app"},
	{ID: "macos wireshark", Sources: mac, BundleID: "org.wireshark.Wireshark", Product: "wireshark", Why: "Wireshark.app"},
	{ID: "macos postgres.app", Sources: mac, Pattern: `postgres`, Product: "postgresql", Why: "Postgres.app"},
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
