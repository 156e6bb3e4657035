package sbom

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// openTestdata opens a testdata file, decompressing .gz files.
func openTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// readAll reads a document and copies every component.
func readAll(t testing.TB, doc []byte, lim Limits) (Document, []Component, error) {
	t.Helper()
	var comps []Component
	d, err := Read(bytes.NewReader(doc), lim, func(c *Component) error {
		cc := *c
		cc.CPEs = append([]string(nil), c.CPEs...)
		comps = append(comps, cc)
		return nil
	})
	return d, comps, err
}

func TestReadSyftDocuments(t *testing.T) {
	tests := []struct {
		file        string
		format, ver string
		components  int
	}{
		{"syft/debian12-dpkg.cdx17.json.gz", FormatCycloneDX, "1.7", 894},
		{"syft/debian12-dpkg.cdx16.json.gz", FormatCycloneDX, "1.6", 894},
		{"syft/debian12-dpkg.cdx14.json.gz", FormatCycloneDX, "1.4", 894},
		{"syft/debian12-dpkg.spdx23.json.gz", FormatSPDX, "2.3", 893},
		{"syft/debian12-dpkg.spdx22.json.gz", FormatSPDX, "2.2", 893},
		{"syft/eolwatch-server.cdx17.json", FormatCycloneDX, "1.7", 17},
		{"syft/eolwatch-server.spdx23.json", FormatSPDX, "2.3", 17},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			doc, comps, err := readAll(t, openTestdata(t, tc.file), Limits{})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if doc.Format != tc.format || doc.SpecVersion != tc.ver {
				t.Errorf("format %s %s, want %s %s", doc.Format, doc.SpecVersion, tc.format, tc.ver)
			}
			// CycloneDX also hands over metadata.component (the scanned directory or file)
			want := tc.components
			if tc.format == FormatCycloneDX {
				want++
			}
			if doc.Components != tc.components || len(comps) != want {
				t.Errorf("Document.Components = %d and %d callbacks, want %d and %d", doc.Components, len(comps), tc.components, want)
			}
			if len(doc.Tools) == 0 || !strings.HasPrefix(doc.Tools[0], "syft") {
				t.Errorf("Tools = %q, want syft", doc.Tools)
			}
			var purls int
			for _, c := range comps {
				if c.Name == "" || c.Field == "" || c.Line < 1 || c.Column < 1 {
					t.Fatalf("component without name, field or position: %+v", c)
				}
				if c.PURL != "" {
					purls++
				}
			}
			if purls < tc.components-2 {
				t.Errorf("%d components with a purl, want at least %d", purls, tc.components-2)
			}
		})
	}
}

