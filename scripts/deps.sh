#!/usr/bin/env bash
# Installs the Debian packages some tests need. Idempotent: installs only what is missing.
set -euo pipefail
# mailpit: a real third-party SMTP server for the notifier tests, built once into bin/tools (~2 min).
# Run it only with --disable-version-check; never `mailpit version` (it reaches the internet).
MAILPIT_VERSION=v1.27.11
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$root/bin/tools/mailpit" ]; then
  echo "deps: building mailpit $MAILPIT_VERSION into bin/tools"
  GOBIN="$root/bin/tools" go install "github.com/axllent/mailpit@$MAILPIT_VERSION"
fi
# nfpm: the packager scripts/packages.sh uses (pinned; not in go.mod), built once into bin/tools.
NFPM_VERSION=v2.45.2
if [ ! -x "$root/bin/tools/nfpm-$NFPM_VERSION" ]; then
  echo "deps: building nfpm $NFPM_VERSION into bin/tools"
  tmp=$(mktemp -d)
  (cd "$tmp" && GOFLAGS= GOBIN="$tmp" go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION")
  mkdir -p "$root/bin/tools" && mv "$tmp/nfpm" "$root/bin/tools/nfpm-$NFPM_VERSION" && rm -rf "$tmp"
fi
pkgs=(chromium msitools lintian systemd rpm osslsigncode
      postgresql                   # the PostgreSQL test clusters (internal/pgtest)
      wixl openssl gcc-aarch64-linux-gnu libc6-dev-arm64-cross  # packages: MSI build, test cert, arm64 cgo server
      apt                          # the agent's apt tests compare with apt-cache policy
      curl                         # the SBOM pipeline of docs/sbom.md, run as written
      createrepo-c zchunk dnf)     # ... and its rpm tests with dnf on repositories they build
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# The agent's tests read this machine's real apt lists: make sure there are some.
updated=""
if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
  echo "deps: no apt lists in /var/lib/apt/lists: apt-get update"
  $SUDO apt-get update -qq
  updated=1
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "deps: all installed"; exit 0; fi
echo "deps: installing ${missing[*]}"
[ -n "$updated" ] || $SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
