#!/usr/bin/env python3
"""Regenerates the apt fixture trees agent/testdata/debian-apt and ubuntu-apt.

The stanzas are real ones taken from a Debian 12 machine's apt lists and dpkg
status (run this on one, after `apt-get update`), with versions changed to
build the situations the tests check; the Release/InRelease files follow the
real archives' layout (clear-signed, checksum lists with the real sizes and
SHA256 of the lists written here, a dummy signature block: apt does not check
signatures when it reads its lists, only when it downloads them).

Usage: python3 agent/testdata/gen-apt-fixtures.py   (from the repository root)
"""
import gzip, hashlib, os, shutil, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
LISTS = "/var/lib/apt/lists"


def real_stanzas():
    """name -> first stanza of the real bookworm main list."""
    raw = subprocess.run(["lz4", "-dc", f"{LISTS}/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"],
                         check=True, capture_output=True).stdout.decode()
    out = {}
    for st in raw.split("\n\n"):
        if not st.startswith("Package: "):
            continue
        name = st.split("\n", 1)[0][len("Package: "):]
        out.setdefault(name, st)
    return out


STANZAS = real_stanzas()


def stanza(name, version, template=None, arch=None, drop=(), **fields):
    """A list stanza for name at version, from a real template stanza."""
    st = STANZAS[template or name]
    old = next(l for l in st.split("\n") if l.startswith("Version: "))[len("Version: "):]
    lines = []
    for l in st.split("\n"):
        key = l.split(":", 1)[0] if not l.startswith(" ") else None
        if key in drop:
            continue
        if key == "Package":
            l = "Package: " + name
        elif key == "Version":
            l = "Version: " + version
        elif key == "Architecture" and arch:
            l = "Architecture: " + arch
        elif key in fields:
            l = f"{key}: {fields.pop(key)}"
        elif key in ("Filename", "Depends", "Provides", "Breaks", "Replaces"):
            l = l.replace(old, version)
        lines.append(l)
    for k, v in fields.items():
        lines.append(f"{k}: {v}")
    return "\n".join(lines)


def status_stanza(name, version, arch="amd64", source=None, section="misc", extra=""):
    s = [f"Package: {name}", "Status: install ok installed", "Priority: optional", f"Section: {section}",
         "Installed-Size: 1024", "Maintainer: Someone <someone@example.org>", f"Architecture: {arch}"]
    if source:
        s.append(f"Source: {source}")
    s += [f"Version: {version}", f"Description: {name}", " Installed on the fixture host."]
    if extra:
        s.append(extra)
    return "\n".join(s)


REPO_ONLY = ("Filename", "Size", "MD5sum", "SHA256", "SHA1", "Description-md5", "Tag")


def installed(list_stanza):
    """The dpkg status stanza of an installed list stanza (same build)."""
    out = []
    for i, l in enumerate(list_stanza.split("\n")):
        key = l.split(":", 1)[0] if not l.startswith(" ") else None
        if key in REPO_ONLY:
            skip = True
            continue
        if l.startswith(" ") and skip:
            continue
        skip = False
        out.append(l)
        if i == 0:
            out.append("Status: install ok installed")
    return "\n".join(out)


def filler(names):
    return [STANZAS[n] for n in names if n in STANZAS]