// TestReadPositions checks that Line and Column point at the component's
// opening brace in a pretty-printed and in a one-line document.
func TestReadPositions(t *testing.T) {
	pretty := "{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.6\",\n  \"components\": [\n    {\n      \"name\": \"a\"\n    },\n    {\n      \"name\": \"b\"\n    }\n  ]\n}\n"
	_, comps, err := readAll(t, []byte(pretty), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(comps) != 2 || comps[0].Line != 5 || comps[0].Column != 5 || comps[1].Line != 8 || comps[1].Column != 5 {
		t.Fatalf("positions %+v, want a at 5:5 and b at 8:5", comps)
	}
	compact := `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a"},{"name":"b"}]}`
	_, comps, err = readAll(t, []byte(compact), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range comps {
		if c.Line != 1 || compact[c.Column-1] != '{' {
			t.Fatalf("%s at %d:%d, want line 1 at a '{'", c.Name, c.Line, c.Column)
		}
	}
}

func TestReadAcceptsVariants(t *testing.T) {
	gz := func(s string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.String()
	}
	const minimal = `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"nginx","version":"1.24.0"}]}`
	tests := []struct {
		name, doc string
		n         int
	}{
		{"minimal", minimal, 1},
		{"byte order mark", "\xef\xbb\xbf" + minimal, 1},
		{"gzip", gz(minimal), 1},
		{"format after components", `{"components":[{"name":"x"}],"specVersion":"1.6","bomFormat":"CycloneDX"}`, 1},
		{"no components", `{"bomFormat":"CycloneDX","specVersion":"1.6"}`, 0},
		{"null components", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":null}`, 0},
		{"nested components", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","components":[{"name":"b","components":[{"name":"c"}]}]}]}`, 3},
		{"metadata subject", `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"tools":[{"vendor":"x","name":"gen","version":"1"}],"component":{"type":"container","name":"app","version":"1.4"}}}`, 1},
		{"unknown fields skipped", `{"bomFormat":"CycloneDX","specVersion":"1.6","dependencies":[{"ref":"a","dependsOn":["b"]}],"x":{"y":[1,{"z":null}]},"components":[{"name":"a","properties":[{"name":"p","value":"v"}],"evidence":{}}]}`, 1},
		{"spdx without version", `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","packages":[{"SPDXID":"SPDXRef-a","name":"a","versionInfo":"NOASSERTION"}],"files":[{"fileName":"x"}],"relationships":[]}`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, comps, err := readAll(t, []byte(tc.doc), Limits{})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(comps) != tc.n {
				t.Fatalf("%d components, want %d: %+v", len(comps), tc.n, comps)
			}
		})
	}
}

func TestReadMetadata(t *testing.T) {
	doc, comps, err := readAll(t, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.4","serialNumber":"urn:uuid:1",
		"metadata":{"timestamp":"2026-01-02T03:04:05Z","tools":[{"vendor":"anchore","name":"syft","version":"1.0"}],
		"component":{"bom-ref":"root","type":"container","name":"registry.example/app","version":"1.4"}},
		"components":[{"bom-ref":"c1","name":"nginx","version":"1.24.0","purl":"pkg:deb/debian/nginx@1.24.0-1","supplier":{"name":"Debian"}}]}`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Name != "registry.example/app" || doc.Version != "1.4" || doc.Serial != "urn:uuid:1" || doc.Created != "2026-01-02T03:04:05Z" ||
		len(doc.Tools) != 1 || doc.Tools[0] != "syft 1.0" {
		t.Errorf("document %+v", doc)
	}
	if len(comps) != 2 || comps[0].Publisher != "Debian" || comps[1].Field != "metadata.component" || comps[1].Type != "container" {
		t.Errorf("components %+v", comps)
	}
	doc, _, err = readAll(t, []byte(`{"spdxVersion":"SPDX-2.3","name":"img","documentNamespace":"https://x/y",
		"creationInfo":{"created":"2026-01-02T03:04:05Z","creators":["Organization: A","Tool: syft-1.57.1"]}}`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Name != "img" || doc.Serial != "https://x/y" || len(doc.Tools) != 1 || doc.Tools[0] != "syft-1.57.1" {
		t.Errorf("document %+v", doc)
	}
}

// TestReadBadInput: every kind of bad document gets an *Error naming the
// field (when there is one) and never a panic.
func TestReadBadInput(t *testing.T) {
	const head = `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[`
	var comps []string
	for i := range 1000 {
		comps = append(comps, fmt.Sprintf(`{"bom-ref":"c%d","name":"a"}`, i))
	}
	thousand := strings.Join(comps, ",")
	tests := []struct {
		name, doc     string
		field, substr string
		tooLarge      bool
	}{
		{"empty", "", "", "empty", false},
		{"white space", "  \n\t ", "", "empty", false},
		{"not json", "hello world", "", `not JSON: it starts with "hello world"`, false},
		{"binary", "\x00\x01\x02\x03garbage", "", "binary", false},
		{"xml", `<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>`, "", "XML", false},
		{"spdx tag-value", "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n", "", "tag-value", false},
		{"array", `[{"bomFormat":"CycloneDX"}]`, "", "JSON array", false},
		{"string", `"CycloneDX"`, "", "not JSON", false},
		{"unknown format", `{"hello":"world"}`, "", "unknown format: neither bomFormat", false},
		{"syft json", `{"artifacts":[],"schema":{"version":"16.0.0"}}`, "", "syft's own JSON", false},
		{"spdx 3 json-ld", `{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[]}`, "", "JSON-LD", false},
		{"both formats", `{"bomFormat":"CycloneDX","specVersion":"1.6","spdxVersion":"SPDX-2.3"}`, "", "both", false},
		{"wrong bomFormat", `{"bomFormat":"SPDX"}`, "bomFormat", `want "CycloneDX"`, false},
		{"no specVersion", `{"bomFormat":"CycloneDX"}`, "specVersion", "missing", false},
		{"old specVersion", `{"bomFormat":"CycloneDX","specVersion":"1.2"}`, "specVersion", "CycloneDX 1.2: eolwatch reads CycloneDX 1.4, 1.5, 1.6, 1.7", false},
		{"specVersion number", `{"bomFormat":"CycloneDX","specVersion":1.6}`, "specVersion", "want a string, got JSON number", false},
		{"no bomFormat", `{"specVersion":"1.6","components":[]}`, "bomFormat", "missing", false},
		{"old spdx", `{"spdxVersion":"SPDX-2.1"}`, "spdxVersion", `"SPDX-2.1": eolwatch reads SPDX-2.2, SPDX-2.3`, false},
		{"truncated", head + `{"name":"a"`, "", "ends early", false},
		{"syntax error", head + `{"name":"a",}]}`, "", "not valid JSON", false},
		{"trailing data", `{"bomFormat":"CycloneDX","specVersion":"1.6"} {}`, "", "after the document", false},
		{"components object", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":{"name":"a"}}`, "components", "want an array, got an object", false},
		{"component not object", head + `"nginx"]}`, "components[0]", "want an object", false},
		{"version number", head + `{"name":"a","version":1.2}]}`, "components[0].version", "want a string, got JSON number", false},
		{"no name", head + `{"name":"a"},{"version":"1"}]}`, "components[1].name", "missing", false},
		{"blank name", head + `{"name":"  "}]}`, "components[0].name", "missing", false},
		{"duplicate bom-ref", head + `{"bom-ref":"x","name":"a"},{"bom-ref":"y","name":"b"},{"bom-ref":"x","name":"c"}]}`,
			"components[2].bom-ref", `"x" is already the identifier of components[0]`, false},
		{"duplicate nested bom-ref", head + `{"bom-ref":"x","name":"a","components":[{"bom-ref":"x","name":"b"}]}]}`,
			"components[0].components[0].bom-ref", "already the identifier of components[0]", false},
		{"bom-ref of a nested component again", head + `{"bom-ref":"a","name":"a","components":[{"bom-ref":"x","name":"b"}]},{"bom-ref":"x","name":"c"}]}`,
			"components[1].bom-ref", `"x" is already the identifier of a component inside components[0]`, false},
		{"bom-ref of the subject again", `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"bom-ref":"x","name":"app"}},"components":[{"bom-ref":"x","name":"c"}]}`,
			"metadata.component.bom-ref", `"x" is already the identifier of components[0]`, false},
		{"bom-ref repeated after a thousand", head + thousand + `,{"bom-ref":"c999","name":"again"}]}`,
			"components[1000].bom-ref", `"c999" is already the identifier of components[999]`, false},
		{"nested wrong type", head + `{"name":"a","components":[{"name":"b","purl":7}]}]}`, "components[0].components[0].purl", "want a string", false},
		{"nested not array", head + `{"name":"a","components":{"name":"b"}}]}`, "components[0].components", "want an array", false},
		{"too deep", head + strings.Repeat(`{"name":"a","components":[`, 40) + strings.Repeat(`]}`, 40) + `]}`,
			"components[0]" + strings.Repeat(".components[0]", 31) + ".components", "nested more than 32 deep", false},
		{"long name", head + `{"name":"` + strings.Repeat("a", 5000) + `"}]}`, "components[0].name", "at most 4096", false},
		{"duplicate SPDXID", `{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"a"},{"SPDXID":"SPDXRef-a","name":"b"}]}`,
			"packages[1].SPDXID", "already the identifier of packages[0]", false},
		{"no SPDXID", `{"spdxVersion":"SPDX-2.3","packages":[{"name":"a"}]}`, "packages[0].SPDXID", "missing", false},
		{"spdx no name", `{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a"}]}`, "packages[0].name", "missing", false},
		{"spdx empty purl", `{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"a","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":""}]}]}`,
			"packages[0].externalRefs[0].referenceLocator", "empty purl", false},
		{"spdx refs wrong type", `{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"a","externalRefs":"purl"}]}`,
			"packages[0].externalRefs", "want an array", false},
		{"corrupt gzip", "\x1f\x8bnot gzip at all", "", "gzip", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, []byte(tc.doc), Limits{})
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("Read error = %v (%T), want *Error", err, err)
			}
			if de.Field != tc.field || !strings.Contains(de.Msg, tc.substr) || de.TooLarge != tc.tooLarge {
				t.Fatalf("Read error = field %q msg %q too-large %v, want field %q, message containing %q, too-large %v",
					de.Field, de.Msg, de.TooLarge, tc.field, tc.substr, tc.tooLarge)
			}
		})
	}
}

