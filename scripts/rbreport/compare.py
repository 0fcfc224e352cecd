# SPDX-License-Identifier: BSD-3-Clause
"""Side-by-side comparison of runs (rb-report --compare A B [C...]):
pairing, ratios and noise-aware regression flags (docs/report.md,
"Comparison")."""
import os

from . import charts, gp, model
from .results import InputError, _num

# Settings that must be equal for a difference to be judged; others
# (transport, algorithm, hosts) are what a comparison is usually about.
JUDGED_SAME = ("dtype", "redop", "nranks", "stat")
LISTED = ("transport", "algo", "dtype", "redop", "nranks", "nnodes", "stat", "iters", "check")


def spread(rec):
    """Relative spread of a row's per-iteration times: (p99 - p50) / p50."""
    p50, p99 = _num(rec.get("time_p50_us")), _num(rec.get("time_p99_us"))
    if not p50 or p99 is None or p50 <= 0:
        return 0.0
    return max(0.0, (p99 - p50) / p50)


def judge(a, b, floor):
    """Ratio of B's speed to A's at one size (A's median time over B's) and
    the flag: 'regression' below 1/(1+t), 'improvement' above 1+t, where
    t = max(floor, spread(A) + spread(B)); else 'noise'."""
    ta = _num(a.get("time_p50_us")) or _num(a.get("time_us"))
    tb = _num(b.get("time_p50_us")) or _num(b.get("time_us"))
    if not ta or not tb:
        return None, None, None
    t = max(floor, spread(a) + spread(b))
    r = ta / tb
    flag = "regression" if r < 1.0 / (1.0 + t) else "improvement" if r > 1.0 + t else "noise"
    return r, t, flag


def match(run, others):
    """The run of others that best matches run: same collective, then the
    same transport and algorithm, then the same transport; else the only
    run of that collective. None when there is none or it is ambiguous."""
    same = [o for o in others if o.collective == run.collective]
    for key in (lambda o: (o.transport, o.algo), lambda o: o.transport):
        hit = [o for o in same if key(o) == key(run)]
        if len(hit) == 1:
            return hit[0]
    return same[0] if len(same) == 1 else None


def differences(a, b):
    out = []
    for k in LISTED:
        va, vb = a.meta.get(k), b.meta.get(k)
        if va != vb:
            out.append({"key": k, "a": va, "b": vb, "judged": k not in JUDGED_SAME})
    return out


def side_label(i, path, runs):
    ids = sorted({str(r.get("run_id", "?")) for r in runs})
    path = gp.clean_text(path)
    return {"letter": chr(ord("A") + i), "path": path, "run_ids": ids,
            "name": os.path.basename(os.path.normpath(path)) or path}


def build(sides, title, floor):
    """sides: [(path, runs)], the first the baseline. Raises InputError
    when nothing is comparable."""
    labels = [side_label(i, p, rs) for i, (p, rs) in enumerate(sides)]
    base = sides[0][1]
    pairs = []
    for j in range(1, len(sides)):
        for a in base:
            b = match(a, sides[j][1])
            if b is None:
                continue
            rows = []
            sa = {x["size_bytes"]: x for x in a.rows()}
            sb = {x["size_bytes"]: x for x in b.rows()}
            diff = differences(a, b)
            judged = not any(not d["judged"] for d in diff)
            for size in sorted(set(sa) & set(sb)):
                r, t, flag = judge(sa[size], sb[size], floor)
                if r is None:
                    continue
                rows.append({"size": model.size_text(size), "size_bytes": size,
                             "a_busbw": model.fmt(sa[size].get("busbw_gbps")),
                             "b_busbw": model.fmt(sb[size].get("busbw_gbps")),
                             "a_p50": model.fmt(sa[size].get("time_p50_us"), 2),
                             "b_p50": model.fmt(sb[size].get("time_p50_us"), 2),
                             "ratio": "%.3f" % r, "threshold": "%.0f %%" % (100 * t),
                             "flag": flag if judged else "not judged"})
            if rows:
                pairs.append({"a": a, "b": b, "side": j, "rows": rows, "diff": diff,
                              "judged": judged})
    if not pairs:
        have = ["%s: %s" % (lb["letter"], ", ".join(sorted({r.collective for r in rs})) or "no runs")
                for lb, (_, rs) in zip(labels, sides)]
        raise InputError("nothing comparable: no collective with common sizes in %s"
                         % "; ".join(have))
    colls = {}
    for p in pairs:
        colls.setdefault(p["a"].collective, []).append(p)
    sections = []
    for c, ps in sorted(colls.items()):
        runs, lbls = [ps[0]["a"]], ["A: " + charts.legends([ps[0]["a"]])[0]]
        for p in ps:
            if p["a"] is not ps[0]["a"]:
                continue
            runs.append(p["b"])
            lbls.append("%s: %s" % (labels[p["side"]]["letter"], charts.legends([p["b"]])[0]))
        if len(set(lbls)) != len(lbls):
            lbls = ["%s (%s)" % (lb, labels[i]["name"]) for i, lb in enumerate(lbls)]
        key = "k%d" % len(sections)
        sections.append({"id": "cmp-%d" % len(sections), "name": gp.pretty_coll(c),
                         "charts": model.chart_block(runs, key, labels=lbls),
                         "pairs": [{"a": p["a"].label + " " + p["a"].algo,
                                    "b": p["b"].label + " " + p["b"].algo,
                                    "letter": labels[p["side"]]["letter"], "rows": p["rows"],
                                    "diff": p["diff"], "judged": p["judged"]} for p in ps]})
    flags = [r["flag"] for p in pairs for r in p["rows"]]
    nreg = flags.count("regression")
    unmatched = []
    for j in range(1, len(sides)):
        got = {id(p["a"]) for p in pairs if p["side"] == j}
        unmatched += ["%s has no counterpart in %s" % (a.label, labels[j]["letter"])
                      for a in base if id(a) not in got]
    every = [r for _, rs in sides for r in rs]
    return {
        "title": title, "mode": "compare", "sides": labels, "sections": sections,
        "verdict": "REGRESSION" if nreg else "NO REGRESSION",
        "regressions": nreg, "improvements": flags.count("improvement"),
        "not_judged": flags.count("not judged"), "compared": len(flags), "floor": floor,
        "unmatched": unmatched,
        "incomplete": [{"file": r.path, "reason": r.reason} for r in every if not r.complete],
        "repro": [model.repro(r) for r in every],
    }
