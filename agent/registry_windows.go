package agent

import (
	"errors"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/windows/registry"
)

// winRegistry is the real registryReader. It opens keys in the 64-bit view so
// a WOW6432Node path names the 32-bit view explicitly.
type winRegistry struct{}

func (winRegistry) open(key string, access uint32) (registry.Key, error) {
	hive, path, _ := strings.Cut(key, `\`)
	var root registry.Key
	switch hive {
	case "HKLM":
		root = registry.LOCAL_MACHINE
	case "HKCU":
		root = registry.CURRENT_USER
	case "HKU":
		root = registry.USERS
	default:
		return 0, errors.New("unknown hive " + hive)
	}
	k, err := registry.OpenKey(root, path, access|registry.WOW64_64KEY)
	if errors.Is(err, syscall.ERROR_FILE_NOT_FOUND) || errors.Is(err, registry.ErrNotExist) {
		return 0, errKeyNotFound
	}
	return k, err
}

func (r winRegistry) SubKeys(key string) ([]string, error) {
	k, err := r.open(key, registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	return k.ReadSubKeyNames(-1)
}

func (r winRegistry) Values(key string) (map[string]string, error) {
	k, err := r.open(key, registry.QUERY_VALUE)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	names, err := k.ReadValueNames(-1)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		if s, _, err := k.GetStringValue(n); err == nil {
			out[n] = s
			continue
		}
		if i, _, err := k.GetIntegerValue(n); err == nil {
			out[n] = strconv.FormatUint(i, 10)
		}
	}
	return out, nil
}
