package pgtest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the server get SIGQUIT (immediate shutdown) if the
// test process dies without stopping it.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
}
