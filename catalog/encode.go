package catalog

import (
	"encoding/json"
	"io"
)

// outProduct and outCycle are the own format as written (field order fixed).
type outProduct struct {
	ID          string        `json:"id"`
	Label       string        `json:"label"`
	Category    string        `json:"category,omitempty"`
	Aliases     []string      `json:"aliases,omitempty"`
	Identifiers []Identifier  `json:"identifiers,omitempty"`
	Scheme      Scheme        `json:"scheme,omitempty"`
	Date        *Date         `json:"date,omitempty"`
	Extended    *outProgramme `json:"extended_support,omitempty"`
	Cycles      []outCycle    `json:"cycles"`
}

type outProgramme struct {
	Name      string   `json:"name"`
	Free      bool     `json:"free"`
	Enrolment []string `json:"enrolment,omitempty"`
}

type outCycle struct {
	Name       string       `json:"name"`
	Label      string       `json:"label,omitempty"`
	Codename   string       `json:"codename,omitempty"`
	Release    *Date        `json:"release,omitempty"`
	EOAS       any          `json:"eoas,omitempty"`
	EOL        any          `json:"eol"`
	EOES       any          `json:"eoes,omitempty"`
	LTS        any          `json:"lts,omitempty"`
	Latest     string       `json:"latest,omitempty"`
	LatestDate *Date        `json:"latest_date,omitempty"`
	Releases   []outRelease `json:"releases,omitempty"`
}

type outRelease struct {
	Version string `json:"version"`
	Date    *Date  `json:"date"`
}

func datePtr(d Date) *Date {
	if d.IsZero() {
		return nil
	}
	return &d
}

// toOwnProduct converts p; its date is written when it differs from base.
func toOwnProduct(p *Product, base Date) outProduct {
	op := outProduct{ID: p.ID, Label: p.Label, Category: p.Category, Aliases: p.Aliases, Identifiers: p.Identifiers, Scheme: p.Scheme}
	if !p.Date.Equal(base.Time) {
		op.Date = datePtr(p.Date)
	}
	if e := p.Extended; e != nil {
		op.Extended = &outProgramme{Name: e.Name, Free: e.Free, Enrolment: e.Enrolment}
	}
	for _, c := range p.Cycles {
		oc := outCycle{Name: c.Name, Label: c.Label, Codename: c.Codename, Release: datePtr(c.ReleaseDate),
			EOAS: c.EOAS.Value(), EOL: c.EOL.Value(), EOES: c.EOES.Value(), Latest: c.Latest, LatestDate: datePtr(c.LatestDate)}
		switch {
		case !c.LTSFrom.IsZero():
			oc.LTS = c.LTSFrom.String()
		case c.LTS:
			oc.LTS = true
		}
		for _, r := range c.Releases {
			oc.Releases = append(oc.Releases, outRelease{Version: r.Version, Date: datePtr(r.Date)})
		}
		op.Cycles = append(op.Cycles, oc)
	}
	return op
}

// WriteJSON writes the catalog in the project's own JSON format (the format
// LoadFiles and Parse read back), products sorted by id.
func (c *Catalog) WriteJSON(w io.Writer) error {
	doc := struct {
		Format   string       `json:"format"`
		Source   string       `json:"source,omitempty"`
		Commit   string       `json:"commit,omitempty"`
		License  string       `json:"license,omitempty"`
		Date     *Date        `json:"date,omitempty"`
		Products []outProduct `json:"products"`
	}{Format: FormatName, Source: c.info.Source, Commit: c.info.Commit, License: c.info.License, Date: datePtr(c.info.Date)}
	for _, p := range c.list {
		doc.Products = append(doc.Products, toOwnProduct(p, c.info.Date))
	}
	enc := json.NewEncoder(w)
	return enc.Encode(doc)
}
