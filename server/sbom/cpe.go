package sbom

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// CPE is the part of a Common Platform Enumeration name eolwatch uses:
// part ("a" application, "o" operating system, "h" hardware), vendor,
// product, version and update, lowercased and unescaped. A component that
// is ANY ("*") or NA ("-") in the name is "".
type CPE struct {
	Part    string
	Vendor  string
	Product string
	Version string
	Update  string
}

// maxCPELen bounds the CPE strings ParseCPE accepts.
const maxCPELen = 2048

// ParseCPE parses a CPE 2.3 formatted string ("cpe:2.3:a:vendor:product:
// version:update:...", eleven components with backslash escapes) or a CPE
// 2.2 URI ("cpe:/a:vendor:product:version", percent-encoded). The error
// names what is wrong.
func ParseCPE(s string) (CPE, error) {
	if len(s) > maxCPELen {
		return CPE{}, fmt.Errorf("cpe is %d bytes long, at most %d", len(s), maxCPELen)
	}
	switch {
	case hasPrefixFold(s, "cpe:2.3:"):
		return parseCPE23(s[len("cpe:2.3:"):])
	case hasPrefixFold(s, "cpe:/"):
		return parseCPE22(s[len("cpe:/"):])
	}
	return CPE{}, errors.New(`cpe must start with "cpe:2.3:" or "cpe:/"`)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// parseCPEPrefix parses a CPE name that may stop after any component, as
// catalog identifiers do ("cpe:2.3:a:golang:go" names every version).
func parseCPEPrefix(s string) (CPE, error) {
	if hasPrefixFold(s, "cpe:2.3:") {
		if n := strings.Count(s, ":") - strings.Count(s, `\:`); n < 12 {
			s += strings.Repeat(":*", 12-n)
		}
	}
	return ParseCPE(s)
}

// parseCPE23 reads the eleven components after "cpe:2.3:".
func parseCPE23(s string) (CPE, error) {
	var comps []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return CPE{}, errors.New("cpe ends with a lone backslash")
			}
			i++
			cur.WriteByte(s[i])
		case c == ':':
			comps = append(comps, cur.String())
			cur.Reset()
		case c < 0x21 || c > 0x7e:
			return CPE{}, fmt.Errorf("cpe holds character %q (printable ASCII only)", c)
		default:
			cur.WriteByte(c)
		}
	}
	comps = append(comps, cur.String())
	if len(comps) != 11 {
		return CPE{}, fmt.Errorf("cpe 2.3 name has %d components after \"cpe:2.3:\", want 11", len(comps))
	}
	return makeCPE(comps)
}

// parseCPE22 reads the URI form's components after "cpe:/".
func parseCPE22(s string) (CPE, error) {
	comps := strings.Split(s, ":")
	if len(comps) > 7 {
		return CPE{}, fmt.Errorf("cpe 2.2 URI has %d components, at most 7", len(comps))
	}
	for i, c := range comps {
		d, err := url.PathUnescape(c)
		if err != nil {
			return CPE{}, fmt.Errorf("cpe component %d: bad percent-encoding: %w", i+1, err)
		}
		if i == 5 && strings.HasPrefix(d, "~") { // packed edition: ~edition~sw_edition~...
			d = strings.SplitN(d[1:], "~", 2)[0]
		}
		comps[i] = d
	}
	for len(comps) < 5 {
		comps = append(comps, "")
	}
	return makeCPE(comps)
}

func makeCPE(comps []string) (CPE, error) {
	val := func(i int) string {
		v := strings.ToLower(comps[i])
		if v == "*" || v == "-" {
			return ""
		}
		return v
	}
	c := CPE{Part: val(0), Vendor: val(1), Product: val(2), Version: val(3), Update: val(4)}
	switch c.Part {
	case "a", "o", "h":
	case "":
		return CPE{}, errors.New("cpe has no part (a, o or h)")
	default:
		return CPE{}, fmt.Errorf("cpe part %q: want a, o or h", c.Part)
	}
	if c.Product == "" {
		return CPE{}, errors.New("cpe has no product")
	}
	return c, nil
}
