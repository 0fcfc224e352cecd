# SPDX-License-Identifier: BSD-3-Clause
"""HTML through Jinja2 (autoescape on), PDF through headless Chromium."""
import datetime
import os
import pathlib
import shutil
import subprocess
import tempfile

import jinja2

from .gp import clean_text

HERE = os.path.dirname(os.path.abspath(__file__))


def html(model, inputs):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    t = env.get_template("report.html.j2")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return t.render(m=model, generated=now, inputs=[clean_text(i) for i in inputs])


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def chromium_args(user_dir):
    """Flags every headless run needs: no sandbox as root (CI), a private
    profile, no first-run work, no network."""
    a = ["--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--disable-background-networking", "--disable-sync",
         "--disable-dev-shm-usage", "--user-data-dir=" + user_dir]
    if os.geteuid() == 0:
        a.append("--no-sandbox")
    return a


def pdf(html_path, pdf_path, timeout=180):
    """Prints html_path to pdf_path with Chromium. Returns None or an error
    line."""
    exe = chromium()
    if not exe:
        return "chromium not found; install it (scripts/install-deps.sh) or use --no-pdf"
    tmp = tempfile.mkdtemp(prefix="rb-report-chromium.")
    out = os.path.join(tmp, "out.pdf")
    try:
        cmd = [exe] + chromium_args(os.path.join(tmp, "profile")) + [
            "--no-pdf-header-footer", "--print-to-pdf=" + out,
            pathlib.Path(os.path.abspath(html_path)).as_uri()]
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "chromium did not print the PDF within %d s" % timeout
        if not os.path.isfile(out) or os.path.getsize(out) == 0:
            lines = [ln for ln in p.stdout.decode("utf-8", "replace").splitlines() if ln.strip()]
            return "chromium wrote no PDF (exit %d): %s" % (
                p.returncode, clean_text(lines[-1]) if lines else "no message")
        tmp_pdf = "%s.tmp%d" % (pdf_path, os.getpid())
        shutil.copyfile(out, tmp_pdf)
        os.replace(tmp_pdf, pdf_path)
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