func TestReadLimits(t *testing.T) {
	doc := `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a"},{"name":"b"},{"name":"c"}]}`
	_, _, err := readAll(t, []byte(doc), Limits{MaxComponents: 2})
	var de *Error
	if !errors.As(err, &de) || !de.TooLarge || de.Field != "components[2]" || !strings.Contains(de.Msg, "more than 2 components") {
		t.Fatalf("MaxComponents 2: error %v, want too many components at components[2]", err)
	}
	if _, _, err := readAll(t, []byte(doc), Limits{MaxComponents: 3}); err != nil {
		t.Fatalf("MaxComponents 3: %v", err)
	}
	_, _, err = readAll(t, []byte(doc), Limits{MaxBytes: int64(len(doc) - 1)})
	if !errors.As(err, &de) || !de.TooLarge || !strings.Contains(de.Msg, fmt.Sprintf("larger than %d bytes", len(doc)-1)) {
		t.Fatalf("MaxBytes len-1: error %v, want too large", err)
	}
	if _, _, err := readAll(t, []byte(doc), Limits{MaxBytes: int64(len(doc))}); err != nil {
		t.Fatalf("MaxBytes len: %v", err)
	}
}

// TestReadCallbackError: an error from the callback stops the read and
// comes back untouched.
func TestReadCallbackError(t *testing.T) {
	stop := errors.New("stop here")
	n := 0
	_, err := Read(strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a"},{"name":"b"}]}`), Limits{},
		func(*Component) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("Read = %v after %d calls, want the callback's error after 1", err, n)
	}
}

