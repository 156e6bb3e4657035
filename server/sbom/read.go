package sbom

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/eolwatch/eolwatch/server/api"
)

// Formats Read recognises.
const (
	FormatCycloneDX = "cyclonedx"
	FormatSPDX      = "spdx"
)

// The specification versions Read accepts.
var (
	cycloneDXVersions = []string{"1.4", "1.5", "1.6", "1.7"}
	spdxVersions      = []string{"SPDX-2.2", "SPDX-2.3"}
)

// Document describes an SBOM apart from its components.
type Document struct {
	Format      string   `json:"format"`               // cyclonedx | spdx
	SpecVersion string   `json:"spec_version"`         // "1.6", "2.3"
	Serial      string   `json:"serial,omitempty"`     // CycloneDX serialNumber, SPDX documentNamespace
	Name        string   `json:"name,omitempty"`       // CycloneDX metadata.component name, SPDX document name
	Version     string   `json:"version,omitempty"`    // CycloneDX metadata.component version
	Created     string   `json:"created,omitempty"`    // metadata.timestamp, creationInfo.created
	Tools       []string `json:"tools,omitempty"`      // generators, "syft 1.57.1"
	Components  int      `json:"components"`           // components (CycloneDX, nested included) or packages (SPDX) read
	Bytes       int64    `json:"bytes"`                // document size, decompressed
	Compressed  bool     `json:"compressed,omitempty"` // the input was gzip-compressed
	NoVersion   int      `json:"no_version,omitempty"` // components without a version
	subjectRefs []string `json:"-"`                    // SPDX documentDescribes
}

// Component is one component of a CycloneDX document or one package of an
// SPDX document, as written.
type Component struct {
	// Field is where the component sits in the document, for messages:
	// "components[12]", "components[3].components[0]", "metadata.component",
	// "packages[4]".
	Field string `json:"field"`
	// Line and Column (in bytes, 1-based) are where the component starts
	// in the document (its top-level ancestor's for nested components);
	// 0 when unknown.
	Line      int      `json:"line,omitempty"`
	Column    int      `json:"column,omitempty"`
	Ref       string   `json:"bom_ref,omitempty"` // bom-ref or SPDXID
	Type      string   `json:"type,omitempty"`    // CycloneDX type, SPDX primaryPackagePurpose (lowercased)
	Group     string   `json:"group,omitempty"`   // CycloneDX group
	Name      string   `json:"name"`
	Version   string   `json:"version,omitempty"`
	Publisher string   `json:"publisher,omitempty"` // CycloneDX publisher or supplier, SPDX supplier
	PURL      string   `json:"purl,omitempty"`
	CPEs      []string `json:"cpes,omitempty"`
	// Subject marks what the document describes rather than a part of it:
	// CycloneDX's metadata.component, an SPDX package the document
	// DESCRIBES (documentDescribes, or syft's "SPDXRef-DocumentRoot-"
	// packages) — the scanned directory, image or file.
	Subject bool `json:"subject,omitempty"`
}

// Limits bound what Read accepts. A zero field means the default.
type Limits struct {
	// MaxBytes bounds the document, after gzip decompression (default
	// api.MaxReportBytes, the agent report budget).
	MaxBytes int64
	// MaxComponents bounds the number of components or packages (default
	// api.MaxItems, the agent report budget).
	MaxComponents int
	// Charge, when set, is called with the size of each chunk of the
	// document read (after decompression) before it is parsed: the server
	// charges it to its budget of report bytes in flight (intake.Body).
	// Its error ends the read and is returned, wrapped.
	Charge func(n int64) error
}

// DefaultLimits are the agent report budget: api.MaxReportBytes and api.MaxItems.
func DefaultLimits() Limits {
	return Limits{MaxBytes: api.MaxReportBytes, MaxComponents: api.MaxItems}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxComponents <= 0 {
		l.MaxComponents = d.MaxComponents
	}
	return l
}

