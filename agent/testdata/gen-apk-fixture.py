#!/usr/bin/env python3
"""Regenerates agent/testdata/alpine-apk: an Alpine 3.20 host's apk configuration, installed
database and cached repository indexes in apk's real formats:

- /var/cache/apk/APKINDEX.<hash>.tar.gz, named as apk-tools 2 names them (the first 4 bytes
  of SHA-1 of "<repository URL>/<arch>/APKINDEX.tar.gz", in hex); each is two gzip streams:
  a tar segment holding the index signature (.SIGN.RSA.<key>.rsa.pub, no end-of-archive
  blocks, as abuild-sign writes it) and the index tar (DESCRIPTION, APKINDEX);
- /lib/apk/db/installed and APKINDEX in apk's "X:value" stanza format.

The signature bytes are dummies: apk checks them when it downloads an index, the agent never.
Usage: python3 agent/testdata/gen-apk-fixture.py   (from the repository root)
"""
import gzip, hashlib, io, os, shutil, tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "alpine-apk")
ARCH = "x86_64"
MIRROR = "https://dl-cdn.alpinelinux.org/alpine"
BUILD = 1730000000  # 2024-10-27: when the indexes were built


def pkg(name, version, origin=None, arch=ARCH, deps="", desc=None, size=100000):
    origin = origin or name
    c = "Q1" + hashlib.sha1(f"{name}-{version}".encode()).digest().hex()[:27]
    lines = [f"C:{c}=", f"P:{name}", f"V:{version}", f"A:{arch}", f"S:{size}", f"I:{size * 3}",
             f"T:{desc or name + ' package'}", "U:https://example.org/" + name, "L:MIT", f"o:{origin}",
             "m:Natanael Copa <ncopa@alpinelinux.org>", f"t:{BUILD - 86400}",
             "c:" + hashlib.sha1(f"commit-{name}".encode()).hexdigest()]
    if deps:
        lines.append("D:" + deps)
    lines.append(f"p:cmd:{name}={version}")
    return lines


def installed(lines, files=()):
    """An installed-database stanza: the index stanza plus files and their checksums."""
    out = list(lines)
    for d, fs in files:
        out.append(f"F:{d}")
        out.append("M:0:0:755")
        for f in fs:
            out.append(f"R:{f}")
            out.append("a:0:0:755")
            out.append("Z:Q1" + hashlib.sha1(f.encode()).digest().hex()[:27] + "=")
    return out


def tar_member(name, data, mtime):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mtime, ti.mode, ti.uname, ti.gname = len(data), mtime, 0o644, "buildozer", "buildozer"
    buf = ti.tobuf(format=tarfile.GNU_FORMAT)
    pad = (512 - len(data) % 512) % 512
    return buf + data + b"\0" * pad


def apkindex(repo_url, description, stanzas):
    sig = tar_member(".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub", bytes(range(256)) * 2, BUILD)
    index = "\n\n".join("\n".join(s) for s in stanzas) + "\n\n"
    body = io.BytesIO()
    with tarfile.open(fileobj=body, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in (("DESCRIPTION", description.encode()), ("APKINDEX", index.encode())):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode, ti.uname, ti.gname = len(data), BUILD, 0o644, "buildozer", "buildozer"
            t.addfile(ti, io.BytesIO(data))
    full = repo_url + "/" + ARCH + "/APKINDEX.tar.gz"
    name = "APKINDEX." + hashlib.sha1(full.encode()).hexdigest()[:8] + ".tar.gz"
    path = os.path.join(ROOT, "var/cache/apk", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(gzip.compress(sig, mtime=0))  # signature segment: its own gzip stream
        f.write(gzip.compress(body.getvalue(), mtime=0))


def write(p, s):
    p = os.path.join(ROOT, p)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(s)


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    write("etc/os-release", 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n'
          'HOME_URL="https://alpinelinux.org/"\nBUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"\n')
    write("etc/alpine-release", "3.20.3\n")
    write("etc/apk/arch", ARCH + "\n")
    write("etc/apk/repositories", f"{MIRROR}/v3.20/main\n{MIRROR}/v3.20/community\n#{MIRROR}/edge/community\n"
          f"@edge {MIRROR}/edge/main\n@testing {MIRROR}/edge/testing\n")
    write("etc/apk/world", "alpine-base\nbusybox\nnginx=1.26.2-r0\nnodejs@edge\nopenssl\npy3-mytool\n")
    main_ = [pkg("musl", "1.2.5-r0"), pkg("busybox", "1.36.1-r29"), pkg("openssl", "3.3.2-r0"),
             pkg("openssl", "3.3.2-r1"), pkg("libcrypto3", "3.3.2-r1", origin="openssl"),
             pkg("nginx", "1.26.2-r0"), pkg("nginx", "1.26.2-r1"), pkg("alpine-base", "3.20.3-r0", arch="noarch"),
             pkg("zlib", "1.3.1-r1")]
    apkindex(f"{MIRROR}/v3.20/main", "v3.20.3-185-g5c7b5ae6b1e", main_)
    apkindex(f"{MIRROR}/v3.20/community", "v3.20.3-186-gd3f4e2a1b90",
             [pkg("nodejs", "20.15.1-r0"), pkg("htop", "3.3.0-r0")])
    apkindex(f"{MIRROR}/edge/main", "v20241027-1702-g8a7b6c5d4e3",
             [pkg("busybox", "1.37.0-r5"), pkg("nodejs", "22.11.0-r0"), pkg("nodejs", "22.12.0-r0"),
              pkg("openssl", "3.4.0-r2")])
    apkindex(f"{MIRROR}/edge/testing", "v20241027-1702-g8a7b6c5d4e3", [pkg("py3-mytool", "0.2-r0")])
    db = [
        installed(pkg("alpine-base", "3.20.3-r0", arch="noarch")),
        installed(pkg("busybox", "1.36.1-r29"), [("bin", ["busybox"])]),
        installed(pkg("libcrypto3", "3.3.2-r0", origin="openssl"), [("lib", ["libcrypto.so.3"])]),
        installed(pkg("musl", "1.2.5-r0"), [("lib", ["ld-musl-x86_64.so.1"])]),
        installed(pkg("nginx", "1.26.2-r0"), [("usr/sbin", ["nginx"])]),
        installed(pkg("nodejs", "22.11.0-r0"), [("usr/bin", ["node"])]),
        installed(pkg("openssl", "3.3.2-r0"), [("usr/bin", ["openssl"])]),
        # Built and installed locally (apk add --allow-untrusted ./py3-mytool-0.1-r0.apk).
        installed(pkg("py3-mytool", "0.1-r0", arch="noarch")),
        installed(pkg("zlib", "1.3.1-r1"), [("lib", ["libz.so.1"])]),
    ]
    write("lib/apk/db/installed", "\n\n".join("\n".join(s) for s in db) + "\n\n")


if __name__ == "__main__":
    main()
