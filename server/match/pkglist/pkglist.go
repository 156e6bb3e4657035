// Package pkglist reads the package lists people have at hand into
// inventory items, so whole archives and hosts can be fed to the matcher:
// dpkg-query output, apt Packages files and dpkg's status file, rpm query
// output, Alpine's APKINDEX and installed database, and the agent's own
// inventory JSON. Read streams: an archive of 60,000 packages never sits in
// memory as text.
package pkglist

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/eolwatch/eolwatch/server/api"
)

// Formats Read understands.
const (
	// FormatAuto tells the format from the first line.
	FormatAuto = "auto"
	// FormatAgent is `eolwatch-agent inventory --json`: {"host": {...}, "items": [...]}.
	FormatAgent = "agent"
	// FormatDpkgQuery is tab-separated lines
	// PACKAGE VERSION [SOURCE [SECTION [SUMMARY]]], as
	// dpkg-query -W -f='${Package}\t${Version}\t${source:Package}\t${Section}\t${binary:Summary}\n'
	// prints them (the first three columns are enough).
	FormatDpkgQuery = "dpkg-query"
	// FormatDeb is RFC 822 stanzas: apt's Packages files and dpkg's status
	// file (Package, Version, Source, Section, Description; a Status field,
	// when present, must say the package is installed).
	FormatDeb = "deb"
	// FormatRPM is one package a line: NEVRA [VENDOR [SOURCERPM [SUMMARY]]],
	// tab-separated, as rpm -qa --qf '%{NEVRA}\t%{VENDOR}\t%{SOURCERPM}\t%{SUMMARY}\n'
	// prints them (plain `rpm -qa` is NEVRA alone).
	FormatRPM = "rpm"
	// FormatAPK is Alpine's APKINDEX and /lib/apk/db/installed: stanzas of
	// one-letter fields (P name, V version, o origin, T description).
	FormatAPK = "apk"
)

// Formats lists the formats, FormatAuto first.
var Formats = []string{FormatAuto, FormatAgent, FormatDpkgQuery, FormatDeb, FormatRPM, FormatAPK}

// Limits on what Read accepts.
const (
	maxLine   = 1 << 20 // one line (a Depends field can be long)
	maxStanza = 4 << 20 // one stanza
)

// Read parses r in the given format and calls fn for each item, in order.
// An error names the line (and the field or value) that is wrong; fn's
// error stops the reading and is returned as is.
func Read(r io.Reader, format string, fn func(api.Item) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if format == FormatAuto || format == "" {
		var err error
		if format, err = detect(br); err != nil {
			return err
		}
		if format == "" {
			return nil // empty input
		}
	}
	switch format {
	case FormatAgent:
		return readAgent(br, fn)
	case FormatDpkgQuery:
		return readDpkgQuery(br, fn)
	case FormatDeb:
		return readStanzas(br, false, fn)
	case FormatAPK:
		return readStanzas(br, true, fn)
	case FormatRPM:
		return readRPM(br, fn)
	}
	return fmt.Errorf("unknown package list format %q (want %s)", format, strings.Join(Formats, ", "))
}

// ReadAll is Read collecting the items.
func ReadAll(r io.Reader, format string) ([]api.Item, error) {
	var items []api.Item
	err := Read(r, format, func(it api.Item) error { items = append(items, it); return nil })
	return items, err
}

// detect tells the format from the first non-blank line; "" for an empty input.
func detect(br *bufio.Reader) (string, error) {
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("read package list: %w", err)
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			br.UnreadByte()
			break
		}
	}
	b, err := br.Peek(4096)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("read package list: %w", err)
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return detectLine(string(bytes.TrimRight(b, "\r"))), nil
}

// detectLine tells the format from one line.
func detectLine(line string) string {
	switch {
	case strings.HasPrefix(line, "{"):
		return FormatAgent
	case len(line) >= 2 && line[1] == ':' && isASCIILetter(line[0]):
		return FormatAPK
	case isFieldLine(line):
		return FormatDeb
	}
	first, _, _ := strings.Cut(line, "\t")
	if _, _, _, ok := parseNEVRA(first); ok || isPubkey(first) {
		return FormatRPM
	}
	return FormatDpkgQuery
}

