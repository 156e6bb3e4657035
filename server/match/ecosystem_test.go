package match

import (
	"testing"

	"github.com/eolwatch/eolwatch/server/api"
)

// TestMatchEcosystems covers packages of language ecosystems as an SBOM's
// purls name them (the sbom package turns pkg:TYPE/NAMESPACE/NAME@VERSION
// into these items).
func TestMatchEcosystems(t *testing.T) {
	m := defaultMatcher(t)
	tests := []struct {
		name             string
		it               api.Item
		product, version string
		rule             string
	}{
		{"django by its catalog purl", api.Item{Source: "pypi", Name: "Django", Version: "4.2.11"}, "django", "4.2.11", "python:django"},
		{"pypi names are normalised", api.Item{Source: "pypi", Name: "NumPy", Version: "1.26.4"}, "numpy", "1.26.4", "purl pkg:pypi/numpy"},
		{"pypi ansible-core by rule, underscore spelling", api.Item{Source: "pypi", Name: "ansible_core", Version: "2.16.3"}, "ansible-core", "2.16.3", "ansible-core"},
		{"pypi module that is no product", api.Item{Source: "pypi", Name: "requests", Version: "2.31.0"}, "", "", ""},
		{"npm jquery", api.Item{Source: "npm", Name: "jquery", Version: "3.6.1"}, "jquery", "3.6.1", "purl pkg:npm/jquery"},
		{"npm bootstrap", api.Item{Source: "npm", Name: "bootstrap", Version: "4.6.2"}, "bootstrap", "4.6.2", "purl pkg:npm/bootstrap"},
		{"npm angular is AngularJS", api.Item{Source: "npm", Name: "angular", Version: "1.8.3"}, "angularjs", "1.8.3", "purl pkg:npm/angular"},
		{"npm @angular/core is Angular", api.Item{Source: "npm", Name: "@angular/core", Version: "17.0.0"}, "angular", "17.0.0", "angular packages"},
		{"npm @angular/router is Angular", api.Item{Source: "npm", Name: "@angular/router", Version: "17.0.0"}, "angular", "17.0.0", "angular packages"},
		{"npm @angular/material is apart", api.Item{Source: "npm", Name: "@angular/material", Version: "17.0.0"}, "", "", ""},
		{"npm @types/jquery is not jquery", api.Item{Source: "npm", Name: "@types/jquery", Version: "3.5.29"}, "", "", ""},
		{"npm react-dom", api.Item{Source: "npm", Name: "react-dom", Version: "18.2.0"}, "react", "18.2.0", "react-dom"},
		{"maven spring-core", api.Item{Source: "maven", Name: "org.springframework:spring-core", Version: "5.3.31"}, "spring-framework", "5.3.31", "spring framework modules"},
		{"maven spring-webflux by group rule", api.Item{Source: "maven", Name: "org.springframework:spring-webflux", Version: "6.1.2"}, "spring-framework", "6.1.2", "spring framework modules"},
		{"maven spring boot starter", api.Item{Source: "maven", Name: "org.springframework.boot:spring-boot-starter-json", Version: "3.2.1"}, "spring-boot", "3.2.1", "spring boot"},
		{"maven log4j-core", api.Item{Source: "maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1"}, "log4j", "2.14.1", "log4j 2 modules"},
		{"maven log4j-api", api.Item{Source: "maven", Name: "org.apache.logging.log4j:log4j-api", Version: "2.14.1"}, "log4j", "2.14.1", "log4j 2 modules"},
		{"maven log4j 1", api.Item{Source: "maven", Name: "log4j:log4j", Version: "1.2.17"}, "log4j", "1.2.17", "purl pkg:maven/log4j/log4j"},
		{"maven log4j-api-kotlin is apart", api.Item{Source: "maven", Name: "org.apache.logging.log4j:log4j-api-kotlin", Version: "1.3.0"}, "", "", ""},
		{"maven tomcat embedded", api.Item{Source: "maven", Name: "org.apache.tomcat.embed:tomcat-embed-core", Version: "10.1.17"}, "tomcat", "10.1.17", "tomcat embedded"},
		{"maven jetty 12 ee10", api.Item{Source: "maven", Name: "org.eclipse.jetty.ee10:jetty-ee10-servlet", Version: "12.0.5"}, "eclipse-jetty", "12.0.5", "jetty modules"},
		{"maven commons-text is no product", api.Item{Source: "maven", Name: "org.apache.commons:commons-text", Version: "1.10.0"}, "", "", ""},
		{"nuget .NET runtime", api.Item{Source: "nuget", Name: "Microsoft.NETCore.App.Runtime.linux-x64", Version: "8.0.1"}, "dotnet", "8.0.1", "dotnet runtime packages"},
		{"nuget ASP.NET Core runtime", api.Item{Source: "nuget", Name: "Microsoft.AspNetCore.App.Runtime.win-x64", Version: "8.0.1"}, "dotnet", "8.0.1", "dotnet runtime packages"},
		{"nuget jQuery", api.Item{Source: "nuget", Name: "jQuery", Version: "3.7.1"}, "jquery", "3.7.1", "purl pkg:nuget/jQuery"},
		{"go stdlib is the toolchain", api.Item{Source: "golang", Name: "stdlib", Version: "go1.21.5"}, "go", "1.21.5", "go stdlib"},
		{"go module of the catalog, major version suffix", api.Item{Source: "golang", Name: "github.com/caddyserver/caddy/v2", Version: "v2.7.6"}, "caddy", "2.7.6", "purl pkg:golang/github.com/caddyserver/caddy/v2"},
		{"go gorilla/mux", api.Item{Source: "golang", Name: "github.com/gorilla/mux", Version: "v1.8.1"}, "gorilla", "1.8.1", "purl pkg:golang/github.com/gorilla/mux"},
		{"go module that is no product", api.Item{Source: "golang", Name: "github.com/mattn/go-sqlite3", Version: "v1.14.53"}, "", "", ""},
		{"gem rails", api.Item{Source: "gem", Name: "rails", Version: "7.1.2"}, "rails", "7.1.2", "ruby:rails"},
		{"gem activerecord is rails", api.Item{Source: "gem", Name: "activerecord", Version: "7.1.2"}, "rails", "7.1.2", "rails gems"},
		{"gem jekyll by repology ruby:", api.Item{Source: "gem", Name: "jekyll", Version: "4.3.3"}, "jekyll", "4.3.3", "repology ruby:jekyll"},
		{"composer symfony component", api.Item{Source: "composer", Name: "symfony/http-kernel", Version: "6.4.1"}, "symfony", "6.4.1", "symfony components"},
		{"composer symfony polyfill is apart", api.Item{Source: "composer", Name: "symfony/polyfill-mbstring", Version: "1.28.0"}, "", "", ""},
		{"composer symfony contracts are apart", api.Item{Source: "composer", Name: "symfony/service-contracts", Version: "3.4.1"}, "", "", ""},
		{"composer twig", api.Item{Source: "composer", Name: "twig/twig", Version: "3.8.0"}, "twig", "3.8.0", "twig extensions"},
		{"composer laravel", api.Item{Source: "composer", Name: "laravel/framework", Version: "10.40.0"}, "laravel", "10.40.0", "purl pkg:composer/laravel/framework"},
		{"composer bootstrap", api.Item{Source: "composer", Name: "twbs/bootstrap", Version: "5.3.2"}, "bootstrap", "5.3.2", "purl pkg:composer/twbs/bootstrap"},
		{"cargo deno", api.Item{Source: "cargo", Name: "deno", Version: "1.40.0"}, "deno", "1.40.0", "purl pkg:cargo/deno"},
		{"cargo crate that is no product", api.Item{Source: "cargo", Name: "tokio", Version: "1.35.1"}, "", "", ""},
		{"generic purl", api.Item{Source: "generic", Name: "sqlite", Version: "3.45.0"}, "sqlite", "3.45.0", "purl pkg:generic/sqlite"},
		{"generic name is a product id", api.Item{Source: "generic", Name: "redis", Version: "7.2.4"}, "redis", "7.2.4", "redis"},
		{"generic display name", api.Item{Source: "generic", Name: "Apache Tomcat", Version: "10.1.17"}, "tomcat", "10.1.17", "product label"},
		{"generic unknown name", api.Item{Source: "generic", Name: "left-pad", Version: "1.3.0"}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatch(t, m, tt.it, tt.product, tt.version, tt.rule)
		})
	}
}