def write(path, data, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def packages_file(lists_dir, base, stanzas, compression):
    """Writes one Packages list; returns (uncompressed bytes) for the Release."""
    body = ("\n\n".join(stanzas) + "\n").encode() if stanzas else b""
    path = os.path.join(lists_dir, base)
    if compression == "lz4":
        write(path + ".uncompressed", body, "wb")
        subprocess.run(["lz4", "-1", "-q", "-f", path + ".uncompressed", path + ".lz4"], check=True)
        os.remove(path + ".uncompressed")
    elif compression == "gz":
        write(path + ".gz", gzip.compress(body, mtime=0), "wb")
    else:
        write(path, body, "wb")
    return body


def in_release(path, header, indexes, signed=True):
    """header: list of (field, value); indexes: {relpath: uncompressed bytes}."""
    lines = [f"{k}: {v}" for k, v in header]
    lines.append("MD5Sum:")
    for rel, body in indexes.items():
        lines.append(f" {hashlib.md5(body).hexdigest()} {len(body):>8} {rel}")
        lines.append(f" {hashlib.md5(body + b'x').hexdigest()} {len(body) // 5:>8} {rel}.xz")
    lines.append("SHA256:")
    for rel, body in indexes.items():
        lines.append(f" {hashlib.sha256(body).hexdigest()} {len(body):>8} {rel}")
        lines.append(f" {hashlib.sha256(body + b'x').hexdigest()} {len(body) // 5:>8} {rel}.xz")
    text = "\n".join(lines) + "\n"
    if signed:
        text = ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + text +
                "-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCAAdFiEEfixturefixturefixturefixturefixture=\n=fixt\n"
                "-----END PGP SIGNATURE-----\n")
    write(path, text)


