#!/bin/sh
# Installs (or upgrades, or removes) the eolwatch agent on macOS as a launchd
# daemon. Run from the unpacked tarball, as root:
#
#   sudo ./install.sh --server https://eolwatch.example.com --enroll-secret SECRET
#   sudo ./install.sh              # upgrade: replaces the binary, keeps the config
#   sudo ./install.sh --uninstall  # stops and removes the daemon, keeps config and state
#   sudo ./install.sh --purge      # also deletes config, secret and state
#
# EOLWATCH_SERVER and EOLWATCH_ENROLL_SECRET in the environment work like the
# options. Files:
#   /usr/local/bin/eolwatch-agent                          the binary
#   /Library/LaunchDaemons/com.eolwatch.agent.plist        the launchd job (the agent's own definition)
#   /Library/Logs/eolwatch-agent.log                       the log
#   /Library/Application Support/eolwatch/agent.yaml       the config (never overwritten)
#   /Library/Application Support/eolwatch/enroll-secret    the enroll secret (0600)
#   /Library/Application Support/eolwatch/agent-state/    node key, install id, spool
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=/usr/local/bin/eolwatch-agent
plist=/Library/LaunchDaemons/com.eolwatch.agent.plist
label=com.eolwatch.agent
confdir="/Library/Application Support/eolwatch"
conf="$confdir/agent.yaml"
secretfile="$confdir/enroll-secret"

server=${EOLWATCH_SERVER:-}
secret=${EOLWATCH_ENROLL_SECRET:-}
mode=install
while [ $# -gt 0 ]; do
	case "$1" in
	--server) server=${2:?--server needs a URL}; shift 2 ;;
	--server=*) server=${1#*=}; shift ;;
	--enroll-secret) secret=${2:?--enroll-secret needs a value}; shift 2 ;;
	--enroll-secret=*) secret=${1#*=}; shift ;;
	--uninstall) mode=uninstall; shift ;;
	--purge) mode=purge; shift ;;
	-h | --help) sed -n '2,19p' "$0"; exit 0 ;;
	*) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	echo "install.sh: run as root (sudo)" >&2
	exit 1
fi

stop_job() {
	launchctl bootout "system/$label" 2>/dev/null || launchctl unload "$plist" 2>/dev/null || true
}

if [ "$mode" != install ]; then
	stop_job
	rm -f "$plist" "$bin"
	if [ "$mode" = purge ]; then
		rm -rf "$confdir"
		rm -f /Library/Logs/eolwatch-agent.log
	fi
	echo "eolwatch-agent removed ($mode)"
	exit 0
fi

case "$server$secret" in
*'
'*) echo "install.sh: --server and --enroll-secret must be one line each" >&2; exit 2 ;;
esac
case "$server" in
'' | https://* | http://127.* | http://localhost*) ;;
*) echo "install.sh: --server $server: use an https:// URL" >&2; exit 2 ;;
esac

stop_job
mkdir -p /usr/local/bin "$confdir"
chmod 0755 "$confdir"
cp "$here/eolwatch-agent" "$bin.new"
chmod 0755 "$bin.new"
mv -f "$bin.new" "$bin"

if [ ! -f "$conf" ]; then
	(
		umask 077
		cp "$here/agent.yaml" "$conf.new"
		if [ -n "$server" ]; then printf '\nserver: "%s"\n' "$server" >>"$conf.new"; fi
		if [ -n "$secret" ]; then printf 'enroll_secret_file: "%s"\n' "$secretfile" >>"$conf.new"; fi
		mv -f "$conf.new" "$conf"
	)
elif [ -n "$server" ] && ! grep -q '^server:' "$conf"; then
	printf '\nserver: "%s"\n' "$server" >>"$conf"
fi
chmod 0600 "$conf"
if [ -n "$secret" ]; then
	(umask 077 && printf '%s\n' "$secret" >"$secretfile.new" && mv -f "$secretfile.new" "$secretfile")
	grep -q '^enroll_secret_file:' "$conf" || printf 'enroll_secret_file: "%s"\n' "$secretfile" >>"$conf"
fi

cp "$here/com.eolwatch.agent.plist" "$plist"
chown root:wheel "$plist"
chmod 0644 "$plist"
launchctl bootstrap system "$plist" 2>/dev/null || launchctl load -w "$plist"
launchctl enable "system/$label" 2>/dev/null || true
launchctl kickstart -k "system/$label" 2>/dev/null || true
echo "eolwatch-agent installed: $bin, config $conf; status: sudo launchctl print system/$label"
