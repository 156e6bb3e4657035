#!/usr/bin/env bash
# Whole-process cost of `eolwatch-agent inventory --json` on this machine, next to
# `dpkg-query -W` measured in the same session: mean CPU (user+sys) and peak RSS
# over RUNS runs, from /usr/bin/time -v.
#   warm: the apt lists are unchanged since the last run (the parsed-lists cache in
#         the state dir is used). Goal: at most 2x dpkg-query -W's CPU.
#   cold: no cache (a state dir that does not exist: inventory never creates it), so
#         every apt list is decompressed and scanned. Goal: < 300 ms CPU, < 48 MiB RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-50}
BIN=${AGENT_BIN:-bin/eolwatch-agent}
if [ -z "${AGENT_BIN:-}" ]; then
  mkdir -p bin
  CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$BIN" ./cmd/eolwatch-agent
fi
[ -x /usr/bin/time ] || { echo "bench-agent: /usr/bin/time missing (apt-get install time)"; exit 1; }

tmp=$(mktemp)
field() { awk -F': ' -v k="$1" '$0 ~ k {print $2}' "$tmp"; }

# GNU time reports CPU in 10 ms steps, so CPU is measured over RUNS runs inside one
# /usr/bin/time (the children's rusage adds up) and divided; peak RSS is the largest
# child's. The loop's shell costs a little and is included (it favours neither side).
measure() { # label, command...
  local label=$1; shift
  local cmd; printf -v cmd '%q ' "$@"
  /usr/bin/time -v -o "$tmp" sh -c "for i in \$(seq $RUNS); do $cmd >/dev/null 2>&1; done"
  local u s r
  u=$(field 'User time'); s=$(field 'System time'); r=$(field 'Maximum resident')
  printf '%-34s cpu(user+sys) %5.2f ms/run (user %5.2f, sys %5.2f)   peak RSS %5.1f MiB   (%d runs)\n' "$label" \
    "$(awk -v u="$u" -v s="$s" -v n="$RUNS" 'BEGIN{print (u+s)*1000/n}')" \
    "$(awk -v u="$u" -v n="$RUNS" 'BEGIN{print u*1000/n}')" "$(awk -v s="$s" -v n="$RUNS" 'BEGIN{print s*1000/n}')" \
    "$(awk -v r="$r" 'BEGIN{print r/1024}')" "$RUNS"
}

state=$(mktemp -d); trap 'rm -f "$tmp"; rm -rf "$state"' EXIT
items=$("$BIN" inventory --json --state-dir "$state" | grep -o '"source":' | wc -l) # also primes the cache
lists=$(du -ck /var/lib/apt/lists/*_Packages* 2>/dev/null | tail -1 | cut -f1)
echo "bench-agent: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $items items, binary $(du -k "$BIN" | cut -f1) KiB, apt lists ${lists:-0} KiB"
measure "eolwatch-agent inventory (warm)" "$BIN" inventory --json --state-dir "$state"
measure "dpkg-query -W" dpkg-query -W
RUNS=$(( RUNS > 10 ? RUNS / 5 : RUNS )) measure "eolwatch-agent inventory (cold)" "$BIN" inventory --json --state-dir "$state/none"
