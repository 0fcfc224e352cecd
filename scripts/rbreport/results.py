# SPDX-License-Identifier: BSD-3-Clause
"""Loading railbench results files (docs/results.md, docs/qualify.md,
docs/topo.md). The JSON is the one source of truth; fields this code does
not know are kept and shown where sensible, never an error."""
import csv
import json
import math
import os


class InputError(Exception):
    """Bad input: the message is one line naming the problem (exit 2)."""


RESULTS = "railbench-results"
P2P = "railbench-p2p"


def _num(v):
    """v as a finite float, or None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _scrub_str(s):
    """s with lone surrogates and control characters (but tab and newline)
    replaced by U+FFFD, so that it can be written as UTF-8 and shown."""
    s = s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return "".join("\ufffd" if (ord(c) < 32 and c not in "\t\n") or 127 <= ord(c) < 160
                   else c for c in s)


def scrub(v):
    """A decoded JSON value with every string (keys too) scrubbed."""
    if isinstance(v, str):
        return _scrub_str(v)
    if isinstance(v, list):
        return [scrub(x) for x in v]
    if isinstance(v, dict):
        return {_scrub_str(k): scrub(x) for k, x in v.items()}
    return v


def salvage(text):
    """The parts of a truncated results JSON that parse: meta and every
    complete record before the cut (the C writer puts them in this order).
    Returns a document, or None when not even meta is there."""
    dec = json.JSONDecoder()
    doc = {}
    for key in ("format", "version"):
        i = text.find('"%s":' % key)
        if i >= 0:
            try:
                doc[key], _ = dec.raw_decode(text, _skip_ws(text, i + len(key) + 3))
            except ValueError:
                pass
    i = text.find('"meta":')
    if i < 0:
        return None
    try:
        doc["meta"], _ = dec.raw_decode(text, _skip_ws(text, i + 7))
    except ValueError:
        return None
    recs = []
    i = text.find('"records":')
    if i >= 0:
        j = _skip_ws(text, i + 10)
        if text.startswith("[", j):
            j += 1
            while True:
                j = _skip_ws(text, j)
                if text.startswith(",", j):
                    j = _skip_ws(text, j + 1)
                try:
                    rec, j = dec.raw_decode(text, j)
                except ValueError:
                    break
                if not isinstance(rec, dict):
                    break
                recs.append(rec)
    doc["records"] = recs
    return doc


def _skip_ws(text, i):
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


class _Doc:
    """What every railbench JSON file has: meta, records and summary, each
    kept only when it has the expected type."""

    def __init__(self, path, doc, truncated=False):
        self.path = _scrub_str(path)
        self.doc = doc
        self.meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
        self.records = [r for r in doc.get("records", []) if isinstance(r, dict)]
        s = doc.get("summary")
        self.summary = s if isinstance(s, dict) else {}
        self.truncated = truncated


class Run(_Doc):
    """One results file of a benchmark run (railbench-results)."""

    # Identity and settings.
    def get(self, key, default=None):
        v = self.meta.get(key, default)
        return default if v is None else v

    @property
    def collective(self):
        return str(self.get("collective", "?"))

    @property
    def transport(self):
        return str(self.get("transport", "?"))

    @property
    def algo(self):
        return str(self.get("algo", "?"))

    @property
    def label(self):
        return "%s %s" % (self.transport, self.collective)

    @property
    def complete(self):
        return not self.truncated and self.summary.get("complete") is True

    @property
    def reason(self):
        """Why the run is incomplete, in words, or ''."""
        if self.truncated:
            return "the results file is truncated (cut short, for example by an interrupted copy)"
        if self.complete:
            return ""
        for src in (self.summary.get("failure"), self.summary):
            why = src.get("reason") if isinstance(src, dict) else None
            if isinstance(why, str) and why:
                return why
        st = self.summary.get("exit_status")
        if isinstance(st, int) and st:
            return "the run ended with exit status %d" % st
        return "the run did not finish (no final summary)"

    def rows(self, placement="out-of-place"):
        """Records of one placement with numeric size, sorted by size."""
        out = [r for r in self.records
               if r.get("placement") == placement and _num(r.get("size_bytes")) is not None]
        return sorted(out, key=lambda r: r["size_bytes"])

    def wrong_total(self):
        w = [r.get("wrong") for r in self.records if isinstance(r.get("wrong"), int)]
        pos = [x for x in w if x > 0]
        if pos:
            return sum(pos)
        return 0 if any(x == 0 for x in w) else -1

    def peak(self):
        """(busbw GB/s, size, placement) of the best row of either
        placement, as the run's footer and summary count it, or Nones."""
        best = None
        for r in self.records:
            b = _num(r.get("busbw_gbps"))
            if b is not None and (best is None or b > best[0]):
                best = (b, r.get("size_bytes"), r.get("placement"))
        return best if best else (None, None, None)

    def line_rate_gbps(self):
        """The smallest known NIC line rate of the ranks, GB/s (bytes), or
        None: the ceiling of a rail-bound collective's busbw."""
        rates = []
        for rk in self.meta.get("ranks") or []:
            pl = rk.get("placement") if isinstance(rk, dict) else None
            if isinstance(pl, dict):
                g = _num(pl.get("nic_gbps"))
                if g and g > 0:
                    rates.append(g / 8.0)
        return min(rates) if rates else None

    def target_gbps(self):
        return _num(self.meta.get("expect_busbw_gbps"))

    def verdict(self):
        """('PASS' | 'FAIL' | 'WARN' | 'INCOMPLETE', reason)."""
        v = self.summary.get("verdict")
        wrong = self.wrong_total()
        if not self.complete:
            return "INCOMPLETE", self.reason
        if isinstance(v, str) and v.split(" ")[0].upper() in ("PASS", "FAIL", "WARN"):
            return v.split(" ")[0].upper(), v
        if wrong > 0:
            return "FAIL", "%d values received wrong" % wrong
        tgt = self.target_gbps()
        peak = self.peak()[0]
        if tgt and peak is not None and peak < tgt:
            return "FAIL", "peak busbw %.3f GB/s is below the target %.3f GB/s" % (peak, tgt)
        if self.summary.get("pass") is False:
            st = self.summary.get("exit_status")
            return "FAIL", ("exit status %s" % st) if st is not None else "the run failed"
        if wrong < 0:
            return "PASS", "data not checked (-c 0)"
        return "PASS", "data correct"


