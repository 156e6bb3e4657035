package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// dnfModules is dnf's modular filtering (RHEL 8 modularity): packages that
// belong to a module stream are visible only when that stream is active
// (enabled, or the module's default stream while the module is neither
// enabled at another stream nor disabled), and ordinary packages that share
// a name with an active stream's packages are hidden, unless their
// repository has module_hotfixes=1. A nil *dnfModules filters nothing.
type dnfModules struct {
	include map[string]bool // NEVRAs of active streams' packages
	exclude map[string]bool // NEVRAs of inactive streams' packages
	names   map[string]bool // names of active streams' packages
}

// visible reports whether dnf would consider package p of name.
func (m *dnfModules) visible(name string, p dnfPkg, hotfix bool) bool {
	if m == nil || hotfix {
		return true
	}
	nevra := name + "-" + orZero(p.evr.Epoch) + ":" + p.evr.Version + "-" + p.evr.Release + "." + p.arch
	if m.include[nevra] {
		return true
	}
	if m.exclude[nevra] || m.names[name] {
		return false
	}
	return true
}

// moduleStream is one modulemd document of a repository's modules.yaml.
type moduleStream struct {
	name, stream string
	rpms         []string // artifact NEVRAs "name-epoch:version-release.arch"
}

// readDnfModules reads the cached modules.yaml of every repository that has
// one and the module states of /etc/dnf/modules.d. Without modules (RHEL 9
// and later, Fedora) it returns nil.
func readDnfModules(env *Env, repos []*dnfRepo) (*dnfModules, error) {
	var streams []moduleStream
	defaults := map[string]string{}
	var errs []error
	for _, r := range repos {
		if r.modules == "" {
			continue
		}
		s, d, err := readModulesYAML(env, r.modules)
		if err != nil {
			errs = append(errs, fmt.Errorf("repository %s: %s: %w", r.ID, r.modules, err))
			continue
		}
		streams = append(streams, s...)
		for k, v := range d {
			defaults[k] = v
		}
	}
	if len(streams) == 0 {
		return nil, errors.Join(errs...)
	}
	enabled, disabled := readModuleStates(env)
	active := func(name, stream string) bool {
		if st, ok := enabled[name]; ok {
			return st == stream
		}
		if disabled[name] {
			return false
		}
		return defaults[name] == stream
	}
	m := &dnfModules{include: map[string]bool{}, exclude: map[string]bool{}, names: map[string]bool{}}
	for _, s := range streams {
		on := active(s.name, s.stream)
		for _, nevra := range s.rpms {
			if on {
				m.include[nevra] = true
				if n := nevraName(nevra); n != "" {
					m.names[n] = true
				}
			} else {
				m.exclude[nevra] = true
			}
		}
	}
	return m, errors.Join(errs...)
}

// nevraName is the name part of "name-epoch:version-release.arch".
func nevraName(nevra string) string {
	// name-E:V-R.A: the name ends at the hyphen before the epoch.
	i := strings.IndexByte(nevra, ':')
	if i < 0 {
		return ""
	}
	j := strings.LastIndexByte(nevra[:i], '-')
	if j < 0 {
		return ""
	}
	return nevra[:j]
}

// readModulesYAML parses a (possibly compressed) modules.yaml: modulemd
// documents (name, stream, artifacts) and modulemd-defaults documents
// (module, default stream).
func readModulesYAML(env *Env, p string) ([]moduleStream, map[string]string, error) {
	f, err := env.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	_, ext := splitCompression(p)
	r, done, err := decompressor(f, ext)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	dec := yaml.NewDecoder(io.LimitReader(r, 512<<20))
	var streams []moduleStream
	defaults := map[string]string{}
	for i := 1; ; i++ {
		var doc struct {
			Document string `yaml:"document"`
			Data     struct {
				Name      string `yaml:"name"`
				Stream    string `yaml:"stream"`
				Module    string `yaml:"module"`
				Artifacts struct {
					RPMs []string `yaml:"rpms"`
				} `yaml:"artifacts"`
			} `yaml:"data"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return streams, defaults, fmt.Errorf("document %d: %w", i, err)
		}
		switch doc.Document {
		case "modulemd":
			streams = append(streams, moduleStream{name: doc.Data.Name, stream: doc.Data.Stream, rpms: doc.Data.Artifacts.RPMs})
		case "modulemd-defaults":
			if doc.Data.Module != "" && doc.Data.Stream != "" {
				defaults[doc.Data.Module] = doc.Data.Stream
			}
		}
	}
	return streams, defaults, nil
}

// readModuleStates reads /etc/dnf/modules.d/*.module: the enabled stream of
// each enabled module and the disabled modules.
func readModuleStates(env *Env) (enabled map[string]string, disabled map[string]bool) {
	enabled, disabled = map[string]string{}, map[string]bool{}
	ents, err := os.ReadDir(env.Path(dnfModulesDir))
	if err != nil {
		return enabled, disabled
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".module") {
			continue
		}
		f, err := env.Open(dnfModulesDir + "/" + e.Name())
		if err != nil {
			continue
		}
		secs, _ := parseINI(io.LimitReader(f, 1<<20))
		f.Close()
		for _, s := range secs {
			name := s.Keys["name"]
			if name == "" {
				name = s.Name
			}
			switch strings.ToLower(s.Keys["state"]) {
			case "enabled", "installed":
				enabled[name] = s.Keys["stream"]
			case "disabled":
				disabled[name] = true
			}
		}
	}
	return enabled, disabled
}