// genDoc streams a CycloneDX document of n generated components without
// holding it in memory.
type genDoc struct {
	n, i   int
	refs   bool
	buf    []byte
	done   bool
	header string
}

func newGenDoc(n int, refs bool) *genDoc {
	return &genDoc{n: n, refs: refs, buf: []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"type":"container","name":"big"}},"components":[`)}
}

func (g *genDoc) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && !g.done {
		if g.i == g.n {
			g.buf = append(g.buf, "]}"...)
			g.done = true
			break
		}
		if g.i > 0 {
			g.buf = append(g.buf, ',')
		}
		ref := ""
		if g.refs {
			ref = fmt.Sprintf(`"bom-ref":"pkg:npm/left-pad-%d@1.3.0",`, g.i)
		}
		g.buf = fmt.Appendf(g.buf, `{%s"type":"library","name":"left-pad-%d","version":"1.3.0","purl":"pkg:npm/left-pad-%d@1.3.0","description":"%s"}`,
			ref, g.i, g.i, strings.Repeat("x", 100))
		g.i++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[n:])]
	return n, nil
}

// TestReadHugeDocuments: a 1,000,000-component document and a 200 MB one
// are refused at the budget with a clear error, and reading stays within
// bounded memory whatever the document's size.
func TestReadHugeDocuments(t *testing.T) {
	t.Run("1000000 components", func(t *testing.T) {
		_, err := Read(newGenDoc(1_000_000, true), Limits{MaxBytes: 1 << 30}, nil)
		var de *Error
		if !errors.As(err, &de) || !de.TooLarge || de.Field != "components[100000]" {
			t.Fatalf("error %v, want the 100000-component budget exceeded at components[100000]", err)
		}
	})
	t.Run("200 MB", func(t *testing.T) {
		_, err := Read(newGenDoc(1_000_000, false), Limits{MaxComponents: 2_000_000}, nil)
		var de *Error
		if !errors.As(err, &de) || !de.TooLarge || !strings.Contains(de.Msg, "larger than 33554432 bytes") {
			t.Fatalf("error %v, want the 32 MiB budget exceeded", err)
		}
	})
	t.Run("streamed in bounded memory", func(t *testing.T) {
		if testing.Short() {
			t.Skip("reads 200 MB; skipped with -short")
		}
		// With the budget raised, 200 MB go through and the heap stays
		// small: components are streamed, never collected; only their
		// identifiers are remembered (to refuse a duplicate), compactly.
		g := newGenDoc(1_000_000, true)
		var peak uint64
		var ms runtime.MemStats
		doc, err := Read(g, Limits{MaxBytes: 1 << 30, MaxComponents: 2_000_000}, func(c *Component) error {
			if strings.HasSuffix(c.Name, "00000") { // the live heap, every 100,000 components
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if doc.Components != 1_000_000 || doc.Bytes < 200e6 {
			t.Fatalf("read %d components, %d bytes; want 1,000,000 and over 200 MB", doc.Components, doc.Bytes)
		}
		if peak > 64<<20 {
			t.Fatalf("live heap reached %d MiB reading a %d MB document; want under 64 MiB", peak>>20, doc.Bytes/1e6)
		}
		t.Logf("%d MB, %d components, peak live heap %d MiB", doc.Bytes/1e6, doc.Components, peak>>20)
	})
}

// TestReadCPEProperties: syft writes a CycloneDX component's further CPE
// candidates as "syft:cpe23" properties; they are read after its cpe, as
// SPDX lists them all.
func TestReadCPEProperties(t *testing.T) {
	_, comps, err := readAll(t, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"jdk","version":"1.8.0_411",
		"cpe":"cpe:2.3:a:oracle:jdk:1.8.0:*:*:*:*:*:*:*","properties":[{"name":"syft:package:type","value":"binary"},
		{"name":"syft:cpe23","value":"cpe:2.3:a:oracle:java_se:1.8.0:update411:*:*:*:*:*:*"},{"name":"syft:cpe23","value":""}]}]}`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cpe:2.3:a:oracle:jdk:1.8.0:*:*:*:*:*:*:*", "cpe:2.3:a:oracle:java_se:1.8.0:update411:*:*:*:*:*:*"}
	if len(comps) != 1 || strings.Join(comps[0].CPEs, " ") != strings.Join(want, " ") {
		t.Fatalf("CPEs %q, want %q", comps[0].CPEs, want)
	}
}

