package catalogsvc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
)

// Release is a request to publish a release: the body of
// POST /api/v1/catalog/releases.
type Release struct {
	Product string `json:"product"`
	// Cycle is the release line; empty means the cycle the version
	// belongs to in the current catalog.
	Cycle   string `json:"cycle,omitempty"`
	Version string `json:"version"`
	// Date is the release day, YYYY-MM-DD; empty means today.
	Date string `json:"date,omitempty"`
	// Link points to the release notes (http or https).
	Link string `json:"link,omitempty"`
	// AllowOlder publishes a version older than the cycle's latest (a
	// back-filled release); without it that is an error.
	AllowOlder bool `json:"allow_older,omitempty"`
	// NewCycle allows a cycle the product does not have yet.
	NewCycle bool `json:"new_cycle,omitempty"`
	// By records who published it (the API token's name, "cli").
	By string `json:"-"`
}

// ErrConflict is returned (wrapped) when the release is already in the
// catalog (a fault.Conflict on the version, HTTP 409).
var ErrConflict error = &fault.Error{Code: fault.Conflict, Field: "version", Msg: "already published"}

const maxFieldLen = 200

func checkText(field, v string, required bool) error {
	if v == "" {
		if required {
			return fault.InvalidField(field, "is required")
		}
		return nil
	}
	if len(v) > maxFieldLen {
		return fault.InvalidField(field, fmt.Sprintf("is longer than %d bytes", maxFieldLen))
	}
	for _, r := range v {
		if unicode.IsControl(r) || unicode.IsSpace(r) && field != "link" {
			return fault.InvalidField(field, fmt.Sprintf("%q holds a space or control character", v))
		}
	}
	return nil
}

// validate checks r against cat and returns it normalised: canonical
// product id, the cycle filled in, the date set.
func (s *Service) validate(cat *catalog.Catalog, r Release) (Release, error) {
	r.Product, r.Cycle, r.Version, r.Date, r.Link = strings.TrimSpace(r.Product), strings.TrimSpace(r.Cycle),
		strings.TrimSpace(r.Version), strings.TrimSpace(r.Date), strings.TrimSpace(r.Link)
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"product", r.Product, true}, {"cycle", r.Cycle, false}, {"version", r.Version, true}, {"date", r.Date, false}, {"link", r.Link, false}} {
		if err := checkText(f.name, f.v, f.required); err != nil {
			return r, err
		}
	}
	p := cat.Product(r.Product)
	if p == nil {
		return r, fault.InvalidField("product", fmt.Sprintf("%q is not a catalog product", r.Product))
	}
	r.Product = p.ID
	today := day(s.cfg.Now())
	if r.Date == "" {
		r.Date = today.Format(time.DateOnly)
	}
	d, err := time.Parse(time.DateOnly, r.Date)
	if err != nil {
		return r, fault.InvalidField("date", fmt.Sprintf("%q is not a YYYY-MM-DD date", r.Date))
	}
	if d.After(today.AddDate(0, 0, 1)) {
		return r, fault.InvalidField("date", fmt.Sprintf("%s is in the future", r.Date))
	}
	if r.Link != "" {
		u, err := url.Parse(r.Link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return r, fault.InvalidField("link", fmt.Sprintf("%q is not an http(s) URL", r.Link))
		}
	}
	v := cat.Evaluate(p.ID, r.Version, s.cfg.Now(), catalog.DefaultPolicy())
	if r.Cycle == "" {
		if v.Cycle == "" {
			return r, fault.InvalidField("cycle", fmt.Sprintf("is required: version %q belongs to no cycle of %s", r.Version, p.ID))
		}
		r.Cycle = v.Cycle
	}
	var cyc *catalog.Cycle
	for _, c := range p.Cycles {
		if c.Name == r.Cycle {
			cyc = c
		}
	}
	if cyc == nil {
		if !r.NewCycle {
			return r, fault.InvalidField("cycle", fmt.Sprintf("%s has no cycle %q (set new_cycle to create it)", p.ID, r.Cycle))
		}
		return r, nil
	}
	if hasRelease(cat, p.ID, r.Cycle, r.Version) {
		return r, fmt.Errorf("%s %s %s: %w", p.ID, r.Cycle, r.Version, ErrConflict)
	}
	if v.Cycle != "" && v.Cycle != r.Cycle {
		return r, fault.InvalidField("version", fmt.Sprintf("%s belongs to cycle %s, not %s", r.Version, v.Cycle, r.Cycle))
	}
	if !r.AllowOlder && (v.Patch == catalog.PatchAvailable || v.Patch == catalog.PatchOverdue) {
		return r, fault.InvalidField("version", fmt.Sprintf("%s is older than the cycle's latest %s (set allow_older to publish it anyway)", r.Version, v.Latest))
	}
	return r, nil
}

// Publish validates a release (known product, a cycle it belongs to, a
// parseable date not in the future, a version that is new and not older
// than the cycle's latest unless AllowOlder), applies it with
// (*catalog.Catalog).WithRelease, stores it with its events in one
// transaction, swaps the catalog and calls OnChange. Errors are
// *fault.Error (bad request), wrapped ErrConflict, or a store failure.
func (s *Service) Publish(ctx context.Context, r Release) (Published, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pub Published
	// Validated against the catalog in force, which another server may
	// have changed: change reloads and validates again then.
	old, next, err := s.change(ctx, func(old *catalog.Catalog) (*catalog.Catalog, func(int64) error, error) {
		r, err := s.validate(old, r)
		if err != nil {
			return nil, nil, err
		}
		pub = Published{Product: r.Product, Cycle: r.Cycle, Version: r.Version, Date: r.Date, Link: r.Link, By: r.By,
			Created: s.cfg.Now().UTC()}
		next, err := applyRelease(old, pub)
		if errors.Is(err, catalog.ErrReleaseExists) {
			return nil, nil, fmt.Errorf("%s %s %s: %w", r.Product, r.Cycle, r.Version, ErrConflict)
		}
		if err != nil {
			return nil, nil, fault.InvalidField("version", err.Error())
		}
		evs := EventsFor(catalog.Diff(old, next), next, r.Link, s.cfg.Now())
		if len(evs) == 0 {
			return nil, nil, fmt.Errorf("%s %s %s changes nothing: %w", r.Product, r.Cycle, r.Version, ErrConflict)
		}
		return next, func(gen int64) error { return s.cfg.Store.SaveRelease(ctx, pub, evs, gen) }, nil
	})
	if err != nil {
		return Published{}, err
	}
	s.releases = append(s.releases, pub)
	s.log.Info("release published", "product", pub.Product, "cycle", pub.Cycle, "version", pub.Version, "by", pub.By)
	s.commit(old, next)
	return pub, nil
}
