package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
)

// An asset is a container image or a build artefact registered by uploading
// its SBOM. It is a row of hosts with kind 'asset', identified by its name
// (install_id "asset:NAME"), so matching, verdicts, fleet re-evaluation,
// compliance counts and fleet events treat it exactly like a host; it has no
// node key (node_key_hash holds a marker no hash can equal).

// assetPrefix starts an asset's install_id; "asset:NAME" also finds the
// asset in FindHost.
const assetPrefix = "asset:"

// AssetRef is how FindHost and the questions that take a host (eligibility,
// the ticket check) name the asset called name, and only it, even when a
// host has the same name.
func AssetRef(name string) string { return assetPrefix + name }

// AssetInput is an SBOM upload ready to store: the asset's name, labels and
// OS (from the document), its components already turned into matched
// inventory items, and the verdict of every matched (product, version).
type AssetInput struct {
	Name   string
	Labels map[string]string
	// Customer is the id of the customer the asset belongs to from this
	// upload on ("" for none); an id that names no customer is a
	// fault.Invalid error naming "customer".
	Customer string
	// Info is the asset's identity as a host: Hostname is the name; OSID,
	// OSVersion and OSName come from the document's operating-system component.
	Info api.HostInfo
	// Items is the whole inventory with matches (the OS as a source "os" item).
	Items []MatchedItem
	// Verdicts holds one entry per distinct matched (product, version).
	Verdicts []Verdict
	// CatalogVersion is the catalog that produced Verdicts; AsOf their day.
	CatalogVersion string
	AsOf           string
	// Upload describes the document for the asset's history (UploadedAt,
	// Added, Removed and Status are filled in by ApplyAsset).
	Upload api.SBOMUpload
}

// AssetResult says what ApplyAsset did.
type AssetResult struct {
	Ref     HostRef
	Created bool           // a new asset; false: the upload replaced its previous SBOM
	Upload  api.SBOMUpload // the history row written
	Changes int            // verdicts that changed (one fleet event each)
}

// ApplyAsset stores an SBOM upload in one transaction: it creates the asset
// on its first upload, replaces its inventory and verdicts with the
// upload's (the inventory diff, the verdict diff, one events.KindFleet event
// per changed verdict, as for a host's full report), updates its labels,
// customer and OS, and appends the upload to the asset's history.
func (s *Store) ApplyAsset(ctx context.Context, in AssetInput) (AssetResult, error) {
	var res AssetResult
	var fresh map[swKey]int64
	now := s.now()
	labels := ""
	if len(in.Labels) > 0 {
		b, err := json.Marshal(in.Labels)
		if err != nil {
			return res, fmt.Errorf("asset labels: %w", err)
		}
		labels = string(b)
	}
	in.Info.Hostname = in.Name
	info, err := json.Marshal(in.Info)
	if err != nil {
		return res, fmt.Errorf("asset info: %w", err)
	}
	var customer any // NULL: no customer
	if in.Customer != "" {
		customer = in.Customer
	}
	err = s.ingestTx(ctx, func(tx *sql.Tx) error {
		res, fresh = AssetResult{}, nil
		if in.Customer != "" {
			var x int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = ?`, in.Customer).Scan(&x); errors.Is(err, sql.ErrNoRows) {
				return fault.Invalidf("customer", "customer %q: no such customer", in.Customer)
			} else if err != nil {
				return fmt.Errorf("find customer: %w", err)
			}
		}
		ref, created, err := upsertAsset(ctx, tx, in.Name, now)
		if err != nil {
			return err
		}
		// PostgreSQL: uploads of one asset apply one at a time.
		if err := s.lockHost(ctx, tx, ref.ID); err != nil {
			return err
		}
		res.Ref, res.Created = ref, created
		inv, err := s.applyInventory(ctx, tx, ref, in.Items, in.Verdicts, in.CatalogVersion, in.AsOf, now)
		if err != nil {
			return err
		}
		fresh, res.Changes = inv.fresh, inv.changes
		_, err = tx.ExecContext(ctx, `UPDATE hosts SET info = ?, labels = ?, last_report_at = ?, last_checkin_at = ?,
			item_count = ?, unmatched_count = ?, collector_errors = '', status_rank = ?, customer_id = ? WHERE id = ?`,
			string(info), labels, now.UnixNano(), now.UnixNano(), inv.items, inv.unmatched, inv.rank, customer, ref.ID)
		if err != nil {
			return fmt.Errorf("update asset: %w", err)
		}
		up := in.Upload
		up.UploadedAt = now.UTC()
		up.Added, up.Removed, up.Status = inv.added, inv.removed, statusOfRank(inv.rank)
		_, err = tx.ExecContext(ctx, `INSERT INTO sbom_uploads (host_id, uploaded_at, uploaded_by, token_id, format, spec_version,
			document, serial, tools, sha256, bytes, components, matched, added, removed, status_rank)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ref.ID, now.UnixNano(), up.UploadedBy, up.TokenID, up.Format, up.SpecVersion, up.Document, up.Serial, strings.Join(up.Tools, "\n"),
			up.SHA256, up.Bytes, up.Components, up.Matched, up.Added, up.Removed, inv.rank)
		if err != nil {
			return fmt.Errorf("record upload: %w", err)
		}
		res.Upload = up
		return nil
	})
	if err != nil {
		if fault.CodeOf(err) != "" {
			return AssetResult{}, err
		}
		return AssetResult{}, fmt.Errorf("apply sbom of asset %q: %w", in.Name, err)
	}
	s.remember(fresh)
	s.sawEvaluations(in.Verdicts, in.CatalogVersion, in.AsOf)
	return res, nil
}

