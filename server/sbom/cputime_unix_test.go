//go:build unix

package sbom

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used (user + system), so
// benchmarks can report figures that do not depend on how busy the shared
// machine is.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
