#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Loads a page in headless Chromium through the DevTools protocol and
writes what a reader would see as JSON facts, for the report tests to
check against the results files:

  browser_check.py PAGE.html FACTS.json [SCREENSHOT.png]

Facts: console errors and uncaught exceptions (Runtime and Log domains:
console.error, CSP violations, failed loads), scripts and event-handler
attributes in the DOM, each chart's drawn size and marks, the verdict, the
peak figures per results file, the incomplete banner, heat maps and
comparison counts. Judges nothing itself. Exit 0 facts written, 2 usage,
3 the browser could not be driven (one line on stderr)."""
import base64
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from rbreport import render  # noqa: E402

FACTS_JS = r"""
(() => {
  const q = (s) => Array.from(document.querySelectorAll(s));
  const txt = (e) => e ? e.textContent.trim() : null;
  const onattrs = q('*').reduce((n, e) =>
      n + Array.from(e.attributes).filter(a => a.name.toLowerCase().startsWith('on')).length, 0);
  return JSON.stringify({
    title: document.title,
    scripts: document.scripts.length,
    images: document.images.length,
    iframes: q('iframe, object, embed').length,
    on_attributes: onattrs,
    verdict: txt(document.getElementById('verdict')),
    verdict_colours: document.getElementById('verdict') ? (() => {
      const st = getComputedStyle(document.getElementById('verdict'));
      return {fg: st.color, bg: st.backgroundColor}; })() : null,
    summary_verdict: (document.getElementById('summary') || {dataset: {}}).dataset.verdict || null,
    incomplete: !!document.getElementById('incomplete'),
    charts: q('.chart').map(d => {
      const s = d.querySelector('svg');
      const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
      const marks = s ? s.querySelectorAll('path, polyline, use').length : 0;
      let maxlen = 0;
      if (s) for (const p of s.querySelectorAll('path')) {
        try { maxlen = Math.max(maxlen, p.getTotalLength()); } catch (e) {}
      }
      // gnuplot puts each curve in <g id="...gnuplot_plot_N">: the
      // curves with a drawn line of positive length.
      const curves = s ? Array.from(s.querySelectorAll('g[id*="gnuplot_plot_"]')).filter(g =>
          Array.from(g.querySelectorAll('path')).some(p => {
            try { return p.getTotalLength() > 0; } catch (e) { return false; } })).length : 0;
      return {kind: d.dataset.chart, curves: curves, section: d.closest('section').id, svg: !!s,
              width: r.width, height: r.height, marks: marks, longest_path: maxlen,
              text: s ? s.textContent : ''};
    }),
    charts_missing: q('.chart-missing').map(txt),
    sections: q('section').map(s => s.id),
    peaks: q('tr.peak').map(tr => ({file: tr.dataset.file,
                                    peak: txt(tr.querySelector('.peak-gbps')),
                                    target: txt(tr.querySelector('.target')),
                                    pct: txt(tr.querySelector('.pct'))})),
    culprits: q('#culprits li').map(txt),
    heatmaps: q('table.heat').map(t => ({rail: t.dataset.rail,
                                         slow: t.querySelectorAll('td.slow').length,
                                         culprit_hosts: Array.from(t.querySelectorAll('th.culprit')).map(txt)})),
    regressions: txt(document.getElementById('n-regressions')),
    improvements: txt(document.getElementById('n-improvements')),
    ratio_rows: q('table.ratios tr[class^=flag-]').length,
    body_text: document.body ? document.body.innerText : ''
  });
})()
"""


def fail(msg):
    sys.stderr.write("browser_check: %s\n" % msg)
    sys.exit(3)


class Cdp:
    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.n = 0
        self.events = []

    def call(self, method, **params):
        self.n += 1
        me = self.n
        self.ws.settimeout(60)
        self.ws.send(json.dumps({"id": me, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == me:
                if "error" in msg:
                    fail("%s: %s" % (method, msg["error"].get("message")))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, name, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if any(e["method"] == name for e in self.events):
                return True
            self.ws.settimeout(max(0.1, end - time.time()))
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if "method" in msg:
                self.events.append(msg)
        return any(e["method"] == name for e in self.events)

    def drain(self, secs):
        self.ws.settimeout(secs)
        try:
            while True:
                msg = json.loads(self.ws.recv())
                if "method" in msg:
                    self.events.append(msg)
        except websocket.WebSocketTimeoutException:
            pass


def errors(events):
    out = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console.%s: %s" % (p["type"], " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            out.append("exception: %s" % (d.get("exception", {}).get("description") or d.get("text")))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append("log: %s" % p["entry"].get("text"))
    return out


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: browser_check.py PAGE.html FACTS.json [SCREENSHOT.png]\n")
        sys.exit(2)
    page, facts_path = sys.argv[1], sys.argv[2]
    shot = sys.argv[3] if len(sys.argv) == 4 else None
    exe = render.chromium()
    if not exe:
        fail("chromium not found")
    tmp = tempfile.mkdtemp(prefix="rb-browser.")
    prof = os.path.join(tmp, "profile")
    proc = subprocess.Popen([exe] + render.chromium_args(prof) + [
        "--remote-debugging-port=0", "--remote-allow-origins=*", "--window-size=1280,900",
        "about:blank"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(tmp, "chromium.log"), "wb"))
    try:
        port_file = os.path.join(prof, "DevToolsActivePort")
        end = time.time() + 60
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if proc.poll() is not None or time.time() > end:
                fail("chromium did not start its DevTools endpoint (exit %s)" % proc.poll())
            time.sleep(0.2)
        port = open(port_file).read().split("\n")[0].strip()
        with urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port, timeout=30) as f:
            targets = json.loads(f.read())
        pages = [t for t in targets if t.get("type") == "page"]
        if not pages:
            fail("no page target")
        cdp = Cdp(pages[0]["webSocketDebuggerUrl"])
        cdp.call("Runtime.enable")
        cdp.call("Log.enable")
        cdp.call("Page.enable")
        cdp.events.clear()
        cdp.call("Page.navigate", url=pathlib.Path(os.path.abspath(page)).as_uri())
        if not cdp.wait_event("Page.loadEventFired", 60):
            fail("the page did not finish loading within 60 s")
        cdp.drain(1.0)
        res = cdp.call("Runtime.evaluate", expression=FACTS_JS, returnByValue=True)
        facts = json.loads(res["result"]["value"])
        facts["errors"] = errors(cdp.events)
        if shot:
            m = cdp.call("Page.getLayoutMetrics")
            h = min(int(m.get("cssContentSize", m.get("contentSize"))["height"]) + 1, 16000)
            cdp.call("Emulation.setDeviceMetricsOverride", width=1280, height=h,
                     deviceScaleFactor=1, mobile=False)
            data = cdp.call("Page.captureScreenshot", format="png")["data"]
            with open(shot, "wb") as f:
                f.write(base64.b64decode(data))
            # The first screen alone too, readable without zooming.
            data = cdp.call("Page.captureScreenshot", format="png", clip={
                "x": 0, "y": 0, "width": 1280, "height": min(h, 1400), "scale": 1})["data"]
            with open(os.path.splitext(shot)[0] + "-top.png", "wb") as f:
                f.write(base64.b64decode(data))
        with open(facts_path, "w") as f:
            json.dump(facts, f, indent=1)
        try:
            cdp.call("Browser.close")
        except Exception:
            pass
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