// upsertAsset returns the asset named name, creating it when it does not
// exist yet.
func upsertAsset(ctx context.Context, tx *sql.Tx, name string, now time.Time) (HostRef, bool, error) {
	ref := HostRef{InstallID: assetPrefix + name, Hostname: name, Kind: api.KindAsset}
	var kind string
	err := tx.QueryRowContext(ctx, `SELECT id, uid, kind FROM hosts WHERE install_id = ?`, ref.InstallID).Scan(&ref.ID, &ref.UID, &kind)
	switch {
	case err == nil:
		if kind != api.KindAsset {
			return ref, false, fmt.Errorf("install id %q belongs to a host, not an asset", ref.InstallID)
		}
		return ref, false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return ref, false, fmt.Errorf("find asset: %w", err)
	}
	ref.UID = randomHex(8)
	// node_key_hash is unique and required: "asset:UID" is no SHA-256 hex
	// digest, so no node key ever authenticates as an asset.
	err = tx.QueryRowContext(ctx, `INSERT INTO hosts (uid, install_id, hostname, info, node_key_hash, enrolled_at, kind)
		VALUES (?, ?, ?, '{}', ?, ?, ?) ON CONFLICT (install_id) DO NOTHING RETURNING id`,
		ref.UID, ref.InstallID, name, assetPrefix+ref.UID, now.UnixNano(), api.KindAsset).Scan(&ref.ID)
	if errors.Is(err, sql.ErrNoRows) {
		// Created meanwhile by another server's upload (PostgreSQL).
		return upsertAsset(ctx, tx, name, now)
	}
	if err != nil {
		return ref, false, fmt.Errorf("create asset: %w", err)
	}
	return ref, true, nil
}

// maxUploads bounds the history HostDetail returns.
const maxUploads = 100

// assetUploads lists an asset's SBOM uploads, newest first.
func (s *Store) assetUploads(ctx context.Context, hostID int64) ([]api.SBOMUpload, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT uploaded_at, uploaded_by, token_id, format, spec_version, document, serial, tools, sha256,
		bytes, components, matched, added, removed, status_rank FROM sbom_uploads WHERE host_id = ?
		ORDER BY uploaded_at DESC, id DESC LIMIT ?`, hostID, maxUploads)
	if err != nil {
		return nil, fmt.Errorf("asset uploads: %w", err)
	}
	defer rows.Close()
	var out []api.SBOMUpload
	for rows.Next() {
		var u api.SBOMUpload
		var at int64
		var tools string
		var rank int
		if err := rows.Scan(&at, &u.UploadedBy, &u.TokenID, &u.Format, &u.SpecVersion, &u.Document, &u.Serial, &tools, &u.SHA256,
			&u.Bytes, &u.Components, &u.Matched, &u.Added, &u.Removed, &rank); err != nil {
			return nil, fmt.Errorf("asset uploads: %w", err)
		}
		u.UploadedAt = unixNano(at)
		if tools != "" {
			u.Tools = strings.Split(tools, "\n")
		}
		u.Status = statusOfRank(rank)
		out = append(out, u)
	}
	return out, rows.Err()
}

// DeleteAsset deletes an asset, by its id or its name, with its inventory,
// verdicts and upload history (the fleet events already sent stay). A host
// enrolled by an agent is no asset: deleting one is a fault.Conflict (an
// admin revokes a host). ErrNotFound when no asset has that id or name.
func (s *Store) DeleteAsset(ctx context.Context, ref string) (api.Host, error) {
	var h api.Host
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		h = api.Host{}
		err := tx.QueryRowContext(ctx, `SELECT id, uid, hostname, kind FROM hosts WHERE uid = ?`, ref).Scan(&id, &h.ID, &h.Hostname, &h.Kind)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && h.Kind != api.KindAsset) {
			host := h
			err = tx.QueryRowContext(ctx, `SELECT id, uid, hostname, kind FROM hosts WHERE install_id = ? AND kind = ?`,
				AssetRef(ref), api.KindAsset).Scan(&id, &h.ID, &h.Hostname, &h.Kind)
			if errors.Is(err, sql.ErrNoRows) && host.ID != "" {
				return &fault.Error{Code: fault.Conflict, Msg: fmt.Sprintf("%s (%s) is a host enrolled by an agent, not an asset: revoke it instead", host.ID, host.Hostname)}
			}
		}
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("asset %q: %w", ref, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("find asset: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM hosts WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete asset: %w", err)
		}
		return nil
	})
	if err != nil {
		return api.Host{}, err
	}
	return h, nil
}
