#!/usr/bin/env bash
# Builds eolwatch's installable packages into dist/ (make packages):
#   linux:   eolwatch-agent and eolwatch-server .deb and .rpm, amd64 and arm64 (nfpm)
#   windows: eolwatch-agent .exe and .msi (wixl), Authenticode-signed (osslsigncode)
#   darwin:  eolwatch-agent tarballs (binary, launchd plist, install script)
# installers/README.md describes the sources; docs/install.md the result.
#
# Environment (all optional):
#   DIST             output directory (default: dist)
#   PKG_VERSION      package version (default: from `git describe`, else 0.0.0~gitDATE.HASH)
#   ARCHES           linux/darwin architectures (default: "amd64 arm64")
#   TARGETS          what to build (default: "linux windows darwin")
#   LINUX_PACKAGES   which Linux packages (default: "eolwatch-agent eolwatch-server")
#   FORMATS          which Linux formats (default: "deb rpm")
#   SIGN_PKCS12      a real code-signing certificate (PKCS#12 file) ...
#   SIGN_PASSWORD    ... and its password; without them a throw-away test
#                    certificate is generated and dist/eolwatch-test-codesign.crt
#                    holds its public part for `osslsigncode verify -CAfile`
#   SIGN_TIMESTAMP_URL  RFC 3161 timestamp server (needs the network; none by default)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DIST=${DIST:-$ROOT/dist}
ARCHES=${ARCHES:-amd64 arm64}
TARGETS=${TARGETS:-linux windows darwin}
LINUX_PACKAGES=${LINUX_PACKAGES:-eolwatch-agent eolwatch-server}
FORMATS=${FORMATS:-deb rpm}
NFPM_MOD=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
GO=${GO:-go}

die() { echo "packages: $*" >&2; exit 1; }
log() { echo "packages: $*" >&2; }
has() { command -v "$1" >/dev/null 2>&1; }

# need TOOL: a missing tool is fatal, with the fix.
need() { has "$1" || die "$1 not found: run make deps"; }

if [ -z "${PKG_VERSION:-}" ]; then
	if tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
		PKG_VERSION=${tag#v}
	else
		PKG_VERSION="0.0.0~git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S 2>/dev/null || echo 0).$(git rev-parse --short HEAD 2>/dev/null || echo dev)"
	fi
fi
case "$PKG_VERSION" in
[0-9]*) ;;
*) die "PKG_VERSION=$PKG_VERSION: must start with a digit (e.g. 1.2.3)" ;;
esac
# MSI versions are three numbers (major.minor.build, each bounded).
MSI_VERSION=$(echo "$PKG_VERSION" | grep -oE '^[0-9]+(\.[0-9]+){0,2}')
while [ "$(echo "$MSI_VERSION" | tr -cd . | wc -c)" -lt 2 ]; do MSI_VERSION=$MSI_VERSION.0; done
# Development builds (0.0.0~git...) count commits in the third field so a
# newer dev MSI upgrades an older one.
case "$PKG_VERSION" in
0.0.0~git*) MSI_VERSION=0.0.$(($(git rev-list --count HEAD 2>/dev/null || echo 0) % 65536)) ;;
esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/eolwatch-packages.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DIST"
log "version $PKG_VERSION into $DIST"

AGENT_LDFLAGS="-s -w -X github.com/eolwatch/eolwatch/agent.Version=$PKG_VERSION"

# cross_cc ARCH prints the C compiler for linux/ARCH, or nothing.
cross_cc() {
	case "$1" in
	amd64) if [ "$(go env GOHOSTARCH)" = amd64 ]; then echo gcc; elif has x86_64-linux-gnu-gcc; then echo x86_64-linux-gnu-gcc; fi ;;
	arm64) if [ "$(go env GOHOSTARCH)" = arm64 ]; then echo gcc; elif has aarch64-linux-gnu-gcc; then echo aarch64-linux-gnu-gcc; fi ;;
	esac
}

# build_agent_linux ARCH OUT: a stripped, static PIE. cgo is used only to get
# the external linker's -static-pie (netgo/osusergo keep libc out of name and
# user lookups); without a C compiler for ARCH it falls back to Go's internal
# PIE linker (no libc either, but an ELF interpreter entry).
build_agent_linux() {
	local arch=$1 out=$2 cc
	cc=$(cross_cc "$arch")
	if [ -n "$cc" ]; then
		CGO_ENABLED=1 CC=$cc GOOS=linux GOARCH=$arch $GO build -trimpath -buildmode=pie -tags netgo,osusergo \
			-ldflags "$AGENT_LDFLAGS -linkmode=external -extldflags=-static-pie" -o "$out" ./cmd/eolwatch-agent
	else
		log "no C compiler for linux/$arch: agent linked by Go's internal linker (PIE, no libc)"
		CGO_ENABLED=0 GOOS=linux GOARCH=$arch $GO build -trimpath -buildmode=pie -ldflags "$AGENT_LDFLAGS" \
			-o "$out" ./cmd/eolwatch-agent
	fi
}