def debian():
    root = os.path.join(HERE, "debian-apt")
    shutil.rmtree(root, ignore_errors=True)
    lists = os.path.join(root, "var/lib/apt/lists")
    write(os.path.join(root, "etc/os-release"), open(os.path.join(HERE, "debian/etc/os-release")).read())
    write(os.path.join(root, "etc/debian_version"), "12.12\n")
    write(os.path.join(root, "etc/apt/sources.list.d/debian.sources"), """Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
""")
    write(os.path.join(root, "etc/apt/sources.list.d/nodesource.sources"), """Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
Architectures: amd64
Signed-By: /usr/share/keyrings/nodesource.gpg
""")
    # A repository since removed: its source file is disabled, its lists stay behind.
    write(os.path.join(root, "etc/apt/sources.list.d/google-cloud-sdk.list.disabled"),
          "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n")
    write(os.path.join(root, "etc/apt/preferences.d/nodejs"),
          "Package: nodejs\nPin: origin deb.nodesource.com\nPin-Priority: 600\n")
    write(os.path.join(root, "etc/apt/apt.conf.d/docker-gzip-indexes"),
          'Acquire::GzipIndexes "true";\n# keep lists compressed\n')
    ns_stanza = lambda v: stanza("nodejs", v, template="nodejs",
                                 drop=("Replaces", "Provides", "Breaks", "Conflicts", "Tag", "Description-md5", "Multi-Arch"),
                                 Maintainer="NodeSource <gpg-rpm@nodesource.com>",
                                 Depends="libc6 (>= 2.28), python3-minimal, ca-certificates",
                                 Homepage="https://nodejs.org", Section="web", Priority="optional")
    status = [
        status_stanza("base-files", "12.4+deb12u12", section="admin"),  # a point release behind
        installed(stanza("bash", "5.2.15-2+b8")),
        installed(stanza("curl", "7.88.1-10+deb12u12")),
        installed(stanza("dpkg", "1.21.22")),
        status_stanza("google-cloud-cli", "500.0.0-0", section="misc"),
        installed(stanza("libc6", "2.36-9+deb12u13")),
        status_stanza("libssl3", "3.0.15-1~deb12u1", source="openssl", section="libs"),
        status_stanza("mytool", "1.2.3", section="misc"),
        installed(ns_stanza("20.19.5-1nodesource1")),
        installed(stanza("openssl", "3.0.17-1~deb12u2")),
        installed(stanza("tzdata", "2025b-0+deb12u1")),
        # Rebuilt locally with the archive's version: apt's version hash
        # tells the build apart, so no repository offers it.
        installed(stanza("sed", "4.9-1", **{"Installed-Size": "999"})),
        "Package: vim-tiny\nStatus: deinstall ok config-files\nPriority: important\nSection: editors\n"
        "Architecture: amd64\nVersion: 2:9.0.1378-2\nDescription: removed, configuration kept",
    ]
    write(os.path.join(root, "var/lib/dpkg/status"), "\n\n".join(status) + "\n")
    fill = ["0ad", "acl", "adduser", "apt", "coreutils", "gzip", "hostname", "login", "mawk", "tar", "zlib1g",
            "libcurl4", "libzstd1", "ncurses-base", "perl-base", "python3.11", "sqlite3", "util-linux", "xz-utils"]
    main = filler(fill[:10]) + [
        stanza("base-files", "12.4+deb12u13"),
        stanza("bash", "5.2.15-2+b8"),
        stanza("curl", "7.88.1-10+deb12u12"),
        stanza("dpkg", "1.21.22"),
        stanza("libc6", "2.36-9+deb12u13"),
        stanza("libssl3", "3.0.17-1~deb12u2"),
        stanza("nodejs", "18.19.0+dfsg-6~deb12u2"),
        stanza("openssl", "3.0.17-1~deb12u2"),
        stanza("tzdata", "2025b-0+deb12u1"),
        stanza("sed", "4.9-1"),
    ] + filler(fill[10:])
    bw = packages_file(lists, "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", main, "lz4")
    in_release(os.path.join(lists, "deb.debian.org_debian_dists_bookworm_InRelease"), [
        ("Origin", "Debian"), ("Label", "Debian"), ("Suite", "oldstable"), ("Version", "12.12"), ("Codename", "bookworm"),
        ("Changelogs", "https://metadata.ftp-master.debian.org/changelogs/@CHANGEPATH@_changelog"),
        ("Date", "Sat, 06 Sep 2025 10:31:06 UTC"), ("Acquire-By-Hash", "yes"),
        ("No-Support-for-Architecture-all", "Packages"),
        ("Architectures", "all amd64 arm64 armel armhf i386 mips64el mipsel ppc64el s390x"),
        ("Components", "main contrib non-free-firmware non-free"), ("Description", "Debian 12.12 Released 06 September 2025"),
    ], {"main/binary-amd64/Packages": bw})
    up = packages_file(lists, "deb.debian.org_debian_dists_bookworm-updates_main_binary-amd64_Packages",
                       [stanza("tzdata", "2025b-0+deb12u2")], "lz4")
    in_release(os.path.join(lists, "deb.debian.org_debian_dists_bookworm-updates_InRelease"), [
        ("Origin", "Debian"), ("Label", "Debian"), ("Suite", "oldstable-updates"), ("Version", "12-updates"),
        ("Codename", "bookworm-updates"), ("Date", "Mon, 01 Dec 2025 02:19:34 UTC"),
        ("Valid-Until", "Mon, 08 Dec 2025 02:19:34 UTC"), ("Acquire-By-Hash", "yes"),
        ("No-Support-for-Architecture-all", "Packages"),
        ("Architectures", "all amd64 arm64 armel armhf i386 mips64el mipsel ppc64el s390x"),
        ("Components", "main contrib non-free-firmware non-free"), ("Description", "Debian 12 - Updates"),
    ], {"main/binary-amd64/Packages": up})
    sec = packages_file(lists, "deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages",
                        filler(["sudo"]) + [stanza("curl", "7.88.1-10+deb12u14"), stanza("libssl3", "3.0.17-1~deb12u2"),
                                            stanza("nodejs", "18.20.4+dfsg-1~deb12u1"), stanza("openssl", "3.0.17-1~deb12u2")], "lz4")
    in_release(os.path.join(lists, "deb.debian.org_debian-security_dists_bookworm-security_InRelease"), [
        ("Origin", "Debian"), ("Label", "Debian-Security"), ("Suite", "oldstable-security"), ("Version", "12"),
        ("Codename", "bookworm-security"), ("Date", "Tue, 02 Dec 2025 18:07:11 UTC"),
        ("Valid-Until", "Tue, 09 Dec 2025 18:07:11 UTC"), ("Acquire-By-Hash", "yes"),
        ("Architectures", "amd64 arm64 armhf i386 ppc64el"),
        ("Components", "updates/main updates/contrib updates/non-free-firmware updates/non-free"),
        ("Description", "Debian 12 - Security Updates"),
    ], {"main/binary-amd64/Packages": sec})
    ns = [ns_stanza(v) for v in ("20.19.5-1nodesource1", "20.20.2-1nodesource1")]
    nsb = packages_file(lists, "deb.nodesource.com_node%5f20.x_dists_nodistro_main_binary-amd64_Packages", ns, "lz4")
    in_release(os.path.join(lists, "deb.nodesource.com_node%5f20.x_dists_nodistro_InRelease"), [
        ("Origin", ". nodistro"), ("Label", ". nodistro"), ("Suite", "nodistro"), ("Codename", "nodistro"),
        ("Date", "Wed, 26 Nov 2025 14:02:50 UTC"), ("Architectures", "amd64 arm64 armhf"), ("Components", "main"),
        ("Description", "NodeSource Node.js 20.x"),
    ], {"main/binary-amd64/Packages": nsb})
    gc = [stanza("google-cloud-cli", v, template="tar", Maintainer="Google Cloud SDK <gcloud@example.com>")
          for v in ("500.0.0-0", "501.0.0-0")]
    gcb = packages_file(lists, "packages.cloud.google.com_apt_dists_cloud-sdk-bookworm_main_binary-amd64_Packages", gc, "lz4")
    in_release(os.path.join(lists, "packages.cloud.google.com_apt_dists_cloud-sdk-bookworm_InRelease"), [
        ("Origin", "cloud-sdk-bookworm"), ("Label", "cloud-sdk-bookworm"), ("Suite", "cloud-sdk-bookworm"),
        ("Codename", "cloud-sdk-bookworm"), ("Date", "Tue, 25 Nov 2025 12:00:00 UTC"), ("Architectures", "amd64 arm64"),
        ("Components", "main"),
    ], {"main/binary-amd64/Packages": gcb})
    os.makedirs(os.path.join(lists, "partial"), exist_ok=True)
    write(os.path.join(lists, "lock"), "")


