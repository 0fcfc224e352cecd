#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""gp_str() round trip through gnuplot itself: random strings built from
quotes, backslashes, backquotes, @, $, newlines, carriage returns, NUL,
ESC, DEL, C1 and U+2028, with system() calls, each printed by gnuplot from
its gp_str() expression, must come back exactly as clean_text() of the
string, one line each, and no command may run.
  gp_str_check.py WORKDIR [COUNT]   exit 0 all equal, 1 a mismatch or a
                                    marker, 2 usage"""
import os
import random
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from rbreport.gp import clean_text, gp_str  # noqa: E402

PIECES = ["'", "''", '"', "\\", "`", "@", "$", "\n", "\r", "\x00", "\x1b", "\x7f", "\x85",
          "\u2028", ";", "#", "(", ")", "a", " ", "é", "µ", "{", "}", "\t",
          'system("touch MARKER")', "`touch MARKER`", "'; system('touch MARKER'); '",
          "\nsystem(\"touch MARKER\")\n", "@x", "@mac", "'@mac", "\\n", "%s"]


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: gp_str_check.py WORKDIR [COUNT]\n")
        return 2
    work = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) == 3 else 400
    rnd = random.Random(20261202)
    strs = ["", "'", "''", "'''", "a''b''c", "a'@mac", "'@mac'"]
    strs += ["".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 12))) for _ in range(n)]
    drv = os.path.join(work, "check.gp")
    with open(drv, "w", encoding="utf-8") as f:
        # A string variable: an @mac that gnuplot expanded would show.
        f.write("mac = 'EXPANDED'\nset print 'out.txt'\n")
        for s in strs:
            f.write("print %s\n" % gp_str(s))
    p = subprocess.run(["gnuplot", "check.gp"], cwd=work, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    if p.returncode:
        print("gnuplot failed: %s" % p.stdout.decode("utf-8", "replace")[-300:])
        return 1
    with open(os.path.join(work, "out.txt"), encoding="utf-8") as f:
        got = f.read().split("\n")
    want = [clean_text(s) for s in strs]
    bad = [(w, g) for w, g in zip(want, got) if w != g]
    if len(got) != len(want) + 1 or bad:
        print("%d strings, %d lines back, %d differ; first: %r" % (
            len(want), len(got) - 1, len(bad), bad[:1]))
        return 1
    if any(name.startswith("MARKER") for name in os.listdir(work)):
        print("a marker appeared: gnuplot ran a command")
        return 1
    print("%d strings: gnuplot printed each back exactly, no command ran" % len(want))
    return 0


if __name__ == "__main__":
    sys.exit(main())
