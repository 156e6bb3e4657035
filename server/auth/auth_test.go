package auth

import "testing"

func TestAllows(t *testing.T) {
	// want[role] lists the access levels the role reaches.
	want := map[string][]Access{
		RoleAdmin:   {Public, Viewer, Support, Admin, Upload},
		RoleSupport: {Public, Viewer, Support},
		RoleViewer:  {Public, Viewer},
		RoleCI:      {Public, Upload},
		"":          {Public},
		"root":      {Public},
	}
	for role, levels := range want {
		t.Run("role="+role, func(t *testing.T) {
			for a := Public; a <= Upload; a++ {
				reach := false
				for _, l := range levels {
					reach = reach || l == a
				}
				if got := Allows(role, a); got != reach {
					t.Errorf("Allows(%q, %s) = %v, want %v", role, a, got, reach)
				}
			}
		})
	}
	for _, r := range Roles {
		if !ValidRole(r) {
			t.Errorf("ValidRole(%q) = false", r)
		}
	}
	if ValidRole("root") || ValidRole("") {
		t.Error("ValidRole accepts a role that does not exist")
	}
	if Access(99).String() != "unknown" || Support.String() != "support" {
		t.Errorf("Access names: %q %q", Access(99), Support)
	}
}
