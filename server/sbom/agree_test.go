package sbom

import (
	"bytes"
	"context"
	"encoding/json"

	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/agent"
	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
)

// judgement is what both paths must agree on for one package: the product,
// the upstream version judged and its cycle; and, where the agent knows the
// repository a package came from, whose support the verdict follows.
type judgement struct {
	product, version, cycle string
	support, maintainer     string
}

// agentInventory runs the agent's own `inventory --json` against root.
func agentInventory(t *testing.T, root string) (api.HostInfo, []api.Item) {
	t.Helper()
	var out, errb bytes.Buffer
	err := agent.Main(context.Background(), []string{"inventory", "--json", "--root", root, "--state-dir", t.TempDir()}, &out, &errb)
	if err != nil {
		t.Fatalf("eolwatch-agent inventory --json --root %s: %v\n%s", root, err, errb.String())
	}
	var inv struct {
		Host  api.HostInfo `json:"host"`
		Items []api.Item   `json:"items"`
	}
	if err := json.Unmarshal(out.Bytes(), &inv); err != nil {
		t.Fatalf("inventory output: %v", err)
	}
	return inv.Host, inv.Items
}

// agentJudgements is the agent path: the agent's dpkg items through the
// matcher and the catalog, keyed by package name and architecture. A
// package the host's apt lists say comes from the host's distribution
// (Origin) is judged by that distribution's release (catalog.EvaluateIn
// with the agent's candidate), any other upstream.
func agentJudgements(t *testing.T, host api.HostInfo, items []api.Item) map[string]judgement {
	sm := testMatcher(t)
	out := map[string]judgement{}
	osr, _ := sm.m.MatchOS(host)
	for _, it := range items {
		if it.Source != "dpkg" {
			continue
		}
		var j judgement
		if r, ok := sm.m.Match(it); ok {
			var ctx catalog.Context
			if it.Origin != "" && it.Origin == host.OSID {
				ctx = catalog.Context{Distro: osr.Product, DistroRelease: host.OSVersion, Installed: it.Version, Candidate: it.Candidate}
			}
			v := defaultCat.EvaluateIn(r.Product, r.Version, ctx, testDay, catalog.Policy{})
			j = judgement{r.Product, r.Version, v.Cycle, v.Support, v.Maintainer}
		}
		out[it.Name+":"+it.Arch] = j
	}
	return out
}

// upstreamOnly drops the support part of a judgement.
func upstreamOnly(j judgement) judgement {
	return judgement{product: j.product, version: j.version, cycle: j.cycle}
}

