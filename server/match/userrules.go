package match

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// RulesFile is the YAML document a user rules file holds:
//
//	rules:
//	  - id: ivanti agent
//	    sources: [windows-registry]
//	    prefix: Ivanti Endpoint Manager
//	    publisher: Ivanti
//	    product: ivanti-endpoint-manager
//	    why: our Ivanti agents
type RulesFile struct {
	// Rules are checked in order, before the built-in rules.
	Rules []Rule `yaml:"rules"`
}

// maxRulesFile bounds a rules file (a few thousand rules at most).
const maxRulesFile = 4 << 20

// ParseRules reads a rules file from r; name is used in errors, which name
// the rule by position and id. Unknown fields are errors.
func ParseRules(name string, r io.Reader) ([]Rule, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRulesFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxRulesFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxRulesFile)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f RulesFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for i := range f.Rules {
		r := f.Rules[i] // compile a copy: the caller gets plain rules
		if err := r.compile(); err != nil {
			return nil, fmt.Errorf("%s: rule %d: %w", name, i+1, err)
		}
	}
	return f.Rules, nil
}

// LoadRulesFile reads a YAML rules file (see RulesFile).
func LoadRulesFile(path string) ([]Rule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rules file: %w", err)
	}
	defer f.Close()
	return ParseRules(path, f)
}