# build_server_linux ARCH OUT: cgo (mattn/go-sqlite3) against glibc, PIE,
# stripped. Returns 1 when there is no C compiler for ARCH.
build_server_linux() {
	local arch=$1 out=$2 cc
	cc=$(cross_cc "$arch")
	[ -n "$cc" ] || return 1
	CGO_ENABLED=1 CC=$cc GOOS=linux GOARCH=$arch $GO build -trimpath -buildmode=pie \
		-ldflags "-s -w" -o "$out" ./cmd/eolwatch-server
}

# service_file KIND OUT: the agent's own service definition (one source).
host_agent=""
service_file() {
	local kind=$1 out=$2 binary=/usr/bin/eolwatch-agent
	[ "$kind" = launchd ] && binary=/usr/local/bin/eolwatch-agent
	if [ -z "$host_agent" ]; then
		host_agent=$WORK/host-agent
		CGO_ENABLED=0 $GO build -trimpath -o "$host_agent" ./cmd/eolwatch-agent
	fi
	"$host_agent" service-file "$kind" --binary "$binary" >"$out" ||
		die "eolwatch-agent service-file $kind failed: the agent must print its service definition"
	[ -s "$out" ] || die "eolwatch-agent service-file $kind printed nothing"
}

# changelog PKG OUT: nfpm's changelog (Debian needs one for lintian).
changelog() {
	cat >"$2" <<EOF
- semver: $PKG_VERSION-1
  deb:
    urgency: medium
    distributions: [stable]
  date: $(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
  packager: eolwatch maintainers <packaging@eolwatch.dev>
  changes:
    - note: $1 $PKG_VERSION, built from commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown).
EOF
}

# nfpm, pinned, built once per run (go install at a version; not in go.mod).
NFPM=""
# `make deps` builds it once into bin/tools/nfpm-<version>; otherwise it is built here.
nfpm_tool() {
	if [ -z "$NFPM" ]; then
		local prebuilt="$ROOT/bin/tools/nfpm-${NFPM_MOD##*@}"
		if [ -x "$prebuilt" ]; then
			NFPM=$prebuilt
			return
		fi
		(cd "$WORK" && GOFLAGS= GOBIN="$WORK/tools" $GO install "$NFPM_MOD") || die "go install $NFPM_MOD failed"
		NFPM=$WORK/tools/nfpm
	fi
}

build_linux() {
	nfpm_tool
	local unit=$WORK/eolwatch-agent.service
	service_file systemd "$unit"
	for arch in $ARCHES; do
		for pkg in $LINUX_PACKAGES; do
			local stage=$WORK/stage-$pkg-$arch
			mkdir -p "$stage/scripts"
			if [ $pkg = eolwatch-agent ]; then
				log "agent linux/$arch"
				build_agent_linux "$arch" "$stage/eolwatch-agent"
				cp "$unit" "$stage/eolwatch-agent.service"
				cp installers/linux/agent.yaml "$stage/agent.yaml"
				cp installers/linux/scripts/agent-*.sh "$stage/scripts/"
			else
				log "server linux/$arch"
				if ! build_server_linux "$arch" "$stage/eolwatch-server"; then
					[ "${CI:-}" = true ] && die "no C compiler for linux/$arch (cgo, SQLite): run make deps"
					log "SKIPPED eolwatch-server linux/$arch: no C compiler for it (make deps installs gcc-aarch64-linux-gnu)"
					continue
				fi
				cp installers/linux/eolwatch-server.service "$stage/"
				cp installers/linux/scripts/server-*.sh "$stage/scripts/"
			fi
			cp installers/linux/copyright "$stage/copyright"
			cp "installers/linux/lintian/$pkg" "$stage/lintian-overrides"
			changelog $pkg "$stage/changelog.yml"
			for format in $FORMATS; do
				(cd "$stage" && PKG_VERSION=$PKG_VERSION PKG_ARCH=$arch "$NFPM" package \
					--config "$ROOT/installers/nfpm/$pkg.yaml" --packager $format --target "$DIST/") >/dev/null ||
					die "nfpm $pkg $format $arch failed"
			done
		done
	done
}