def ubuntu():
    root = os.path.join(HERE, "ubuntu-apt")
    shutil.rmtree(root, ignore_errors=True)
    lists = os.path.join(root, "var/lib/apt/lists")
    write(os.path.join(root, "etc/os-release"), open(os.path.join(HERE, "ubuntu/etc/os-release")).read())
    write(os.path.join(root, "etc/apt/sources.list"), """# See http://help.ubuntu.com/community/UpgradeNotes for how to upgrade to
# newer versions of the distribution.
deb http://archive.ubuntu.com/ubuntu/ jammy main restricted
# deb-src http://archive.ubuntu.com/ubuntu/ jammy main restricted
deb http://archive.ubuntu.com/ubuntu/ jammy-updates main restricted
deb http://archive.ubuntu.com/ubuntu/ jammy-backports main restricted universe multiverse
deb http://security.ubuntu.com/ubuntu/ jammy-security main restricted
""")
    # Written by the Ubuntu Pro client when ESM is enabled.
    write(os.path.join(root, "etc/apt/sources.list.d/ubuntu-esm-infra.list"),
          "# Written by ubuntu-pro-client\ndeb https://esm.ubuntu.com/infra/ubuntu jammy-infra-security main\n"
          "# deb-src https://esm.ubuntu.com/infra/ubuntu jammy-infra-security main\n")
    write(os.path.join(root, "etc/apt/sources.list.d/ubuntu-esm-apps.list"),
          "# Written by ubuntu-pro-client\ndeb https://esm.ubuntu.com/apps/ubuntu jammy-apps-security main\n")
    write(os.path.join(root, "var/lib/ubuntu-advantage/status.json"), """{"_doc": "Content provided in json response is currently considered Experimental and may change", "_schema_version": "0.1", "version": "32.3~22.04", "machine_id": "2d1f0e0c5c3a4a0c9f4a6c7e1b2d3e4f", "attached": true, "effective": "2024-03-01T00:00:00+00:00", "expires": "9999-12-31T00:00:00+00:00", "origin": "free", "services": [{"name": "anbox-cloud", "description": "Scalable Android in the cloud", "entitled": "yes", "status": "disabled", "status_details": "Anbox Cloud is not configured", "description_override": null, "available": "no", "blocked_by": [], "warning": null, "variants": {}}, {"name": "esm-apps", "description": "Expanded Security Maintenance for Applications", "entitled": "yes", "status": "enabled", "status_details": "Ubuntu Pro: ESM Apps is active", "description_override": null, "available": "yes", "blocked_by": [], "warning": null, "variants": {}}, {"name": "esm-infra", "description": "Expanded Security Maintenance for Infrastructure", "entitled": "yes", "status": "enabled", "status_details": "Ubuntu Pro: ESM Infra is active", "description_override": null, "available": "yes", "blocked_by": [], "warning": null, "variants": {}}, {"name": "livepatch", "description": "Canonical Livepatch service", "entitled": "yes", "status": "disabled", "status_details": "", "description_override": null, "available": "yes", "blocked_by": [], "warning": null, "variants": {}}], "execution_status": "inactive", "execution_details": "No Ubuntu Pro operations are running", "features": {}, "notices": [], "contract": {"id": "cAbCdEfGhIjKlMnOpQrStUvWxYz", "name": "Ubuntu Pro - free personal subscription", "created_at": "2024-03-01T10:00:00+00:00", "products": ["free"], "tech_support_level": "n/a"}, "account": {"name": "someone@example.org", "id": "aAbBcCdDeEfFgGhHiIjJkKlLmMnN", "created_at": "", "external_account_ids": []}, "simulated": false}
""")
    ub = lambda n, v, t=None: stanza(n, v, template=t or n, Maintainer="Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>",
                                     **{"Original-Maintainer": "Debian Maintainers <debian@example.org>"})
    status = [
        installed(ub("cockpit", "264-1", "tar")),
        installed(ub("cockpit-ws", "300-1~ubuntu22.04.1", "tar")),
        installed(ub("dpkg", "1.21.1ubuntu2.3", "dpkg")),
        installed(ub("hello", "2.10-2ubuntu4", "hello")),
        status_stanza("imagemagick", "8:6.9.11.60+dfsg-1.3ubuntu0.22.04.3", section="graphics"),
        status_stanza("openssl", "3.0.2-0ubuntu1.15", section="utils"),
        status_stanza("python3.10", "3.10.12-1~22.04.3", section="python"),
    ]
    write(os.path.join(root, "var/lib/dpkg/status"), "\n\n".join(status) + "\n")
    def repo(host, path, suite, header, stanzas):
        body = packages_file(lists, f"{host}_{path}_dists_{suite}_main_binary-amd64_Packages", stanzas, "")
        in_release(os.path.join(lists, f"{host}_{path}_dists_{suite}_InRelease"), header, {"main/binary-amd64/Packages": body})
    arch = ("Architectures", "amd64 arm64 armhf i386 ppc64el riscv64 s390x")
    comps = ("Components", "main restricted universe multiverse")
    repo("archive.ubuntu.com", "ubuntu", "jammy", [("Origin", "Ubuntu"), ("Label", "Ubuntu"), ("Suite", "jammy"),
         ("Version", "22.04"), ("Codename", "jammy"), ("Date", "Thu, 21 Apr 2022 17:16:08 UTC"), arch, comps,
         ("Description", "Ubuntu Jammy 22.04")],
         [ub("cockpit", "264-1", "tar"), ub("dpkg", "1.21.1ubuntu2", "dpkg"), ub("hello", "2.10-2ubuntu4", "hello"),
          ub("imagemagick", "8:6.9.11.60+dfsg-1.3build2", "imagemagick"), ub("openssl", "3.0.2-0ubuntu1", "openssl"),
          ub("python3.10", "3.10.4-3", "python3.11")])
    repo("archive.ubuntu.com", "ubuntu", "jammy-updates", [("Origin", "Ubuntu"), ("Label", "Ubuntu"), ("Suite", "jammy-updates"),
         ("Version", "22.04"), ("Codename", "jammy"), ("Date", "Mon, 01 Dec 2025 15:04:11 UTC"), arch, comps,
         ("Description", "Ubuntu Jammy Updates")],
         [ub("dpkg", "1.21.1ubuntu2.3", "dpkg"), ub("openssl", "3.0.2-0ubuntu1.19", "openssl"),
          ub("python3.10", "3.10.12-1~22.04.11", "python3.11")])
    repo("archive.ubuntu.com", "ubuntu", "jammy-backports", [("Origin", "Ubuntu"), ("Label", "Ubuntu"), ("Suite", "jammy-backports"),
         ("Version", "22.04"), ("Codename", "jammy"), ("Date", "Mon, 01 Dec 2025 15:05:02 UTC"), arch, comps,
         ("Description", "Ubuntu Jammy Backports"), ("NotAutomatic", "yes"), ("ButAutomaticUpgrades", "yes")],
         [ub("cockpit", "310-1~ubuntu22.04.1", "tar"), ub("cockpit-ws", "300-1~ubuntu22.04.1", "tar"),
          ub("cockpit-ws", "310-1~ubuntu22.04.1", "tar")])
    repo("security.ubuntu.com", "ubuntu", "jammy-security", [("Origin", "Ubuntu"), ("Label", "Ubuntu"), ("Suite", "jammy-security"),
         ("Version", "22.04"), ("Codename", "jammy"), ("Date", "Mon, 01 Dec 2025 14:51:40 UTC"), arch, comps,
         ("Description", "Ubuntu Jammy Security")],
         [ub("openssl", "3.0.2-0ubuntu1.19", "openssl"), ub("python3.10", "3.10.12-1~22.04.11", "python3.11")])
    repo("esm.ubuntu.com", "infra_ubuntu", "jammy-infra-security", [("Origin", "UbuntuESM"), ("Label", "Ubuntu"),
         ("Suite", "jammy-infra-security"), ("Version", "22.04"), ("Codename", "jammy"),
         ("Date", "Mon, 01 Dec 2025 14:55:00 UTC"), ("Architectures", "amd64 arm64 armhf i386 ppc64el s390x"),
         ("Components", "main"), ("Description", "Ubuntu Jammy Infra Security")], [])
    repo("esm.ubuntu.com", "apps_ubuntu", "jammy-apps-security", [("Origin", "UbuntuESMApps"), ("Label", "Ubuntu"),
         ("Suite", "jammy-apps-security"), ("Version", "22.04"), ("Codename", "jammy"),
         ("Date", "Tue, 02 Dec 2025 09:30:00 UTC"), ("Architectures", "amd64 arm64 armhf i386 ppc64el s390x"),
         ("Components", "main"), ("Description", "Ubuntu Jammy Apps Security")],
         [ub("imagemagick", "8:6.9.11.60+dfsg-1.3ubuntu0.22.04.5+esm1", "imagemagick")])
    os.makedirs(os.path.join(lists, "partial"), exist_ok=True)


if __name__ == "__main__":
    if not os.path.exists(f"{LISTS}/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"):
        sys.exit("needs a Debian 12 machine whose apt keeps lz4 lists (run apt-get update)")
    debian()
    ubuntu()
