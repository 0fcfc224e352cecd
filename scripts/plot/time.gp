# SPDX-License-Identifier: BSD-3-Clause
# Time per operation (µs) against message size, log-log, one curve per
# input series. Variables: see common.gp (scripts/rbreport/gp.py sets them).

load plotdir . '/common.gp'

set ylabel 'Time per operation (µs)'
set logscale y 10
# Whole decades around the data, with room so no point sits on the frame.
set yrange [10**floor(log10(tmin / 1.3)) : 10**ceil(log10(tmax * 1.3))]
set format y '%g'
set label 1 'time = mean over iterations of the slowest rank''s time per operation (docs/results.md)' \
	at screen 0.99, screen 0.02 right font 'DejaVu Sans,9' textcolor rgb '#777777'

plot for [i = 1 : ncurves] dat[i] using 1:2 with linespoints \
	lc rgb rb_colour(i) dt rb_dash(i) pt rb_point(i) ps 1.0 lw 2 \
	title lbl[i] @rb_refplot
unset output
