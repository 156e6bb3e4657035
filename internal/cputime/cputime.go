// Package cputime measures the CPU time the process has used, so that
// benchmarks report figures that do not depend on how busy the shared
// machine is (wall time per operation on a loaded machine says little).
package cputime
