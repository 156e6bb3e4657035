//go:build unix

package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// credential is who runs initdb and postgres: the postgres user when the
// tests run as root (PostgreSQL refuses to run as root), else the caller.
type credential struct {
	uid, gid uint32
	set      bool
}

func runAs() (credential, error) {
	if os.Geteuid() != 0 {
		return credential{}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return credential{}, fmt.Errorf("running as root needs the postgres user to run the server (%v): %w", err, ErrNoPostgres)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return credential{}, fmt.Errorf("postgres user: %w", err)
	}
	return credential{uid: uint32(uid), gid: uint32(gid), set: true}, nil
}

// own gives path to the user that runs the server.
func (c credential) own(path string) error {
	if !c.set {
		return nil
	}
	if err := os.Chown(path, int(c.uid), int(c.gid)); err != nil {
		return fmt.Errorf("chown %s: %w", filepath.Base(path), err)
	}
	return nil
}

func (c credential) apply(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if c.set {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: c.uid, Gid: c.gid}
	}
}
