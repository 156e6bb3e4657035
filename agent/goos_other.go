//go:build !darwin

package agent

const isDarwin = false
