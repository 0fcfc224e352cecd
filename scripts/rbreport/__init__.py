# SPDX-License-Identifier: BSD-3-Clause
"""railbench report generator: reads results JSON, draws charts with
gnuplot, renders one self-contained HTML page and prints it to PDF."""
