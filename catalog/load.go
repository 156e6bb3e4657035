package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FormatName is the value of the "format" key in the project's own catalog files.
const FormatName = "eolwatch-catalog/v1"

// LoadError is a catalog loading error naming where the problem is.
type LoadError struct {
	File    string // file (or document) name
	Line    int    // line in the file when known, else 0
	Product string // product id (or "#N" when it has none yet)
	Cycle   string // cycle name (or "#N")
	Field   string // field name
	Err     error
}

// Error implements error: "file:line: product "x": cycle "y": field eol: bad date ...".
func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Product != "" {
		b.WriteString(": product " + strconv.Quote(e.Product))
	}
	if e.Cycle != "" {
		b.WriteString(": cycle " + strconv.Quote(e.Cycle))
	}
	if e.Field != "" {
		b.WriteString(": field " + e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *LoadError) Unwrap() error { return e.Err }

// rawValue holds a JSON/YAML scalar whose type is checked later, so that the
// error can name the product, cycle and field (dates-or-booleans, lts).
type rawValue struct {
	set  bool
	kind byte // 's' string, 'b' bool, 'n' null, 'x' anything else
	s    string
	b    bool
	line int
	text string
}

// UnmarshalJSON records the JSON value and its kind; checking comes later.
func (r *rawValue) UnmarshalJSON(b []byte) error {
	r.set = true
	r.text = string(b)
	switch {
	case string(b) == "null":
		r.kind = 'n'
	case string(b) == "true" || string(b) == "false":
		r.kind, r.b = 'b', string(b) == "true"
	case len(b) > 0 && b[0] == '"':
		r.kind = 's'
		return json.Unmarshal(b, &r.s)
	default:
		r.kind = 'x'
	}
	return nil
}

// UnmarshalYAML records the YAML scalar, its kind and line; checking comes later.
func (r *rawValue) UnmarshalYAML(n *yaml.Node) error {
	r.set, r.line, r.text = true, n.Line, n.Value
	if n.Kind != yaml.ScalarNode {
		r.kind = 'x'
		r.text = "a list or mapping"
		return nil
	}
	switch n.Tag {
	case "!!null":
		r.kind = 'n'
	case "!!bool":
		r.kind = 'b'
		return n.Decode(&r.b)
	case "!!str", "!!timestamp":
		r.kind, r.s = 's', n.Value
	default:
		r.kind = 'x'
	}
	return nil
}

// milestone converts a date-or-boolean value.
func (r rawValue) milestone() (Milestone, error) {
	switch r.kind {
	case 0, 'n':
		return Milestone{}, nil
	case 'b':
		return Milestone{Set: true, Ended: r.b}, nil
	case 's':
		d, err := ParseDate(r.s)
		if err != nil {
			return Milestone{}, err
		}
		return Milestone{Set: true, Date: d, Ended: true}, nil
	}
	return Milestone{}, fmt.Errorf("want a YYYY-MM-DD date, true or false, got %s", r.text)
}

// date converts a date-only value (null allowed).
func (r rawValue) date() (Date, error) {
	switch r.kind {
	case 0, 'n':
		return Date{}, nil
	case 's':
		return ParseDate(r.s)
	}
	return Date{}, fmt.Errorf("want a YYYY-MM-DD date, got %s", r.text)
}

// str converts a string value (null allowed; numbers from YAML are kept as written).
func (r rawValue) str() (string, error) {
	switch r.kind {
	case 0, 'n':
		return "", nil
	case 's':
		return r.s, nil
	case 'x':
		if r.line > 0 && r.text != "a list or mapping" { // YAML number such as 3.10: keep the spelling
			return r.text, nil
		}
	}
	return "", fmt.Errorf("want a string, got %s", r.text)
}

// ---- the project's own format ----

type ownDoc struct {
	Format   string            `json:"format" yaml:"format"`
	Source   string            `json:"source" yaml:"source"`
	Commit   string            `json:"commit" yaml:"commit"`
	License  string            `json:"license" yaml:"license"`
	Date     rawValue          `json:"date" yaml:"date"`
	Products []json.RawMessage `json:"products" yaml:"-"`
}

type ownDocYAML struct {
	Format   string       `yaml:"format"`
	Source   string       `yaml:"source"`
	Commit   string       `yaml:"commit"`
	License  string       `yaml:"license"`
	Date     rawValue     `yaml:"date"`
	Products []ownProduct `yaml:"products"`
}

type ownProductBase struct {
	ID          string        `json:"id" yaml:"id"`
	Label       string        `json:"label" yaml:"label"`
	Category    string        `json:"category" yaml:"category"`
	Aliases     []string      `json:"aliases,omitempty" yaml:"aliases"`
	Identifiers []Identifier  `json:"identifiers,omitempty" yaml:"identifiers"`
	Scheme      string        `json:"scheme,omitempty" yaml:"scheme"`
	Extended    *ownProgramme `json:"extended_support,omitempty" yaml:"extended_support"`
}

// ownProgramme is the `extended_support` key of a product: its
// extended-support programme (see Programme).
type ownProgramme struct {
	Name      string   `json:"name" yaml:"name"`
	Free      *bool    `json:"free" yaml:"free"`
	Enrolment []string `json:"enrolment,omitempty" yaml:"enrolment"`
}

type ownProduct struct {
	ownProductBase `yaml:",inline"`
	Date           rawValue   `yaml:"date"`
	Cycles         []ownCycle `yaml:"cycles"`
	line           int
}

type ownProductJSON struct {
	ownProductBase
	Date   rawValue          `json:"date"`
	Cycles []json.RawMessage `json:"cycles"`
}

type ownCycle struct {
	Name        rawValue     `json:"name" yaml:"name"`
	Label       string       `json:"label,omitempty" yaml:"label"`
	Codename    string       `json:"codename,omitempty" yaml:"codename"`
	Release     rawValue     `json:"release,omitempty" yaml:"release"`
	EOAS        rawValue     `json:"eoas,omitempty" yaml:"eoas"`
	EOL         rawValue     `json:"eol" yaml:"eol"`
	EOES        rawValue     `json:"eoes,omitempty" yaml:"eoes"`
	LTS         rawValue     `json:"lts,omitempty" yaml:"lts"`
	Latest      rawValue     `json:"latest,omitempty" yaml:"latest"`
	LatestDate  rawValue     `json:"latest_date,omitempty" yaml:"latest_date"`
	Releases    []ownRelease `json:"releases,omitempty" yaml:"releases"`
	DeclaredEOL bool         `json:"-" yaml:"-"`
}

type ownRelease struct {
	Version rawValue `json:"version" yaml:"version"`
	Date    rawValue `json:"date" yaml:"date"`
}

// doc is one parsed document before merging into a Catalog.
type doc struct {
	info     Info
	products []*Product
	releases map[string][]Release // releases.json: dated releases by product, attached later
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]*$`)

// Categories lists the accepted product categories.
var Categories = []string{"os", "lang", "framework", "database", "server-app", "app", "service", "device", "standard"}

func knownCategory(c string) bool {
	for _, k := range Categories {
		if k == c {
			return true
		}
	}
	return false
}

// parseDoc detects the format of data and parses it strictly.
func parseDoc(name string, data []byte) (*doc, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, &LoadError{File: name, Err: errors.New("empty catalog file")}
	}
	if bytes.HasPrefix(trimmed, []byte(compactMagic+"\n")) {
		d, _, err := parseCompact(name, bytes.TrimLeft(data, " \t\r\n"))
		return d, err
	}
	if trimmed[0] != '{' {
		return parseOwnYAML(name, data)
	}
	var probe struct {
		Format        *string          `json:"format"`
		SchemaVersion json.RawMessage  `json:"schema_version"`
		Result        json.RawMessage  `json:"result"`
		Products      json.RawMessage  `json:"products"`
		Schema        *json.RawMessage `json:"schema"`
	}
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return nil, &LoadError{File: name, Line: jsonErrLine(trimmed, err), Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	switch {
	case probe.Format != nil && strings.HasPrefix(*probe.Format, "eolwatch-catalog"):
		return parseOwnJSON(name, trimmed)
	case probe.Result != nil:
		return parseAPIv1(name, trimmed)
	case len(probe.Products) > 0 && probe.Products[0] == '{':
		return parseReleasesJSON(name, trimmed)
	case len(probe.Products) > 0 && probe.Products[0] == '[':
		var first struct {
			Products []map[string]json.RawMessage `json:"products"`
		}
		if err := json.Unmarshal(trimmed, &first); err == nil && len(first.Products) > 0 {
			if _, ok := first.Products[0]["releases"]; ok {
				return parseExtract(name, trimmed)
			}
		}
		return parseOwnJSON(name, trimmed)
	}
	return nil, &LoadError{File: name, Err: errors.New("unknown catalog format: want the eolwatch format (\"format\": \"" + FormatName + "\"), an endoflife.date products.json or releases.json extract, or an endoflife.date API v1 product response")}
}

// jsonErrLine returns the line of a JSON decoding error, or 0.
func jsonErrLine(data []byte, err error) int {
	var off int64
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	default:
		return 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON document")
	}
	return nil
}

func parseOwnJSON(name string, data []byte) (*doc, error) {
	var d ownDoc
	if err := strictJSON(data, &d); err != nil {
		return nil, &LoadError{File: name, Line: jsonErrLine(data, err), Err: err}
	}
	out := &doc{info: Info{Source: d.Source, Commit: d.Commit, License: d.License}}
	if err := checkFormat(name, d.Format); err != nil {
		return nil, err
	}
	if err := out.setDate(name, d.Date); err != nil {
		return nil, err
	}
	for i, raw := range d.Products {
		var p ownProductJSON
		if err := strictJSON(raw, &p); err != nil {
			var loose struct {
				ID any `json:"id"`
			}
			_ = json.Unmarshal(raw, &loose)
			return nil, &LoadError{File: name, Product: productRef(loose.ID, i), Err: err}
		}
		op := ownProduct{ownProductBase: p.ownProductBase, Date: p.Date}
		for j, rc := range p.Cycles {
			var c ownCycle
			if err := strictJSON(rc, &c); err != nil {
				var loose struct {
					Name any `json:"name"`
				}
				_ = json.Unmarshal(rc, &loose)
				return nil, &LoadError{File: name, Product: productRef(p.ID, i), Cycle: productRef(loose.Name, j), Err: err}
			}
			op.Cycles = append(op.Cycles, c)
		}
		prod, err := op.toProduct(name, i)
		if err != nil {
			return nil, err
		}
		out.products = append(out.products, prod)
	}
	return out, nil
}

func checkFormat(name, f string) error {
	if f != "" && f != FormatName {
		return &LoadError{File: name, Field: "format", Err: fmt.Errorf("unsupported format %q, want %q", f, FormatName)}
	}
	return nil
}

func productRef(id any, i int) string {
	if s, ok := id.(string); ok && s != "" {
		return s
	}
	return "#" + strconv.Itoa(i+1)
}

func parseOwnYAML(name string, data []byte) (*doc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var d ownDocYAML
	if err := dec.Decode(&d); err != nil {
		le := &LoadError{File: name, Err: fmt.Errorf("invalid YAML: %w", err)}
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			// name the product and cycle around the first problem's line
			var line int
			if _, e := fmt.Sscanf(te.Errors[0], "line %d:", &line); e == nil {
				le.Line = line
				le.Product, le.Cycle = locateYAML(data, line)
				le.Err = errors.New(yamlTypeNames.Replace(strings.TrimSpace(te.Errors[0][strings.Index(te.Errors[0], ":")+1:])))
			}
		}
		return nil, le
	}
	var extra any
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, &LoadError{File: name, Err: errors.New("more than one YAML document in the file")}
	}
	if err := checkFormat(name, d.Format); err != nil {
		return nil, err
	}
	out := &doc{info: Info{Source: d.Source, Commit: d.Commit, License: d.License}}
	if err := out.setDate(name, d.Date); err != nil {
		return nil, err
	}
	for i, op := range d.Products {
		prod, err := op.toProduct(name, i)
		if err != nil {
			return nil, err
		}
		out.products = append(out.products, prod)
	}
	return out, nil
}

// yamlTypeNames turns the decoder's Go type names into words.
var yamlTypeNames = strings.NewReplacer(
	"[]catalog.ownRelease", "a list of {version, date}",
	"[]catalog.ownCycle", "a list of cycles",
	"[]catalog.ownProduct", "a list of products",
	"[]catalog.Identifier", "a list of {type, id}",
	"catalog.ownRelease", "a {version, date} mapping",
	"catalog.ownCycle", "a cycle mapping",
	"catalog.ownProduct", "a product mapping",
	"catalog.ownDocYAML", "a catalog document",
	"catalog.Identifier", "a {type, id} mapping",
	"catalog.rawValue", "a value",
	"[]string", "a list of strings",
)

// locateYAML returns the id of the product and the name of the cycle whose
// YAML text holds line (for errors the decoder reports by line only).
func locateYAML(data []byte, line int) (product, cycle string) {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return "", ""
	}
	products := mapValue(root.Content[0], "products")
	if products == nil || products.Kind != yaml.SequenceNode {
		return "", ""
	}
	p := lastBefore(products.Content, line)
	if p == nil {
		return "", ""
	}
	if id := mapValue(p, "id"); id != nil {
		product = id.Value
	} else {
		product = "#" + strconv.Itoa(slices.Index(products.Content, p)+1)
	}
	if cs := mapValue(p, "cycles"); cs != nil && cs.Kind == yaml.SequenceNode && cs.Line <= line {
		if c := lastBefore(cs.Content, line); c != nil {
			if n := mapValue(c, "name"); n != nil {
				cycle = n.Value
			} else {
				cycle = "#" + strconv.Itoa(slices.Index(cs.Content, c)+1)
			}
		}
	}
	return product, cycle
}

// mapValue returns the value node of key in a mapping node, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// lastBefore returns the last node starting at or before line.
func lastBefore(ns []*yaml.Node, line int) *yaml.Node {
	var out *yaml.Node
	for _, n := range ns {
		if n.Line <= line {
			out = n
		}
	}
	return out
}

// toProduct validates one product of the own format.
func (op ownProduct) toProduct(file string, idx int) (*Product, error) {
	pid := productRef(op.ID, idx)
	fail := func(cycle, field string, line int, err error) error {
		return &LoadError{File: file, Line: line, Product: pid, Cycle: cycle, Field: field, Err: err}
	}
	if op.ID == "" {
		return nil, fail("", "id", 0, errors.New("missing product id"))
	}
	if !idPattern.MatchString(op.ID) {
		return nil, fail("", "id", 0, fmt.Errorf("invalid product id %q: use lowercase letters, digits and . _ + -", op.ID))
	}
	if op.Category != "" && !knownCategory(op.Category) {
		return nil, fail("", "category", 0, fmt.Errorf("unknown category %q (want one of %s)", op.Category, strings.Join(Categories, ", ")))
	}
	if !KnownScheme(Scheme(op.Scheme)) {
		return nil, fail("", "scheme", 0, fmt.Errorf("unknown scheme %q (want semver, dotted, java, debian, rpm, apk, calver, windows, or empty for automatic)", op.Scheme))
	}
	for _, a := range op.Aliases {
		if !idPattern.MatchString(a) {
			return nil, fail("", "aliases", 0, fmt.Errorf("invalid alias %q", a))
		}
	}
	for _, id := range op.Identifiers {
		if id.Type == "" || id.ID == "" {
			return nil, fail("", "identifiers", 0, errors.New("identifier needs both type and id"))
		}
	}
	p := &Product{ID: op.ID, Label: op.Label, Category: op.Category, Aliases: op.Aliases, Identifiers: op.Identifiers, Scheme: Scheme(op.Scheme), Source: file}
	if p.Label == "" {
		p.Label = p.ID
	}
	var err error
	if p.Date, err = op.Date.date(); err != nil {
		return nil, fail("", "date", op.Date.line, err)
	}
	if e := op.Extended; e != nil {
		if strings.TrimSpace(e.Name) == "" {
			return nil, fail("", "extended_support.name", 0, errors.New("missing programme name"))
		}
		if e.Free == nil {
			return nil, fail("", "extended_support.free", 0, errors.New("say whether the programme is free (true: it counts under the default policy) or paid (false)"))
		}
		for _, id := range e.Enrolment {
			if strings.TrimSpace(id) == "" {
				return nil, fail("", "extended_support.enrolment", 0, errors.New("empty enrolment id"))
			}
		}
		p.Extended = &Programme{Name: e.Name, Free: *e.Free, Enrolment: e.Enrolment}
	}
	seen := map[string]bool{}
	for j, oc := range op.Cycles {
		name, err := oc.Name.str()
		cref := name
		if cref == "" {
			cref = "#" + strconv.Itoa(j+1)
		}
		if err != nil {
			return nil, fail(cref, "name", oc.Name.line, err)
		}
		if name == "" {
			return nil, fail(cref, "name", oc.Name.line, errors.New("missing cycle name"))
		}
		if seen[name] {
			return nil, fail(name, "name", oc.Name.line, errors.New("duplicate cycle"))
		}
		seen[name] = true
		c := &Cycle{Name: name, Label: oc.Label, Codename: oc.Codename}
		if c.ReleaseDate, err = oc.Release.date(); err != nil {
			return nil, fail(name, "release", oc.Release.line, err)
		}
		if c.EOAS, err = oc.EOAS.milestone(); err != nil {
			return nil, fail(name, "eoas", oc.EOAS.line, err)
		}
		if !oc.EOL.set {
			return nil, fail(name, "eol", 0, errors.New("missing eol (a YYYY-MM-DD date, true if ended with no date, false if no end date yet)"))
		}
		if c.EOL, err = oc.EOL.milestone(); err != nil {
			return nil, fail(name, "eol", oc.EOL.line, err)
		}
		if !c.EOL.Set {
			return nil, fail(name, "eol", oc.EOL.line, errors.New("eol must not be null (use false for no end date yet)"))
		}
		if c.EOES, err = oc.EOES.milestone(); err != nil {
			return nil, fail(name, "eoes", oc.EOES.line, err)
		}
		if err := c.setLTS(oc.LTS); err != nil {
			return nil, fail(name, "lts", oc.LTS.line, err)
		}
		if c.Latest, err = oc.Latest.str(); err != nil {
			return nil, fail(name, "latest", oc.Latest.line, err)
		}
		if c.LatestDate, err = oc.LatestDate.date(); err != nil {
			return nil, fail(name, "latest_date", oc.LatestDate.line, err)
		}
		for k, r := range oc.Releases {
			v, err := r.Version.str()
			if err == nil && v == "" {
				err = errors.New("missing version")
			}
			if err != nil {
				return nil, fail(name, "releases["+strconv.Itoa(k)+"].version", r.Version.line, err)
			}
			d, err := r.Date.date()
			if err != nil {
				return nil, fail(name, "releases["+strconv.Itoa(k)+"].date", r.Date.line, err)
			}
			c.Releases = append(c.Releases, Release{Version: v, Date: d})
		}
		p.Cycles = append(p.Cycles, c)
	}
	return p, nil
}

func (c *Cycle) setLTS(r rawValue) error {
	switch r.kind {
	case 0, 'n':
	case 'b':
		c.LTS = r.b
	case 's':
		d, err := ParseDate(r.s)
		if err != nil {
			return err
		}
		c.LTS, c.LTSFrom = true, d
	default:
		return fmt.Errorf("want true, false or a YYYY-MM-DD date, got %s", r.text)
	}
	return nil
}

// ---- endoflife.date products.json extract ----

type extractDoc struct {
	Source   string            `json:"source"`
	License  string            `json:"license"`
	Products []json.RawMessage `json:"products"`
}

type extractProduct struct {
	Name        string            `json:"name"`
	Label       string            `json:"label"`
	Category    string            `json:"category"`
	Aliases     []string          `json:"aliases"`
	Identifiers []Identifier      `json:"identifiers"`
	Releases    []json.RawMessage `json:"releases"`
}

type extractCycle struct {
	Name              rawValue `json:"name"`
	Label             string   `json:"label"`
	Codename          string   `json:"codename"`
	ReleaseDate       rawValue `json:"releaseDate"`
	EOL               rawValue `json:"eol"`
	EOAS              rawValue `json:"eoas"`
	EOES              rawValue `json:"eoes"`
	Discontinued      rawValue `json:"discontinued"`
	LTS               rawValue `json:"lts"`
	Latest            rawValue `json:"latest"`
	LatestReleaseDate rawValue `json:"latestReleaseDate"`
}

// sourceDate pulls the snapshot date out of "endoflife.date snapshot <sha>
// <YYYY-MM-DD>": the last word that is a date; zero when none is.
func sourceDate(src string) Date {
	f := strings.Fields(src)
	for i := len(f) - 1; i >= 0; i-- {
		if d, err := ParseDate(f[i]); err == nil {
			return d
		}
	}
	return Date{}
}

// setDate sets the document's date from its `date` key.
func (d *doc) setDate(name string, r rawValue) error {
	dt, err := r.date()
	if err != nil {
		return &LoadError{File: name, Line: r.line, Field: "date", Err: err}
	}
	d.info.Date = dt
	return nil
}

// sourceCommit pulls the commit out of "endoflife.date snapshot <sha> <date>".
func sourceCommit(src string) string {
	f := strings.Fields(src)
	for _, w := range f {
		if len(w) == 40 && strings.Trim(w, "0123456789abcdef") == "" {
			return w
		}
	}
	return ""
}

func parseExtract(name string, data []byte) (*doc, error) {
	var d extractDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, &LoadError{File: name, Line: jsonErrLine(data, err), Err: err}
	}
	out := &doc{info: Info{Source: d.Source, Commit: sourceCommit(d.Source), License: d.License, Date: sourceDate(d.Source)}}
	for i, raw := range d.Products {
		var ep extractProduct
		if err := json.Unmarshal(raw, &ep); err != nil {
			var loose struct {
				Name any `json:"name"`
			}
			_ = json.Unmarshal(raw, &loose)
			return nil, &LoadError{File: name, Product: productRef(loose.Name, i), Err: err}
		}
		op := ownProduct{ownProductBase: ownProductBase{ID: ep.Name, Label: ep.Label, Category: ep.Category, Aliases: ep.Aliases, Identifiers: ep.Identifiers, Scheme: string(DefaultScheme(ep.Name))}}
		for j, rr := range ep.Releases {
			var ec extractCycle
			if err := json.Unmarshal(rr, &ec); err != nil {
				var loose struct {
					Name any `json:"name"`
				}
				_ = json.Unmarshal(rr, &loose)
				return nil, &LoadError{File: name, Product: productRef(ep.Name, i), Cycle: productRef(loose.Name, j), Err: err}
			}
			op.Cycles = append(op.Cycles, ownCycle{Name: ec.Name, Label: ec.Label, Codename: ec.Codename, Release: ec.ReleaseDate,
				EOAS: ec.EOAS, EOL: ec.EOL, EOES: ec.EOES, LTS: ec.LTS, Latest: ec.Latest, LatestDate: ec.LatestReleaseDate})
		}
		p, err := op.toProduct(name, i)
		if err != nil {
			return nil, fieldRename(err, map[string]string{"release": "releaseDate", "latest_date": "latestReleaseDate"})
		}
		p.Source = "endoflife.date"
		out.products = append(out.products, p)
	}
	return out, nil
}

func fieldRename(err error, m map[string]string) error {
	var le *LoadError
	if errors.As(err, &le) {
		if n, ok := m[le.Field]; ok {
			le.Field = n
		}
	}
	return err
}

// ---- endoflife.date release-data releases.json ----

func parseReleasesJSON(name string, data []byte) (*doc, error) {
	var d struct {
		Source   string `json:"source"`
		License  string `json:"license"`
		Format   string `json:"format"`
		Products map[string]struct {
			File     string       `json:"file"`
			Versions [][]rawValue `json:"versions"`
		} `json:"products"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, &LoadError{File: name, Line: jsonErrLine(data, err), Err: err}
	}
	out := &doc{info: Info{Source: d.Source, Commit: sourceCommit(d.Source), License: d.License, Date: sourceDate(d.Source)}, releases: map[string][]Release{}}
	for pid, p := range d.Products {
		for k, pair := range p.Versions {
			field := "versions[" + strconv.Itoa(k) + "]"
			if len(pair) != 2 {
				return nil, &LoadError{File: name, Product: pid, Field: field, Err: fmt.Errorf("want [version, date], got %d values", len(pair))}
			}
			v, err := pair[0].str()
			if err == nil && v == "" {
				err = errors.New("empty version")
			}
			if err != nil {
				return nil, &LoadError{File: name, Product: pid, Field: field, Err: err}
			}
			dt, err := pair[1].date()
			if err != nil {
				return nil, &LoadError{File: name, Product: pid, Field: field, Err: err}
			}
			out.releases[pid] = append(out.releases[pid], Release{Version: v, Date: dt})
		}
	}
	return out, nil
}

