#!/usr/bin/env bash
# Regenerates agent/testdata/rocky9-dnf: a Rocky Linux 9 host's dnf configuration and the
# metadata cache the real dnf writes (dnf makecache), with the output of the rpm collector's
# query recorded in rpm-qa.txt (the rpm database itself is not kept: tests replay the query).
# Needs rpmbuild, createrepo_c, rpm and dnf (make deps). Run from the repository root.
set -euo pipefail
out=agent/testdata/rocky9-dnf
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
root=$work/root; mkdir -p "$root"
vendor="Rocky Enterprise Software Foundation"
build() { # dir name [epoch:]version-release arch vendor
  local dir=$1 name=$2 evr=$3 arch=$4 v=$5 epoch="" ver rel
  [[ $evr == *:* ]] && { epoch="Epoch: ${evr%%:*}"; evr=${evr#*:}; }
  ver=${evr%-*}; rel=${evr##*-}
  printf 'Name: %s\n%s\nVersion: %s\nRelease: %s\nSummary: %s\nLicense: MIT\nVendor: %s\nBuildArch: %s\n%%description\n%s\n%%files\n' \
    "$name" "$epoch" "$ver" "$rel" "$name" "$v" "$arch" "$name" > "$work/$name.spec"
  rpmbuild -bb --quiet --define "_topdir $work/rb" --define "_rpmdir $dir" --target "$arch" "$work/$name.spec" >/dev/null 2>&1
}
repo() { mkdir -p "$work/repos/$1"; }
repo baseos; repo appstream; repo epel
build "$work/repos/baseos" bash 5.1.8-9.el9 x86_64 "$vendor"
build "$work/repos/baseos" bash 5.1.8-6.el9 x86_64 "$vendor"
build "$work/repos/baseos" openssl 1:3.2.2-6.el9_5.1 x86_64 "$vendor"
build "$work/repos/baseos" openssl 1:3.2.2-6.el9_5 x86_64 "$vendor"
build "$work/repos/appstream" python3.11 3.11.9-7.el9_5.2 x86_64 "$vendor"
build "$work/repos/appstream" python3.11 3.11.9-7.el9_5 x86_64 "$vendor"
build "$work/repos/epel" htop 3.3.0-1.el9 x86_64 "Fedora Project"
createrepo_c --quiet "$work/repos/baseos"
createrepo_c --quiet --general-compress-type=xz "$work/repos/appstream"
createrepo_c --quiet "$work/repos/epel"
mkdir -p "$root/etc/yum.repos.d" "$root/etc/dnf"
cat > "$root/etc/os-release" <<O
NAME="Rocky Linux"
VERSION="9.5 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.5"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.5 (Blue Onyx)"
O
printf '[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=True\nskip_if_unavailable=False\n' > "$root/etc/dnf/dnf.conf"
for r in baseos appstream; do
  printf '[%s]\nname=Rocky Linux $releasever - %s\n#mirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=%s-$releasever\nbaseurl=file://%s\ngpgcheck=0\nenabled=1\ncountme=1\nmetadata_expire=6h\n\n' \
    "$r" "$r" "$r" "$work/repos/$r" >> "$root/etc/yum.repos.d/rocky.repo"
done
printf '[epel]\nname=Extra Packages for Enterprise Linux 9 - $basearch\nbaseurl=file://%s\nenabled=1\ngpgcheck=0\npriority=50\n' "$work/repos/epel" > "$root/etc/yum.repos.d/epel.repo"
# Installed: bash and python3.11 one update behind, openssl current, htop from EPEL, a vendor rpm.
inst=$work/inst; mkdir -p "$inst"
build "$inst" bash 5.1.8-6.el9 x86_64 "$vendor"
build "$inst" openssl 1:3.2.2-6.el9_5.1 x86_64 "$vendor"
build "$inst" python3.11 3.11.9-7.el9_5 x86_64 "$vendor"
build "$inst" htop 3.3.0-1.el9 x86_64 "Fedora Project"
build "$inst" google-chrome-stable 131.0.6778.85-1 x86_64 "Google Inc."
rpm --root "$root" --initdb
rpm --root "$root" -i --justdb --nodeps --noscripts --ignorearch "$inst"/x86_64/*.rpm 2>/dev/null
dnf --installroot="$root" --releasever=9 -q -y makecache
rm -rf "$out"; mkdir -p "$out/var/cache"
cp -r "$root/etc" "$out/"
cp -r "$root/var/cache/dnf" "$out/var/cache/"
# The repositories pointed at this machine's temporary directories: name the real mirrors.
sed -i "s|^baseurl=file://$work/repos/\\(.*\\)|baseurl=https://dl.rockylinux.org/\$contentdir/\$releasever/\\1/\$basearch/os/|" "$out/etc/yum.repos.d/rocky.repo"
sed -i "s|^baseurl=file://.*|metalink=https://mirrors.fedoraproject.org/metalink?repo=epel-9\&arch=\$basearch|" "$out/etc/yum.repos.d/epel.repo"
rpm --root "$root" -qa --queryformat '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{VENDOR}\n' | sort > "$out/rpm-qa.txt"
rm -f "$out/var/cache/dnf/"*.solv "$out/var/cache/dnf/"*.solvx
echo "wrote $out"; find "$out" -type f | sort