class Qual(_Doc):
    """A qualification file (railbench-p2p, docs/qualify.md)."""

    def __init__(self, path, doc, truncated=False):
        super().__init__(path, doc, truncated)
        v = doc.get("verdict")
        self.verdict = v if isinstance(v, dict) else {}

    @property
    def complete(self):
        return not self.truncated and self.summary.get("complete") is True

    def culprits(self):
        c = self.verdict.get("culprits")
        return [x for x in c if isinstance(x, dict)] if isinstance(c, list) else []

    def heatmaps(self):
        """Per rail: (rail, hosts, matrix[src][dst] judged GB/s or None,
        slow set of (src, dst)); inter-node, uni, largest size."""
        inter = [r for r in self.records if r.get("kind") == "inter"
                 and r.get("direction", "uni") == "uni"
                 and _num(r.get("size_bytes")) is not None]
        if not inter:
            return []
        top = max(r["size_bytes"] for r in inter)
        out = []
        rails = sorted({r.get("rail") for r in inter if isinstance(r.get("rail"), int)})
        for rail in rails:
            rows = [r for r in inter if r.get("rail") == rail and r["size_bytes"] == top]
            hosts = sorted({str(r.get("src_host")) for r in rows} |
                           {str(r.get("dst_host")) for r in rows})
            m = {h: {g: None for g in hosts} for h in hosts}
            slow = set()
            for r in rows:
                s, d = str(r.get("src_host")), str(r.get("dst_host"))
                m[s][d] = _num(r.get("judged_gbps"))
                if r.get("slow") is True:
                    slow.add((s, d))
            out.append((rail, hosts, m, slow, top))
        return out


def _read_json(path):
    try:
        with open(path, "rb") as f:
            raw = f.read(256 << 20)
    except OSError as e:
        raise InputError("%s: cannot read: %s" % (path, e.strerror or e))
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        raise InputError("%s: empty file" % path)
    try:
        return scrub(json.loads(text)), False
    except (ValueError, RecursionError):
        doc = salvage(text)
        if doc is None or doc.get("format") not in (RESULTS, P2P):
            raise InputError("%s: not railbench results JSON (does not parse)" % path)
        return scrub(doc), True


def load_file(path):
    """A Run or a Qual from one JSON file; InputError otherwise."""
    doc, truncated = _read_json(path)
    if not isinstance(doc, dict) or doc.get("format") not in (RESULTS, P2P):
        raise InputError("%s: not railbench results JSON (no \"format\": \"%s\")"
                         % (path, RESULTS))
    if not isinstance(doc.get("meta"), dict):
        raise InputError("%s: railbench JSON without its \"meta\" object" % path)
    if doc["format"] == P2P:
        return Qual(path, doc, truncated)
    return Run(path, doc, truncated)


