package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/sbom"
	"github.com/eolwatch/eolwatch/server/store"
)

// Limits of an SBOM upload's asset name and labels.
const (
	MaxAssetName   = 255 // bytes
	MaxLabels      = 32
	MaxLabelKey    = 64
	MaxLabelValue  = 256
	labelKeyLetter = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/"
)

// SBOMInput is an SBOM upload.
type SBOMInput struct {
	// Name is the asset's name ("registry.example/app:1.4"); empty takes
	// the name the document gives its subject.
	Name string
	// Labels are the asset's labels; they replace the previous upload's.
	Labels map[string]string
	// Customer names the customer the asset belongs to (a name or id), so
	// that customer's limited viewers see it; "" for none. Like the labels,
	// each upload says it anew.
	Customer string
	// Body is the document: CycloneDX or SPDX JSON, gzip accepted, bounded
	// on the wire by the caller; it is read to the end or to the first
	// problem.
	Body io.Reader
	// By names who uploaded it (a token's name), and TokenID is that
	// token's id, for the history.
	By, TokenID string
	// Charge, when set, is charged the memory the upload holds as it is
	// read: each chunk of the document after decompression and ItemCharge
	// per component kept, as an agent report is (the server's report
	// budget, intake.Body.Charge). Its error ends the upload and is
	// returned as is.
	Charge func(n int64) error
}

// CheckLabels validates an asset's labels: at most MaxLabels, keys of
// letters, digits and ._-/ up to MaxLabelKey bytes, values of text up to
// MaxLabelValue bytes.
func CheckLabels(labels map[string]string) error {
	if len(labels) > MaxLabels {
		return fault.Invalidf("label", "%d labels: at most %d", len(labels), MaxLabels)
	}
	for k, v := range labels {
		if k == "" || len(k) > MaxLabelKey || strings.Trim(k, labelKeyLetter) != "" {
			return fault.Invalidf("label", "label key %q: want 1 to %d letters, digits, '.', '_', '-' or '/'", k, MaxLabelKey)
		}
		if err := CheckText("label "+k, v, MaxLabelValue, false); err != nil {
			return fault.Invalidf("label", "%s", err.Error())
		}
	}
	return nil
}

// IngestSBOM registers an asset from its SBOM, or replaces the asset's
// previous SBOM (kept in its history): the document is read as a stream,
// each component turned into the inventory item an agent would report
// (sbom.Matcher), matched and judged like a host's inventory, and stored
// with the fleet events of the verdicts that changed. The limits are the
// agent report's (sbom.DefaultLimits), and so is the budget (in.Charge). A
// problem with the document is a *fault.Error naming its field
// (fault.TooLarge past the budget); nothing stored changes then.
func (s *Service) IngestSBOM(ctx context.Context, in SBOMInput) (api.SBOMResult, error) {
	cust, err := s.checkSBOMInput(ctx, in)
	if err != nil {
		return api.SBOMResult{}, err
	}
	e := s.engine()
	rd, err := readSBOM(e, in)
	if err != nil {
		return api.SBOMResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return api.SBOMResult{}, err
	}
	name, err := assetName(in.Name, rd.doc)
	if err != nil {
		return api.SBOMResult{}, err
	}
	host := e.assetOS(rd.assetHost(name), rd.items)
	day := s.Today()
	matched, verdicts, _ := e.prepare(&api.Report{Host: host, Items: rd.items}, api.KindAsset, day, nil, s.cfg.Now())
	up := rd.upload(in, matched)
	res, err := s.st.ApplyAsset(ctx, store.AssetInput{Name: name, Labels: in.Labels, Customer: cust.ID, Info: host, Items: matched, Verdicts: verdicts,
		CatalogVersion: e.version, AsOf: day, Upload: up})
	if err != nil {
		return api.SBOMResult{}, err
	}
	s.noteJudged(ctx, res.Ref.ID, e.version)
	if res.Changes > 0 {
		s.cfg.Notify()
	}
	s.log.Info("sbom", "asset", name, "asset_id", res.Ref.UID, "customer", cust.ID, "created", res.Created, "components", rd.doc.Components,
		"matched", up.Matched, "added", res.Upload.Added, "removed", res.Upload.Removed, "changes", res.Changes)
	return rd.result(in, name, cust, res, verdicts), nil
}

// checkSBOMInput validates an upload's name and labels, and returns the
// customer it names (none when it names none).
func (s *Service) checkSBOMInput(ctx context.Context, in SBOMInput) (api.Customer, error) {
	if in.Name != "" {
		if err := CheckText("name", in.Name, MaxAssetName, true); err != nil {
			return api.Customer{}, err
		}
	}
	if err := CheckLabels(in.Labels); err != nil {
		return api.Customer{}, err
	}
	if s.st == nil {
		return api.Customer{}, fault.New(fault.Unavailable, "", "no fleet database to store the asset in")
	}
	if in.Customer == "" {
		return api.Customer{}, nil
	}
	cust, err := s.Customer(ctx, in.Customer)
	if fault.Is(err, fault.NotFound) {
		return api.Customer{}, fault.Invalidf("customer", "customer %q: no customer has this name or id", in.Customer)
	}
	return cust, err
}

// sbomRead is what reading an SBOM kept: the document's summary, the
// inventory items of its components, the operating system it names and
// the components without a version.
type sbomRead struct {
	doc       sbom.Document
	hash      hash.Hash // of the document as uploaded
	items     []api.Item
	host      api.HostInfo // the asset's operating system
	distro    sbom.Distro  // the first distribution a package's purl names
	noVersion []string     // fields of the first components without a version
	nNoVer    int
}

