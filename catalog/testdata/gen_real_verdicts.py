#!/usr/bin/env python3
"""Derive expected verdicts for real versions straight from the endoflife.date
extract, independently of the Go code (which must agree with them).

    python3 catalog/testdata/gen_real_verdicts.py ../shared/data/endoflife > catalog/testdata/real-verdicts.jsonl

The rules are the design's, re-implemented plainly: a version belongs to the
cycle whose name is the longest run of its leading numeric components; a cycle
is past end of life only on the day after its eol date; "latest" as of a date
is the greatest version of the cycle (releases.json plus products.json's
latest) dated on or before it (an undated one counts from the cycle's release); the patch grace period is 30 days after the
first newer patch; the warning window is 90 days. Extended support (eoes) keeps a cycle supported only for the products whose
programme is free (Debian LTS), and then eol and days_to_eol are its end; upgrade_to after the end of support is the latest
patch of the oldest supported line (by release date) that is newer than the install's (by the numbers of its name), never an
older line.
"""
import datetime as dt
import json
import random
import re
import sys

src = sys.argv[1]
products = {p["name"]: p for p in json.load(open(f"{src}/products.json"))["products"]}
releases = json.load(open(f"{src}/releases.json"))["products"]

VER = re.compile(r"^(\d+(?:\.\d+)*)(?: ?([a-z]+)\.?(\d*))?$")
PRE = {"a", "b", "c", "rc", "alpha", "beta", "pre", "dev", "m"}
JAVA = {"eclipse-temurin", "oracle-jdk"}
FREE = {"debian", "apache-pulsar"}  # free extended-support programmes, counted by the default policy


def jparse(v):
    """Java spellings: 8u392-b08, 8u422-b05.1, 6u22m, 1.8.0_392, 1.4.2_42, 1.1.8_010, 17.0.9+9, 21.0.12.1+1, 5.0u85.
    Returns (numeric components, (build numbers, letter suffix))."""
    m = re.match(r"^(\d+)u(\d+)([a-z]?)(?:-b(\d+(?:\.\d+)*))?$", v)
    if m:
        build = tuple(int(x) for x in m.group(4).split(".")) if m.group(4) else (-1,)
        return [int(m.group(1)), 0, int(m.group(2))], (build, m.group(3))
    m = re.match(r"^1\.([2-8])(?:\.(\d+))?(?:_(\d+))?(?:-b(\d+))?$", v)
    if m:
        return [int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)], ((int(m.group(4) or -1),), "")
    m = re.match(r"^1\.1\.(\d+)_(\d+)$", v)
    if m:
        return [1, 1, int(m.group(1))], ((int(m.group(2)),), "")
    m = re.match(r"^(\d+(?:\.\d+)*)u(\d+)$", v)
    if m:
        return [int(x) for x in m.group(1).split(".")], ((int(m.group(2)),), "")
    m = re.match(r"^(\d+(?:\.\d+)*)(?:\+(\d+(?:\.\d+)*))?$", v)
    if m:
        build = tuple(int(x) for x in m.group(2).split(".")) if m.group(2) else (-1,)
        return [int(x) for x in m.group(1).split(".")], (build, "")
    return None


def ok(prod, v):
    if prod in JAVA:
        return jparse(v) is not None
    m = VER.match(v)
    return bool(m) and not (m.group(2) in PRE and m.group(3))


def key(v, prod=""):
    if prod in JAVA:
        nums, build = jparse(v)
        tail = build
    else:
        m = VER.match(v)
        nums = [int(x) for x in m.group(1).split(".")]
        tail = (m.group(2) or "", int(m.group(3) or -1))
    nums = list(nums)
    while len(nums) > 1 and nums[-1] == 0:
        nums.pop()
    return (tuple(nums), tail)


def comps(v, prod=""):
    if prod in JAVA:
        return jparse(v)[0]
    return [int(x) for x in VER.match(v).group(1).split(".")]


def D(s):
    return dt.date.fromisoformat(s)


def cycle_of(prod, v):
    vc = comps(v, prod["name"])
    best, blen = None, 0
    for i, c in enumerate(prod["releases"]):
        if not re.fullmatch(r"\d+(\.\d+)*", c["name"]):
            continue
        cc = [int(x) for x in c["name"].split(".")]
        if prod["name"] in JAVA and re.fullmatch(r"1\.[2-8]", c["name"]):
            cc = [int(c["name"][2])]
        pad = vc + [0] * max(0, len(cc) - len(vc))
        if pad[: len(cc)] == cc and len(cc) > blen:
            best, blen = i, len(cc)
    return best


def support_end(prod, c):
    """The end of support under the default policy: eoes when the programme is free and runs past eol."""
    if prod["name"] in FREE and "eoes" in c and c["eoes"] is not True:
        e, o = c["eoes"], c["eol"]
        if e is False or o is True or (o is not False and D(e) > D(o)):
            return e
    return c["eol"]


def numeric_name(c):
    return [int(x) for x in c["name"].split(".")]