def load_dir(path):
    """The runs, qualifications and topology maps of one results directory
    (or one file). Raises InputError when there is nothing to report."""
    if not os.path.exists(path):
        raise InputError("%s: no such file or directory" % path)
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.endswith(".json"))
        files = [os.path.join(path, n) for n in names]
    else:
        files = [path]
    runs, quals, topos, skipped = [], [], [], []
    for f in files:
        if not os.path.isfile(f):
            continue
        try:
            obj = load_file(f)
        except InputError as e:
            topo = _maybe_topo(f)
            if topo is not None:
                topos.append((f, topo))
            elif os.path.isdir(path):
                skipped.append(str(e))
                continue
            else:
                raise
            continue
        (quals if isinstance(obj, Qual) else runs).append(obj)
    if not runs and not quals:
        if skipped:
            raise InputError(skipped[0])
        raise InputError("%s: no railbench results JSON found" % path)
    return runs, quals, topos


def _maybe_topo(path):
    """A topo_map --json document (docs/topo.md), or None."""
    try:
        with open(path, "rb") as f:
            doc = scrub(json.loads(f.read(64 << 20).decode("utf-8", errors="replace")))
    except (OSError, ValueError, RecursionError):
        return None
    if isinstance(doc, dict) and isinstance(doc.get("rails"), list) and "nics" in doc:
        return doc
    return None


CSV_NEED = ("collective", "transport", "algo", "nranks", "placement", "size_bytes",
            "count", "time_us", "busbw_gbps", "wrong")
CSV_INT = ("nranks", "size_bytes", "count", "wrong", "warmup_iters")


def _csv_row(path, line, names, fields):
    """One CSV data row as a record, validated (docs/results.md)."""
    def bad(msg):
        raise InputError("%s:%d: %s" % (path, line, msg))
    if len(fields) != len(names):
        bad("expected %d fields, found %d" % (len(names), len(fields)))
    rec = dict(zip(names, fields))
    if rec["collective"] not in ("allreduce", "allgather", "alltoall"):
        bad('unknown collective "%s"' % rec["collective"])
    if not rec["transport"] or not all(c.isalnum() or c in "_.+-" for c in rec["transport"]):
        bad('bad transport "%s"' % rec["transport"])
    if rec["placement"] not in ("out-of-place", "in-place"):
        bad('placement "%s" is neither out-of-place nor in-place' % rec["placement"])
    if "stat" in rec and rec["stat"] not in ("max", "avg"):
        bad('stat "%s" is neither max nor avg' % rec["stat"])
    for k in CSV_INT:
        if k in rec:
            try:
                rec[k] = int(rec[k])
            except ValueError:
                bad('%s "%s" is not an integer' % (k, rec[k]))
            low = {"nranks": 1, "wrong": -1}.get(k, 0)
            if rec[k] < low:
                bad('%s "%s" is below %d' % (k, rec[k], low))
    for f, k in enumerate(names, 1):
        if k.endswith("_us") or k.endswith("_gbps"):
            if rec[k] == "" and k.startswith("ci95_"):
                # No interval with fewer than 6 iterations (docs/results.md).
                rec[k] = None
                continue
            try:
                v = float(rec[k])
            except ValueError:
                v = -1.0
            if not math.isfinite(v) or v < 0:
                bad('field %d (%s "%s") is not a non-negative number' % (f, k, rec[k]))
            rec[k] = v
    return rec


def load_csv(path):
    """A Run from a results CSV, read by the header's column names (an
    earlier format with fewer columns is read too)."""
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            table = list(csv.reader(f))
    except OSError as e:
        raise InputError("%s: cannot read: %s" % (path, e.strerror or e))
    if not table:
        raise InputError("%s: empty file" % path)
    names = table[0]
    miss = [k for k in CSV_NEED if k not in names]
    if miss:
        raise InputError("%s:1: not a railbench results CSV (the header has no column %s, "
                         "docs/results.md)" % (path, ", ".join(miss)))
    if len(table) < 2:
        raise InputError("%s: no data rows after the header" % path)
    recs, seen = [], set()
    for line, fields in enumerate(table[1:], 2):
        rec = _csv_row(path, line, names, fields)
        first = recs[0] if recs else rec
        if any(rec[k] != first[k] for k in ("collective", "transport", "algo", "nranks")):
            raise InputError("%s:%d: collective, transport, algo and nranks must be the same "
                             "on every row" % (path, line))
        key = (rec["placement"], rec["size_bytes"])
        if key in seen:
            raise InputError("%s:%d: second row for size %d %s"
                             % (path, line, rec["size_bytes"], rec["placement"]))
        seen.add(key)
        recs.append(rec)
    first = recs[0]
    meta = {k: first.get(k) for k in ("collective", "transport", "algo", "nranks", "dtype")}
    return Run(path, {"format": RESULTS, "meta": meta, "records": recs,
                      "summary": {"complete": True}})
