package sbom

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParsePURL: any string either fails with an error or parses to a purl
// with a type and a name whose canonical form parses back to itself.
func FuzzParsePURL(f *testing.F) {
	for _, s := range []string{
		"pkg:deb/debian/python3.11@3.11.2-6%2Bdeb12u6?arch=amd64&distro=debian-12&upstream=python3.11",
		"pkg:npm/%40angular/core@17.0.0", "pkg:golang/google.golang.org/genproto#googleapis/api",
		"pkg:rpm/redhat/openssl@3.0.7-27.el9?arch=&epoch=1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar",
		"pkg:", "pkg:npm/", "pkg://x//y@", "pkg:a/b?c=%zz", "pkg:a/%2E%2E#%2E/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePURL(s)
		if err != nil {
			return
		}
		if p.Type == "" || strings.TrimSpace(p.Name) == "" || checkType(p.Type) != nil {
			t.Fatalf("ParsePURL(%q) = %+v: accepted without a valid type and a name", s, p)
		}
		if len(p.String()) > maxPURLLen {
			return // escaping made it longer than a purl may be
		}
		back, err := ParsePURL(p.String())
		if err != nil || !reflect.DeepEqual(back, p) {
			t.Fatalf("ParsePURL(%q) = %+v, %v; want %+v (canonical form of %q)", p.String(), back, err, p, s)
		}
	})
}

// FuzzParseCPE: any string either fails or gives a part and a product.
func FuzzParseCPE(f *testing.F) {
	for _, s := range []string{
		"cpe:2.3:a:golang:go:1.26.8:-:*:*:*:*:*:*", `cpe:2.3:a:python:python\:3:3.11:*:*:*:*:*:*:*`,
		"cpe:/a:djangoproject:django:4.2", "cpe:/a:v:p:1:u:~e~s~t~h~o", "cpe:2.3:a:golang:go", "cpe:/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCPE(s)
		if err != nil {
			if _, err := parseCPEPrefix(s); err == nil && !hasPrefixFold(s, "cpe:2.3:") {
				t.Fatalf("parseCPEPrefix(%q) accepts what ParseCPE refuses outside the 2.3 prefix form", s)
			}
			return
		}
		if (c.Part != "a" && c.Part != "o" && c.Part != "h") || c.Product == "" {
			t.Fatalf("ParseCPE(%q) = %+v: accepted without a part or a product", s, c)
		}
	})
}

// FuzzRead feeds arbitrary documents to the reader and every component it
// hands over to the matcher: never a panic, and every failure is an *Error
// (a problem with the document) naming what is wrong.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		handDoc,
		`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","components":[{"name":"b"}]}]}`,
		`{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"a","versionInfo":"1","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:npm/a@1"},{"referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a:golang:go:1:*:*:*:*:*:*:*"}]}]}`,
		`{"bomFormat":"CycloneDX","specVersion":"1.4","metadata":{"tools":[{"name":"t"}],"component":{"name":"m","type":"operating-system","version":"12"}}}`,
		"\x1f\x8b\x08\x00", "<bom/>", "[1]", "SPDXVersion: SPDX-2.3", "", `{"@graph":[]}`,
	} {
		f.Add([]byte(s))
	}
	sm := testMatcher(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		n := 0
		d, err := Read(bytes.NewReader(doc), Limits{MaxBytes: 1 << 20, MaxComponents: 1000}, func(c *Component) error {
			n++
			if c.Name == "" || c.Field == "" {
				t.Fatalf("component without a name or field: %+v", c)
			}
			_, err := sm.Resolve(c)
			var de *Error
			if err != nil && (!errors.As(err, &de) || !strings.HasSuffix(de.Field, ".purl")) {
				t.Fatalf("Resolve(%+v) error %v: want none or one naming the purl", c, err)
			}
			return nil
		})
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Msg == "" {
				t.Fatalf("Read error %v (%T): want an *Error with a message", err, err)
			}
			return
		}
		if d.Format != FormatCycloneDX && d.Format != FormatSPDX {
			t.Fatalf("Read accepted a document of format %q", d.Format)
		}
		if n < d.Components {
			t.Fatalf("%d components counted, %d handed over", d.Components, n)
		}
	})
}
