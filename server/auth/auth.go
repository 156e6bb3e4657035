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

// CanScope reports whether a token of role may be limited to one customer:
// only viewer tokens (a customer's own IT team); support answers every
// customer's tickets and admin manages them all.
func CanScope(role string) bool { return role == RoleViewer }

// Principal is who a person's token (or dashboard session) speaks for.
type Principal struct {
	// Role is one of Roles.
	Role string
	// Customer, when set, limits a viewer token to one customer's hosts:
	// the customer's id.
	Customer string
	// TokenID and TokenName are the API token's id and name (a note saying
	// who or what uses it), for records of who did what; empty for a
	// dashboard session.
	TokenID, TokenName string
	// CustomerName is that customer's name, for people to read (Customer
	// alone decides what the principal may see).
	CustomerName string
}

// Scoped reports whether p is limited to one customer.
func (p Principal) Scoped() bool { return p.Customer != "" }

// May reports whether p may use something that needs access a: what its
// role allows and, for a principal limited to a customer, only Public and
// CustomerViewer (the routes and pages that limit their data to the
// caller's customer). Anything new is closed to such tokens until it is
// declared CustomerViewer and limits its data.
func (p Principal) May(a Access) bool {
	if p.Scoped() && a != Public && a != CustomerViewer {
		return false
	}
	return Allows(p.Role, a)
}

// Access is who may call a route or open a page.
type Access int

// The access levels.
const (
	Public  Access = iota // anyone
	Agent                 // an enrolled agent's node key (never a person's token)
	Viewer                // a token with role viewer, support or admin, not limited to a customer
	Support               // support or admin
	Admin                 // admin only
	Upload                // admin or ci: register an asset by uploading its SBOM
	// CustomerViewer is Viewer plus viewer tokens limited to one customer:
	// the route or page shows such a token only that customer's hosts.
	CustomerViewer
)

// String names the access level (public, agent, viewer, support, admin, upload, customer-viewer).
func (a Access) String() string {
	if a < Public || a > CustomerViewer {
		return "unknown"
	}
	return [...]string{"public", "agent", "viewer", "support", "admin", "upload (admin or ci)", "customer-viewer"}[a]
}

// Allows reports whether a person's token role may use something that
// needs access a. No role reaches Agent: only node keys do. The ci role
// reaches Upload alone. Customer limits are Principal.May's.
func Allows(role string, a Access) bool {
	switch a {
	case Public:
		return true
	case Viewer, CustomerViewer:
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
