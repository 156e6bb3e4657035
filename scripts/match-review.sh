#!/usr/bin/env bash
# match-review.sh LIST... — read every product a package list's packages
# claim. Each LIST is an apt Packages file (plain, .gz, .xz, .lz4, .zst or
# .bz2), a dpkg status file, dpkg-query lines, rpm query lines, an APKINDEX
# (or APKINDEX.tar.gz) or an agent inventory; each goes through
# `eolwatch-server match coverage --format jsonl`, and `match review` prints
# the claims grouped by product and rule. MATCH_FLAGS passes extra flags to
# both (--catalog FILE, --rules FILE, --input FORMAT); EOLWATCH_SERVER names
# the binary (default bin/eolwatch-server).
set -euo pipefail
bin=${EOLWATCH_SERVER:-bin/eolwatch-server}
if [ $# -eq 0 ]; then
	echo "usage: $0 LIST..." >&2
	exit 2
fi
# unpack FILE TOOL PACKAGE: TOOL -dc FILE, or, when TOOL is not installed
# (lz4 and zstd are not by default, yet apt may keep its lists so), apt's own
# reader, which knows every compression apt uses.
unpack() {
	if command -v "$2" >/dev/null; then
		"$2" -dc "$1"
	elif [ -x /usr/lib/apt/apt-helper ]; then
		/usr/lib/apt/apt-helper cat-file "$1"
	else
		echo "match-review: $1: needs $2 (apt-get install $3)" >&2
		return 1
	fi
}
decompress() {
	case "$1" in
	*.tar.gz) tar -xzOf "$1" APKINDEX ;;
	*.gz) unpack "$1" gzip gzip ;;
	*.xz) unpack "$1" xz xz-utils ;;
	*.lz4) unpack "$1" lz4 lz4 ;;
	*.zst) unpack "$1" zstd zstd ;;
	*.bz2) unpack "$1" bzip2 bzip2 ;;
	*) cat "$1" ;;
	esac
}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# shellcheck disable=SC2086 # MATCH_FLAGS is a list of flags
for f in "$@"; do
	echo "reading $f" >&2
	decompress "$f" | "$bin" match coverage --format jsonl ${MATCH_FLAGS:-} >>"$tmp"
done
"$bin" match review <"$tmp"