// readSBOM reads the document of in as a stream, turning each component
// into an inventory item (add).
func readSBOM(e *engine, in SBOMInput) (*sbomRead, error) {
	rd := &sbomRead{hash: sha256.New()}
	lim := sbom.DefaultLimits()
	lim.Charge = in.Charge
	doc, err := sbom.Read(io.TeeReader(in.Body, rd.hash), lim, func(c *sbom.Component) error { return rd.add(e, in.Charge, c) })
	if err != nil {
		return nil, sbomFault(err)
	}
	rd.doc = doc
	return rd, nil
}

// add keeps component c: the first operating system as the asset's, a
// package as a validated inventory item (charged to the budget); the
// document's own subject and the files a generator lists are no software.
func (rd *sbomRead) add(e *engine, charge func(int64) error, c *sbom.Component) error {
	r, err := e.sm.Resolve(c)
	if err != nil {
		return err
	}
	switch {
	case r.OS:
		if rd.host.OSID == "" { // the first operating system is the asset's
			rd.host.OSID, rd.host.OSVersion, rd.host.OSName = r.Host.OSID, r.Host.OSVersion, r.Host.OSName
		}
		return nil
	case c.Subject && !r.Matched:
		return nil // the document's subject (a directory, an image name) is the asset itself
	case c.Type == "file" && !r.Matched:
		return nil // a file the generator lists (syft lists every file it read) is no software
	}
	if rd.distro.ID == "" && r.Distro.Version != "" {
		rd.distro = r.Distro
	}
	// validated as an agent's item is, its fields named after the component
	if err := checkItem(c.Field+".", &r.Item); err != nil {
		return err
	}
	if c.Version == "" {
		if rd.nNoVer++; len(rd.noVersion) < 5 {
			rd.noVersion = append(rd.noVersion, c.Field+" ("+c.Name+")")
		}
	}
	if charge != nil {
		if err := charge(ItemCharge); err != nil {
			return err
		}
	}
	rd.items = append(rd.items, r.Item)
	return nil
}

// assetName is the upload's name, or else the name the document gives its
// subject.
func assetName(given string, doc sbom.Document) (string, error) {
	if given != "" {
		return given, nil
	}
	name := strings.TrimSpace(doc.Name)
	if name == "" {
		return "", fault.Invalidf("name", "name is required: give the asset's name (the document names no subject)")
	}
	if err := CheckText("name", name, MaxAssetName, true); err != nil {
		return "", fault.Invalidf("name", "the document's subject name cannot be the asset's name (%s): give name", err.Error())
	}
	return name, nil
}

// assetHost is the asset as a host: its name and operating system. Without
// an operating-system component (SPDX has none), the distribution its
// packages' purls name is the asset's OS, so they are judged by it.
func (rd *sbomRead) assetHost(name string) api.HostInfo {
	host := rd.host
	if host.OSID == "" && rd.distro.ID != "" {
		host.OSID, host.OSVersion = rd.distro.ID, rd.distro.Version
	}
	host.Hostname = name
	return host
}

// upload is the upload's record in the asset's history.
func (rd *sbomRead) upload(in SBOMInput, matched []store.MatchedItem) api.SBOMUpload {
	doc := rd.doc
	up := api.SBOMUpload{UploadedBy: in.By, TokenID: in.TokenID, Format: doc.Format, SpecVersion: doc.SpecVersion, Document: doc.Name, Serial: doc.Serial,
		Tools: doc.Tools, SHA256: hex.EncodeToString(rd.hash.Sum(nil)), Bytes: doc.Bytes, Components: doc.Components}
	for _, mi := range matched {
		if mi.Match.Product != "" && mi.Item.Source != osSource {
			up.Matched++
		}
	}
	return up
}

// result is the upload's answer: the asset, its verdicts by status and a
// warning naming the components without a version.
func (rd *sbomRead) result(in SBOMInput, name string, cust api.Customer, res store.AssetResult, verdicts []store.Verdict) api.SBOMResult {
	out := api.SBOMResult{AssetID: res.Ref.UID, Name: name, Created: res.Created, Upload: res.Upload, Labels: in.Labels,
		CustomerID: cust.ID, Customer: cust.Name, ByStatus: map[string]int{}, Changes: res.Changes}
	for _, v := range verdicts {
		out.ByStatus[v.V.Status]++
	}
	if rd.nNoVer > 0 {
		more := ""
		if rd.nNoVer > len(rd.noVersion) {
			more = ", ..."
		}
		out.Warnings = append(out.Warnings, fmt.Sprintf("%d component(s) have no version (%s%s): those a catalog product claims are judged unknown-version.",
			rd.nNoVer, strings.Join(rd.noVersion, ", "), more))
	}
	return out
}

// sbomFault turns a problem with the document into a *fault.Error: over the
// budget is fault.TooLarge, anything else fault.Invalid, both naming the
// field. Other errors (the body's own, such as a body past the wire limit)
// pass unchanged.
func sbomFault(err error) error {
	var de *sbom.Error
	if !errors.As(err, &de) {
		return err
	}
	code := fault.Invalid
	if de.TooLarge {
		code = fault.TooLarge
	}
	field := de.Field
	if field == "" {
		field = "body"
	}
	return &fault.Error{Code: code, Field: field, Msg: de.Error()}
}
