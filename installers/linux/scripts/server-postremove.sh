#!/bin/sh
# eolwatch-server post-removal, shared by the .deb (postrm remove|purge|...)
# and the .rpm (%postun with $1 = 0 on erase, >= 1 on upgrade).
#
# Only purge (deb) deletes the database, the settings file and the system
# user: removing the package keeps the data. An rpm erase keeps them too
# (rpm has no purge; delete /var/lib/eolwatch-server by hand if wanted).
set -e

unit=eolwatch-server.service

case "$1" in
purge) purge=yes ;;
remove | 0) purge=no ;;
*) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$purge" = yes ]; then
	rm -rf /var/lib/eolwatch-server
	rm -f /etc/default/eolwatch-server
	if getent passwd eolwatch-server >/dev/null; then
		deluser --system --quiet eolwatch-server >/dev/null 2>&1 || userdel eolwatch-server 2>/dev/null || true
	fi
	if getent group eolwatch-server >/dev/null; then
		delgroup --system --quiet eolwatch-server >/dev/null 2>&1 || groupdel eolwatch-server 2>/dev/null || true
	fi
	if [ -n "${DPKG_MAINTSCRIPT_PACKAGE:-}" ] && command -v deb-systemd-helper >/dev/null 2>&1; then
		deb-systemd-helper purge "$unit" >/dev/null || true
		deb-systemd-helper unmask "$unit" >/dev/null || true
	fi
fi
exit 0
