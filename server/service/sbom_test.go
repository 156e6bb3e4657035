package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
)

// imageSBOM is a small CycloneDX document of a Debian 12 image: its OS, an
// interpreter, a library nothing claims, the Go toolchain of a binary, and
// the image itself as the document's subject.
const imageSBOM = `{"bomFormat":"CycloneDX","specVersion":"1.6",
 "metadata":{"tools":{"components":[{"name":"syft","version":"1.57.1"}]},"component":{"type":"container","name":"registry.example/app","version":"sha256:abc"}},
 "components":[
  {"bom-ref":"os","type":"operating-system","name":"debian","version":"12"},
  {"bom-ref":"py","type":"library","name":"python3.11","version":"3.11.2-6+deb12u6","purl":"pkg:deb/debian/python3.11@3.11.2-6%2Bdeb12u6?arch=amd64&distro=debian-12"},
  {"bom-ref":"lib","type":"library","name":"libc6","version":"2.36-9+deb12u14","purl":"pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&upstream=glibc&distro=debian-12"},
  {"bom-ref":"go","type":"library","name":"stdlib","version":"go1.21.0","purl":"pkg:golang/stdlib@1.21.0","cpe":"cpe:2.3:a:golang:go:1.21.0:-:*:*:*:*:*:*"}
 ]}`

func TestIngestSBOM(t *testing.T) {
	st := &fakeStore{changes: 2}
	kicks := 0
	s := newTestService(t, st, func() { kicks++ })
	kicks = 0 // New announces the catalog
	res, err := s.IngestSBOM(context.Background(), SBOMInput{Name: "registry.example/app:1.4", Labels: map[string]string{"team": "payments"},
		Body: strings.NewReader(imageSBOM), By: "ci-token"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.assets) != 1 {
		t.Fatalf("ApplyAsset called %d times", len(st.assets))
	}
	in := st.assets[0]
	if in.Name != "registry.example/app:1.4" || in.Labels["team"] != "payments" || in.Info.OSID != "debian" || in.Info.OSVersion != "12" ||
		in.Info.Hostname != in.Name {
		t.Errorf("asset input %+v", in)
	}
	// the OS (from the host block), python, libc6 (unmatched) and the Go toolchain; not the image itself
	products := map[string]string{}
	for _, mi := range in.Items {
		products[mi.Item.Source+" "+mi.Item.Name] = mi.Match.Product
	}
	want := map[string]string{"os debian": "debian", "dpkg python3.11": "python", "dpkg libc6": "", "golang stdlib": "go"}
	if len(products) != len(want) {
		t.Errorf("items %v, want %v", products, want)
	}
	for k, p := range want {
		if got, ok := products[k]; !ok || got != p {
			t.Errorf("item %s matched %q (present %v), want %q", k, got, ok, p)
		}
	}
	sum := sha256.Sum256([]byte(imageSBOM))
	up := in.Upload
	if up.Format != "cyclonedx" || up.SpecVersion != "1.6" || up.Components != 4 || up.Matched != 2 || up.UploadedBy != "ci-token" ||
		up.SHA256 != hex.EncodeToString(sum[:]) || up.Document != "registry.example/app" || len(up.Tools) != 1 {
		t.Errorf("upload %+v", up)
	}
	// python3.11 comes from the image's distribution (the purl's namespace,
	// on a Debian 12 image): Debian 12 maintains it, and an SBOM names no
	// candidate, so its patch status is unknown (as sbom check says); the Go
	// toolchain 1.21 is past its end of life.
	if res.AssetID != "asset-1" || !res.Created || res.Changes != 2 || res.ByStatus[catalog.StatusEOL] != 1 ||
		res.ByStatus[catalog.StatusCurrent] != 2 || kicks != 1 {
		t.Errorf("result %+v, kicks %d", res, kicks)
	}
	if py := verdictOf(t, in.Verdicts, "python").V; py.Maintainer != "debian" || py.Patch != catalog.PatchUnknown {
		t.Errorf("python3.11 of the image: maintainer %q patch %q, want debian, unknown", py.Maintainer, py.Patch)
	}
}

func TestIngestSBOMName(t *testing.T) {
	st := &fakeStore{}
	s := newTestService(t, st, nil)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(imageSBOM))
	zw.Close()
	res, err := s.IngestSBOM(context.Background(), SBOMInput{Body: &gz})
	if err != nil || res.Name != "registry.example/app" {
		t.Fatalf("gzip body without a name: %+v, %v; want the document's subject name", res, err)
	}
	_, err = s.IngestSBOM(context.Background(), SBOMInput{Body: strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}`)})
	if fe, ok := fault.As(err); !ok || fe.Code != fault.Invalid || fe.Field != "name" {
		t.Fatalf("no name anywhere: %v, want an invalid name", err)
	}
}

func TestIngestSBOMBadInput(t *testing.T) {
	st := &fakeStore{}
	s := newTestService(t, st, nil)
	huge := `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + strings.Repeat(`{"name":"x"},`, api.MaxItems) + `{"name":"y"}]}`
	tests := []struct {
		name   string
		in     SBOMInput
		code   fault.Code
		field  string
		substr string
	}{
		{"not json", SBOMInput{Name: "a", Body: strings.NewReader("hello")}, fault.Invalid, "body", "not JSON"},
		{"unknown format", SBOMInput{Name: "a", Body: strings.NewReader(`{"x":1}`)}, fault.Invalid, "body", "unknown format"},
		{"bad purl", SBOMInput{Name: "a", Body: strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","purl":"pkg:npm/a@%"}]}`)},
			fault.Invalid, "components[0].purl", "bad percent-encoding"},
		{"duplicate bom-ref", SBOMInput{Name: "a", Body: strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"bom-ref":"r","name":"a"},{"bom-ref":"r","name":"b"}]}`)},
			fault.Invalid, "components[1].bom-ref", "already"},
		{"control character", SBOMInput{Name: "a", Body: strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a\u0007b","purl":"pkg:npm/a%07b@1"}]}`)},
			fault.Invalid, "components[0].name", "control character"},
		{"too many components", SBOMInput{Name: "a", Body: strings.NewReader(huge)}, fault.TooLarge, "components[100000]", "more than 100000"},
		{"bad name", SBOMInput{Name: "a\nb", Body: strings.NewReader(imageSBOM)}, fault.Invalid, "name", "control character"},
		{"bad label key", SBOMInput{Name: "a", Labels: map[string]string{"a b": "c"}, Body: strings.NewReader(imageSBOM)}, fault.Invalid, "label", "label key"},
		{"bad label value", SBOMInput{Name: "a", Labels: map[string]string{"a": strings.Repeat("v", 300)}, Body: strings.NewReader(imageSBOM)}, fault.Invalid, "label", "at most 256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.IngestSBOM(context.Background(), tc.in)
			fe, ok := fault.As(err)
			if !ok || fe.Code != tc.code || fe.Field != tc.field || !strings.Contains(fe.Msg, tc.substr) {
				t.Fatalf("IngestSBOM error %v (%+v), want %s on field %q containing %q", err, fe, tc.code, tc.field, tc.substr)
			}
		})
	}
	if len(st.assets) != 0 {
		t.Fatalf("a bad upload was stored: %+v", st.assets)
	}
}