// Error is a problem with the document: Field names the JSON field
// ("components[12].purl", "specVersion"; "" for the document as a whole).
// TooLarge marks a document over the Limits.
type Error struct {
	Field    string
	Msg      string
	Line     int // line of the document, 0 when unknown
	TooLarge bool
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Line > 0 {
		b.WriteString(" (line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(")")
	}
	return b.String()
}

func fieldErr(field, format string, args ...any) *Error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// maxText bounds each string field of a component.
const maxText = 4096

// Read reads a CycloneDX (1.4–1.7) or SPDX (2.2, 2.3) JSON document,
// optionally gzip-compressed, detecting which from its content. It streams
// the components: fn is called once per component in document order (the
// Component is reused: copy what you keep), so memory stays bounded by the
// largest single component, not the document. An error from fn stops the
// read and is returned as is; problems with the document are *Error.
//
// A document whose format fields come after its components is still
// recognised, but fn has then already seen components of a document that
// may turn out unusable: callers that must not act on a bad document
// collect first and act after Read returns.
func Read(r io.Reader, lim Limits, fn func(*Component) error) (Document, error) {
	lim = lim.withDefaults()
	br := bufio.NewReaderSize(r, 64<<10)
	var doc Document
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return doc, &Error{Msg: "the document looks gzip-compressed but is not valid gzip: " + err.Error()}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
		doc.Compressed = true
	}
	if err := sniff(br); err != nil {
		return doc, err
	}
	cr := &countingReader{r: br, max: lim.MaxBytes, last: -1, charge: lim.Charge}
	rd := &reader{dec: json.NewDecoder(cr), cr: cr, lim: lim, fn: fn, doc: &doc, refs: refSet{seed: maphash.MakeSeed(), at: map[uint64]refAt{}}}
	err := rd.document()
	doc.Bytes = cr.n
	if err != nil {
		return doc, rd.wrap(err)
	}
	return doc, nil
}

// sniff looks at the first bytes to give a clear error for what is not a
// JSON SBOM (XML, SPDX tag-value, a JSON array, binary data); it drops a
// UTF-8 byte order mark, which the JSON decoder would not accept.
func sniff(br *bufio.Reader) error {
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	head, _ := br.Peek(512)
	t := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(t) == 0 && len(head) < 512:
		return &Error{Msg: "the document is empty"}
	case len(t) == 0 || t[0] == '{':
		return nil // an object, or only white space so far: the decoder says what follows
	case t[0] == '<':
		return &Error{Msg: "the document is XML; eolwatch reads the JSON forms of CycloneDX and SPDX (syft: -o cyclonedx-json or -o spdx-json)"}
	case bytes.HasPrefix(t, []byte("SPDXVersion:")):
		return &Error{Msg: "the document is SPDX tag-value; eolwatch reads SPDX JSON (syft: -o spdx-json)"}
	case t[0] == '[':
		return &Error{Msg: "the document is a JSON array, not an SBOM (a CycloneDX or SPDX document is a JSON object)"}
	case binary(t[:min(len(t), 64)]):
		return &Error{Msg: "the document is not JSON (it looks like binary data)"}
	}
	return &Error{Msg: fmt.Sprintf("the document is not JSON: it starts with %q", printable(t[:min(len(t), 24)]))}
}

// binary reports whether b holds control bytes no text document has.
func binary(b []byte) bool {
	for _, c := range b {
		if c < 0x09 || (c > 0x0d && c < 0x20) {
			return true
		}
	}
	return false
}

func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '.'
		}
		return r
	}, string(b))
}

// errTooLarge is returned by countingReader past its limit.
var errTooLarge = errors.New("document too large")

