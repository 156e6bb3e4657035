//go:build unix && !linux

package pgtest

import "os/exec"

// dieWithParent is Linux-only; elsewhere a killed test binary may leave its
// cluster running until the temporary directory is cleaned.
func dieWithParent(*exec.Cmd) {}
