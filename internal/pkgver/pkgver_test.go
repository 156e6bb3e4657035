package pkgver

import "testing"

func TestRPMCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "2.0", -1}, {"2.0.1", "2.0", 1}, {"2.0", "2.0.1", -1},
		{"5.5p1", "5.5p2", -1}, {"5.5p10", "5.5p2", 1}, {"10xyz", "10.1xyz", -1}, {"xyz10", "xyz10.1", -1},
		{"1.0a", "1.0", 1}, {"1.0", "1.0a", -1}, {"1.0a", "1.0b", -1}, {"a", "1", -1}, {"1", "a", 1},
		{"1.0~rc1", "1.0", -1}, {"1.0~rc1", "1.0~rc2", -1}, {"1.0~rc1~git", "1.0~rc1", -1},
		{"1.0^", "1.0", 1}, {"1.0^git1", "1.0", 1}, {"1.0^git1", "1.0.1", -1}, {"1.0^git1~pre", "1.0^git1", -1},
		{"1.0", "1_0", 0}, {"001", "1", 0}, {"9.el9", "27.el9", -1}, {"27.el9", "27.el9_2", -1},
		{"1.module+el8.9.0+4+aaaa", "1.module+el8.9.0+1+aaaa", 1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			if got := RPMCompare(tt.a, tt.b); got != tt.want {
				t.Errorf("RPMCompare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := RPMCompare(tt.b, tt.a); got != -tt.want {
				t.Errorf("RPMCompare(%q, %q) = %d, want %d (swapped)", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestDebCompare(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "1.1", -1}, {"1.10", "1.9", 1}, {"1.0~rc1", "1.0", -1}, {"1.0~rc1", "1.0~rc2", -1},
		{"1.0~~", "1.0~", -1}, {"1.0", "1.0a", -1}, {"1.0a", "1.0+", -1}, {"1.0+dfsg", "1.0.1", -1}, {"001", "1", 0},
		{"2.39.5", "2.39.10", -1}, {"0+deb12u3", "0+deb12u10", -1}, {"1ubuntu0.1", "1ubuntu0.2", -1}, {"", "0", 0}, {"", "~", 1},
	} {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			if got := DebCompare(tt.a, tt.b); got != tt.want {
				t.Errorf("DebCompare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := DebCompare(tt.b, tt.a); got != -tt.want {
				t.Errorf("DebCompare(%q, %q) = %d, want %d (swapped)", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestRPMSourceName(t *testing.T) {
	for in, want := range map[string]string{
		"bash-5.1.8-9.el9.src.rpm":             "bash",
		"python3.9-3.9.18-3.el9.src.rpm":       "python3.9",
		"java-17-openjdk-17.0.9.0.9-2.src.rpm": "java-17-openjdk",
		"openssl-3.0.7-27.el9.nosrc.rpm":       "openssl",
		" openssl-3.0.7-27.el9.src.rpm\n":      "openssl",
		"(none)":                               "",
		"":                                     "",
		"noversion":                            "noversion",
	} {
		t.Run(in, func(t *testing.T) {
			if got := RPMSourceName(in); got != want {
				t.Errorf("RPMSourceName(%q) = %q, want %q", in, got, want)
			}
		})
	}
}
