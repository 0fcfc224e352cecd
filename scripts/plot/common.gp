# SPDX-License-Identifier: BSD-3-Clause
# Shared look of every railbench chart: terminal, colours, grid, legend and
# the message-size x axis (log2, ticks labelled 8B 1KiB 1MiB ...).
# Loaded by busbw.gp and time.gp; scripts/rb-plot.sh defines beforehand:
#   fmt ('png' or 'svg'), out (output file), chart_title, ncurves,
#   arrays dat[] (data file), lbl[] (legend), grp[] (colour group: one per
#   input CSV), ip[] (1 for an in-place curve), xmin, xmax (bytes) and
#   tmin, tmax (smallest and largest positive time, µs), and nrefs with
#   arrays refdat[] and reflbl[]: reference curves (line rate, ideal time),
#   drawn grey and dotted.
# Every string among them is a literal made by scripts/rbreport/gp.py,
# which cannot end early or carry a line break: user text stays data.

set encoding utf8
if (fmt eq 'png') {
	set terminal pngcairo size 1280,800 noenhanced font 'DejaVu Sans,12' \
		linewidth 1.2 background rgb 'white'
} else {
	set terminal svg size 1280,800 dynamic noenhanced \
		font 'DejaVu Sans,12' linewidth 1.2 background rgb 'white'
}
set output out

# Okabe-Ito colours: distinguishable with colour-blindness and in greyscale
# print; the same input file keeps its colour in every chart.
array rb_pal[7] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', \
		   '#56B4E9', '#000000']
rb_colour(i) = rb_pal[(grp[i] - 1) % 7 + 1]
# Out-of-place: solid line, filled circles; in-place: dashed, open circles.
rb_dash(i) = ip[i] ? 2 : 1
rb_point(i) = ip[i] ? 6 : 7

# The reference curves, appended to the plot command (a macro of fixed
# text: gnuplot cannot iterate over an empty range there).
rb_refplot = nrefs > 0 ? ", for [j = 1 : nrefs] refdat[j] using 1:2 with lines lc rgb '#777777' dt 3 lw 2 title reflbl[j]" : ""

set title chart_title font 'DejaVu Sans,16'
set border 3 lc rgb '#555555'
set tics nomirror textcolor rgb '#333333'
set grid xtics ytics mxtics mytics lt 1 lc rgb '#d4d4d4' lw 0.7, lt 1 lc rgb '#eeeeee' lw 0.5
# The legend sits right of the plot so it never hides a point; the bottom
# margin leaves room for the axis label and the footnote.
set key outside right top vertical reverse Left box lc rgb '#bbbbbb' \
	samplen 3 spacing 1.3 width 1 height 0.5
set lmargin 12
set bmargin 5.5

# Message size axis: powers of two, at most ~11 labelled ticks; the others
# become minor ticks. Labels use binary prefixes, like the -b/-e options.
rb_size_label(e) = e < 10 ? sprintf('%dB', 2**e) : \
		   e < 20 ? sprintf('%dKiB', 2**(e - 10)) : \
		   e < 30 ? sprintf('%dMiB', 2**(e - 20)) : \
		   e < 40 ? sprintf('%dGiB', 2**(e - 30)) : \
		   sprintf('%dTiB', 2**(e - 40))
set logscale x 2
rb_e0 = floor(log(xmin) / log(2) + 1e-9)
rb_e1 = ceil(log(xmax) / log(2) - 1e-9)
rb_step = 1
while ((rb_e1 - rb_e0) / rb_step + 1 > 11) {
	rb_step = rb_step + 1
}
set xtics ()
do for [e = rb_e0 : rb_e1] {
	if ((e - rb_e0) % rb_step == 0) {
		set xtics add (rb_size_label(e) 2**e 0)
	} else {
		set xtics add ('' 2**e 1)
	}
}
set mxtics default
# A little room beyond the first and last sizes so no point sits on the border.
set xrange [xmin / 1.3 : xmax * 1.3]
set xlabel 'Message size (bytes, binary prefixes: 1KiB = 1024 B)'