// countingReader counts bytes and remembers where the newlines are, so
// decoder offsets can be turned into line numbers; it fails past max bytes.
type countingReader struct {
	r    io.Reader
	n    int64
	max  int64
	nl   []int64 // offsets of newlines read and not yet passed by pos
	line int     // newlines before the last offset asked
	last int64   // offset of the last newline passed, -1 before the first
	over bool    // the document went past max: every later Read fails
	// charge is Limits.Charge (nil: nothing charged); its error is
	// returned from Read and every later Read.
	charge    func(int64) error
	chargeErr error
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.chargeErr != nil {
		return 0, c.chargeErr
	}
	if c.over {
		return 0, errTooLarge
	}
	if c.n >= c.max {
		var one [1]byte
		k, err := io.ReadFull(c.r, one[:])
		if k > 0 {
			c.over = true
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.max-c.n {
		p = p[:c.max-c.n]
	}
	k, err := c.r.Read(p)
	if k > 0 && c.charge != nil {
		if cerr := c.charge(int64(k)); cerr != nil {
			c.chargeErr = cerr
			return 0, cerr
		}
	}
	b := p[:k]
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		c.nl = append(c.nl, c.n+int64(i+j))
		i += j + 1
	}
	c.n += int64(k)
	return k, err
}

// pos returns the 1-based line and column (in bytes) of byte offset off.
// Offsets asked must not decrease.
func (c *countingReader) pos(off int64) (line, col int) {
	i := 0
	for i < len(c.nl) && c.nl[i] < off {
		i++
	}
	if i > 0 {
		c.line += i
		c.last = c.nl[i-1]
		c.nl = c.nl[:copy(c.nl, c.nl[i:])]
	}
	return c.line + 1, int(off - c.last)
}

// lineAt returns the 1-based line of byte offset off.
func (c *countingReader) lineAt(off int64) int {
	l, _ := c.pos(off)
	return l
}

// reader is one Read in progress.
type reader struct {
	dec  *json.Decoder
	cr   *countingReader
	lim  Limits
	fn   func(*Component) error
	doc  *Document
	refs refSet    // the bom-refs/SPDXIDs seen
	comp Component // reused for every callback

	bomFormat, specVersion, spdxVersion string
	sawBomFormat, sawSPDX, sawGraph     bool
	syftSchema                          bool
	metaSubject                         *cdxComponent // metadata.component, judged after the format is known
	subjectAt                           position
	cbErr                               error // an error from fn, returned untouched
}

// cbError wraps an error returned by the callback so it passes wrap untouched.
type cbError struct{ err error }

func (e *cbError) Error() string { return e.err.Error() }

// wrap turns decoder errors into *Error with a line number.
func (rd *reader) wrap(err error) error {
	var cb *cbError
	var de *Error
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &cb):
		return cb.err
	case rd.cr.chargeErr != nil:
		return rd.cr.chargeErr // the caller's budget, as it said it
	case errors.As(err, &de):
		return de
	case errors.Is(err, errTooLarge), rd.cr.over:
		return &Error{TooLarge: true, Msg: fmt.Sprintf("the document is larger than %d bytes (the limit)", rd.lim.MaxBytes)}
	case errors.As(err, &syn):
		return &Error{Msg: "the document is not valid JSON: " + syn.Error(), Line: rd.cr.lineAt(syn.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &Error{Msg: "the document ends early: truncated JSON", Line: rd.cr.lineAt(rd.cr.n)}
	case errors.As(err, &typ):
		return &Error{Field: typ.Field, Msg: fmt.Sprintf("want %s, got JSON %s", jsonKind(typ.Type.Kind().String()), typ.Value)}
	}
	if strings.Contains(err.Error(), "gzip") || strings.Contains(err.Error(), "flate") {
		return &Error{Msg: "the gzip stream is corrupt: " + err.Error()}
	}
	return fmt.Errorf("read document: %w", err)
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return k
}

// document reads the top-level object.
func (rd *reader) document() error {
	tok, err := rd.dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &Error{Msg: "the document is not a JSON object"}
	}
	for rd.dec.More() {
		tok, err := rd.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch key {
		case "bomFormat":
			rd.sawBomFormat = true
			err = rd.str(key, &rd.bomFormat)
			if err == nil && rd.bomFormat != "CycloneDX" {
				return fieldErr(key, "%q: want \"CycloneDX\"", rd.bomFormat)
			}
		case "specVersion":
			err = rd.str(key, &rd.specVersion)
		case "spdxVersion":
			rd.sawSPDX = true
			err = rd.str(key, &rd.spdxVersion)
		case "serialNumber", "documentNamespace":
			err = rd.str(key, &rd.doc.Serial)
		case "name":
			err = rd.str(key, &rd.doc.Name) // SPDX document name
		case "metadata":
			err = rd.cdxMetadata()
		case "creationInfo":
			err = rd.spdxCreationInfo()
		case "documentDescribes":
			err = rd.decode(key, &rd.doc.subjectRefs)
		case "components":
			err = rd.array(key, func(i int) error { return rd.cdxTop(key, i) })
		case "packages":
			err = rd.array(key, func(i int) error { return rd.spdxPackage(key, i) })
		case "@context", "@graph":
			rd.sawGraph = true
			err = rd.skip()
		case "artifacts":
			rd.syftSchema = true
			err = rd.skip()
		default:
			err = rd.skip()
		}
		if err != nil {
			return err
		}
	}
	if _, err := rd.dec.Token(); err != nil { // '}'
		return err
	}
	if _, err := rd.dec.Token(); err != io.EOF {
		if err != nil {
			return err
		}
		return &Error{Msg: "unexpected data after the document's JSON object"}
	}
	if err := rd.checkFormat(); err != nil {
		return err
	}
	if rd.metaSubject != nil { // metadata after the components, or no components at all
		if err := rd.cdxEmit(rd.metaSubject, SubjectField, rd.subjectAt, 0); err != nil {
			return err
		}
		rd.metaSubject = nil
	}
	return nil
}

