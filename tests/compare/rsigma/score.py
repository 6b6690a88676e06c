#!/usr/bin/env python3
"""Score both engines' output against the generator's truth file.

  score.py TRUTH RSIGMA_OUT DUMPWATCH_OUT [--json FILE]

rsigma: every correlation result line (rule id of the temporal rule) is keyed
by its group key (Hostname, User).  dumpwatch: findings of analytic AN0677,
unique by finding_info.uid (an update repeats the uid; the last line of a uid
is its final state), keyed by its host and user entities.  A key is matched to
the truth item with the same host and account; each engine gets, per kind of
truth item, how many items it reported, plus reports that match no item.
"""

import argparse
import json
import sys

CORR_RULE_ID = "acd686e2-ba48-4082-bab1-7a5e19eb081c"
KINDS = ["chain", "late_export", "exec_egress", "export_egress", "exec_alone", "agent_backup"]


def short_host(h):
    return h.split(".")[0].lower()


def short_user(u):
    return u.split("\\")[-1].lower()


def load_truth(path):
    t = json.load(open(path))
    by_key = {}
    for item in t["items"]:
        by_key[(short_host(item["host"]), short_user(item["user"]))] = item
    return t, by_key


def rsigma_reports(path):
    lines = 0
    keys = {}
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        d = json.loads(line)
        if d.get("rule_id") != CORR_RULE_ID:
            continue
        lines += 1
        g = dict(d.get("group_key", []))
        k = (short_host(g.get("Hostname", "")), short_user(g.get("User", "")))
        keys[k] = keys.get(k, 0) + 1
    return lines, keys


def dumpwatch_reports(path):
    lines = 0
    final = {}
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        d = json.loads(line)
        fi = d.get("finding_info", {})
        if fi.get("analytic", {}).get("uid") != "AN0677":
            continue
        lines += 1
        final[fi["uid"]] = d
    keys = {}
    legs = {}
    for uid, d in final.items():
        ent = d.get("unmapped", {}).get("entities", {})
        k = (short_host(ent.get("host", "")), short_user(ent.get("user", "")))
        keys[k] = keys.get(k, 0) + 1
        legs[k] = d.get("unmapped", {}).get("legs", [])
    return lines, len(final), keys, legs


def tally(keys, truth_by_key):
    per_kind = {k: 0 for k in KINDS}
    unknown = []
    for k in keys:
        item = truth_by_key.get(k)
        if item is None:
            unknown.append("%s/%s" % k)
        else:
            per_kind[item["kind"]] += 1
    return per_kind, unknown


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("truth")
    ap.add_argument("rsigma_out")
    ap.add_argument("dumpwatch_out")
    ap.add_argument("--json", help="write the scores here as JSON")
    a = ap.parse_args()

    truth, by_key = load_truth(a.truth)
    planted = {k: sum(1 for i in truth["items"] if i["kind"] == k) for k in KINDS}

    rs_lines, rs_keys = rsigma_reports(a.rsigma_out)
    rs_kind, rs_unknown = tally(rs_keys, by_key)
    dw_lines, dw_uids, dw_keys, dw_legs = dumpwatch_reports(a.dumpwatch_out)
    dw_kind, dw_unknown = tally(dw_keys, by_key)
    dw_egress = sum(1 for k, l in dw_legs.items()
                    if "egress" in l and by_key.get(k, {}).get("kind") == "chain")

    out = {
        "planted": planted,
        "rsigma": {"correlation_lines": rs_lines, "distinct_groups": len(rs_keys),
                   "by_kind": rs_kind, "unattributed": rs_unknown},
        "dumpwatch": {"finding_lines": dw_lines, "unique_findings": dw_uids,
                      "by_kind": dw_kind, "unattributed": dw_unknown,
                      "chains_with_egress_leg": dw_egress},
    }
    w = sys.stdout.write
    w("%-16s %8s %8s %10s\n" % ("truth kind", "planted", "rsigma", "dumpwatch"))
    for k in KINDS:
        w("%-16s %8d %8d %10d\n" % (k, planted[k], rs_kind[k], dw_kind[k]))
    w("%-16s %8s %8d %10d\n" % ("unattributed", "-", len(rs_unknown), len(dw_unknown)))
    w("rsigma: %d correlation lines, %d distinct (Hostname, User) groups\n" % (rs_lines, len(rs_keys)))
    w("dumpwatch: %d AN0677 finding lines, %d unique finding uids, %d of the chains with the egress leg\n"
      % (dw_lines, dw_uids, dw_egress))
    ok_rs = rs_kind["chain"] == planted["chain"] and sum(rs_kind.values()) == rs_kind["chain"] and not rs_unknown
    ok_dw = dw_kind["chain"] == planted["chain"] and sum(dw_kind.values()) == dw_kind["chain"] and not dw_unknown
    w("rsigma: %s\n" % ("all planted chains, no near miss, nothing else" if ok_rs else "MISMATCH"))
    w("dumpwatch: %s\n" % ("all planted chains, no near miss, nothing else" if ok_dw else "MISMATCH"))
    out["rsigma"]["exact"] = ok_rs
    out["dumpwatch"]["exact"] = ok_dw
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
