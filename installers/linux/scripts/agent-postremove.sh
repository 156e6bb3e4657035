#!/bin/sh
# eolwatch-agent post-removal, shared by the .deb (postrm remove|purge|...)
# and the .rpm (%postun with $1 = 0 on erase, >= 1 on upgrade).
#
# purge (deb), and erase (rpm, which has no purge), delete what the agent and
# its package created outside the package's file list: the state directory
# (node key, install id, spool) and the install-time settings file.
set -e

unit=eolwatch-agent.service

case "$1" in
purge | 0) purge=yes ;;
remove) purge=no ;;
*) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$purge" = yes ]; then
	rm -rf /var/lib/eolwatch-agent /var/lib/private/eolwatch-agent
	rm -f /etc/default/eolwatch-agent
	rmdir /etc/eolwatch 2>/dev/null || true
	if [ -n "${DPKG_MAINTSCRIPT_PACKAGE:-}" ] && command -v deb-systemd-helper >/dev/null 2>&1; then
		deb-systemd-helper purge "$unit" >/dev/null || true
		deb-systemd-helper unmask "$unit" >/dev/null || true
	fi
fi
exit 0
