//go:build !unix

package pgtest

import (
	"fmt"
	"os/exec"
	"runtime"
)

type credential struct{}

func runAs() (credential, error) {
	return credential{}, fmt.Errorf("the test cluster runs on unix systems only (%s): %w", runtime.GOOS, ErrNoPostgres)
}

func (credential) own(string) error { return nil }
func (credential) apply(*exec.Cmd)  {}
func dieWithParent(*exec.Cmd)       {}
