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
)

// Roles lists the roles, most powerful first.
var Roles = []string{RoleAdmin, RoleSupport, RoleViewer}

// ValidRole reports whether r names a role.
func ValidRole(r string) bool { return r == RoleAdmin || r == RoleSupport || r == RoleViewer }

// Access is who may call a route or open a page.
type Access int

// The access levels.
const (
	Public  Access = iota // anyone
	Agent                 // an enrolled agent's node key (never a person's token)
	Viewer                // a token with role viewer, support or admin
	Support               // support or admin
	Admin                 // admin only
)

// String names the access level (public, agent, viewer, support, admin).
func (a Access) String() string {
	if a < Public || a > Admin {
		return "unknown"
	}
	return [...]string{"public", "agent", "viewer", "support", "admin"}[a]
}

// Allows reports whether a person's token role may use something that
// needs access a. No role reaches Agent: only node keys do.
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
	}
	return false
}