// checkFormat decides the format once the whole header is known.
func (rd *reader) checkFormat() error {
	switch {
	case rd.sawBomFormat && rd.sawSPDX:
		return &Error{Msg: "the document has both bomFormat (CycloneDX) and spdxVersion (SPDX)"}
	case rd.sawBomFormat:
		if rd.specVersion == "" {
			return fieldErr("specVersion", "missing: a CycloneDX document names its specification version")
		}
		if !contains(cycloneDXVersions, rd.specVersion) {
			return fieldErr("specVersion", "CycloneDX %s: eolwatch reads CycloneDX %s (syft: -o cyclonedx-json@1.7)", rd.specVersion, strings.Join(cycloneDXVersions, ", "))
		}
		rd.doc.Format, rd.doc.SpecVersion = FormatCycloneDX, rd.specVersion
	case rd.sawSPDX:
		if !contains(spdxVersions, rd.spdxVersion) {
			return fieldErr("spdxVersion", "%q: eolwatch reads %s (syft: -o spdx-json@2.3)", rd.spdxVersion, strings.Join(spdxVersions, ", "))
		}
		rd.doc.Format, rd.doc.SpecVersion = FormatSPDX, strings.TrimPrefix(rd.spdxVersion, "SPDX-")
	case rd.sawGraph:
		return &Error{Msg: "unknown format: a JSON-LD document (SPDX 3?); eolwatch reads SPDX 2.2/2.3 JSON and CycloneDX 1.4–1.7 JSON"}
	case rd.syftSchema:
		return &Error{Msg: "unknown format: this is syft's own JSON; generate CycloneDX or SPDX (syft -o cyclonedx-json or -o spdx-json)"}
	case rd.specVersion != "":
		return fieldErr("bomFormat", "missing: a CycloneDX document says \"bomFormat\": \"CycloneDX\"")
	default:
		return &Error{Msg: "unknown format: neither bomFormat (CycloneDX) nor spdxVersion (SPDX) is present"}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// decode decodes the next value into v, naming field in a type error.
func (rd *reader) decode(field string, v any) error {
	if err := rd.dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			f := field
			if typ.Field != "" {
				f += "." + typ.Field
			}
			return fieldErr(f, "want %s, got JSON %s", jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return err
	}
	return nil
}

func (rd *reader) str(field string, dst *string) error {
	if err := rd.decode(field, dst); err != nil {
		return err
	}
	if len(*dst) > maxText {
		return fieldErr(field, "%d bytes long, at most %d", len(*dst), maxText)
	}
	return nil
}

// skipper accepts any JSON value without keeping it.
type skipper struct{}

// UnmarshalJSON implements json.Unmarshaler.
func (*skipper) UnmarshalJSON([]byte) error { return nil }

// skip consumes the next value; arrays and objects are walked so that a
// large one (SPDX files, relationships) is never held whole.
func (rd *reader) skip() error {
	tok, err := rd.dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar, consumed by Token
	}
	switch d {
	case '[':
		for rd.dec.More() {
			var s skipper
			if err := rd.dec.Decode(&s); err != nil {
				return err
			}
			rd.cr.lineAt(rd.dec.InputOffset())
		}
	case '{':
		for rd.dec.More() {
			if _, err := rd.dec.Token(); err != nil {
				return err
			}
			if err := rd.skip(); err != nil {
				return err
			}
		}
	}
	_, err = rd.dec.Token()
	return err
}

// array walks the array under key, calling each(i) with the decoder
// positioned on element i.
func (rd *reader) array(key string, each func(i int) error) error {
	tok, err := rd.dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		if tok == nil {
			return nil // "components": null
		}
		return fieldErr(key, "want an array, got %v", describe(tok))
	}
	for i := 0; rd.dec.More(); i++ {
		if err := each(i); err != nil {
			return err
		}
	}
	_, err = rd.dec.Token()
	return err
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		return string(t)
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprint(tok)
}