func TestIngestSBOMWarnsOfMissingVersions(t *testing.T) {
	s := newTestService(t, &fakeStore{}, nil)
	res, err := s.IngestSBOM(context.Background(), SBOMInput{Name: "a", Body: strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6",
		"components":[{"name":"nginx"},{"name":"python","version":"3.11.2","purl":"pkg:generic/python@3.11.2"},{"name":"openssl","purl":"pkg:generic/openssl"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "2 component(s) have no version (components[0] (nginx), components[2] (openssl))") ||
		res.ByStatus[catalog.StatusUnknownVersion] != 2 {
		t.Fatalf("result %+v, want a warning naming components[0] and components[2], both unknown-version", res)
	}
}

func TestIngestSBOMLeavesOutFiles(t *testing.T) {
	st := &fakeStore{}
	s := newTestService(t, st, nil)
	_, err := s.IngestSBOM(context.Background(), SBOMInput{Name: "a", Body: strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6",
		"components":[{"type":"file","name":"/var/lib/dpkg/status"},{"type":"file","name":"/usr/bin/python3","cpe":"cpe:2.3:a:python:python:3.11.2:*:*:*:*:*:*:*"},
		{"type":"library","name":"left-pad","version":"1.3.0","purl":"pkg:npm/left-pad@1.3.0"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mi := range st.assets[0].Items {
		names = append(names, mi.Item.Name+"="+mi.Match.Product)
	}
	if strings.Join(names, " ") != "/usr/bin/python3=python left-pad=" {
		t.Fatalf("stored items %v: want the file a product claims and the package, not the plain file", names)
	}
}

// TestIngestSBOMOSFromPurls: an SPDX document lists no operating system;
// the distribution its packages' purls name is the asset's, so they are
// judged by that release as the OS component would have them.
func TestIngestSBOMOSFromPurls(t *testing.T) {
	st := &fakeStore{}
	s := newTestService(t, st, nil)
	res, err := s.IngestSBOM(context.Background(), SBOMInput{Name: "img", Body: strings.NewReader(`{"spdxVersion":"SPDX-2.3","packages":[
		{"SPDXID":"SPDXRef-a","name":"perl-base","versionInfo":"5.36.0-7+deb12u4","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=perl"}]}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	in := st.assets[0]
	if in.Info.OSID != "debian" || in.Info.OSVersion != "12" {
		t.Fatalf("asset OS %q %q, want debian 12 from the purls", in.Info.OSID, in.Info.OSVersion)
	}
	if perl := verdictOf(t, in.Verdicts, "perl").V; perl.Maintainer != "debian" {
		t.Errorf("perl maintainer %q, want debian (%+v)", perl.Maintainer, res)
	}
}