# sign IN OUT: Authenticode signature with osslsigncode.
sign_args=()
setup_signing() {
	need osslsigncode
	if [ -n "${SIGN_PKCS12:-}" ]; then
		[ -r "$SIGN_PKCS12" ] || die "SIGN_PKCS12=$SIGN_PKCS12: not readable"
		sign_args=(-pkcs12 "$SIGN_PKCS12")
		if [ -n "${SIGN_PASSWORD:-}" ]; then
			# From a file, not the command line (which any user can read in ps).
			(umask 077 && printf '%s' "$SIGN_PASSWORD" >"$WORK/sign.pass")
			sign_args+=(-readpass "$WORK/sign.pass")
		fi
		log "signing with $SIGN_PKCS12"
	else
		need openssl
		log "signing with a generated TEST certificate (dist/eolwatch-test-codesign.crt); set SIGN_PKCS12 for a real one"
		openssl req -x509 -newkey rsa:3072 -sha256 -nodes -days 30 \
			-subj "/CN=eolwatch TEST code signing/O=eolwatch" \
			-addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" \
			-addext "basicConstraints=critical,CA:FALSE" \
			-keyout "$WORK/sign.key" -out "$WORK/sign.crt" 2>/dev/null
		cp "$WORK/sign.crt" "$DIST/eolwatch-test-codesign.crt"
		sign_args=(-certs "$WORK/sign.crt" -key "$WORK/sign.key")
	fi
	[ -n "${SIGN_TIMESTAMP_URL:-}" ] && sign_args+=(-ts "$SIGN_TIMESTAMP_URL")
	return 0
}
sign() {
	rm -f "$2"
	osslsigncode sign "${sign_args[@]}" -h sha256 -n "eolwatch agent" -i https://github.com/eolwatch/eolwatch \
		-in "$1" -out "$2" >/dev/null || die "osslsigncode sign $1 failed"
}

build_windows() {
	need wixl
	need msiinfo
	need msibuild
	setup_signing
	local w=$WORK/windows
	mkdir -p "$w"
	log "agent windows/amd64"
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $GO build -trimpath -ldflags "$AGENT_LDFLAGS" \
		-o "$w/unsigned.exe" ./cmd/eolwatch-agent
	sign "$w/unsigned.exe" "$w/eolwatch-agent.exe"
	cp installers/windows/agent.yaml "$w/agent.yaml"
	cp "$w/eolwatch-agent.exe" "$DIST/eolwatch-agent_${PKG_VERSION}_windows_amd64.exe"
	(cd "$w" && wixl --arch x64 -D Version="$MSI_VERSION" -o unsigned.msi "$ROOT/installers/windows/eolwatch-agent.wxs") ||
		die "wixl failed"
	# wixl fills SecureCustomProperties itself: add the public properties the
	# elevated part of the install must receive.
	local secure
	secure=$(msiinfo export "$w/unsigned.msi" Property | awk -F'\t' '$1 == "SecureCustomProperties" {print $2}')
	if [ -n "$secure" ]; then
		msibuild "$w/unsigned.msi" -q "UPDATE \`Property\` SET \`Value\` = '$secure;SERVER_URL;ENROLL_SECRET' WHERE \`Property\` = 'SecureCustomProperties'"
	else
		msibuild "$w/unsigned.msi" -q "INSERT INTO \`Property\` (\`Property\`, \`Value\`) VALUES ('SecureCustomProperties', 'SERVER_URL;ENROLL_SECRET')"
	fi
	# Signed in the work directory, then copied: osslsigncode refuses to
	# overwrite its output, and dist/ may hold a previous run's MSI.
	sign "$w/unsigned.msi" "$w/eolwatch-agent.msi"
	cp "$w/eolwatch-agent.msi" "$DIST/eolwatch-agent_${PKG_VERSION}_windows_amd64.msi"
	cp installers/windows/install.ps1 "$DIST/eolwatch-agent-install.ps1"
}

build_darwin() {
	local plist=$WORK/com.eolwatch.agent.plist
	service_file launchd "$plist"
	for arch in $ARCHES; do
		log "agent darwin/$arch"
		local d=$WORK/darwin-$arch/eolwatch-agent-$PKG_VERSION
		mkdir -p "$d"
		CGO_ENABLED=0 GOOS=darwin GOARCH=$arch $GO build -trimpath -ldflags "$AGENT_LDFLAGS" \
			-o "$d/eolwatch-agent" ./cmd/eolwatch-agent
		cp "$plist" "$d/com.eolwatch.agent.plist"
		cp installers/macos/install.sh "$d/install.sh"
		cp installers/macos/agent.yaml "$d/agent.yaml"
		cp installers/macos/README.txt "$d/README.txt"
		chmod 0755 "$d/eolwatch-agent" "$d/install.sh"
		tar -C "$WORK/darwin-$arch" --owner=0 --group=0 --numeric-owner -czf \
			"$DIST/eolwatch-agent_${PKG_VERSION}_darwin_${arch}.tar.gz" "eolwatch-agent-$PKG_VERSION"
	done
}

for t in $TARGETS; do
	case "$t" in
	linux) build_linux ;;
	windows) build_windows ;;
	darwin) build_darwin ;;
	*) die "TARGETS: unknown target $t (linux, windows, darwin)" ;;
	esac
done

(cd "$DIST" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | sort | xargs -r sha256sum >SHA256SUMS)
log "done:"
ls -l "$DIST" >&2