// isFieldLine reports whether line looks like "Field-Name: value".
func isFieldLine(line string) bool {
	i := strings.IndexByte(line, ':')
	if i < 2 {
		return false
	}
	for j := 0; j < i; j++ {
		c := line[j]
		if !isASCIILetter(c) && !(c >= '0' && c <= '9') && c != '-' {
			return false
		}
	}
	return isASCIILetter(line[0]) && line[0] >= 'A' && line[0] <= 'Z'
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// lineScanner scans lines up to maxLine bytes.
func lineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	return sc
}

func readAgent(r io.Reader, fn func(api.Item) error) error {
	data, err := io.ReadAll(io.LimitReader(r, api.MaxReportBytes+1))
	if err != nil {
		return fmt.Errorf("read inventory: %w", err)
	}
	if len(data) > api.MaxReportBytes {
		return fmt.Errorf("inventory JSON larger than %d bytes", api.MaxReportBytes)
	}
	var inv struct {
		Host  api.HostInfo `json:"host"`
		Items []api.Item   `json:"items"`
	}
	if err := json.Unmarshal(data, &inv); err != nil {
		return fmt.Errorf("inventory JSON: %w", err)
	}
	sawOS := false
	for i, it := range inv.Items {
		if strings.TrimSpace(it.Source) == "" || strings.TrimSpace(it.Name) == "" {
			return fmt.Errorf("inventory JSON: items[%d] has no source or no name", i)
		}
		sawOS = sawOS || it.Source == "os"
		if err := fn(it); err != nil {
			return err
		}
	}
	// The OS from the host block, unless the agent listed it as an item
	// already (today's agents do): one host has one OS.
	if !sawOS && (inv.Host.OSID != "" || inv.Host.OSName != "") {
		return fn(api.Item{Source: "os", Name: inv.Host.OSID, Version: inv.Host.OSVersion})
	}
	return nil
}

// readTabLines reads a list of one package a line, fields separated by
// tabs: blank lines are skipped, and item turns each other line (its number,
// its text without a trailing CR, its fields) into an item for fn; ok false
// skips the line.
func readTabLines(r io.Reader, fn func(api.Item) error, item func(n int, line string, f []string) (it api.Item, ok bool, err error)) error {
	sc := lineScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		it, ok, err := item(n, line, strings.Split(line, "\t"))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read package list: %w", err)
	}
	return nil
}

func readDpkgQuery(r io.Reader, fn func(api.Item) error) error {
	return readTabLines(r, fn, dpkgQueryItem)
}

// dpkgQueryItem reads one line of dpkg-query's
// PACKAGE<TAB>VERSION[<TAB>SOURCE[<TAB>SECTION[<TAB>SUMMARY]]] output.
func dpkgQueryItem(n int, line string, f []string) (api.Item, bool, error) {
	if len(f) < 2 || strings.TrimSpace(f[0]) == "" {
		return api.Item{}, false, fmt.Errorf("line %d: want PACKAGE<TAB>VERSION[<TAB>SOURCE[<TAB>SECTION[<TAB>SUMMARY]]], got %q", n, clip(line))
	}
	if strings.TrimSpace(f[1]) == "" {
		return api.Item{}, false, nil // only configuration files left: not installed
	}
	it := api.Item{Source: "dpkg", Name: f[0], Version: f[1]}
	if name, arch, ok := strings.Cut(it.Name, ":"); ok && name != "" {
		it.Name, it.Arch = name, arch // ${binary:Package} spells "libc6:amd64"
	}
	if len(f) > 2 {
		it.SourcePkg = sourceName(f[2])
	}
	if len(f) > 3 {
		it.Section = f[3]
	}
	if len(f) > 4 {
		it.Summary = f[4]
	}
	return it, true, nil
}

// sourceName reads a Source field: "openssl" or "openssl (3.0.19-1)".
func sourceName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ' '); i >= 0 {
		s = s[:i]
	}
	return s
}

// clip shortens a line for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
