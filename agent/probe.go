package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// maxProbeOutput bounds what a probe reads from a file or a command.
const maxProbeOutput = 1 << 20

// Probe finds a product the package databases do not know: it runs a command
// or reads a file and takes the version from the text with a regular
// expression (the group named "version", else the first group, else the
// whole match).
type Probe struct {
	// Name names the item (and the collector, as "probe:NAME").
	Name string `yaml:"name"`
	// Product optionally names the catalog product the item is (e.g. "java").
	Product string `yaml:"product"`
	// Command is the program and its arguments, e.g. ["java", "-version"];
	// its standard output and standard error are both searched.
	Command []string `yaml:"command"`
	// File is a file to read instead of running a command (re-rooted by root).
	File string `yaml:"file"`
	// Regexp extracts the version (RE2 syntax).
	Regexp string `yaml:"regexp"`
	// Timeout bounds the command (default: the collector timeout).
	Timeout time.Duration `yaml:"timeout"`
}

// probeCollector runs one Probe.
type probeCollector struct {
	p  Probe
	re *regexp.Regexp
}

// newProbeCollector validates p and compiles its expression; errors name the
// probe's field.
func newProbeCollector(i int, p Probe) (*probeCollector, error) {
	where := fmt.Sprintf("probes[%d]", i)
	if p.Name != "" {
		where = fmt.Sprintf("probes[%d] (%s)", i, p.Name)
	}
	switch {
	case p.Name == "":
		return nil, fmt.Errorf("%s.name: required", where)
	case len(p.Command) == 0 && p.File == "":
		return nil, fmt.Errorf("%s: set command or file", where)
	case len(p.Command) > 0 && p.File != "":
		return nil, fmt.Errorf("%s: set command or file, not both", where)
	case len(p.Command) > 0 && p.Command[0] == "":
		return nil, fmt.Errorf("%s.command: empty program name", where)
	case p.Regexp == "":
		return nil, fmt.Errorf("%s.regexp: required", where)
	case p.Timeout < 0:
		return nil, fmt.Errorf("%s.timeout: negative", where)
	}
	re, err := regexp.Compile(p.Regexp)
	if err != nil {
		return nil, fmt.Errorf("%s.regexp: %w", where, err)
	}
	return &probeCollector{p: p, re: re}, nil
}

func (c *probeCollector) Name() string { return "probe:" + c.p.Name }

func (c *probeCollector) Collect(ctx context.Context, env *Env) ([]api.Item, error) {
	var text []byte
	if c.p.File != "" {
		f, err := openOptional(env, c.p.File)
		if err != nil {
			return nil, err
		}
		text, err = readAllLimited(f, maxProbeOutput)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.p.File, err)
		}
	} else {
		if c.p.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.p.Timeout)
			defer cancel()
		}
		out, err := env.Command(ctx, true, c.p.Command[0], c.p.Command[1:]...)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, ErrAbsent // the product is not installed here
		}
		if ctx.Err() != nil {
			return nil, err
		}
		// A non-zero exit with matching output still counts (some tools
		// print their version and exit 1).
		text = out
		if len(text) > maxProbeOutput {
			text = text[:maxProbeOutput]
		}
		if !c.re.Match(text) && err != nil {
			return nil, err
		}
	}
	v := c.match(text)
	if v == "" {
		return nil, fmt.Errorf("output did not match %q", c.p.Regexp)
	}
	return []api.Item{{Source: "probe", Name: c.p.Name, Version: v, Product: c.p.Product}}, nil
}

// match extracts the version from text.
func (c *probeCollector) match(text []byte) string {
	m := c.re.FindSubmatch(text)
	if m == nil {
		return ""
	}
	if i := c.re.SubexpIndex("version"); i > 0 && m[i] != nil {
		return strings.TrimSpace(string(m[i]))
	}
	if len(m) > 1 {
		return strings.TrimSpace(string(m[1]))
	}
	return strings.TrimSpace(string(m[0]))
}
