# SPDX-License-Identifier: BSD-3-Clause
"""Charts drawn by gnuplot (scripts/plot/*.gp), with user text as data.

Every string that reaches gnuplot goes through gp_str(): a gnuplot string
expression made of single-quoted literals that hold no quote and no
control character, joined by sprintf('%c', 39) where the text had a
quote. Inside single quotes gnuplot expands nothing (no backslash escape,
no backquote command, no @macro), so the expression cannot end early or
start a new command. (Not the literal "'": gnuplot's macro scanner then
loses track of the quoting and expands an @name that follows; nor '',
which gnuplot 5.4 misreads when two follow each other.) Data go through files with fixed names in a private
temporary directory, and charts are written there under fixed names and
moved into place afterwards: no user path is ever gnuplot text."""
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

PLOT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "plot")
REPLACEMENT = "\ufffd"


class PlotError(Exception):
    """gnuplot missing (exit 2) or failed (exit 3)."""

    def __init__(self, msg, status):
        super().__init__(msg)
        self.status = status


def clean_text(s):
    """s without control characters (C0, DEL, C1, line and paragraph
    separators) and lone surrogates (undecodable file names): each becomes
    U+FFFD."""
    s = str(s).encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return "".join(REPLACEMENT if (ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029")
                   else c for c in s)


def gp_str(s):
    """s as a gnuplot string expression that evaluates to clean_text(s)."""
    parts = clean_text(s).split("'")
    return ".sprintf('%c', 39).".join("'%s'" % p for p in parts)


def pretty_coll(name):
    return {"allreduce": "All-reduce", "allgather": "All-gather",
            "alltoall": "All-to-all"}.get(name, name)


def _write_dat(path, points):
    with open(path, "w") as f:
        for p in points:
            f.write(" ".join("%.10g" % v for v in p) + "\n")


def draw(series, refs, title_busbw, title_time, formats, gnuplot=None):
    """Draws the busbw and time charts. series: dicts {label, group,
    inplace, points [(size, time_us, busbw_gbps)]}; refs: dicts {chart
    ('busbw'|'time'), label, points [(size, y)]}. Returns
    {(chart, fmt): bytes}. Raises PlotError. gnuplot: the program
    (default $GNUPLOT, else gnuplot)."""
    gnuplot = gnuplot or os.environ.get("GNUPLOT") or "gnuplot"
    if shutil.which(gnuplot) is None:
        raise PlotError("gnuplot not found ('%s'); install gnuplot-nox "
                        "(scripts/install-deps.sh)" % gnuplot, 2)
    pts = [p for s in series for p in s["points"] if p[0] > 0]
    if not pts:
        raise PlotError("nothing to draw (no rows with a size above 0)", 2)
    xmin, xmax = min(p[0] for p in pts), max(p[0] for p in pts)
    # The time axis spans the data and the reference curves (ideal time).
    times = [p[1] for p in pts if p[1] > 0]
    times += [p[1] for r in refs if r["chart"] == "time" for p in r["points"] if p[1] > 0]
    times = times or [1.0, 10.0]
    with tempfile.TemporaryDirectory(prefix="rb-plot.") as tmp:
        lines = ["plotdir = %s" % gp_str(PLOT_DIR),
                 "xmin = %.10g; xmax = %.10g" % (float(xmin), float(xmax)),
                 "tmin = %.10g; tmax = %.10g" % (min(times), max(times))]
        n = len(series)
        lines.append("ncurves = %d" % n)
        lines.append("array dat[%d]; array lbl[%d]; array grp[%d]; array ip[%d]"
                     % (max(n, 1), max(n, 1), max(n, 1), max(n, 1)))
        for i, s in enumerate(series, 1):
            name = "c%d.dat" % i
            _write_dat(os.path.join(tmp, name),
                       sorted(p for p in s["points"] if p[0] > 0))
            lines.append("dat[%d] = '%s'; lbl[%d] = %s; grp[%d] = %d; ip[%d] = %d"
                         % (i, name, i, gp_str(s["label"]), i, int(s["group"]),
                            i, 1 if s.get("inplace") else 0))
        for chart, title in (("busbw", title_busbw), ("time", title_time)):
            rs = [r for r in refs if r["chart"] == chart and r["points"]]
            for fmt in formats:
                lines.append("reset")
                lines.append("nrefs = %d" % len(rs))
                lines.append("array refdat[%d]; array reflbl[%d]"
                             % (max(len(rs), 1), max(len(rs), 1)))
                for j, r in enumerate(rs, 1):
                    name = "r-%s-%d.dat" % (chart, j)
                    # the y column is 2 for time.gp and 2 for busbw refs
                    _write_dat(os.path.join(tmp, name), r["points"])
                    lines.append("refdat[%d] = '%s'; reflbl[%d] = %s"
                                 % (j, name, j, gp_str(r["label"])))
                lines.append("fmt = '%s'; out = '%s.%s'" % (fmt, chart, fmt))
                lines.append("chart_title = %s" % gp_str(title))
                lines.append("load plotdir . '/%s.gp'" % chart)
        drv = os.path.join(tmp, "driver.gp")
        with open(drv, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        p = subprocess.run([gnuplot, "driver.gp"], cwd=tmp, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if p.returncode:
            msg = [ln for ln in p.stdout.decode("utf-8", "replace").splitlines() if ln.strip()]
            raise PlotError("gnuplot failed: %s" % (clean_text(msg[-1]) if msg else "no message"), 3)
        out = {}
        for chart in ("busbw", "time"):
            for fmt in formats:
                f = os.path.join(tmp, "%s.%s" % (chart, fmt))
                if not os.path.isfile(f) or os.path.getsize(f) == 0:
                    raise PlotError("gnuplot wrote nothing for the %s chart" % chart, 3)
                with open(f, "rb") as fh:
                    out[(chart, fmt)] = fh.read()
        return out


SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"


def safe_svg(data, prefix=""):
    """An SVG document (bytes) as inline markup: parsed as XML (no DTD),
    without scripts, foreign objects, event handlers or external links;
    ids get prefix so that several charts can share one page."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    text = data.decode("utf-8", "replace")
    # gnuplot writes an XML declaration and a DOCTYPE before <svg: drop both.
    i = text.find("<svg")
    if i < 0:
        raise PlotError("gnuplot's SVG has no <svg> element", 3)
    root = ET.fromstring(text[i:])
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag.rsplit("}", 1)[-1].lower()
            if tag in ("script", "foreignobject", "iframe", "object", "embed", "a"):
                parent.remove(child)
    for el in root.iter():
        for k in list(el.attrib):
            name = k.rsplit("}", 1)[-1].lower()
            v = el.attrib[k].strip()
            if name.startswith("on"):
                del el.attrib[k]
            elif name == "href":
                if v.startswith("#"):
                    el.attrib[k] = "#" + prefix + v[1:]
                else:
                    del el.attrib[k]
            elif name == "id":
                el.attrib[k] = prefix + v
    return ET.tostring(root, encoding="unicode")


def move_into_place(data, path):
    """Writes data to path atomically (temporary name, rename)."""
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