// position is a place in the document: 1-based line and byte column.
type position struct{ line, col int }

// nextPos is where the next value starts (past a comma and white space).
func (rd *reader) nextPos() position {
	off := rd.dec.InputOffset()
	buf := rd.dec.Buffered()
	var b [1]byte
	for {
		n, _ := buf.Read(b[:])
		if n == 0 || (b[0] != ',' && b[0] != ' ' && b[0] != '\t' && b[0] != '\r' && b[0] != '\n') {
			break
		}
		off++
	}
	l, c := rd.cr.pos(off)
	return position{l, c}
}

// count checks the component budget before one more component.
func (rd *reader) count(field string) error {
	if rd.doc.Components >= rd.lim.MaxComponents {
		return &Error{Field: field, TooLarge: true, Msg: fmt.Sprintf("more than %d components (the limit)", rd.lim.MaxComponents)}
	}
	rd.doc.Components++
	return nil
}

// ref records a bom-ref/SPDXID and rejects a duplicate.
func (rd *reader) ref(field, ref string) error {
	if ref == "" {
		return nil
	}
	if first, dup := rd.refs.add(ref, strings.TrimSuffix(strings.TrimSuffix(field, ".bom-ref"), ".SPDXID")); dup {
		return fieldErr(field, "%q is already the identifier of %s: identifiers must be unique", ref, first)
	}
	return nil
}

// refSet remembers the identifiers (bom-ref, SPDXID) of a document to
// refuse a duplicate, in a few bytes each whatever their length, so that
// a document of millions of components is read in bounded memory: an
// identifier is kept as its 64-bit hash (maphash, seeded per read; two of
// a million distinct identifiers collide with odds of about 1 in 37
// million, and a collision is only ever a refused document), with where it
// was first seen packed into a refAt.
type refSet struct {
	seed  maphash.Seed
	at    map[uint64]refAt
	names []string // the array fields components sit in: "components", "packages", ...
}

