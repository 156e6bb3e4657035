package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// aptRelease is what the agent keeps of a suite's Release (or InRelease)
// file: the fields apt's pins and policy look at.
type aptRelease struct {
	Origin, Label, Suite, Codename, Version string
	Date                                    time.Time
	NotAutomatic, ButAutomaticUpgrades      bool
	// Sizes maps index paths relative to the suite ("main/binary-amd64/Packages")
	// to their uncompressed size, from the checksum lists; only filled when asked.
	Sizes map[string]int64
}

// parseRelease reads the header of a Release or clear-signed InRelease
// file. With sizes, it also reads the checksum lists (SHA256, else MD5Sum)
// for the uncompressed size of every "Packages" index; without, it stops at
// the first checksum list, which keeps the read to the first kilobyte or so.
func parseRelease(r io.Reader, sizes bool) (aptRelease, error) {
	var rel aptRelease
	br := bufio.NewReaderSize(r, 4096)
	line := 0
	inSums, sawField, signed := "", false, false
	for {
		b, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: only checksum lists have no
			// reason for that; skip the rest of it.
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			line++
			continue
		}
		if len(b) == 0 && err != nil {
			if err == io.EOF {
				break
			}
			return rel, fmt.Errorf("line %d: %w", line+1, err)
		}
		line++
		b = bytes.TrimRight(b, "\r\n")
		if line == 1 && bytes.Equal(b, []byte("-----BEGIN PGP SIGNED MESSAGE-----")) {
			signed = true
			// Armor headers ("Hash: SHA256") up to an empty line.
			for {
				h, err := br.ReadSlice('\n')
				line++
				if len(bytes.TrimSpace(h)) == 0 || err != nil {
					break
				}
			}
			continue
		}
		if signed && bytes.HasPrefix(b, []byte("-----BEGIN PGP SIGNATURE-----")) {
			break
		}
		if signed && bytes.HasPrefix(b, []byte("- ")) {
			b = b[2:] // dash-escaped line
		}
		if len(bytes.TrimSpace(b)) == 0 {
			if sawField {
				break // end of the one stanza
			}
			continue
		}
		if b[0] == ' ' || b[0] == '\t' {
			if inSums != "" {
				addReleaseSize(&rel, inSums, b)
			}
			continue
		}
		k, v, ok := bytes.Cut(b, []byte{':'})
		if !ok {
			return rel, fmt.Errorf("line %d: %q is not a \"Field: value\" line", line, truncate(string(b), 40))
		}
		sawField = true
		key := string(bytes.TrimSpace(k))
		val := string(bytes.TrimSpace(v))
		inSums = ""
		switch strings.ToLower(key) {
		case "origin":
			rel.Origin = val
		case "label":
			rel.Label = val
		case "suite":
			rel.Suite = val
		case "codename":
			rel.Codename = val
		case "version":
			rel.Version = val
		case "date":
			t, err := parseAptDate(val)
			if err != nil {
				return rel, fmt.Errorf("line %d: Date %q: %w", line, val, err)
			}
			rel.Date = t
		case "notautomatic":
			rel.NotAutomatic = aptBool(val, false)
		case "butautomaticupgrades":
			rel.ButAutomaticUpgrades = aptBool(val, false)
		case "sha256", "md5sum", "sha1", "sha512":
			if !sizes {
				return rel, nil
			}
			// Prefer SHA256; MD5Sum only fills what SHA256 did not list.
			inSums = strings.ToLower(key)
			if inSums != "sha256" && inSums != "md5sum" {
				inSums = ""
			}
		}
	}
	return rel, nil
}

// addReleaseSize records " <hash> <size> <path>" for Packages indexes.
func addReleaseSize(rel *aptRelease, list string, b []byte) {
	f := bytes.Fields(b)
	if len(f) != 3 {
		return
	}
	path := string(f[2])
	if !strings.HasSuffix(path, "Packages") {
		return
	}
	n, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return
	}
	if rel.Sizes == nil {
		rel.Sizes = map[string]int64{}
	}
	if _, ok := rel.Sizes[path]; ok && list != "sha256" {
		return
	}
	rel.Sizes[path] = n
}

// aptDateLayouts are the spellings of Release "Date:" seen in the wild
// (RFC 1123 with a zone name or offset, with one- or two-digit days).
var aptDateLayouts = []string{
	time.RFC1123, time.RFC1123Z,
	"Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, _2 Jan 2006 15:04:05 MST", "Mon, _2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST", time.UnixDate,
}

func parseAptDate(s string) (time.Time, error) {
	for _, l := range aptDateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not an RFC 1123 date")
}

// pkgStanza is what scanPackages reports of one wanted stanza. The byte
// slices are only valid during the callback.
type pkgStanza struct {
	Name, Version, Arch, Source []byte
	Hash                        uint32 // aptHashFields.sum of the stanza
}

var (
	keyPackageNL = []byte("\nPackage:")
	stanzaEnd    = []byte("\n\n")
)

// maxStanza bounds one stanza of a package index.
const maxStanza = 8 << 20

