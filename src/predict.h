/* predict: the fleet's p95 latency under a split of weights, predicted from
 * what each backend measured. Each backend's latency is taken as exponential
 * around its measured value (an M/M/1 queue's time in system is), so the
 * fleet's is their mixture, weighted by the shares of the load; a backend's
 * latency follows its share with its elasticity (d ln latency / d ln load,
 * which for an M/M/1 queue is its in-flight count, rate x mean latency). The
 * policy uses it to ask whether a small move is worth a write. Whatever the
 * statistic the latencies are (a mean, a p95), the ratio of two predictions
 * is the same. Pure; no allocation. */
#ifndef WD_PREDICT_H
#define WD_PREDICT_H

#include <stddef.h>

/* One backend as measured: its latency (s, > 0), the weight that was in
 * force while it was measured (the window's average, > 0) and its
 * elasticity (>= 0). */
struct predict_backend {
	double latency_s;
	double seen_weight;
	double elasticity;
};

/* The predicted p95 (s) of the fleet when backend i has weight w[i] (>= 0,
 * not all 0): backend i's latency is latency_s x (w[i] / seen_weight)^elasticity,
 * and the p95 is the x at which the mixture's tail, sum of share_i x
 * exp(-x ln 20 / latency_i), is 5 %. A backend of weight 0 takes no load and
 * does not count. NaN when no backend has weight, or n is above
 * WD_MAX_BACKENDS. */
double predict_fleet_p95(const struct predict_backend *b, const int *w, size_t n);

/* The quantile a latency query asks for: q of its first
 * histogram_quantile(q, ...) call (0 < q < 1, a number literal), or 0 when
 * it has none (a mean, as rate(x_sum) / rate(x_count) gives). The name
 * inside a string literal or a comment, or as part of a longer name, is no
 * call. */
double predict_query_quantile(const char *query);

/* An exponential latency's quantile q over its mean: ln(1 / (1 - q)), 3.0
 * for the p95; 1 for q = 0 (the mean itself). */
double predict_quantile_over_mean(double q);

#endif
