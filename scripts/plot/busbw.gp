# SPDX-License-Identifier: BSD-3-Clause
# Bus bandwidth (GB/s) against message size, one curve per input series.
# Variables: see common.gp (scripts/rbreport/gp.py sets them).

load plotdir . '/common.gp'

set ylabel 'Bus bandwidth (GB/s, 1 GB/s = 10⁹ B/s)'
set yrange [0:*]
# Headroom so the highest point does not sit on the frame.
set offsets 0, 0, graph 0.05, 0
set format y '%g'
set label 1 'busbw = algbw × 2(n-1)/n for allreduce, × (n-1)/n for allgather and alltoall (docs/results.md)' \
	at screen 0.99, screen 0.02 right font 'DejaVu Sans,9' textcolor rgb '#777777'

plot for [i = 1 : ncurves] dat[i] using 1:3 with linespoints \
	lc rgb rb_colour(i) dt rb_dash(i) pt rb_point(i) ps 1.0 lw 2 \
	title lbl[i] @rb_refplot
unset output