// TestReadSubjects: the component a document describes is marked Subject
// and not counted among the components without a version.
func TestReadSubjects(t *testing.T) {
	for _, tc := range []struct {
		file    string
		subject string
	}{
		{"syft/debian12-dpkg.cdx17.json.gz", "metadata.component"},
		{"syft/debian12-dpkg.spdx23.json.gz", "packages[892]"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc, comps, err := readAll(t, openTestdata(t, tc.file), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var subjects []string
			for _, c := range comps {
				if c.Subject {
					subjects = append(subjects, c.Field)
				}
			}
			if len(subjects) != 1 || subjects[0] != tc.subject || doc.NoVersion != 0 {
				t.Fatalf("subjects %v, %d without a version; want %s alone and none", subjects, doc.NoVersion, tc.subject)
			}
		})
	}
	_, comps, err := readAll(t, []byte(`{"spdxVersion":"SPDX-2.3","documentDescribes":["SPDXRef-img"],
		"packages":[{"SPDXID":"SPDXRef-img","name":"app"},{"SPDXID":"SPDXRef-b","name":"b"}]}`), Limits{})
	if err != nil || len(comps) != 2 || !comps[0].Subject || comps[1].Subject {
		t.Fatalf("documentDescribes: %+v, %v", comps, err)
	}
}
