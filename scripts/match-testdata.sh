#!/usr/bin/env bash
# match-testdata.sh OUT — extract the Debian 12 archive's rows (NAME, VERSION,
# SOURCE, SECTION, SUMMARY) from this machine's apt lists for bookworm main,
# bookworm-updates and bookworm-security (amd64), gzip them to OUT. The
# matcher's archive test (server/match/archive_test.go) reads them.
set -euo pipefail
out=${1:?usage: $0 OUT}
lists=/var/lib/apt/lists
files=()
for suite in bookworm bookworm-updates bookworm-security; do
	for f in "$lists"/*_dists_"${suite}"_main_binary-amd64_Packages*; do
		[ -e "$f" ] && files+=("$f")
	done
done
if [ ${#files[@]} -ne 3 ]; then
	echo "want the main Packages lists of bookworm, bookworm-updates and bookworm-security in $lists (run apt-get update), found: ${files[*]:-none}" >&2
	exit 1
fi
decompress() {
	case "$1" in
	*.gz) gzip -dc "$1" ;;
	*.xz) xz -dc "$1" ;;
	*.lz4) lz4 -dc "$1" ;;
	*.zst) zstd -dc "$1" ;;
	*) cat "$1" ;;
	esac
}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in "${files[@]}"; do
	decompress "$f" | go run ./server/match/internal/pkgrows --input deb
done >"$tmp"
gzip -9n <"$tmp" >"$out"
echo "$(wc -l <"$tmp") rows → $out" >&2
