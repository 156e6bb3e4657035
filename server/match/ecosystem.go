package match

import (
	"net/url"
	"strings"
)

// Item sources for packages of language ecosystems, as an SBOM names them
// (api.Item.Source values next to dpkg, rpm and apk). The item's name is
// the package name as its purl spells it, with the namespace joined the
// way the ecosystem writes it.
const (
	SourcePyPI     = "pypi"     // "django"; compared after PEP 503 normalisation ("Django_Rest" = "django-rest")
	SourceNPM      = "npm"      // "jquery", "@angular/core"
	SourceMaven    = "maven"    // "org.apache.logging.log4j:log4j-core" (group:artifact)
	SourceNuGet    = "nuget"    // "Microsoft.NETCore.App.Runtime.linux-x64"
	SourceGolang   = "golang"   // "github.com/gorilla/mux"; "stdlib" is the Go toolchain a binary was built with
	SourceGem      = "gem"      // "rails", "actionpack"
	SourceComposer = "composer" // "symfony/http-kernel"
	SourceCargo    = "cargo"    // "tokio"
	SourceGeneric  = "generic"  // pkg:generic/NAME, or a component known by its name alone
)

// ecosystems maps an ecosystem item source to its purl type.
var ecosystems = map[string]string{
	SourcePyPI: "pypi", SourceNPM: "npm", SourceMaven: "maven", SourceNuGet: "nuget", SourceGolang: "golang",
	SourceGem: "gem", SourceComposer: "composer", SourceCargo: "cargo", SourceGeneric: "generic",
}

// repologyEcosystems maps repology's language prefixes ("python:django")
// to the ecosystem whose package names they are.
var repologyEcosystems = map[string]string{
	"python": SourcePyPI, "ruby": SourceGem, "node": SourceNPM, "rust": SourceCargo,
}

// ecoName normalises a package name of an ecosystem for lookup: lowercase,
// PyPI's runs of "-", "_" and "." as one "-", a Go module's major-version
// suffix dropped ("github.com/x/y/v2" → "github.com/x/y").
func ecoName(source, name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	switch source {
	case SourcePyPI:
		var b strings.Builder
		sep := false
		for i := 0; i < len(n); i++ {
			c := n[i]
			if c == '-' || c == '_' || c == '.' {
				sep = true
				continue
			}
			if sep && b.Len() > 0 {
				b.WriteByte('-')
			}
			sep = false
			b.WriteByte(c)
		}
		return b.String()
	case SourceGolang:
		if i := strings.LastIndex(n, "/v"); i > 0 && allDigits(n[i+2:]) {
			return n[:i]
		}
	}
	return n
}

// purlEcoName returns the ecosystem and normalised name a catalog purl
// stands for ("pkg:maven/org.apache.logging.log4j/log4j-core" → maven,
// "org.apache.logging.log4j:log4j-core"), or ok=false for other types.
func purlEcoName(purl string) (source, name string, ok bool) {
	rest, found := strings.CutPrefix(purl, "pkg:")
	if !found {
		return "", "", false
	}
	if i := strings.IndexAny(rest, "?#@"); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.Trim(rest, "/")
	typ, path, found := strings.Cut(rest, "/")
	if !found || path == "" {
		return "", "", false
	}
	typ = strings.ToLower(typ)
	for src, t := range ecosystems {
		if t == typ {
			source = src
		}
	}
	if source == "" {
		return "", "", false
	}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return "", "", false
		}
		parts[i] = u
	}
	switch source {
	case SourceMaven:
		if len(parts) != 2 {
			return "", "", false
		}
		name = parts[0] + ":" + parts[1]
	case SourcePyPI, SourceGem, SourceCargo, SourceNuGet, SourceGeneric:
		name = parts[len(parts)-1]
	default: // npm scopes, Go module paths and composer vendors are part of the name
		name = strings.Join(parts, "/")
	}
	return source, ecoName(source, name), true
}

// ecoUpstream returns the version of an ecosystem package for the verdict:
// Go module versions drop their "v" ("v1.8.0" → "1.8.0"), and the Go
// toolchain its "go" ("go1.22.1" → "1.22.1").
func ecoUpstream(source, version string) string {
	v := strings.TrimSpace(version)
	if source == SourceGolang {
		v = strings.TrimPrefix(v, "go")
		if len(v) > 1 && v[0] == 'v' && isDigit(v[1]) {
			v = v[1:]
		}
	}
	return v
}
