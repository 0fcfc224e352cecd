# SPDX-License-Identifier: BSD-3-Clause
"""Which curves a set of runs draws: legends, colours, titles and the
reference lines (docs/results.md "Charts", docs/report.md)."""
import os

from .gp import pretty_coll


def _unique(labels):
    return len(set(labels)) == len(labels)


def legends(runs):
    """One legend per run: "<transport> <collective> n=<nranks>", with the
    algorithm, then the run id, then file names when needed to tell two
    apart."""
    tries = [
        lambda r: "%s %s n=%s" % (r.transport, r.collective, r.get("nranks", "?")),
        lambda r: "%s %s %s n=%s" % (r.transport, r.collective, r.algo, r.get("nranks", "?")),
        lambda r: "%s %s %s n=%s (%s)" % (r.transport, r.collective, r.algo,
                                          r.get("nranks", "?"), r.get("run_id", "?")),
        lambda r: os.path.basename(r.path),
        lambda r: os.path.join(os.path.basename(os.path.dirname(r.path)),
                               os.path.basename(r.path)),
    ]
    for t in tries:
        out = [t(r) for r in runs]
        if _unique(out):
            return out
    return [r.path for r in runs]


def series(runs, inplace=False, labels=None):
    """Curves of runs: out-of-place (and in-place) rows, one colour per run."""
    labels = labels or legends(runs)
    out = []
    for i, (r, lbl) in enumerate(zip(runs, labels), 1):
        for pl, ip in (("out-of-place", False), ("in-place", True)):
            if ip and not inplace:
                continue
            rows = r.rows(pl)
            pts = [(float(x["size_bytes"]), float(x.get("time_us") or 0),
                    float(x.get("busbw_gbps") or 0)) for x in rows if x["size_bytes"] > 0]
            if not pts:
                continue
            wrong = sum(x["wrong"] for x in rows if isinstance(x.get("wrong"), int) and x["wrong"] > 0)
            name = lbl + (" (in-place)" if ip else "")
            if wrong:
                name += " (#wrong %d)" % wrong
            out.append({"label": name, "group": i, "inplace": ip, "points": pts})
    return out


def titles(runs):
    """Default (busbw title, time title)."""
    colls = list(dict.fromkeys(pretty_coll(r.collective) for r in runs))
    tps = list(dict.fromkeys(r.transport for r in runs))
    ns = list(dict.fromkeys(str(r.get("nranks", "?")) for r in runs))
    if len(ns) == 1:
        rk = "1 rank" if ns[0] == "1" else "%s ranks" % ns[0]
    else:
        rk = "%s ranks" % ", ".join(ns)
    what = ", ".join(colls)
    how = "%s, %s" % (" vs ".join(tps), rk)
    return ("%s bus bandwidth: %s" % (what, how),
            "%s time per operation: %s" % (what, how))


def busbw_factor(coll, n):
    if not isinstance(n, int) or n < 1:
        return None
    if coll == "allreduce":
        return 2.0 * (n - 1) / n
    if coll in ("allgather", "alltoall"):
        return (n - 1.0) / n
    return 1.0


def references(runs, series_):
    """Reference curves: the line rate on the busbw chart, and the ideal
    time at line rate on the time chart (docs/report.md), one per distinct
    line rate (and busbw factor), for the runs whose line rate is known."""
    refs = []
    xs = sorted({p[0] for s in series_ for p in s["points"]})
    if not xs:
        return refs
    seen = set()
    for r in runs:
        lr = r.line_rate_gbps()
        f = busbw_factor(r.collective, r.get("nranks"))
        if not lr:
            continue
        if ("busbw", lr) not in seen:
            seen.add(("busbw", lr))
            refs.append({"chart": "busbw", "label": "line rate %.3g GB/s" % lr,
                         "points": [(xs[0], lr), (xs[-1], lr)]})
        if f and ("time", lr, f) not in seen:
            seen.add(("time", lr, f))
            # busbw = algbw x factor and algbw = size / time, so at line
            # rate time = size x factor / line rate.
            refs.append({"chart": "time", "label": "ideal at line rate %.3g GB/s" % lr,
                         "points": [(x, x * f / (lr * 1e9) * 1e6) for x in xs]})
    return refs
