#!/usr/bin/env python3
"""Derive expected verdicts for real versions straight from the endoflife.date
extract, independently of the Go code (which must agree with them).

    python3 catalog/testdata/gen_real_verdicts.py ../shared/data/endoflife > catalog/testdata/real-verdicts.jsonl

The rules are the design's, re-implemented plainly: a version belongs to the
cycle whose name is the longest run of its leading numeric components; a cycle
is past end of life only on the day after its eol date; "latest" as of a date
is the greatest version of the cycle (releases.json plus products.json's
latest) dated on or before it; the patch grace period is 30 days after the
first newer patch; the warning window is 90 days.
"""
import datetime as dt
import json
import random
import re
import sys

src = sys.argv[1]
products = {p["name"]: p for p in json.load(open(f"{src}/products.json"))["products"]}
releases = json.load(open(f"{src}/releases.json"))["products"]

VER = re.compile(r"^(\d+(?:\.\d+)*)([a-z]{0,2})$")


def key(v):
    m = VER.match(v)
    nums = [int(x) for x in m.group(1).split(".")]
    while len(nums) > 1 and nums[-1] == 0:
        nums.pop()
    return (tuple(nums), m.group(2))


def comps(v):
    return [int(x) for x in VER.match(v).group(1).split(".")]


def D(s):
    return dt.date.fromisoformat(s)


def cycle_of(prod, v):
    vc = comps(v)
    best, blen = None, 0
    for i, c in enumerate(prod["releases"]):
        if not re.fullmatch(r"\d+(\.\d+)*", c["name"]):
            continue
        cc = [int(x) for x in c["name"].split(".")]
        pad = vc + [0] * max(0, len(cc) - len(vc))
        if pad[: len(cc)] == cc and len(cc) > blen:
            best, blen = i, len(cc)
    return best


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
    if prod is None or not all(VER.match(v) for v, _ in vers):
        continue  # keep to products whose every release is plain dotted (+ letter suffix)
    if any(c["latest"] and not VER.match(c["latest"]) for c in prod["releases"]):
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
        best = None
        for v, d in known.get(ci, {}).items():
            if d is None or D(d) <= day:
                if best is None or key(v) > key(best):
                    best = v
        return best

    def target(ci, day):
        return latest_asof(ci, day) or prod["releases"][ci]["name"]

    order = sorted(range(len(prod["releases"])), key=lambda i: (D(prod["releases"][i]["releaseDate"]), -i))

    def newest(day):
        cands = [i for i in order if D(prod["releases"][i]["releaseDate"]) <= day]
        return target(cands[-1], day) if cands else ""

    def upgrade(cur, day):
        # the latest patch of the oldest cycle still supported on that day
        for i in order:
            c = prod["releases"][i]
            if D(c["releaseDate"]) > day:
                break
            if i != cur and not ended(c["eol"], day):
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
            exp = {"product": name, "version": v, "as_of": day.isoformat(), "cycle": c["name"], "eol": c["eol"]}
            lat = latest_asof(ci, day)
            exp["latest"] = lat or ""
            if lat is None:
                patch = "unknown"
            elif key(lat) <= key(v):
                lc, vc = comps(lat), comps(v)
                coarse = key(lat) < key(v) and len(lc) < len(vc) and vc[: len(lc)] == lc and not VER.match(lat).group(2)
                patch = "unknown" if coarse else "current"
            else:
                newer = [d for w, d in known[ci].items() if key(w) > key(v)]
                dated = [D(d) for d in newer if d]
                first = min(dated) if dated else None
                if first is not None and first <= day:
                    patch = "overdue" if (day - first).days > 30 else "available"
                elif any(d is None for d in newer):
                    patch = "available"
                else:
                    patch = "current"
            exp["patch"] = patch
            days = (D(c["eol"]) - day).days if isinstance(c["eol"], str) else None
            exp["days_to_eol"] = days
            if ended(c["eol"], day):
                exp["support"] = "eol"
                exp["phase"] = "extended" if ("eoes" in c and c["eoes"] is not True and not ended(c["eoes"], day)) else "eol"
                exp["status"] = "eol"
                exp["upgrade_to"] = upgrade(ci, day)
            else:
                exp["support"] = "supported"
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