// ---- endoflife.date API v1 product response ----

type apiMilestone struct {
	Is   *bool    `json:"-"`
	From rawValue `json:"-"`
}

type apiRelease struct {
	Name             rawValue `json:"name"`
	Codename         *string  `json:"codename"`
	Label            *string  `json:"label"`
	ReleaseDate      rawValue `json:"releaseDate"`
	IsLts            *bool    `json:"isLts"`
	LtsFrom          rawValue `json:"ltsFrom"`
	IsEoas           *bool    `json:"isEoas"`
	EoasFrom         rawValue `json:"eoasFrom"`
	IsEol            *bool    `json:"isEol"`
	EolFrom          rawValue `json:"eolFrom"`
	IsEoes           *bool    `json:"isEoes"`
	EoesFrom         rawValue `json:"eoesFrom"`
	IsDiscontinued   *bool    `json:"isDiscontinued"`
	DiscontinuedFrom rawValue `json:"discontinuedFrom"`
	Latest           *struct {
		Name rawValue `json:"name"`
		Date rawValue `json:"date"`
		Link *string  `json:"link"`
	} `json:"latest"`
}

func apiUnion(is *bool, from rawValue) rawValue {
	if from.kind == 's' {
		return from
	}
	if is == nil {
		return rawValue{}
	}
	return rawValue{set: true, kind: 'b', b: *is, text: strconv.FormatBool(*is)}
}

