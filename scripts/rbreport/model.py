# SPDX-License-Identifier: BSD-3-Clause
"""What the report shows, computed from the loaded results: the summary a
buyer reads first, per-collective sections, topology, qualification heat
maps and reproducibility (docs/report.md). Pure data: no HTML here."""
import json

from . import charts, gp
from .results import _num

# Record keys the per-size tables show as named columns; any other key a
# record carries is shown too, after them (fields added later).
KNOWN_ROW = ["size_bytes", "count", "time_us", "time_p50_us", "time_p99_us",
             "algbw_gbps", "busbw_gbps", "wrong"]
HIDDEN_ROW = {"collective", "transport", "algo", "nranks", "placement", "dtype", "redop",
              "stat", "time_min_us", "time_max_us", "rankmax_us", "rankmax_min_us",
              "rankmax_max_us", "rankmax_p50_us", "rankmax_p99_us", "rankavg_us",
              "rankavg_min_us", "rankavg_max_us", "rankavg_p50_us", "rankavg_p99_us",
              "warmup_iters", "warmup_stable", "warmup_windows", "warmup_ms"}
KNOWN_SUMMARY = {"complete", "avg_busbw_gbps", "peak_busbw_gbps", "wrong_total", "pass",
                 "exit_status", "warmup_min_iters", "warmup_max_iters",
                 "warmup_unstable_rows", "failure", "reason", "verdict"}
KNOWN_META = {"collective", "transport", "algo", "algo_note", "nranks", "nnodes", "dtype",
              "redop", "hosts", "ranks", "command_line", "version", "git", "build", "kernel",
              "mpi_library", "hwloc", "jansson", "run_id", "started", "iters", "warmup",
              "warmup_iters", "warmup_rule", "stat", "check", "timeout_s",
              "topology_findings", "priming", "expect_busbw_gbps"}
SEVERITY = {"PASS": 0, "WARN": 1, "INCOMPLETE": 2, "FAIL": 3}


