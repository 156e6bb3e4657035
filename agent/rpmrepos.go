package agent

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Where dnf/yum and zypper keep repository definitions and settings.
const (
	yumReposDir   = "/etc/yum.repos.d"
	zyppReposDir  = "/etc/zypp/repos.d"
	dnfConf       = "/etc/dnf/dnf.conf"
	yumConf       = "/etc/yum.conf"
	dnfModulesDir = "/etc/dnf/modules.d"
)

// yumRepo is one repository section of a .repo file.
type yumRepo struct {
	ID      string
	Name    string
	Enabled bool
	// Priority: a lower number wins (dnf and zypper default 99).
	Priority int
	// Exclude and Include are package name globs (excludepkgs/exclude,
	// includepkgs).
	Exclude, Include []string
	// ModuleHotfixes exempts the repository's packages from modular filtering.
	ModuleHotfixes bool
	URLs           []string // baseurl, mirrorlist, metalink (for messages)
	Where          string
}

// iniSection is one [section] of an INI file, keys lower-cased.
type iniSection struct {
	Name  string
	Line  int
	Keys  map[string]string
	order []string
}

// parseINI parses the INI dialect of .repo, dnf.conf and .module files:
// [section] headers, key=value lines, "#" and ";" comments, continuation
// lines starting with whitespace (appended to the previous value).
func parseINI(r io.Reader) ([]iniSection, error) {
	var out []iniSection
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	lastKey := ""
	for sc.Scan() {
		line++
		raw := strings.TrimRight(sc.Text(), "\r")
		s := strings.TrimSpace(raw)
		if s == "" || s[0] == '#' || s[0] == ';' {
			lastKey = ""
			continue
		}
		if (raw[0] == ' ' || raw[0] == '\t') && lastKey != "" && len(out) > 0 {
			sec := &out[len(out)-1]
			sec.Keys[lastKey] += "\n" + s
			continue
		}
		if s[0] == '[' {
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return out, fmt.Errorf("line %d: section header %q without ]", line, truncate(s, 40))
			}
			out = append(out, iniSection{Name: strings.TrimSpace(s[1:end]), Line: line, Keys: map[string]string{}})
			lastKey = ""
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return out, fmt.Errorf("line %d: %q is not key=value", line, truncate(s, 40))
		}
		if len(out) == 0 {
			return out, fmt.Errorf("line %d: key %q outside a [section]", line, strings.TrimSpace(k))
		}
		sec := &out[len(out)-1]
		lastKey = strings.ToLower(strings.TrimSpace(k))
		if _, dup := sec.Keys[lastKey]; !dup {
			sec.order = append(sec.order, lastKey)
		}
		sec.Keys[lastKey] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

// iniBool reads dnf's booleans (1/0, yes/no, true/false, on/off).
func iniBool(v string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "true", "on":
		return true
	case "0", "no", "false", "off":
		return false
	}
	return def
}

// listValue splits dnf list options (comma and/or space separated).
func listValue(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// readYumRepos reads the repository definitions of /etc/yum.repos.d (dnf
// and yum) in file name order; unreadable files are skipped.
func readYumRepos(env *Env) []yumRepo {
	repos, _ := readRepoDir(env, yumReposDir)
	return repos
}

// readRepoDir reads every *.repo file of dir.
func readRepoDir(env *Env, dir string) ([]yumRepo, error) {
	ents, err := os.ReadDir(env.Path(dir))
	if err != nil {
		return nil, nil
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".repo") && !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []yumRepo
	var firstErr error
	for _, n := range names {
		p := dir + "/" + n
		f, err := env.Open(p)
		if err != nil {
			continue
		}
		secs, err := parseINI(io.LimitReader(f, 4<<20))
		f.Close()
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", p, err)
		}
		for _, s := range secs {
			out = append(out, repoFromSection(s, fmt.Sprintf("%s:%d", p, s.Line)))
		}
	}
	return out, firstErr
}

func repoFromSection(s iniSection, where string) yumRepo {
	r := yumRepo{ID: s.Name, Name: s.Keys["name"], Enabled: iniBool(s.Keys["enabled"], true), Priority: 99, Where: where,
		ModuleHotfixes: iniBool(s.Keys["module_hotfixes"], false)}
	if p, err := strconv.Atoi(strings.TrimSpace(s.Keys["priority"])); err == nil {
		r.Priority = p
	}
	r.Exclude = append(listValue(s.Keys["exclude"]), listValue(s.Keys["excludepkgs"])...)
	r.Include = listValue(s.Keys["includepkgs"])
	for _, k := range []string{"baseurl", "mirrorlist", "metalink"} {
		r.URLs = append(r.URLs, listValue(s.Keys[k])...)
	}
	return r
}
