#!/bin/sh
# eolwatch-agent post-install, shared by the .deb (postinst configure
# [OLD-VERSION]) and the .rpm (%post with $1 = 1 on install, 2 on upgrade).
#
# Install-time settings: EOLWATCH_SERVER (or EOLWATCH_SERVER_URL) and
# EOLWATCH_ENROLL_SECRET in the environment of dpkg/apt/rpm/dnf are written
# to /etc/default/eolwatch-agent (0600, read by systemd through the unit's
# EnvironmentFile=). Without them an existing file is left as it is.
#
# Works without a running systemd (containers, image builds): the unit is
# enabled offline and started only when systemd is the running init.
set -e

unit=eolwatch-agent.service
defaults=/etc/default/eolwatch-agent

case "$1" in
configure) if [ -n "$2" ]; then action=upgrade; else action=install; fi ;;
abort-upgrade | abort-remove | abort-deconfigure) action=upgrade ;;
1) action=install ;;
[0-9]*) action=upgrade ;;
*) exit 0 ;;
esac

# set_var FILE NAME VALUE replaces or appends NAME='VALUE' in FILE.
set_var() {
	case "$3" in
	*"'"* | *'
'*)
		echo "eolwatch-agent: $2 must not contain a single quote or a newline; not written to $1" >&2
		return 1
		;;
	esac
	tmp="$1.dpkg-tmp.$$"
	if [ -f "$1" ]; then grep -v "^$2=" "$1" >"$tmp" || true; else : >"$tmp"; fi
	printf "%s='%s'\n" "$2" "$3" >>"$tmp"
	chmod 0600 "$tmp"
	mv -f "$tmp" "$1"
}

server="${EOLWATCH_SERVER:-${EOLWATCH_SERVER_URL:-}}"
secret="${EOLWATCH_ENROLL_SECRET:-}"
if [ -n "$server" ] || [ -n "$secret" ]; then
	mkdir -p "$(dirname "$defaults")"
	if [ ! -f "$defaults" ]; then
		(
			umask 077
			cat >"$defaults" <<'EOT'
# eolwatch-agent settings from install time, read by systemd as the service's
# environment (EnvironmentFile= in eolwatch-agent.service). They override
# /etc/eolwatch/agent.yaml. Any EOLWATCH_* variable of the agent works here.
# Written by the package; kept on upgrade; removed on purge.
EOT
		)
	fi
	if [ -n "$server" ]; then set_var "$defaults" EOLWATCH_SERVER "$server"; fi
	if [ -n "$secret" ]; then set_var "$defaults" EOLWATCH_ENROLL_SECRET "$secret"; fi
fi
if [ -f "$defaults" ]; then chmod 0600 "$defaults"; fi

# Enable (offline-capable: only symlinks in /etc/systemd/system).
if [ -n "${DPKG_MAINTSCRIPT_PACKAGE:-}" ] && command -v deb-systemd-helper >/dev/null 2>&1; then
	deb-systemd-helper unmask "$unit" >/dev/null || true
	# was-enabled is true on first install; on upgrade it respects an admin's disable.
	if deb-systemd-helper --quiet was-enabled "$unit"; then
		deb-systemd-helper enable "$unit" >/dev/null || true
	else
		deb-systemd-helper update-state "$unit" >/dev/null || true
	fi
elif command -v systemctl >/dev/null 2>&1 && [ "$action" = install ]; then
	systemctl enable "$unit" >/dev/null 2>&1 || true
fi

# Start or restart only under a running systemd; deb-systemd-invoke (Debian)
# honours policy-rc.d, e.g. in image builds.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	invoke=systemctl
	if [ -n "${DPKG_MAINTSCRIPT_PACKAGE:-}" ] && command -v deb-systemd-invoke >/dev/null 2>&1; then invoke=deb-systemd-invoke; fi
	if [ "$action" = upgrade ]; then
		$invoke try-restart "$unit" >/dev/null 2>&1 || true
	elif systemctl --quiet is-enabled "$unit" 2>/dev/null; then
		$invoke start "$unit" || echo "eolwatch-agent: could not start $unit; see journalctl -u $unit" >&2
	fi
fi
exit 0