def size_text(b):
    """Bytes with binary prefixes, as the -b/-e options read them."""
    if not isinstance(b, (int, float)):
        return "?"
    for unit, k in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= k and b % k == 0:
            return "%d %s" % (b // k, unit)
    return "%d B" % b


def fmt(v, prec=3):
    v = _num(v)
    return "-" if v is None else "%.*f" % (prec, v)


def short_json(v, limit=300):
    t = json.dumps(v, ensure_ascii=False, sort_keys=True)
    return t if len(t) <= limit else t[:limit] + " …"


def extras(obj, known):
    """(key, text) of the fields of obj this report does not know."""
    if not isinstance(obj, dict):
        return []
    return [(k, v if isinstance(v, str) else short_json(v))
            for k, v in obj.items() if k not in known]


def run_table(r):
    """Per-size rows of a run, both placements, with the extra keys."""
    keys = []
    for rec in r.records:
        for k in rec:
            if k not in KNOWN_ROW and k not in HIDDEN_ROW and k not in keys:
                keys.append(k)
    rows = []
    for pl in ("out-of-place", "in-place"):
        for rec in r.rows(pl):
            w = rec.get("wrong")
            rows.append({
                "placement": pl, "size": size_text(rec.get("size_bytes")),
                "size_bytes": rec.get("size_bytes"), "count": rec.get("count", "-"),
                "time": fmt(rec.get("time_us"), 2), "p50": fmt(rec.get("time_p50_us"), 2),
                "p99": fmt(rec.get("time_p99_us"), 2), "algbw": fmt(rec.get("algbw_gbps")),
                "busbw": fmt(rec.get("busbw_gbps")),
                "wrong": "N/A" if isinstance(w, int) and w < 0 else w,
                "bad": isinstance(w, int) and w > 0,
                "extra": [rec.get(k) if isinstance(rec.get(k), (str, int, float)) or rec.get(k) is None
                          else short_json(rec.get(k), 80) for k in keys],
            })
    return keys, rows


def peak_row(r):
    peak, at, where = r.peak()
    lr = r.line_rate_gbps()
    tgt = r.target_gbps()
    ref = lr or tgt
    return {
        "collective": gp.pretty_coll(r.collective), "transport": r.transport, "algo": r.algo,
        "nranks": r.get("nranks", "?"), "peak": fmt(peak), "peak_raw": peak,
        "at": size_text(at) + (" (%s)" % where if where else ""), "line": fmt(lr) if lr else "unknown",
        "target": fmt(tgt) if tgt else "none",
        "pct": ("%.1f %%" % (100.0 * peak / ref)) if ref and peak is not None else "-",
        "verdict": r.verdict()[0], "why": r.verdict()[1], "file": r.path,
    }


def chart_block(runs, key, inplace=False, labels=None):
    """Inline SVG charts of runs (one collective): {'busbw': svg, 'time':
    svg} or {'error': text}."""
    ser = charts.series(runs, inplace, labels)
    if not ser:
        return {"error": "no rows with a size above 0 to draw"}
    tb, tt = charts.titles(runs)
    try:
        got = gp.draw(ser, charts.references(runs, ser), tb, tt, ("svg",))
        out = {c: gp.safe_svg(got[(c, "svg")], "%s-%s-" % (key, c)) for c in ("busbw", "time")}
        out["error"] = None
        return out
    except gp.PlotError as e:
        return {"error": str(e)}
    except Exception as e:  # a malformed SVG: say so, keep the report
        return {"error": "chart not drawn: %s" % gp.clean_text(e)}


def rail_map(runs):
    """Per host: the ranks with their rail, NIC, GPU, CPUs (from the runs'
    meta.ranks, first run that has each host)."""
    hosts = {}
    for r in runs:
        for rk in r.meta.get("ranks") or []:
            if not isinstance(rk, dict):
                continue
            h = str(rk.get("host", "?"))
            pl = rk.get("placement")
            ent = {"rank": rk.get("rank"), "rail": rk.get("rail"), "link": rk.get("transport_desc", "")}
            if isinstance(pl, dict):
                ent.update({"nic": pl.get("nic") or pl.get("netdev") or "-",
                            "gpu": pl.get("gpu") if pl.get("gpu") is not None else "-",
                            "cpus": pl.get("cpuset") or "-", "numa": pl.get("numa"),
                            "line": fmt(pl.get("nic_gbps"), 0) + " Gb/s"
                            if _num(pl.get("nic_gbps")) else "unknown"})
            else:
                # A qualification's rank: NIC and line rate beside the
                # placement text (docs/qualify.md).
                g = _num(rk.get("line_gbits"))
                ent.update({"nic": rk.get("nic") or "-", "gpu": "-", "cpus": str(pl or "-"),
                            "numa": None, "line": "%g Gb/s" % g if g else "unknown"})
            lst = hosts.setdefault(h, {})
            lst.setdefault(ent["rank"], ent)
    return [(h, [v for _, v in sorted(m.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))])
            for h, m in sorted(hosts.items())]


def heat_colour(pct):
    """Cell colour for judged/reference percent: red below 50, amber to
    80, green above (a colour-blind-safe ramp with text labels too)."""
    if pct is None:
        return "#eeeeee"
    if pct < 50:
        return "#d55e00"
    if pct < 80:
        return "#e69f00"
    return "#8fd19e"