// refAt is where an identifier was first seen: the index of the top-level
// element (of the array names[name]) holding it, and whether it was a
// component nested in that element; or the document's subject.
type refAt struct {
	index  uint32
	name   uint16
	nested bool
	other  bool // a field that is not an array element: names[name] is the whole field
}

// add records ref, first seen at field; when ref is already known it
// returns where it was first seen, for the message.
func (s *refSet) add(ref, field string) (string, bool) {
	h := maphash.String(s.seed, ref)
	if first, dup := s.at[h]; dup {
		return s.describe(first), true
	}
	s.at[h] = s.place(field)
	return "", false
}

// place packs field ("components[12]", "components[3].components[0]",
// "packages[4]", "metadata.component") into a refAt.
func (s *refSet) place(field string) refAt {
	name, rest, ok := strings.Cut(field, "[")
	idx, tail, ok2 := strings.Cut(rest, "]")
	i, err := strconv.ParseUint(idx, 10, 32)
	if !ok || !ok2 || err != nil {
		return refAt{name: s.nameID(field), other: true}
	}
	return refAt{index: uint32(i), name: s.nameID(name), nested: tail != ""}
}

func (s *refSet) nameID(name string) uint16 {
	for i, n := range s.names {
		if n == name {
			return uint16(i)
		}
	}
	if len(s.names) == 1<<16-1 { // cannot happen with the few field names a reader makes
		return uint16(len(s.names) - 1)
	}
	s.names = append(s.names, name)
	return uint16(len(s.names) - 1)
}

// describe says where a refAt is, as the messages name fields.
func (s *refSet) describe(a refAt) string {
	name := s.names[a.name]
	switch {
	case a.other:
		return name
	case a.nested:
		return "a component inside " + name + "[" + strconv.FormatUint(uint64(a.index), 10) + "]"
	}
	return name + "[" + strconv.FormatUint(uint64(a.index), 10) + "]"
}

func (rd *reader) emit(c *Component) error {
	// (the JSON decoder has already replaced invalid UTF-8 with U+FFFD)
	for _, f := range []struct{ name, v string }{
		{"name", c.Name}, {"version", c.Version}, {"purl", c.PURL}, {"type", c.Type}, {"group", c.Group}, {"publisher", c.Publisher},
	} {
		if len(f.v) > maxText {
			return fieldErr(c.Field+"."+f.name, "%d bytes long, at most %d", len(f.v), maxText)
		}
	}
	if c.Version == "" && !c.Subject && c.Type != "file" { // files have no versions
		rd.doc.NoVersion++
	}
	if rd.fn == nil {
		return nil
	}
	if err := rd.fn(c); err != nil {
		return &cbError{err}
	}
	return nil
}

// --- CycloneDX

// cdxComponent is the part of a CycloneDX component eolwatch reads.
type cdxComponent struct {
	BomRef     string          `json:"bom-ref"`
	Type       string          `json:"type"`
	Group      string          `json:"group"`
	Name       *string         `json:"name"`
	Version    string          `json:"version"`
	Publisher  string          `json:"publisher"`
	Supplier   *cdxEntity      `json:"supplier"`
	Purl       string          `json:"purl"`
	CPE        string          `json:"cpe"`
	Properties []cdxProperty   `json:"properties"`
	Components json.RawMessage `json:"components"`
}

// cdxProperty is a CycloneDX property. Only the extra CPEs generators
// write there are used (CycloneDX has room for one cpe; syft puts its other
// candidates in "syft:cpe23" properties, as SPDX lists them all).
type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// cpeProperty is the property name that holds a further CPE.
const cpeProperty = "syft:cpe23"

type cdxEntity struct {
	Name string `json:"name"`
}

// maxCPEs bounds the CPEs kept per component.
const maxCPEs = 64

// maxDepth bounds the nesting of CycloneDX components.
const maxDepth = 32

