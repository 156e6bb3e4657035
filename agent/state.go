package agent

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// File names inside the state directory.
const (
	identityFile = "identity.json" // install id, host id, node key (0600)
	pendingFile  = "pending-report.json"
)

// Identity is what the agent keeps across runs: who it is and what the
// server last acknowledged.
type Identity struct {
	// InstallID is created once, at the first enrollment attempt; it is this
	// install's identity on the server (clones get their own).
	InstallID string `json:"install_id"`
	// Server is the URL the node key belongs to; a new server means a new
	// enrollment.
	Server string `json:"server,omitempty"`
	// HostID and NodeKey come from the server at enrollment.
	HostID  string `json:"host_id,omitempty"`
	NodeKey string `json:"node_key,omitempty"`
	// Pending is set while the server holds the enrollment for an admin's
	// approval (the install id was enrolled before and the agent had no
	// key the server knows): NodeKey is then the key the approval will
	// make valid, and the agent asks again with it before reporting.
	Pending bool `json:"pending,omitempty"`
	// EnrolledAt records the last successful enrollment.
	EnrolledAt time.Time `json:"enrolled_at,omitzero"`
	// LastFullHash is the inventory hash of the last full report the server
	// acknowledged; while the inventory hashes the same, check-ins suffice.
	LastFullHash string `json:"last_full_hash,omitempty"`
}

// State is the agent's state directory.
type State struct {
	dir string
	log *slog.Logger
}

// staleAfter is how old a temp file of ours must be to be left over from
// a run that was killed mid-write (rather than being written right now).
const staleAfter = time.Minute

// OpenState creates dir (0700) if needed and removes the temp files an
// earlier run left when it was killed mid-write (logged to log, which may
// be nil).
func OpenState(dir string, log *slog.Logger) (*State, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if dir == "" {
		return nil, errors.New("state_dir: empty")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	// It holds the node key: keep it private even when it existed before,
	// but never touch a shared directory such as /tmp.
	if st, err := os.Stat(dir); err == nil && st.Mode()&os.ModeSticky != 0 {
		return nil, fmt.Errorf("state_dir: %s is a shared directory; use a directory of its own", dir)
	}
	if err := restrictDir(dir); err != nil {
		return nil, err
	}
	st := &State{dir: dir, log: log}
	st.removeStaleTemps()
	return st, nil
}

// removeStaleTemps removes writeFileAtomic's temp files of the state files
// that are older than staleAfter: a run killed between creating and
// renaming one leaves it behind, and nothing else would ever remove it.
func (s *State) removeStaleTemps() {
	for _, name := range []string{identityFile, pendingFile} {
		matches, _ := filepath.Glob(filepath.Join(s.dir, "."+name+".tmp*"))
		for _, p := range matches {
			st, err := os.Lstat(p)
			if err != nil || !st.Mode().IsRegular() || time.Since(st.ModTime()) < staleAfter {
				continue
			}
			if err := os.Remove(p); err != nil {
				s.log.Warn("state: cannot remove a stale temporary file", "file", p, "err", err)
				continue
			}
			s.log.Info("state: removed a stale temporary file left by an interrupted write", "file", p)
		}
	}
}

// Dir is the state directory's path.
func (s *State) Dir() string { return s.dir }

// LoadIdentity reads the identity; on the first run it creates one with a
// new InstallID and saves it. An identity file that cannot be read as
// JSON or holds no install id is set aside (identity.json.corrupt-TIME),
// logged once, and replaced by a new identity, saved at once: the agent
// then enrolls as a new host, once (see docs/agent.md).
func (s *State) LoadIdentity() (Identity, error) {
	var id Identity
	p := filepath.Join(s.dir, identityFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		// First run: the install id is born now and kept, so every report
		// and the enrollment (even one that must wait for the server) carry
		// the same identity.
		id.InstallID = newID()
		return id, s.SaveIdentity(id)
	}
	if err != nil {
		return id, fmt.Errorf("state: %w", err)
	}
	jerr := json.Unmarshal(b, &id)
	if jerr == nil && id.InstallID != "" {
		return id, nil
	}
	why := "it holds no install id"
	if jerr != nil {
		why = jerr.Error()
	}
	aside := fmt.Sprintf("%s.corrupt-%s", p, time.Now().UTC().Format("20060102T150405Z"))
	if err := os.Rename(p, aside); err != nil {
		return Identity{}, fmt.Errorf("state: %s is unusable (%s) and cannot be set aside: %w", identityFile, why, err)
	}
	id = Identity{InstallID: newID()}
	s.log.Warn("state: the identity file was corrupt; kept aside, starting as a new host (an admin may revoke the old one)",
		"file", p, "problem", why, "kept_as", aside, "install_id", id.InstallID)
	return id, s.SaveIdentity(id)
}

// SaveIdentity writes the identity atomically with 0600 permissions.
func (s *State) SaveIdentity(id Identity) error {
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.dir, identityFile), b, 0o600)
}

// Pending returns the spooled report, or nil when there is none. A corrupt
// spool file is removed and logged (once: it is gone after), and reads as
// none.
func (s *State) Pending() (*api.Report, error) {
	p := filepath.Join(s.dir, pendingFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var r api.Report
	if err := json.Unmarshal(b, &r); err != nil || r.ReportID == "" {
		why := "it holds no report id"
		if err != nil {
			why = err.Error()
		}
		os.Remove(p)
		// Logged here, where it is dropped, so it is said once whoever
		// looked; the next inventory makes a new report.
		s.log.Warn("state: the spool file was corrupt and is dropped; the next inventory is sent instead", "file", p, "problem", why)
		return nil, nil
	}
	return &r, nil
}

// Spool stores r as the one pending report, replacing any older one: the
// newest state wins and the spool never grows.
func (s *State) Spool(r *api.Report) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if len(b) > api.MaxReportBytes {
		return fmt.Errorf("spool: report of %d bytes exceeds the %d-byte limit", len(b), api.MaxReportBytes)
	}
	return writeFileAtomic(filepath.Join(s.dir, pendingFile), b, 0o600)
}

// Unspool removes the pending report if it is still the one with id.
func (s *State) Unspool(id string) error {
	r, err := s.Pending()
	if err != nil || r == nil || r.ReportID != id {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, pendingFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	return syncDir(s.dir)
}

// writeFileAtomic writes data to a temporary file in the same directory,
// syncs it, renames it over path and syncs the directory, so a crash leaves
// either the old or the new file, never a torn one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	return syncDir(dir)
}

// syncDir makes a rename durable (a no-op on Windows, where directories
// cannot be opened for sync).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// newID returns a random UUID (version 4) string.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
