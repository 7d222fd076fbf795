# gnuplot sim-gossip-sweep.gp -> sim-gossip-sweep.svg (docs/sim.md §12); data in sim-gossip-sweep.dat
set terminal svg size 1200,400 dynamic enhanced font 'sans,11'
set output 'sim-gossip-sweep.svg'
set multiplot layout 1,3 title "ctng sim sweep --param n --scenario wan: full-mesh flood, FRAG aggregation, aggregation + binary form"
set key top left
set grid
set logscale x 2
set xlabel 'gossipers n'
set ylabel 'ms after the gossip wait'
set title 'convergence (last FULL at a monitor, average)'
plot 'sim-gossip-sweep.dat' using 1:2 with linespoints title 'flood (JSON)', \
     '' using 1:3 with linespoints title 'aggregation (JSON)', \
     '' using 1:4 with linespoints title 'aggregation + binary'
set logscale y
set ylabel 'bytes per gossiper per period (in+out)'
set title 'gossip traffic per gossiper (average)'
plot 'sim-gossip-sweep.dat' using 1:5 with linespoints title 'flood (JSON)', \
     '' using 1:6 with linespoints title 'aggregation (JSON)', \
     '' using 1:7 with linespoints title 'aggregation + binary'
set ylabel 'ms CPU per gossiper per period'
set title 'CPU charged per gossiper (average)'
plot 'sim-gossip-sweep.dat' using 1:8 with linespoints title 'flood (JSON)', \
     '' using 1:9 with linespoints title 'aggregation (JSON)', \
     '' using 1:10 with linespoints title 'aggregation + binary'
unset multiplot