func (rd *reader) cdxTop(key string, i int) error {
	field := key + "[" + strconv.Itoa(i) + "]"
	at := rd.nextPos()
	var c cdxComponent
	if err := rd.decode(field, &c); err != nil {
		return err
	}
	return rd.cdxEmit(&c, field, at, 0)
}

// cdxEmit checks and hands over one component, then its nested components.
func (rd *reader) cdxEmit(c *cdxComponent, field string, at position, depth int) error {
	if field != SubjectField {
		if err := rd.count(field); err != nil {
			return err
		}
	}
	if c.Name == nil || strings.TrimSpace(*c.Name) == "" {
		return fieldErr(field+".name", "missing: every CycloneDX component has a name")
	}
	if err := rd.ref(field+".bom-ref", c.BomRef); err != nil {
		return err
	}
	out := &rd.comp
	*out = Component{Field: field, Subject: field == SubjectField, Line: at.line, Column: at.col, Ref: c.BomRef, Type: strings.ToLower(c.Type), Group: c.Group, Name: *c.Name,
		Version: c.Version, Publisher: c.Publisher, PURL: c.Purl, CPEs: out.CPEs[:0]}
	if out.Publisher == "" && c.Supplier != nil {
		out.Publisher = c.Supplier.Name
	}
	if c.CPE != "" {
		out.CPEs = append(out.CPEs, c.CPE)
	}
	for _, p := range c.Properties {
		if p.Name == cpeProperty && p.Value != "" && len(out.CPEs) < maxCPEs {
			out.CPEs = append(out.CPEs, p.Value)
		}
	}
	if err := rd.emit(out); err != nil {
		return err
	}
	if len(c.Components) == 0 || string(c.Components) == "null" {
		return nil
	}
	if depth+1 >= maxDepth {
		return fieldErr(field+".components", "components nested more than %d deep", maxDepth)
	}
	return rd.cdxNested(c.Components, field+".components", at, depth+1)
}

// cdxNested streams nested components out of their raw JSON.
func (rd *reader) cdxNested(raw json.RawMessage, field string, at position, depth int) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return fieldErr(field, "%v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fieldErr(field, "want an array, got %s", describe(tok))
	}
	for i := 0; dec.More(); i++ {
		f := field + "[" + strconv.Itoa(i) + "]"
		var c cdxComponent
		if err := dec.Decode(&c); err != nil {
			var typ *json.UnmarshalTypeError
			if errors.As(err, &typ) {
				return fieldErr(f+"."+typ.Field, "want %s, got JSON %s", jsonKind(typ.Type.Kind().String()), typ.Value)
			}
			return fieldErr(f, "%v", err)
		}
		if err := rd.cdxEmit(&c, f, at, depth); err != nil {
			return err
		}
	}
	return nil
}

// cdxMetadata reads metadata: timestamp, tools and the subject component.
func (rd *reader) cdxMetadata() error {
	at := rd.nextPos()
	var m struct {
		Timestamp string          `json:"timestamp"`
		Tools     json.RawMessage `json:"tools"`
		Component *cdxComponent   `json:"component"`
	}
	if err := rd.decode("metadata", &m); err != nil {
		return err
	}
	rd.doc.Created = m.Timestamp
	rd.doc.Tools = cdxTools(m.Tools)
	if m.Component != nil {
		if m.Component.Name != nil {
			rd.doc.Name = *m.Component.Name
		}
		rd.doc.Version = m.Component.Version
		// judged with the others; its line is the metadata object's
		rd.metaSubject, rd.subjectAt = m.Component, at
	}
	return nil
}

