set terminal pngcairo noenhanced size 1680,460 font 'sans,10'
set output 'frontier.png'
set multiplot layout 1,3
set logscale x 2
set xlabel 'bytes per item (both tables, log scale)'
set ylabel 'test nDCG@10'
set key bottom right font 'sans,8'
set grid
set datafile separator ','
set offsets graph 0.06, graph 0.06, 0, 0
set title 'ml-100k'
plot '-' using 1:2:3 with yerrorbars pt 5 ps 1.1 title 'full', \
     '-' using 1:2:3 with yerrorbars pt 6 ps 1.1 title 'int8', \
     '-' using 1:2:3 with yerrorbars pt 7 ps 1.1 title 'pq', \
     '-' using 1:2:3 with yerrorbars pt 8 ps 1.1 title 'memcom', \
     '-' using 1:2:3 with yerrorbars pt 9 ps 1.1 title 'memcom+int8', \
     '-' using 1:2 with lines lw 2 lc rgb '#888888' title 'Pareto front'
512.0000,0.188638,0.006273
e
136.0000,0.188626,0.006270
e
141.9263,0.188221,0.006237
109.9263,0.186697,0.006072
93.9263,0.179274,0.005863
36.8704,0.180633,0.005890
20.8704,0.163402,0.005588
12.8704,0.155366,0.005197
8.8704,0.131514,0.004533
101.9263,0.185812,0.006040
28.8704,0.177749,0.005884
16.8704,0.162135,0.005463
10.8704,0.151796,0.005139
e
32.0476,0.128726,0.005053
e
39.8573,0.158815,0.005758
e
8.8704,0.131514
10.8704,0.151796
12.8704,0.155366
13.5149,0.176765
16.8133,0.181763
22.8109,0.183367
30.8205,0.186219
109.9263,0.186697
136.0000,0.188626
180.9417,0.188847
e
set title 'ml-latest-small'
plot '-' using 1:2:3 with yerrorbars pt 5 ps 1.1 title 'full', \
     '-' using 1:2:3 with yerrorbars pt 6 ps 1.1 title 'int8', \
     '-' using 1:2:3 with yerrorbars pt 7 ps 1.1 title 'pq', \
     '-' using 1:2:3 with yerrorbars pt 8 ps 1.1 title 'memcom', \
     '-' using 1:2:3 with yerrorbars pt 9 ps 1.1 title 'memcom+int8', \
     '-' using 1:2 with lines lw 2 lc rgb '#888888' title 'Pareto front'
512.0000,0.095253,0.005911
e
136.0000,0.095218,0.005910
e
77.4792,0.091432,0.005703
45.4792,0.090081,0.005654
29.4792,0.088763,0.005621
32.8425,0.073592,0.004738
16.8425,0.066997,0.004283
8.8425,0.057416,0.003823
4.8425,0.054229,0.003715
37.4792,0.089920,0.005653
24.8425,0.073498,0.004702
12.8425,0.066571,0.004261
6.8425,0.056815,0.003830
e
32.0099,0.091506,0.005769
e
39.8741,0.105023,0.006306
e
4.8425,0.054229
5.4500,0.091011
8.7495,0.091503
19.6861,0.094838
24.5849,0.095030
39.8741,0.105023
e
set title 'amazon-beauty'
plot '-' using 1:2:3 with yerrorbars pt 5 ps 1.1 title 'full', \
     '-' using 1:2:3 with yerrorbars pt 6 ps 1.1 title 'int8', \
     '-' using 1:2:3 with yerrorbars pt 7 ps 1.1 title 'pq', \
     '-' using 1:2:3 with yerrorbars pt 8 ps 1.1 title 'memcom', \
     '-' using 1:2:3 with yerrorbars pt 9 ps 1.1 title 'memcom+int8', \
     '-' using 1:2 with lines lw 2 lc rgb '#888888' title 'Pareto front'
512.0000,0.026268,0.000525
e
136.0000,0.026220,0.000524
e
66.2879,0.026142,0.000521
34.2879,0.024211,0.000501
18.2879,0.017705,0.000422
32.1430,0.022901,0.000485
16.1430,0.014502,0.000376
8.1430,0.007100,0.000255
4.1430,0.004488,0.000195
26.2879,0.022166,0.000473
24.1430,0.020201,0.000449
12.1430,0.011871,0.000339
6.1430,0.006061,0.000230
e
31.9962,0.011269,0.000329
e
39.8747,0.016528,0.000400
e
4.0516,0.020681
7.3519,0.022216
7.7963,0.022528
12.6969,0.024335
15.6964,0.024599
24.0419,0.025226
29.6420,0.025390
66.2879,0.026142
136.0000,0.026220
512.0000,0.026268
e
unset multiplot
