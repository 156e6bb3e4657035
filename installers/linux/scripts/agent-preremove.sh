#!/bin/sh
# eolwatch-agent pre-removal, shared by the .deb (prerm remove|upgrade|...)
# and the .rpm (%preun with $1 = 0 on erase, >= 1 on upgrade). On removal it
# stops and disables the service; on upgrade it does nothing (the new
# package's post-install restarts the service).
set -e

unit=eolwatch-agent.service

case "$1" in
remove | deconfigure | 0) ;;
*) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
	if [ -n "${DPKG_MAINTSCRIPT_PACKAGE:-}" ] && command -v deb-systemd-invoke >/dev/null 2>&1; then
		deb-systemd-invoke stop "$unit" >/dev/null 2>&1 || true
	else
		systemctl stop "$unit" >/dev/null 2>&1 || true
	fi
fi
if [ -n "${DPKG_MAINTSCRIPT_PACKAGE:-}" ] && command -v deb-systemd-helper >/dev/null 2>&1; then
	deb-systemd-helper disable "$unit" >/dev/null || true
elif command -v systemctl >/dev/null 2>&1; then
	systemctl disable "$unit" >/dev/null 2>&1 || true
fi
exit 0
