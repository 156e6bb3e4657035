package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
// agent report's (sbom.DefaultLimits), and so is the budget (in.Charge). A problem with the document is a
// *fault.Error naming its field (fault.TooLarge past the budget); nothing
// stored changes then.
func (s *Service) IngestSBOM(ctx context.Context, in SBOMInput) (api.SBOMResult, error) {
	if in.Name != "" {
		if err := CheckText("name", in.Name, MaxAssetName, true); err != nil {
			return api.SBOMResult{}, err
		}
	}
	if err := CheckLabels(in.Labels); err != nil {
		return api.SBOMResult{}, err
	}
	if s.st == nil {
		return api.SBOMResult{}, fault.New(fault.Unavailable, "", "no fleet database to store the asset in")
	}
	var cust api.Customer
	if in.Customer != "" {
		var err error
		if cust, err = s.Customer(ctx, in.Customer); fault.Is(err, fault.NotFound) {
			return api.SBOMResult{}, fault.Invalidf("customer", "customer %q: no customer has this name or id", in.Customer)
		} else if err != nil {
			return api.SBOMResult{}, err
		}
	}
	e := s.engine()
	hash := sha256.New()
	var (
		items     []api.Item
		host      api.HostInfo
		noVersion []string // fields of the first components without a version
		nNoVer    int
		distro    sbom.Distro // the first distribution a package's purl names
	)
	lim := sbom.DefaultLimits()
	lim.Charge = in.Charge
	doc, err := sbom.Read(io.TeeReader(in.Body, hash), lim, func(c *sbom.Component) error {
		r, err := e.sm.Resolve(c)
		if err != nil {
			return err
		}
		switch {
		case r.OS:
			if host.OSID == "" { // the first operating system is the asset's
				host.OSID, host.OSVersion, host.OSName = r.Host.OSID, r.Host.OSVersion, r.Host.OSName
			}
			return nil
		case c.Subject && !r.Matched:
			return nil // the document's subject (a directory, an image name) is the asset itself
		case c.Type == "file" && !r.Matched:
			return nil // a file the generator lists (syft lists every file it read) is no software
		}
		if distro.ID == "" && r.Distro.Version != "" {
			distro = r.Distro
		}
		// validated as an agent's item is, its fields named after the component
		if err := checkItem(c.Field+".", &r.Item); err != nil {
			return err
		}
		if c.Version == "" {
			if nNoVer++; len(noVersion) < 5 {
				noVersion = append(noVersion, c.Field+" ("+c.Name+")")
			}
		}
		if in.Charge != nil {
			if err := in.Charge(ItemCharge); err != nil {
				return err
			}
		}
		items = append(items, r.Item)
		return nil
	})
	if err != nil {
		return api.SBOMResult{}, sbomFault(err)
	}
	if err := ctx.Err(); err != nil {
		return api.SBOMResult{}, err
	}
	name := in.Name
	if name == "" {
		name = strings.TrimSpace(doc.Name)
		if name == "" {
			return api.SBOMResult{}, fault.Invalidf("name", "name is required: give the asset's name (the document names no subject)")
		}
		if err := CheckText("name", name, MaxAssetName, true); err != nil {
			return api.SBOMResult{}, fault.Invalidf("name", "the document's subject name cannot be the asset's name (%s): give name", err.Error())
		}
	}
	if host.OSID == "" && distro.ID != "" {
		// no operating-system component (SPDX has none): the distribution
		// its packages' purls name is the asset's OS, so they are judged by it
		host.OSID, host.OSVersion = distro.ID, distro.Version
	}
	host.Hostname = name
	day := s.Today()
	matched, verdicts, _ := e.prepare(&api.Report{Host: host, Items: items}, day, nil, s.cfg.Now())
	up := api.SBOMUpload{UploadedBy: in.By, TokenID: in.TokenID, Format: doc.Format, SpecVersion: doc.SpecVersion, Document: doc.Name, Serial: doc.Serial,
		Tools: doc.Tools, SHA256: hex.EncodeToString(hash.Sum(nil)), Bytes: doc.Bytes, Components: doc.Components}
	for _, mi := range matched {
		if mi.Match.Product != "" && mi.Item.Source != osSource {
			up.Matched++
		}
	}
	res, err := s.st.ApplyAsset(ctx, store.AssetInput{Name: name, Labels: in.Labels, Customer: cust.ID, Info: host, Items: matched, Verdicts: verdicts,
		CatalogVersion: e.version, AsOf: day, Upload: up})
	if err != nil {
		return api.SBOMResult{}, err
	}
	s.noteJudged(ctx, res.Ref.ID, e.version)
	if res.Changes > 0 {
		s.cfg.Notify()
	}
	out := api.SBOMResult{AssetID: res.Ref.UID, Name: name, Created: res.Created, Upload: res.Upload, Labels: in.Labels,
		CustomerID: cust.ID, Customer: cust.Name, ByStatus: map[string]int{}, Changes: res.Changes}
	for _, v := range verdicts {
		out.ByStatus[v.V.Status]++
	}
	if nNoVer > 0 {
		more := ""
		if nNoVer > len(noVersion) {
			more = ", ..."
		}
		out.Warnings = append(out.Warnings, fmt.Sprintf("%d component(s) have no version (%s%s): those a catalog product claims are judged unknown-version.",
			nNoVer, strings.Join(noVersion, ", "), more))
	}
	s.log.Info("sbom", "asset", name, "asset_id", res.Ref.UID, "customer", cust.ID, "created", res.Created, "components", doc.Components,
		"matched", up.Matched, "added", res.Upload.Added, "removed", res.Upload.Removed, "changes", res.Changes)
	return out, nil
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