def qual_block(q):
    """Heat maps per rail and the culprits of one qualification file."""
    maps = []
    culprits = q.culprits()
    for rail, hosts, m, slow, size in q.heatmaps():
        vals = [v for h in hosts for v in m[h].values() if v is not None]
        ref = None
        for rec in q.records:
            if rec.get("rail") == rail and _num(rec.get("ref_gbps")):
                ref = rec["ref_gbps"]
                break
        ref = ref or (sorted(vals)[len(vals) // 2] if vals else None)
        bad_hosts = {str(c.get("host")) for c in culprits if c.get("rail") in (rail, None)}
        rows = []
        for s in hosts:
            cells = []
            for d in hosts:
                v = m[s][d]
                pct = 100.0 * v / ref if v is not None and ref else None
                cells.append({"text": "-" if s == d else fmt(v),
                              "pct": "" if pct is None else "%.0f %%" % pct,
                              "colour": "#ffffff" if s == d else heat_colour(pct),
                              "slow": (s, d) in slow})
            rows.append({"host": s, "culprit": s in bad_hosts, "cells": cells})
        maps.append({"rail": rail, "hosts": hosts, "rows": rows, "size": size_text(size),
                     "ref": fmt(ref), "culprit_hosts": sorted(bad_hosts & set(hosts))})
    verdict = "PASS" if q.verdict.get("pass") is True else "FAIL" if q.verdict else "INCOMPLETE"
    if not q.complete:
        verdict = "INCOMPLETE" if verdict != "FAIL" else verdict
    return {"file": q.path, "maps": maps, "verdict": verdict,
            "culprits": [{"text": c.get("text") or short_json(c), "host": c.get("host"),
                          "rail": c.get("rail"), "cls": c.get("class")} for c in culprits],
            "meta": q.meta, "complete": q.complete}


def repro(r):
    m = r.meta
    keys = ("run_id", "started", "command_line", "version", "git", "build", "kernel",
            "mpi_library", "hwloc", "jansson", "benchmark", "transport", "dtype", "redop",
            "iters", "warmup", "stat", "check", "timeout_s")
    known = KNOWN_META | set(keys) | {"ranks"}
    return {"file": r.path, "items": [(k, m.get(k)) for k in keys if m.get(k) is not None],
            "extra": extras(m, known)}


def overall(verdicts):
    """The worst of the verdicts."""
    return max(verdicts, key=lambda v: SEVERITY.get(v, 3)) if verdicts else "INCOMPLETE"


def fabric(runs, quals):
    tps = list(dict.fromkeys(r.transport for r in runs))
    tps += [str(q.meta.get("transport")) for q in quals
            if q.meta.get("transport") and str(q.meta.get("transport")) not in tps]
    hosts = set()
    nranks = 0
    gpus = set()
    for r in runs:
        hosts.update(str(h) for h in r.meta.get("hosts") or [])
        n = r.get("nranks")
        nranks = max(nranks, n if isinstance(n, int) else 0)
        for rk in r.meta.get("ranks") or []:
            pl = rk.get("placement") if isinstance(rk, dict) else None
            if isinstance(pl, dict) and isinstance(pl.get("gpu"), int) and pl.get("gpu") >= 0:
                gpus.add((str(rk.get("host")), pl["gpu"]))
    for q in quals:
        for rk in q.meta.get("ranks") or []:
            if isinstance(rk, dict):
                hosts.add(str(rk.get("host")))
        n = q.meta.get("nranks")
        nranks = max(nranks, n if isinstance(n, int) else 0)
    return {"transports": tps, "nodes": len(hosts), "hosts": sorted(hosts), "ranks": nranks,
            "gpus": len(gpus)}


def build(runs, quals, topos, title):
    """The whole single-report model."""
    colls = {}
    for r in runs:
        colls.setdefault(r.collective, []).append(r)
    sections = []
    for c, rs in sorted(colls.items()):
        tables = []
        for r in rs:
            keys, rows = run_table(r)
            tables.append({"label": r.label, "algo": r.algo, "file": r.path, "cols": keys,
                           "rows": rows, "complete": r.complete, "reason": r.reason,
                           "summary_extra": extras(r.summary, KNOWN_SUMMARY)})
        sections.append({"id": "coll-%s" % len(sections), "name": gp.pretty_coll(c),
                         "charts": chart_block(rs, "c%d" % len(sections), inplace=True),
                         "tables": tables})
    qblocks = [qual_block(q) for q in quals]
    peaks = [peak_row(r) for r in runs]
    verdicts = [p["verdict"] for p in peaks] + [b["verdict"] for b in qblocks]
    incomplete = [{"file": r.path, "reason": r.reason} for r in runs if not r.complete]
    incomplete += [{"file": q.path, "reason": "the qualification did not finish"}
                   for q in quals if not q.complete]
    findings = []
    for r in runs:
        tf = r.meta.get("topology_findings")
        if isinstance(tf, str) and tf.strip():
            findings += [ln.lstrip("# ").rstrip() for ln in tf.splitlines() if ln.strip()]
    for _, t in topos:
        cc = t.get("cross_check")
        if isinstance(cc, dict):
            findings += [str(f).lstrip("# ") for f in cc.get("findings") or []]
    return {
        "title": title, "mode": "single", "verdict": overall(verdicts),
        "verdict_reasons": [p for p in peaks if p["verdict"] != "PASS"],
        "fabric": fabric(runs, quals), "peaks": peaks, "sections": sections,
        "quals": qblocks, "culprits": [c for b in qblocks for c in b["culprits"]],
        "rails": rail_map(runs + quals), "findings": list(dict.fromkeys(findings)),
        "topos": [{"file": gp.clean_text(f), "host": t.get("host"), "summary": t.get("summary"),
                   "rails": [x for x in t.get("rails") or [] if isinstance(x, dict)]}
                  for f, t in topos],
        "repro": [repro(r) for r in runs + quals], "incomplete": incomplete,
    }
