package catalog

import "strings"

// Programme is an extended-support programme: what runs between a cycle's
// end of life (eol) and the end of its extended support (eoes).
type Programme struct {
	// Name is how people call it ("Debian LTS", "Ubuntu Pro (ESM)").
	Name string `json:"name" yaml:"name"`
	// Free is true for a programme that costs nothing and ships through the
	// normal archive or channel, so every install gets it (Debian LTS). It
	// keeps a cycle supported under the default policy; a paid one only for
	// hosts enrolled in it.
	Free bool `json:"free" yaml:"free"`
	// IDs are the names a host reports in Context.Enrolled when it is
	// enrolled ("ubuntu-pro", "esm-infra"), compared without regard to case.
	Enrolment []string `json:"enrolment,omitempty" yaml:"enrolment"`
}

// Enrolled reports whether one of a host's enrolments (Context.Enrolled) names p.
func (p *Programme) Enrolled(hostEnrolled []string) bool {
	for _, e := range hostEnrolled {
		for _, id := range p.Enrolment {
			if strings.EqualFold(strings.TrimSpace(e), id) {
				return true
			}
		}
	}
	return false
}

// paidProgramme is the programme of a product that neither its catalog
// data nor the built-in table describes: a vendor's paid extension.
var paidProgramme = &Programme{Name: "paid extended support"}

// programmes is the built-in table of extended-support programmes by
// catalog product id: which ones are free (and so count under the default
// policy) and what a host reports to say it is enrolled in a paid one. A
// product's own data (Product.Extended, the `extended_support` key of a
// catalog file) overrides its entry; a product with eoes dates that is not
// listed has a paid programme. ProgrammeOf reads it.
var programmes = map[string]*Programme{
	// free, through the distribution's normal archive. (Freexian's paid
	// Extended LTS, which the agent reports as "debian-elts", runs past the
	// eoes dates the data has; the catalog has no dates for it.)
	"debian": {Name: "Debian LTS", Free: true, Enrolment: []string{"debian-lts"}},
	// free: the project's own security-fix phase after active support
	"apache-pulsar": {Name: "Apache Pulsar security support", Free: true},
	// paid, or needing an attached subscription
	// the agent reports api.ExtUbuntuESMInfra / ExtUbuntuESMApps ("ubuntu-esm-infra", "ubuntu-esm-apps")
	"ubuntu":                   {Name: "Ubuntu Pro (ESM)", Enrolment: []string{"ubuntu-esm-infra", "ubuntu-esm-apps", "ubuntu-pro", "esm-infra", "esm-apps", "ubuntu-esm"}},
	"rhel":                     {Name: "RHEL Extended Life Cycle Support", Enrolment: []string{"rhel-els", "els"}}, // api.ExtRHELELS
	"sles":                     {Name: "SUSE Long Term Service Pack Support", Enrolment: []string{"sles-ltss", "ltss"}},
	"oracle-linux":             {Name: "Oracle Linux Extended Support", Enrolment: []string{"oracle-linux-extended"}},
	"windows":                  {Name: "Windows Extended Security Updates", Enrolment: []string{"windows-esu", "esu"}},
	"windows-server":           {Name: "Windows Server Extended Security Updates", Enrolment: []string{"windows-esu", "esu"}},
	"windows-server-core":      {Name: "Windows Server Extended Security Updates", Enrolment: []string{"windows-esu", "esu"}},
	"mssqlserver":              {Name: "SQL Server Extended Security Updates", Enrolment: []string{"mssql-esu", "esu"}},
	"msexchange":               {Name: "Exchange Extended Security Updates", Enrolment: []string{"exchange-esu", "esu"}},
	"nodejs":                   {Name: "Node.js commercial support", Enrolment: []string{"nodejs-commercial"}},
	"oracle-jdk":               {Name: "Oracle Java Extended Support", Enrolment: []string{"oracle-java-extended"}},
	"oracle-database":          {Name: "Oracle Database Extended Support", Enrolment: []string{"oracle-database-extended"}},
	"azul-zulu":                {Name: "Azul Zulu extended support", Enrolment: []string{"azul-extended"}},
	"spring-boot":              {Name: "Spring commercial support", Enrolment: []string{"spring-commercial"}},
	"spring-framework":         {Name: "Spring commercial support", Enrolment: []string{"spring-commercial"}},
	"amazon-rds-mysql":         {Name: "Amazon RDS Extended Support", Enrolment: []string{"rds-extended-support"}},
	"amazon-rds-postgresql":    {Name: "Amazon RDS Extended Support", Enrolment: []string{"rds-extended-support"}},
	"amazon-aurora-postgresql": {Name: "Amazon RDS Extended Support", Enrolment: []string{"rds-extended-support"}},
	"amazon-eks":               {Name: "Amazon EKS extended support", Enrolment: []string{"eks-extended-support"}},
	"mariadb":                  {Name: "MariaDB Enterprise support", Enrolment: []string{"mariadb-enterprise"}},
	"angular":                  {Name: "Angular commercial support", Enrolment: []string{"angular-commercial"}},
	"vue":                      {Name: "Vue commercial support", Enrolment: []string{"vue-commercial"}},
}

// ProgrammeOf returns the extended-support programme behind the eoes
// dates of p: its own data, else the built-in table, else a paid programme.
func ProgrammeOf(p *Product) Programme { return *programmeOf(p) }

func programmeOf(p *Product) *Programme {
	if p.Extended != nil {
		return p.Extended
	}
	if pr, ok := programmes[p.ID]; ok {
		return pr
	}
	return paidProgramme
}

// distroSchemes is the package-version scheme of each distribution the
// catalog knows, by product id: how Context.Installed and Candidate compare.
var distroSchemes = map[string]Scheme{
	"debian": SchemeDebian, "ubuntu": SchemeDebian, "linuxmint": SchemeDebian, "devuan": SchemeDebian,
	"raspberry-pi": SchemeDebian, "antix": SchemeDebian, "mxlinux": SchemeDebian,
	"rhel": SchemeRPM, "centos": SchemeRPM, "centos-stream": SchemeRPM, "fedora": SchemeRPM, "almalinux": SchemeRPM,
	"rocky-linux": SchemeRPM, "oracle-linux": SchemeRPM, "amazon-linux": SchemeRPM, "eurolinux": SchemeRPM,
	"sles": SchemeRPM, "opensuse": SchemeRPM, "photon": SchemeRPM,
	"alpine-linux": SchemeAPK,
}

// DistroScheme returns the scheme of the package versions of a
// distribution given by its catalog product id: debian for Debian, Ubuntu
// and their derivatives, rpm for RHEL and its rebuilds, Fedora, SUSE and
// Amazon Linux, apk for Alpine; the automatic scheme for any other.
func DistroScheme(distro string) Scheme {
	return distroSchemes[strings.ToLower(strings.TrimSpace(distro))]
}
