package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/eolwatch/eolwatch/catalog"
)

// SARIF 2.1.0 output (https://docs.oasis-open.org/sarif/sarif/v2.1.0/):
// one run, one rule per verdict status that needs attention, one result per
// judged component whose status is not "current", located at the
// component's line of the SBOM file. Statuses named by --fail-on are level
// "error"; the others "warning" (eol, unknown, patch-overdue) or "note".

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	toolName     = "eolwatch"
	toolURI      = "https://github.com/eolwatch/eolwatch"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool       `json:"tool"`
	Artifacts  []sarifArtifact `json:"artifacts"`
	Results    string          `json:"results"` // sarifResultsMark, replaced by the results when written
	Properties map[string]any  `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	ShortDescription sarifText      `json:"shortDescription"`
	FullDescription  sarifText      `json:"fullDescription"`
	Help             sarifText      `json:"help"`
	Default          sarifDefault   `json:"defaultConfiguration"`
	Properties       map[string]any `json:"properties,omitempty"`
}

type sarifDefault struct {
	Level string `json:"level"`
}

type sarifArtifact struct {
	Location sarifArtifactLocation `json:"location"`
}

type sarifArtifactLocation struct {
	URI   string `json:"uri"`
	Index *int   `json:"index,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocation struct {
	Physical sarifPhysical  `json:"physicalLocation"`
	Logical  []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind"`
}

// sarifRules describes the statuses that produce results, worst first.
var sarifRules = []struct {
	status, name, short, full, level string
}{
	{catalog.StatusEOL, "EndOfLife", "Component past its end of life",
		"The component's release line is past its end of life: the vendor no longer publishes fixes for it. Upgrade to a supported release line.", "warning"},
	{catalog.StatusUnknownVersion, "UnknownVersion", "Component version not in any known release line",
		"The product is known but the component's version (or its absence) cannot be placed in a release cycle, so its support cannot be confirmed.", "warning"},
	{catalog.StatusUnknownProduct, "UnknownProduct", "Product without end-of-life data",
		"The component names a product eolwatch has no end-of-life data for.", "warning"},
	{catalog.StatusPatchOverdue, "PatchOverdue", "Component missing a patch past the grace period",
		"A newer patch of the component's release line was published longer ago than the grace period and is not installed.", "warning"},
	{catalog.StatusEOLSoon, "EndOfLifeSoon", "Component nearing its end of life",
		"The component's release line reaches its end of life within the warning window: plan an upgrade.", "note"},
	{catalog.StatusPatchAvailable, "PatchAvailable", "Newer patch available",
		"A newer patch of the component's release line is available and still within the grace period.", "note"},
}

// sarifWriter collects results in a spool, one compact JSON object per
// line, and writes the log around them when closed: its memory does not
// grow with the number of results.
type sarifWriter struct {
	out     io.Writer
	uri     string
	sp      spool
	results int
}

func (w *sarifWriter) write(f *Finding, failing bool) error {
	if f.Status == catalog.StatusCurrent {
		return nil
	}
	idx := -1
	for i, r := range sarifRules {
		if r.status == f.Status {
			idx = i
		}
	}
	if idx < 0 {
		return nil
	}
	level := sarifRules[idx].level
	if failing {
		level = "error"
	}
	zero := 0
	loc := sarifLocation{Physical: sarifPhysical{ArtifactLocation: sarifArtifactLocation{URI: w.uri, Index: &zero}}}
	if f.Component.Line > 0 {
		loc.Physical.Region = &sarifRegion{StartLine: f.Component.Line, StartColumn: f.Component.Column}
	}
	fq := f.Component.PURL
	if fq == "" {
		fq = f.Component.Ref
	}
	loc.Logical = []sarifLogical{{Name: f.Component.Name, FullyQualifiedName: fq, Kind: "package"}}
	comp := f.Component.Name
	if f.Component.Version != "" {
		comp += " " + f.Component.Version
	}
	fp := f.Component.PURL
	if fp == "" {
		fp = f.Component.Name + "@" + f.Component.Version
	}
	props := map[string]any{
		"product": f.Product, "version": f.Version, "support": f.Support, "phase": f.Phase, "patch": f.Patch,
		"status": f.Status, "eol": f.EOL, "as_of": f.AsOf, "component_field": f.Component.Field,
	}
	for k, v := range map[string]string{"cycle": f.Cycle, "latest": f.Latest, "upgrade_to": f.UpgradeTo, "newest": f.Newest, "bom_ref": f.Component.Ref} {
		if v != "" {
			props[k] = v
		}
	}
	b, err := json.Marshal(sarifResult{
		RuleID: f.Status, RuleIndex: idx, Level: level,
		Message:             sarifText{Text: comp + " (" + strings.TrimSpace(f.Product+" "+f.Version) + "): " + f.Reason},
		Locations:           []sarifLocation{loc},
		PartialFingerprints: map[string]string{"eolwatch/component/v1": fp + "|" + f.Product},
		Properties:          props,
	})
	if err != nil {
		return err
	}
	sep := ",\n        "
	if w.results == 0 {
		sep = "\n        "
	}
	w.results++
	if _, err := w.sp.Write([]byte(sep)); err != nil {
		return err
	}
	_, err = w.sp.Write(b)
	return err
}

func (w *sarifWriter) abort() { w.sp.discard() }

// sarifResultsMark stands for the results while the rest of the log is
// encoded; the results are written in its place.
const sarifResultsMark = "eolwatch:results"

func (w *sarifWriter) close(s *Summary) error {
	rules := make([]sarifRule, len(sarifRules))
	for i, r := range sarifRules {
		rules[i] = sarifRule{ID: r.status, Name: r.name, ShortDescription: sarifText{r.short}, FullDescription: sarifText{r.full},
			Help:    sarifText{r.full + " eolwatch's verdict for each result gives the reason and the version to move to."},
			Default: sarifDefault{Level: r.level}, Properties: map[string]any{"tags": []string{"end-of-life", "sbom"}}}
	}
	defer w.sp.discard()
	log := sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{{
		Tool:      sarifTool{Driver: sarifDriver{Name: toolName, InformationURI: toolURI, Rules: rules}},
		Artifacts: []sarifArtifact{{Location: sarifArtifactLocation{URI: w.uri}}},
		Results:   sarifResultsMark,
		Properties: map[string]any{"as_of": s.AsOf, "format": s.Document.Format, "spec_version": s.Document.SpecVersion,
			"components": s.Document.Components, "judged": s.Judged, "failed": s.Failed},
	}}}
	var head bytes.Buffer
	enc := json.NewEncoder(&head)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return err
	}
	// An unescaped quote never occurs inside a JSON string, so this is the
	// results field itself, whatever the file name holds.
	mark := []byte(`"results": "` + sarifResultsMark + `"`)
	i := bytes.Index(head.Bytes(), mark)
	if i < 0 {
		return errors.New("sarif: the results' place is missing")
	}
	rest := head.Bytes()[i+len(mark):]
	if _, err := w.out.Write(head.Bytes()[:i+len(`"results": `)]); err != nil {
		return err
	}
	closing := "]"
	if w.results > 0 {
		closing = "\n      ]"
	}
	if _, err := io.WriteString(w.out, "["); err != nil {
		return err
	}
	if err := w.sp.copyTo(w.out); err != nil {
		return err
	}
	if _, err := io.WriteString(w.out, closing); err != nil {
		return err
	}
	_, err := w.out.Write(rest)
	return err
}
