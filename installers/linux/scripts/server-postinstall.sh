#!/bin/sh
# eolwatch-server post-install, shared by the .deb (postinst configure
# [OLD-VERSION]) and the .rpm (%post with $1 = 1 on install, 2 on upgrade).
#
# Creates the eolwatch-server system user and its data directory, writes
# /etc/default/eolwatch-server on first install (EOLWATCH_ENROLL_SECRET and
# EOLWATCH_LISTEN from the installing environment, else a random secret and
# 127.0.0.1:8480), enables the unit, and starts or restarts it when systemd
# is the running init (nothing is started in containers without systemd).
set -e

unit=eolwatch-server.service
defaults=/etc/default/eolwatch-server
datadir=/var/lib/eolwatch-server

case "$1" in
configure) if [ -n "$2" ]; then action=upgrade; else action=install; fi ;;
abort-upgrade | abort-remove | abort-deconfigure) action=upgrade ;;
1) action=install ;;
[0-9]*) action=upgrade ;;
*) exit 0 ;;
esac

# A secret given at first install must pass the server's check (at least
# 16 characters; the server also refuses one character repeated, a run or
# a short word repeated): refuse it here, before anything is changed,
# rather than install a server that will not start.
secret_len=$(printf '%s' "${EOLWATCH_ENROLL_SECRET:-}" | wc -m)
if [ ! -f "$defaults" ] && [ -n "${EOLWATCH_ENROLL_SECRET:-}" ] && [ "$secret_len" -lt 16 ]; then
	echo "eolwatch-server: EOLWATCH_ENROLL_SECRET has $secret_len characters, at least 16 needed: generate one with openssl rand -base64 24" >&2
	exit 1
fi

if ! getent passwd eolwatch-server >/dev/null; then
	if command -v adduser >/dev/null 2>&1 && [ -f /etc/debian_version ]; then
		adduser --system --group --quiet --home "$datadir" --no-create-home \
			--gecos "eolwatch server" eolwatch-server
	else
		getent group eolwatch-server >/dev/null || groupadd --system eolwatch-server
		useradd --system --gid eolwatch-server --home-dir "$datadir" --no-create-home \
			--shell /usr/sbin/nologin --comment "eolwatch server" eolwatch-server
	fi
fi
mkdir -p "$datadir"
chown eolwatch-server:eolwatch-server "$datadir"
chmod 0750 "$datadir"

for v in "${EOLWATCH_ENROLL_SECRET:-}" "${EOLWATCH_LISTEN:-}"; do
	case "$v" in
	*"'"* | *'
'*)
		echo "eolwatch-server: EOLWATCH_ENROLL_SECRET and EOLWATCH_LISTEN must not contain a single quote or a newline" >&2
		exit 1
		;;
	esac
done
if [ ! -f "$defaults" ]; then
	secret="${EOLWATCH_ENROLL_SECRET:-}"
	if [ -z "$secret" ]; then
		secret=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
	fi
	mkdir -p "$(dirname "$defaults")"
	(
		umask 077
		cat >"$defaults.tmp" <<EOT
# eolwatch-server settings, read by systemd as the service's environment
# (EnvironmentFile= in eolwatch-server.service). Every flag of
# \`eolwatch-server serve\` has an EOLWATCH_* variable (see docs/install.md).
# Written by the package on first install; kept on upgrade; removed on purge.

# Address and port to listen on. Put a TLS reverse proxy in front, or listen
# on all interfaces with EOLWATCH_LISTEN=':8480'.
EOLWATCH_LISTEN='${EOLWATCH_LISTEN:-127.0.0.1:8480}'

# Secret that agents present to enroll (set the same value on the agents).
EOLWATCH_ENROLL_SECRET='$secret'

# Serve HTTPS directly (files readable by the eolwatch-server user), or keep
# plain HTTP on loopback behind a TLS reverse proxy. Agents need https.
#EOLWATCH_TLS_CERT='/etc/eolwatch/server.crt'
#EOLWATCH_TLS_KEY='/etc/eolwatch/server.key'

# Public URL used in links in emails.
#EOLWATCH_PUBLIC_URL='https://eolwatch.example.com'

# Mail delivery.
#EOLWATCH_SMTP_ADDR='smtp.example.com:587'
#EOLWATCH_SMTP_FROM='eolwatch@example.com'
#EOLWATCH_SMTP_TLS='starttls'
#EOLWATCH_SMTP_USERNAME=''
#EOLWATCH_SMTP_PASSWORD=''
EOT
	)
	mv -f "$defaults.tmp" "$defaults"
fi
chmod 0600 "$defaults"

if [ -n "${DPKG_MAINTSCRIPT_PACKAGE:-}" ] && command -v deb-systemd-helper >/dev/null 2>&1; then
	deb-systemd-helper unmask "$unit" >/dev/null || true
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
		$invoke start "$unit" || echo "eolwatch-server: could not start $unit; see journalctl -u $unit" >&2
	fi
fi
exit 0
