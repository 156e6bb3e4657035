// Package archtest holds no code: its tests check the layering rules of
// eolwatch's packages (what may import what, what the production binaries
// link) with `go list`, so a change that breaks a boundary fails `make test`.
package archtest
