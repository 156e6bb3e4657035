// Package sbom judges software bills of materials: it reads CycloneDX
// (1.4–1.7) and SPDX (2.2, 2.3) JSON documents as a stream of components
// (Read), parses their package URLs and CPE names (ParsePURL, ParseCPE),
// turns each component into the inventory item an agent would report and
// matches it through the agent's matcher (Matcher.Resolve: the purl first,
// then the CPEs, then the name), evaluates it against the catalog (Judge)
// and writes the findings as JSON lines, a table or SARIF 2.1.0 (Check).
//
// It is what `eolwatch-server sbom check` runs and what the server uses to
// register an uploaded SBOM as an asset. docs/sbom.md describes both.
package sbom