// sbomJudgements is the SBOM path over one syft document, as Check judges
// it: the deb components judged, keyed like agentJudgements; plus the
// version of each, and the OS component's finding (with the point release
// the document's base-files says).
func sbomJudgements(t *testing.T, file string) (map[string]judgement, map[string]string, *Finding) {
	j := NewJudge(testMatcher(t), testDay, catalog.Policy{})
	out := map[string]judgement{}
	versions := map[string]string{}
	var osFinding *Finding
	rel := &docReleases{}
	judge := func(c *Component) error {
		r, err := j.m.Resolve(c)
		if err != nil {
			return err
		}
		f, ok, held, err := j.judge(c, rel)
		if err != nil || held {
			return err
		}
		if r.OS {
			if !ok {
				t.Fatalf("the OS component %+v is not judged", c)
			}
			osFinding = &f
			return nil
		}
		if r.PURL == nil || r.PURL.Type != "deb" {
			return nil
		}
		k := r.Item.Name + ":" + r.Item.Arch
		versions[k] = r.Item.Version
		var jd judgement
		if ok {
			jd = judgement{f.Product, f.Version, f.Cycle, f.Support, f.Maintainer}
		}
		out[k] = jd
		return nil
	}
	_, err := Read(bytes.NewReader(openTestdata(t, file)), Limits{}, judge)
	for _, c := range rel.release() {
		if err == nil {
			err = judge(&c)
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return out, versions, osFinding
}

// extractFixture writes this machine's dpkg database as syft scanned it
// (testdata/debian12) into a tree the agent can be re-rooted at.
func extractFixture(t *testing.T) string {
	root := t.TempDir()
	for p, data := range map[string][]byte{
		"var/lib/dpkg/status": openTestdata(t, "debian12/status.gz"),
		"etc/os-release":      openTestdata(t, "debian12/os-release"),
		"etc/debian_version":  openTestdata(t, "debian12/debian_version"),
	} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestAgentAndSBOMAgree: the agent's inventory of a dpkg database and
// syft's SBOM of the same database (every format and version checked in)
// give the same products, versions and cycles, package by package, and the
// same OS at the same point release (the agent reads /etc/debian_version,
// the SBOM path base-files). (The fixture has the dpkg database but not
// apt's lists, so the agent cannot tell where a package came from here:
// whose support applies is compared on the live machine, below, and the
// OS's maintainer through the server in TestEndToEndAssetOSAgreesWithAgent.)
func TestAgentAndSBOMAgree(t *testing.T) {
	host, items := agentInventory(t, extractFixture(t))
	want := agentJudgements(t, host, items)
	if len(want) != 892 {
		t.Fatalf("the agent reports %d dpkg packages, want the 892 of the fixture", len(want))
	}
	matched := 0
	for _, j := range want {
		if j.product != "" {
			matched++
		}
	}
	if matched < 15 {
		t.Fatalf("only %d packages matched a product on the agent path", matched)
	}
	osWant, ok := testMatcher(t).m.MatchOS(host)
	if !ok {
		t.Fatalf("the agent's host %+v does not match an OS", host)
	}
	osVerdict := defaultCat.Evaluate(osWant.Product, osWant.Version, testDay, catalog.Policy{})
	for _, file := range []string{"syft/debian12-dpkg.cdx17.json.gz", "syft/debian12-dpkg.cdx16.json.gz", "syft/debian12-dpkg.cdx14.json.gz",
		"syft/debian12-dpkg.spdx23.json.gz", "syft/debian12-dpkg.spdx22.json.gz"} {
		t.Run(file, func(t *testing.T) {
			got, _, osFinding := sbomJudgements(t, file)
			if len(got) != len(want) {
				t.Errorf("%d deb components, want %d packages", len(got), len(want))
			}
			for k, w := range want {
				g, ok := got[k]
				if !ok {
					t.Errorf("%s: in the agent's inventory, not in the SBOM", k)
					continue
				}
				if upstreamOnly(g) != upstreamOnly(w) {
					t.Errorf("%s: SBOM path %+v, agent path %+v", k, g, w)
				}
			}
			// syft writes the OS as a CycloneDX component; SPDX has none.
			if strings.Contains(file, "cdx") {
				if osFinding == nil || osFinding.Product != osWant.Product || osFinding.Cycle != osVerdict.Cycle || osFinding.Version != osWant.Version {
					t.Errorf("OS component %+v, want %s %s (cycle %s) as the agent's host", osFinding, osWant.Product, osWant.Version, osVerdict.Cycle)
				}
			}
		})
	}
}

// TestAgentAndSBOMAgreeLive compares the SBOM of the development machine
// with the agent's inventory of the machine the test runs on: every package
// installed here at the same version as in the SBOM gets the same product,
// version and cycle, and, where this machine's apt lists tell the agent the
// package's repository, the same maintainer and support (a Debian package
// by Debian's release, NodeSource's Node.js upstream).
func TestAgentAndSBOMAgreeLive(t *testing.T) {
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		t.Skip("no dpkg database on this machine")
	}
	host, items := agentInventory(t, "/")
	live := agentJudgements(t, host, items)
	origin := map[string]string{}
	for _, it := range items {
		origin[it.Name+":"+it.Arch] = it.Origin
	}
	liveVersion := map[string]string{}
	for _, it := range items {
		if it.Source == "dpkg" {
			liveVersion[it.Name+":"+it.Arch] = it.Version
		}
	}
	got, versions, _ := sbomJudgements(t, "syft/debian12-dpkg.cdx17.json.gz")
	same, matched, withOrigin := 0, 0, 0
	for k, g := range got {
		if liveVersion[k] != versions[k] {
			continue
		}
		same++
		if g.product != "" {
			matched++
		}
		w := live[k]
		if origin[k] == "" { // the agent cannot tell the repository: compare the upstream part
			g, w = upstreamOnly(g), upstreamOnly(w)
		} else if g.product != "" {
			withOrigin++
		}
		if g != w {
			t.Errorf("%s %s (origin %q): SBOM path %+v, agent path on this machine %+v", k, versions[k], origin[k], g, w)
		}
	}
	if same < 50 {
		t.Fatalf("only %d packages are installed here at the SBOM's version; a Debian 12 machine shares its base system", same)
	}
	t.Logf("%d packages at the same version here and in the SBOM (%d of them matched a product, %d of those with a known repository): same judgement", same, matched, withOrigin)
}
