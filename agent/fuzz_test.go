package agent

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func addFileSeeds(f *testing.F, paths ...string) {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParseDpkgStatus(f *testing.F) {
	addFileSeeds(f, "testdata/debian/var/lib/dpkg/status", "testdata/debian/var/lib/dpkg/updates/0001")
	f.Add([]byte("Package: a\nStatus: install ok installed\nVersion: 1\n\n\n"))
	f.Add([]byte(" x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		err := parseDpkgStatus(bytes.NewReader(b), func(e dpkgEntry) {
			n++
			if e.Name == "" {
				t.Fatalf("entry without a name: %+v", e)
			}
		})
		if err != nil && !strings.Contains(err.Error(), "line ") {
			t.Fatalf("error without a line number: %v", err)
		}
	})
}

func FuzzParseAPKInstalled(f *testing.F) {
	addFileSeeds(f, "testdata/alpine/lib/apk/db/installed")
	f.Add([]byte("P:x\nV:1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := parseAPKInstalled(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Name == "" || it.Version == "" {
				t.Fatalf("item without name or version: %+v", it)
			}
		}
	})
}

func FuzzParseRPMQuery(f *testing.F) {
	addFileSeeds(f, "testdata/rpm/qa.txt")
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := parseRPMQuery(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Name == "" || it.Version == "" {
				t.Fatalf("item without name or version: %+v", it)
			}
		}
	})
}

func FuzzParseOSRelease(f *testing.F) {
	addFileSeeds(f, "testdata/debian/etc/os-release", "testdata/alpine/etc/os-release")
	f.Add([]byte("A=\"x \\\"y\\\"\"\nB='z'\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseOSRelease(bytes.NewReader(b))
	})
}

func FuzzParsePlist(f *testing.F) {
	addFileSeeds(f, "testdata/macos/Applications/Slack.app/Contents/Info.plist",
		"testdata/macos/Applications/Firefox.app/Contents/Info.plist",
		"testdata/macos/System/Library/CoreServices/SystemVersion.plist")
	f.Add([]byte("bplist00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parsePlist(bytes.NewReader(b)) // must not panic or hang
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("server: https://x\ninterval: 1h\nprobes:\n  - name: j\n    command: [java]\n    regexp: x\n"))
	f.Add([]byte("disable: [rpm]\ntls: {ca_file: a}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(bytes.NewReader(b))
		if err == nil {
			c.Validate(false)
		}
	})
}
