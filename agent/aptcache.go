package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The parsed-lists cache: what parseAptLists kept (the versions each list
// offers for the installed package names) so that a run whose lists did not
// change reads a few kilobytes instead of decompressing and scanning tens of
// megabytes. It is keyed by the root and every list's path, size and
// modification time; it is used only when it covers every installed name
// (a newly installed package makes the next run parse the lists again).
//
// Format (text, one record a line, fields separated by one space, the last
// field taking the rest of the line):
//
//	eolwatch-apt-lists 1
//	R <root>
//	I <size> <mtime-ns> <path>           one per list, in order
//	N <name>                             one per package name covered
//	V <list#> <hash> <name> <arch> <version> <source>
const aptCacheMagic = "eolwatch-apt-lists 2"

// loadListsCache returns the cached lists (file in the cache directory)
// when they match the current lists and cover every wanted name, else nil.
// fresh is false on a hit. The dnf collector keeps its repositories'
// metadata in the same format.
func loadListsCache(env *Env, file string, indexes []*aptIndex, wanted map[string]bool) (lists *aptLists, fresh bool) {
	if env.CacheDir == "" {
		return nil, true
	}
	b, err := os.ReadFile(filepath.Join(env.CacheDir, file))
	if err != nil {
		return nil, true
	}
	lists, err = parseAptCache(b, env.Root, indexes)
	if err != nil {
		env.logger().Debug("package lists cache not used", "file", file, "err", err)
		return nil, true
	}
	for name := range wanted {
		if !lists.Names[name] {
			env.logger().Debug("package lists cache not used", "file", file, "err", fmt.Sprintf("it does not cover %q", name))
			return nil, true
		}
	}
	return lists, false
}

var errCacheStale = errors.New("the lists changed")

// parseAptCache parses a cache file and checks it against the current
// lists.
func parseAptCache(b []byte, root string, indexes []*aptIndex) (*aptLists, error) {
	lists := &aptLists{Names: map[string]bool{}, Entries: map[string][]aptListEntry{}}
	nIdx := 0
	line := 0
	for len(b) > 0 {
		var l []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			return nil, fmt.Errorf("line %d: truncated", line+1)
		}
		line++
		if line == 1 {
			if string(l) != aptCacheMagic {
				return nil, fmt.Errorf("not a cache of this format: %q", truncate(string(l), 40))
			}
			continue
		}
		if len(l) < 2 || l[1] != ' ' {
			return nil, fmt.Errorf("line %d: malformed", line)
		}
		rest := string(l[2:])
		switch l[0] {
		case 'R':
			if rest != root {
				return nil, fmt.Errorf("built for root %q", rest)
			}
		case 'I':
			f := strings.SplitN(rest, " ", 3)
			if len(f) != 3 || nIdx >= len(indexes) {
				return nil, errCacheStale
			}
			ix := indexes[nIdx]
			size, err1 := strconv.ParseInt(f[0], 10, 64)
			mtime, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 != nil || err2 != nil || f[2] != ix.Path || size != ix.Size || mtime != ix.MTime {
				return nil, errCacheStale
			}
			nIdx++
		case 'N':
			lists.Names[rest] = true
		case 'V':
			f := strings.SplitN(rest, " ", 6)
			if len(f) != 6 {
				return nil, fmt.Errorf("line %d: malformed version record", line)
			}
			id, err := strconv.Atoi(f[0])
			if err != nil || id < 0 || id >= nIdx {
				return nil, fmt.Errorf("line %d: bad list number %q", line, f[0])
			}
			h, err := strconv.ParseUint(f[1], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("line %d: bad hash %q", line, f[1])
			}
			lists.Entries[f[2]] = append(lists.Entries[f[2]], aptListEntry{Index: id, Hash: uint32(h), Arch: f[3], Version: f[4], Source: f[5]})
		default:
			return nil, fmt.Errorf("line %d: unknown record %q", line, l[0])
		}
	}
	if line == 0 {
		return nil, errors.New("empty")
	}
	if nIdx != len(indexes) {
		return nil, errCacheStale
	}
	return lists, nil
}

// saveListsCache writes the cache atomically, only into an existing cache
// directory.
func saveListsCache(env *Env, file string, indexes []*aptIndex, lists *aptLists) error {
	if env.CacheDir == "" {
		return nil
	}
	if st, err := os.Stat(env.CacheDir); err != nil || !st.IsDir() {
		return nil
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	fmt.Fprintf(w, "%s\nR %s\n", aptCacheMagic, env.Root)
	for _, ix := range indexes {
		fmt.Fprintf(w, "I %d %d %s\n", ix.Size, ix.MTime, ix.Path)
	}
	for name := range lists.Names {
		if strings.ContainsAny(name, " \n") {
			continue // not a Debian package name; never matched from the cache
		}
		fmt.Fprintf(w, "N %s\n", name)
	}
	for name, es := range lists.Entries {
		for _, e := range es {
			if strings.ContainsAny(name+e.Arch+e.Version, " \n") || strings.Contains(e.Source, "\n") {
				return fmt.Errorf("package %q: a field with a space cannot be cached", name)
			}
			fmt.Fprintf(w, "V %d %d %s %s %s %s\n", e.Index, e.Hash, name, e.Arch, e.Version, e.Source)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(env.CacheDir, file), buf.Bytes(), 0o600)
}