func parseAPIv1(name string, data []byte) (*doc, error) {
	var d struct {
		SchemaVersion string `json:"schema_version"`
		GeneratedAt   string `json:"generated_at"`
		Result        struct {
			Name        string       `json:"name"`
			Label       string       `json:"label"`
			Category    string       `json:"category"`
			Aliases     []string     `json:"aliases"`
			Identifiers []Identifier `json:"identifiers"`
			Releases    []json.RawMessage
		} `json:"result"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, &LoadError{File: name, Line: jsonErrLine(data, err), Err: err}
	}
	if d.Result.Name == "" {
		return nil, &LoadError{File: name, Field: "result.name", Err: errors.New("missing product name")}
	}
	r := d.Result
	op := ownProduct{ownProductBase: ownProductBase{ID: r.Name, Label: r.Label, Category: r.Category, Aliases: r.Aliases, Identifiers: r.Identifiers, Scheme: string(DefaultScheme(r.Name))}}
	for j, raw := range r.Releases {
		var ar apiRelease
		if err := json.Unmarshal(raw, &ar); err != nil {
			return nil, &LoadError{File: name, Product: r.Name, Cycle: "#" + strconv.Itoa(j+1), Err: err}
		}
		oc := ownCycle{Name: ar.Name, Release: ar.ReleaseDate,
			EOAS: apiUnion(ar.IsEoas, ar.EoasFrom), EOL: apiUnion(ar.IsEol, ar.EolFrom), EOES: apiUnion(ar.IsEoes, ar.EoesFrom),
			LTS: apiUnion(ar.IsLts, ar.LtsFrom)}
		if !oc.EOL.set {
			oc.EOL = rawValue{set: true, kind: 'b', b: false, text: "false"}
		}
		if ar.Codename != nil {
			oc.Codename = *ar.Codename
		}
		if ar.Label != nil {
			oc.Label = *ar.Label
		}
		if ar.Latest != nil {
			oc.Latest, oc.LatestDate = ar.Latest.Name, ar.Latest.Date
		}
		op.Cycles = append(op.Cycles, oc)
	}
	p, err := op.toProduct(name, 0)
	if err != nil {
		return nil, fieldRename(err, map[string]string{"release": "releaseDate", "latest_date": "latest.date", "latest": "latest.name", "eol": "eolFrom", "eoas": "eoasFrom", "eoes": "eoesFrom", "lts": "ltsFrom"})
	}
	p.Source = "endoflife.date API v1"
	gen := Date{}
	if len(d.GeneratedAt) >= len(DateLayout) {
		gen, _ = ParseDate(d.GeneratedAt[:len(DateLayout)])
	}
	return &doc{info: Info{Source: "endoflife.date API v1 " + d.GeneratedAt, Date: gen}, products: []*Product{p}}, nil
}
