package auth

import "testing"

func TestAllows(t *testing.T) {
	// want[role] lists the access levels the role reaches.
	want := map[string][]Access{
		RoleAdmin:   {Public, Viewer, Support, Admin, Upload, CustomerViewer},
		RoleSupport: {Public, Viewer, Support, CustomerViewer},
		RoleViewer:  {Public, Viewer, CustomerViewer},
		RoleCI:      {Public, Upload},
		"":          {Public},
		"root":      {Public},
	}
	for role, levels := range want {
		t.Run("role="+role, func(t *testing.T) {
			for a := Public; a <= CustomerViewer; a++ {
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

// TestPrincipalMay: a viewer limited to a customer reaches only public and
// customer-viewer routes; unlimited principals reach what their role allows.
func TestPrincipalMay(t *testing.T) {
	scoped := Principal{Role: RoleViewer, Customer: "c1"}
	for a := Public; a <= CustomerViewer; a++ {
		want := a == Public || a == CustomerViewer
		if got := scoped.May(a); got != want {
			t.Errorf("scoped viewer May(%s) = %v, want %v", a, got, want)
		}
		for _, r := range Roles {
			if got, want := (Principal{Role: r}).May(a), Allows(r, a); got != want {
				t.Errorf("%s May(%s) = %v, want %v", r, a, got, want)
			}
		}
	}
	if !CanScope(RoleViewer) || CanScope(RoleSupport) || CanScope(RoleAdmin) {
		t.Error("only viewer tokens may be limited to a customer")
	}
	if CustomerViewer.String() != "customer-viewer" {
		t.Errorf("CustomerViewer.String() = %q", CustomerViewer)
	}
}