// cdxTools reads metadata.tools in its 1.4 form (an array of tools) or its
// 1.5+ form ({"components": [...], "services": [...]}).
func cdxTools(raw json.RawMessage) []string {
	type tool struct {
		Vendor  string `json:"vendor"`
		Author  string `json:"author"`
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	var list []tool
	if err := json.Unmarshal(raw, &list); err != nil {
		var obj struct {
			Components []tool `json:"components"`
			Services   []tool `json:"services"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		list = append(obj.Components, obj.Services...)
	}
	var out []string
	for _, t := range list {
		if s := strings.TrimSpace(t.Name + " " + t.Version); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// --- SPDX

// spdxPackage is the part of an SPDX package eolwatch reads.
type spdxPackage struct {
	SPDXID       *string `json:"SPDXID"`
	Name         *string `json:"name"`
	VersionInfo  string  `json:"versionInfo"`
	Supplier     string  `json:"supplier"`
	Purpose      string  `json:"primaryPackagePurpose"`
	ExternalRefs []struct {
		Category string `json:"referenceCategory"`
		Type     string `json:"referenceType"`
		Locator  string `json:"referenceLocator"`
	} `json:"externalRefs"`
}

func (rd *reader) spdxPackage(key string, i int) error {
	field := key + "[" + strconv.Itoa(i) + "]"
	at := rd.nextPos()
	var p spdxPackage
	if err := rd.decode(field, &p); err != nil {
		return err
	}
	if err := rd.count(field); err != nil {
		return err
	}
	if p.SPDXID == nil || *p.SPDXID == "" {
		return fieldErr(field+".SPDXID", "missing: every SPDX package has an SPDXID")
	}
	if p.Name == nil || strings.TrimSpace(*p.Name) == "" {
		return fieldErr(field+".name", "missing: every SPDX package has a name")
	}
	if err := rd.ref(field+".SPDXID", *p.SPDXID); err != nil {
		return err
	}
	out := &rd.comp
	*out = Component{Field: field, Subject: rd.describes(*p.SPDXID), Line: at.line, Column: at.col, Ref: *p.SPDXID, Type: strings.ToLower(p.Purpose), Name: *p.Name,
		Version: spdxValue(p.VersionInfo), Publisher: spdxSupplier(p.Supplier), CPEs: out.CPEs[:0]}
	for j, ref := range p.ExternalRefs {
		switch strings.ToLower(ref.Type) {
		case "purl":
			if out.PURL != "" {
				continue // the first purl is the package's
			}
			out.PURL = ref.Locator
			if out.PURL == "" {
				return fieldErr(fmt.Sprintf("%s.externalRefs[%d].referenceLocator", field, j), "empty purl")
			}
		case "cpe23type", "cpe22type":
			if ref.Locator != "" && len(out.CPEs) < maxCPEs {
				out.CPEs = append(out.CPEs, ref.Locator)
			}
		}
	}
	return rd.emit(out)
}

// describes reports whether the document says it describes the package
// with SPDXID id (documentDescribes read so far, or syft's naming of the
// scanned root, whose DESCRIBES relationship comes after the packages).
func (rd *reader) describes(id string) bool {
	return strings.HasPrefix(id, "SPDXRef-DocumentRoot-") || contains(rd.doc.subjectRefs, id)
}

// spdxValue maps SPDX's NOASSERTION and NONE to "".
func spdxValue(s string) string {
	if s == "NOASSERTION" || s == "NONE" {
		return ""
	}
	return s
}

// spdxSupplier drops the "Organization: " / "Person: " prefix.
func spdxSupplier(s string) string {
	s = spdxValue(s)
	if _, v, ok := strings.Cut(s, ": "); ok && (strings.HasPrefix(s, "Organization") || strings.HasPrefix(s, "Person")) {
		return v
	}
	return s
}

func (rd *reader) spdxCreationInfo() error {
	var ci struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
	}
	if err := rd.decode("creationInfo", &ci); err != nil {
		return err
	}
	rd.doc.Created = ci.Created
	for _, c := range ci.Creators {
		if t, ok := strings.CutPrefix(c, "Tool: "); ok {
			rd.doc.Tools = append(rd.doc.Tools, t)
		}
	}
	return nil
}
