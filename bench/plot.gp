# plot.gp: one scenario's weights and fleet p95 over time, from the series
# weightd-bench --series writes (minute, p95, error share, weights...).
# gnuplot -e "dir='...'; name='capacity-drop'; out='x.png'; nw=3; pols='equal ...'; title='...'" plot.gp
set terminal pngcairo size 1000,760 font "sans,10"
set output out
set multiplot layout 2,1 title title
set grid
set key outside right top
set xlabel "minutes"
f(p) = sprintf("%s/%s.%s.dat", dir, name, p)
set ylabel "weight (% of total)"
set yrange [0:100]
plot for [i=1:nw] f("weightd-latency") using 1:(column(3+i)) with lines lw 2 lc i dt 1 \
		title sprintf("latency b%d", i), \
	for [i=1:nw] f("oracle") using 1:(column(3+i)) with steps lw 1 lc i dt 3 \
		title sprintf("oracle b%d", i)
set ylabel "fleet p95 over the last minute (s)"
set logscale y
set yrange [*:*]
# pols: the policies with series, given by the caller
plot for [p in pols] f(p) \
	using 1:($2 > 0 ? $2 : NaN) with lines lw (p eq "oracle" || p[1:7] eq "weightd" ? 2 : 1) title p
unset multiplot