def newer_line(a, b):
    """Cycle a is a newer release line than b: by the numbers of its name, then by release date."""
    x, y = numeric_name(a), numeric_name(b)
    n = max(len(x), len(y))
    x, y = x + [0] * (n - len(x)), y + [0] * (n - len(y))
    if x != y:
        return x > y
    return D(a["releaseDate"]) > D(b["releaseDate"])


def ended(val, day):
    if val is True:
        return True
    if val is False or val is None:
        return False
    return day > D(val)


rng = random.Random(20250112)
cases = []
for name in sorted(releases):
    prod = products.get(name)
    vers = releases[name]["versions"]
    if prod is None or not all(ok(name, v) for v, _ in vers):
        continue  # keep to products whose every release this script can order
    if any(c["latest"] and not ok(name, c["latest"]) for c in prod["releases"]):
        continue
    if any(not re.fullmatch(r"\d+(\.\d+)*", c["name"]) for c in prod["releases"]):
        continue
    known = {}  # cycle index -> {version: date or None}
    for v, d in vers:
        ci = cycle_of(prod, v)
        if ci is not None:
            known.setdefault(ci, {})[v] = d
    for i, c in enumerate(prod["releases"]):
        if c["latest"]:
            known.setdefault(i, {}).setdefault(c["latest"], c["latestReleaseDate"])

    def latest_asof(ci, day):
        # an undated version is known from its cycle's release date
        best = None
        rel = D(prod["releases"][ci]["releaseDate"])
        for v, d in known.get(ci, {}).items():
            if (d is None and rel <= day) or (d is not None and D(d) <= day):
                if best is None or key(v, name) > key(best, name):
                    best = v
        return best

    def target(ci, day):
        return latest_asof(ci, day) or prod["releases"][ci]["name"]

    order = sorted(range(len(prod["releases"])), key=lambda i: (D(prod["releases"][i]["releaseDate"]), -i))

    def newest(day):
        cands = [i for i in order if D(prod["releases"][i]["releaseDate"]) <= day]
        return target(cands[-1], day) if cands else ""

    def upgrade(cur, day):
        # the latest patch of the oldest newer cycle still supported on that day
        for i in order:
            c = prod["releases"][i]
            if D(c["releaseDate"]) > day:
                break
            if i != cur and not ended(support_end(prod, c), day) and newer_line(c, prod["releases"][cur]):
                return target(i, day)
        return ""

    sample = [v for v in vers if v[1] and cycle_of(prod, v[0]) is not None]
    for v, rd in rng.sample(sample, min(len(sample), 9)):
        ci = cycle_of(prod, v)
        c = prod["releases"][ci]
        dates = [D(rd), D(rd) + dt.timedelta(days=40), D(rd) + dt.timedelta(days=rng.randint(1, 2000))]
        if isinstance(c["eol"], str):
            dates += [D(c["eol"]), D(c["eol"]) + dt.timedelta(days=1)]
        for day in dates:
            if day > dt.date(2026, 8, 22):
                continue
            end = support_end(prod, c)
            exp = {"product": name, "version": v, "as_of": day.isoformat(), "cycle": c["name"], "eol": end}
            lat = latest_asof(ci, day)
            exp["latest"] = lat or ""
            if lat is None:
                patch = "unknown"
            elif key(lat, name) <= key(v, name):
                lc, vc = comps(lat, name), comps(v, name)
                plain = key(lat, name)[1] in (((-1,), ""), ("", -1))
                coarse = key(lat, name) < key(v, name) and len(lc) < len(vc) and vc[: len(lc)] == lc and plain
                patch = "unknown" if coarse else "current"
            else:
                newer = [d for w, d in known[ci].items() if key(w, name) > key(v, name)]
                dated = [D(d) for d in newer if d]
                first = min(dated) if dated else None
                if first is not None and first <= day:
                    patch = "overdue" if (day - first).days > 30 else "available"
                elif any(d is None for d in newer):
                    patch = "available"
                else:
                    patch = "current"
            exp["patch"] = patch
            days = (D(end) - day).days if isinstance(end, str) else None
            exp["days_to_eol"] = days
            if ended(end, day):
                exp["support"] = "eol"
                exp["phase"] = "extended" if ("eoes" in c and c["eoes"] is not True and not ended(c["eoes"], day)) else "eol"
                exp["status"] = "eol"
                exp["upgrade_to"] = upgrade(ci, day)
            else:
                exp["support"] = "supported"
                if ended(c["eol"], day):
                    exp["phase"] = "extended"
                else:
                    exp["phase"] = "security" if ended(c.get("eoas"), day) else "active"
                if patch == "overdue":
                    exp["status"] = "patch-overdue"
                elif days is not None and days <= 90:
                    exp["status"] = "eol-soon"
                elif patch == "available":
                    exp["status"] = "patch-available"
                else:
                    exp["status"] = "current"
            exp["newest"] = newest(day)
            cases.append(exp)

for e in cases:
    print(json.dumps(e, sort_keys=True))
print(f"{len(cases)} cases", file=sys.stderr)
