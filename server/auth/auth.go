// Package auth defines who may do what, once: the roles of people's API
// tokens and the access levels of routes and pages, with the one rule
// (Allows) that the API, the dashboard and the command line all apply.
package auth

// The roles of API tokens (and of dashboard sessions, which log in with a
// token), from most to least powerful.
const (
	RoleAdmin   = "admin"   // everything
	RoleSupport = "support" // read every view and answer eligibility questions
	RoleViewer  = "viewer"  // read every view
	RoleCI      = "ci"      // upload SBOMs (a build pipeline's token), nothing else
)

// Roles lists the roles, most powerful first.
var Roles = []string{RoleAdmin, RoleSupport, RoleViewer, RoleCI}

// ValidRole reports whether r names a role.
func ValidRole(r string) bool {
	return r == RoleAdmin || r == RoleSupport || r == RoleViewer || r == RoleCI
}

// Access is who may call a route or open a page.
type Access int

// The access levels.
const (
	Public  Access = iota // anyone
	Agent                 // an enrolled agent's node key (never a person's token)
	Viewer                // a token with role viewer, support or admin
	Support               // support or admin
	Admin                 // admin only
	Upload                // admin or ci: register an asset by uploading its SBOM
)

// String names the access level (public, agent, viewer, support, admin).
func (a Access) String() string {
	if a < Public || a > Upload {
		return "unknown"
	}
	return [...]string{"public", "agent", "viewer", "support", "admin", "upload (admin or ci)"}[a]
}

// Allows reports whether a person's token role may use something that
// needs access a. No role reaches Agent: only node keys do. The ci role
// reaches Upload alone.
func Allows(role string, a Access) bool {
	switch a {
	case Public:
		return true
	case Viewer:
		return role == RoleViewer || role == RoleSupport || role == RoleAdmin
	case Support:
		return role == RoleSupport || role == RoleAdmin
	case Admin:
		return role == RoleAdmin
	case Upload:
		return role == RoleAdmin || role == RoleCI
	}
	return false
}