func TestEcoName(t *testing.T) {
	tests := []struct{ source, in, want string }{
		{"pypi", "Django", "django"},
		{"pypi", "zope.interface", "zope-interface"},
		{"pypi", "ansible__core", "ansible-core"},
		{"npm", "@Angular/Core", "@angular/core"},
		{"golang", "github.com/x/y/v2", "github.com/x/y"},
		{"golang", "github.com/x/v2y", "github.com/x/v2y"},
		{"maven", "org.Foo:Bar", "org.foo:bar"},
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.in, func(t *testing.T) {
			if got := ecoName(tt.source, tt.in); got != tt.want {
				t.Errorf("ecoName(%q, %q) = %q, want %q", tt.source, tt.in, got, tt.want)
			}
		})
	}
}

func TestPurlEcoName(t *testing.T) {
	tests := []struct {
		purl, source, name string
		ok                 bool
	}{
		{"pkg:maven/org.apache.logging.log4j/log4j-core", "maven", "org.apache.logging.log4j:log4j-core", true},
		{"pkg:npm/%40angular/core", "npm", "@angular/core", true},
		{"pkg:pypi/Django@4.2?x=1", "pypi", "django", true},
		{"pkg:golang/github.com/caddyserver/caddy/v2", "golang", "github.com/caddyserver/caddy", true},
		{"pkg:composer/twbs/bootstrap", "composer", "twbs/bootstrap", true},
		{"pkg:deb/debian/nginx", "", "", false},
		{"pkg:maven/justone", "", "", false},
		{"pkg:npm/%zz", "", "", false},
		{"npm/jquery", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.purl, func(t *testing.T) {
			src, name, ok := purlEcoName(tt.purl)
			if ok != tt.ok || src != tt.source || name != tt.name {
				t.Errorf("purlEcoName(%q) = %q, %q, %v; want %q, %q, %v", tt.purl, src, name, ok, tt.source, tt.name, tt.ok)
			}
		})
	}
}
