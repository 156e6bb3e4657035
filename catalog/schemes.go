package catalog

// defaultSchemes is the scheme of endoflife.date products whose versions
// are not handled well by the automatic scheme. Products not listed use the
// automatic scheme (dotted numbers with letter suffixes, updates and
// pre-releases, Java spellings recognised by their shape).
var defaultSchemes = map[string]Scheme{
	// Java distributions: 8u392-b08, 17.0.9+9, 21.0.12.1+1, 1.8.0.472.b08-1
	"amazon-corretto":            SchemeJava,
	"azul-zulu":                  SchemeJava,
	"bellsoft-liberica":          SchemeJava,
	"eclipse-temurin":            SchemeJava,
	"microsoft-build-of-openjdk": SchemeJava,
	"openjdk-builds-from-oracle": SchemeJava,
	"oracle-jdk":                 SchemeJava,
	"redhat-build-of-openjdk":    SchemeJava,
	"sapmachine":                 SchemeJava,
	"java":                       SchemeJava,
	// Windows: 10.0.26100.2314 belongs to a release by its build number
	"windows":             SchemeWindows,
	"windows-server":      SchemeWindows,
	"windows-server-core": SchemeWindows,
	"windows-nano-server": SchemeWindows,
	// plain semantic versions
	"nodejs":     SchemeSemver,
	"go":         SchemeSemver,
	"kubernetes": SchemeSemver,
	"angular":    SchemeSemver,
	"react":      SchemeSemver,
	"vue":        SchemeSemver,
	"laravel":    SchemeSemver,
	"django":     SchemeSemver,
	"postgresql": SchemeDotted,
}

// DefaultScheme returns the scheme used for an endoflife.date product that
// the data itself does not give a scheme for.
func DefaultScheme(product string) Scheme { return defaultSchemes[product] }