// scanPackages reads a Packages index (deb822 stanzas) and calls fn for each
// stanza whose Package name wanted accepts. It is built for the full Debian
// archive (60,000 stanzas, 50 MB): a stanza that is not wanted costs a name
// lookup and a search for its end, nothing is allocated per stanza, and
// memory stays at one buffer. Errors name the line: a stanza without a
// Package field, a wanted one without a Version, a stanza over 8 MiB.
func scanPackages(r io.Reader, wanted func(name []byte) bool, fn func(*pkgStanza)) (n int64, err error) {
	buf := make([]byte, 0, 256<<10)
	lineBase := 0 // lines before buf[0]
	eof := false
	var st pkgStanza
	for {
		// Fill the buffer.
		for !eof && len(buf) < cap(buf) {
			m, rerr := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+m]
			n += int64(m)
			if rerr == io.EOF {
				eof = true
			} else if rerr != nil {
				// A truncated or corrupt compressed list ends here.
				return n, fmt.Errorf("line %d: %w", lineBase+bytes.Count(buf, []byte{'\n'})+1, rerr)
			}
		}
		pos := 0
		for pos < len(buf) {
			// Skip blank lines between stanzas.
			for pos < len(buf) && (buf[pos] == '\n' || buf[pos] == '\r') {
				pos++
			}
			if pos >= len(buf) {
				break
			}
			end := bytes.Index(buf[pos:], stanzaEnd)
			if end < 0 {
				if !eof {
					break // incomplete: read more
				}
				end = len(buf) - pos
			}
			stanza := buf[pos:min(pos+end+1, len(buf))]
			if err := scanStanza(stanza, wanted, fn, &st); err != nil {
				return n, fmt.Errorf("line %d: %w", lineBase+bytes.Count(buf[:pos], []byte{'\n'})+1, err)
			}
			pos += end + 1
		}
		if eof && pos >= len(buf) {
			return n, nil
		}
		// Keep the incomplete stanza, grow when it fills the buffer.
		lineBase += bytes.Count(buf[:pos], []byte{'\n'})
		rest := copy(buf, buf[pos:])
		buf = buf[:rest]
		if rest == cap(buf) {
			if cap(buf) >= maxStanza {
				return n, fmt.Errorf("line %d: stanza larger than %d bytes", lineBase+1, maxStanza)
			}
			nb := make([]byte, rest, 2*cap(buf))
			copy(nb, buf)
			buf = nb
		}
	}
}

// scanStanza looks at one stanza (ending with its last newline).
func scanStanza(s []byte, wanted func([]byte) bool, fn func(*pkgStanza), st *pkgStanza) error {
	var name []byte
	if bytes.HasPrefix(s, keyPackage) {
		name = lineValue(s[len(keyPackage):])
	} else if i := bytes.Index(s, keyPackageNL); i >= 0 {
		name = lineValue(s[i+len(keyPackageNL):])
	} else {
		return fmt.Errorf("stanza without a Package field: %q", truncate(string(firstLine(s)), 60))
	}
	if len(name) == 0 {
		return errors.New("empty Package field")
	}
	if !wanted(name) {
		return nil
	}
	*st = pkgStanza{Name: name}
	var hf aptHashFields
	cur := -1
	for len(s) > 0 {
		nl := bytes.IndexByte(s, '\n')
		var l []byte
		if nl < 0 {
			l, s = s, nil
		} else {
			l, s = s[:nl], s[nl+1:]
		}
		if len(l) == 0 {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			if cur >= 0 {
				// The value runs on: extend it over this line (contiguous in s).
				v := hf.vals[cur]
				hf.vals[cur] = v[:len(v)+1+len(l)]
			}
			continue
		}
		cur = aptHashField(l)
		if cur >= 0 {
			hf.vals[cur] = l[len(aptHashKeys[cur]):]
			hf.set[cur] = true
		}
		switch {
		case bytes.HasPrefix(l, keyVersion):
			st.Version = bytes.TrimSpace(l[len(keyVersion):])
		case bytes.HasPrefix(l, keyArch):
			st.Arch = bytes.TrimSpace(l[len(keyArch):])
		case bytes.HasPrefix(l, keySource):
			src := bytes.TrimSpace(l[len(keySource):])
			if i := bytes.IndexByte(src, ' '); i >= 0 {
				src = src[:i]
			}
			st.Source = src
		}
	}
	if len(st.Version) == 0 {
		return fmt.Errorf("package %q has no Version", name)
	}
	if len(st.Source) == 0 {
		st.Source = st.Name
	}
	st.Hash = hf.sum()
	fn(st)
	return nil
}

// lineValue returns the trimmed rest of the line b starts in.
func lineValue(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimSpace(b)
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// aptHashKeys are the fields apt hashes to tell two builds of one version
// apart (debListParser::VersionHash), in its order: a version in the status
// file and one in a list are the same only when these agree.
var aptHashKeys = [...][]byte{
	[]byte("Installed-Size:"), []byte("Depends:"), []byte("Pre-Depends:"),
	[]byte("Conflicts:"), []byte("Breaks:"), []byte("Replaces:"),
}

// aptHashField returns the index in aptHashKeys of the field line b starts, or -1.
func aptHashField(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	switch b[0] {
	case 'I', 'D', 'P', 'C', 'B', 'R':
	default:
		return -1
	}
	for i, k := range aptHashKeys {
		if bytes.HasPrefix(b, k) {
			return i
		}
	}
	return -1
}

// aptHashFields collects the hashed fields of one stanza.
type aptHashFields struct {
	vals [len(aptHashKeys)][]byte
	set  [len(aptHashKeys)]bool
}

func (h *aptHashFields) reset() { h.set = [len(aptHashKeys)]bool{} }

// sum is apt's VersionHash: over the fields in order, every byte but
// whitespace and "=" (dpkg rewrites "<" as "<="), "0:" epochs dropped,
// lower-cased, folded with h = 33*h + c from 5381 (apt keeps 32 bits).
func (h *aptHashFields) sum() uint32 {
	r := uint32(5381)
	for i := range h.vals {
		if !h.set[i] {
			continue
		}
		v := h.vals[i]
		for j := 0; j < len(v); j++ {
			c := v[j]
			if c == '0' && j+1 < len(v) && v[j+1] == ':' {
				j++
				continue
			}
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '=' {
				continue
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			r = 33*r + uint32(c)
		}
	}
	return r
}
