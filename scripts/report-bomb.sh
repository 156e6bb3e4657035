#!/usr/bin/env bash
# Peak RSS of a real eolwatch-server under hostile agent reports (issue 13):
#   1. a 32 KB gzip report that inflates to 11 million empty items, and one of
#      11 million copies of a valid item;
#   2. six concurrent gzip reports of a million items (2.6 MB each), and six
#      concurrent valid reports at the limits (100,000 items, 30 MB inflated)
#      that are accepted and stored.
# Each scenario gets a fresh server (own data dir, random loopback port); the
# figure is the server process's VmHWM from /proc/PID/status after the
# answers came back. Usage: scripts/report-bomb.sh [extra serve flags...];
# REPORT_BOMB_SCENARIOS="million-items:6" picks scenarios (KIND:CONCURRENCY).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A fresh random enroll secret (the server refuses short or simple ones).
secret=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
go build -o "$work/eolwatch-server" ./cmd/eolwatch-server
go build -o "$work/reportbomb" ./scripts/reportbomb
for scenario in ${REPORT_BOMB_SCENARIOS:-item-bomb:1 valid-bomb:1 million-items:6 max-valid:6}; do
	kind=${scenario%:*} n=${scenario#*:}
	dir="$work/data-$kind"
	mkdir -p "$dir"
	"$work/eolwatch-server" serve --listen 127.0.0.1:0 --data-dir "$dir" --enroll-secret "$secret" --log-level info \
		--log-format text "$@" >"$dir/log" 2>&1 &
	pid=$!
	addr=""
	for _ in $(seq 1 600); do
		if ! kill -0 "$pid" 2>/dev/null; then cat "$dir/log"; exit 1; fi
		addr=$(grep -o 'msg=listening component=server addr=[0-9.:]*' "$dir/log" | head -1 | sed 's/.*addr=//') || true
		[ -n "$addr" ] && break
		sleep 0.1
	done
	[ -n "$addr" ] || { echo "server did not start"; cat "$dir/log"; kill "$pid"; exit 1; }
	idle=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	echo "== $kind x$n against $addr (server pid $pid, idle peak RSS $((idle / 1024)) MiB)"
	"$work/reportbomb" --server "http://$addr" --enroll-secret "$secret" --kind "$kind" --concurrency "$n"
	peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	echo "== $kind x$n: server peak RSS (VmHWM) $((peak / 1024)) MiB"
	kill "$pid"
	wait "$pid" || true
done
