# plot-real.gp: the real-traffic benchmark's client-side p95 and error share,
# one group of boxes per scenario, one box per policy.
# gnuplot -e "csv='real.csv'; out='real.png'; scenarios='...'; policies='...'" plot-real.gp
set terminal pngcairo size 1100,700 font "sans,10"
set output out
set datafile separator ","
set multiplot layout 2,1 title "Real traffic through HAProxy, client side: p95 (top) and error share (bottom)"
set style fill solid 0.8 border -1
set grid ytics
set key outside right top
np = words(policies)
ns = words(scenarios)
set boxwidth 0.8 / np
set xrange [-0.5:ns - 0.5]
set xtics ()
set for [i=1:ns] xtics add (word(scenarios, i) i - 1)
# the box of policy j within its scenario's group
x(j) = (sum [i=1:ns] (strcol(1) eq word(scenarios, i) ? i - 1 : 0)) - 0.4 + (j - 0.5) * 0.8 / np
set logscale y
set ylabel "p95 (s)"
plot for [j=1:np] csv every ::1 using (x(j)):(strcol(2) eq word(policies, j) ? column(4) : NaN) \
	with boxes title word(policies, j)
unset logscale y
set ylabel "error share (%)"
set yrange [0:*]
plot for [j=1:np] csv every ::1 using (x(j)):(strcol(2) eq word(policies, j) ? 100 * column(6) : NaN) \
	with boxes title word(policies, j)
unset multiplot
