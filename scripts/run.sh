#!/usr/bin/env bash
# make run: start eolwatch-server on 127.0.0.1:8480 with data in .run/, report this machine with the agent,
# and print where to look. The server stays in the foreground until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ADDR=${EOLWATCH_RUN_ADDR:-127.0.0.1:8480}
URL="http://$ADDR"
DATA=.run
SERVER=bin/eolwatch-server
AGENT=bin/eolwatch-agent
[ -x "$SERVER" ] || { echo "run: $SERVER is missing: run 'make build' (make run does it)" >&2; exit 1; }
mkdir -p "$DATA"
chmod 700 "$DATA"

# One enroll secret per .run directory, kept there (git-ignored).
if [ ! -s "$DATA/enroll-secret" ]; then
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DATA/enroll-secret")
fi
SECRET=$(cat "$DATA/enroll-secret")

if curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null; then
  echo "run: something already answers on $URL; stop it first (or set EOLWATCH_RUN_ADDR)" >&2
  exit 1
fi

"$SERVER" serve --listen "$ADDR" --data-dir "$DATA" --enroll-secret "$SECRET" --public-url "$URL" 2> >(tee -a "$DATA/server.log" >&2) &
SERVER_PID=$!
trap 'kill -TERM $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null' EXIT
trap 'echo; echo "run: stopping the server"; exit 0' INT TERM

for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$URL/readyz" 2>/dev/null && break
  kill -0 $SERVER_PID 2>/dev/null || { echo "run: the server exited; see $DATA/server.log" >&2; exit 1; }
  sleep 0.1
done

TOKEN=$("$SERVER" token create --data-dir "$DATA" --role admin --name "make run" 2>/dev/null)

OS_PRODUCT=""
HOST_ID=""
AGENT_HELP=$([ -x "$AGENT" ] && "$AGENT" help 2>&1 || true)
if grep -q '^ *once' <<<"$AGENT_HELP"; then
  if "$AGENT" once --server "$URL" --enroll-secret "$SECRET" --state-dir "$DATA/agent" >"$DATA/agent.log" 2>&1; then
    echo "run: this machine's agent reported its inventory ($(tail -1 "$DATA/agent.log"))"
  else
    echo "run: the agent failed; see $DATA/agent.log" >&2
  fi
  HOSTS=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts?limit=1" || true)
  HOST_ID=$(printf '%s' "$HOSTS" | sed -n 's/.*"hosts":\[{"id":"\([^"]*\)".*/\1/p')
  if [ -n "$HOST_ID" ]; then
    OS_PRODUCT=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts/$HOST_ID" \
      | tr '{' '\n' | grep '"source":"os"' | sed -n 's/.*"match_product":"\([^"]*\)".*/\1/p' | head -1 || true)
  fi
else
  echo "run: $AGENT once is not available yet; skipping this machine's report"
fi
if [ -z "$OS_PRODUCT" ]; then
  . /etc/os-release 2>/dev/null || true
  OS_PRODUCT=${ID:-debian}
fi

cat <<MSG

eolwatch is running (data in $DATA/, log in $DATA/server.log).

  Dashboard:   $URL/   (log in with the admin token below)
  API:         $URL/api/v1/hosts, /api/v1/compliance, ...   (every route: docs/api.md)
  Admin token: $TOKEN

  Is this machine's OS eligible for support?
    curl -s -H 'Authorization: Bearer $TOKEN' '$URL/api/v1/eligibility?host=${HOST_ID:-$(hostname)}&product=$OS_PRODUCT'
  Or from the command line:
    $SERVER eligibility --data-dir $DATA --host ${HOST_ID:-$(hostname)} --product $OS_PRODUCT

The server runs in the foreground: press Ctrl-C to stop it.
MSG
wait $SERVER_PID
