// Package agent is eolwatch's endpoint agent: collectors (one small
// interface, one file per source and OS), host identity, report building,
// enrollment, the durable spool, retry with backoff, and OS service wiring.
// It builds with CGO_ENABLED=0 for linux, windows and darwin.
package agent
