/* apportion: shares of a total within per-entry bounds. policy_fill scales
 * continuous weights (water filling); policy_apportion turns them into
 * integers by largest remainder. Pure, no allocation: scratch arrays live on
 * the stack, bounded by WD_MAX_BACKENDS. */
#include <math.h>

#include "policy.h"
#include "util.h"

/* Tolerance for sums of shares that are integers in exact arithmetic. */
#define FILL_EPS 1e-9

/* Sum of clamp(s * w[i]) over the entries in use (use[i]); entries not in use
 * sit at base[i]. */
static double fill_sum(const double *w, size_t n, const unsigned char *use, const double *base,
		       const double *lo, const double *hi, double s)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += use[i] ? util_clamp(s * w[i], lo[i], hi[i]) : base[i];
	return sum;
}

/* Water filling over the entries in use with positive weight w: finds s with
 * fill_sum == total by bisection, then solves exactly on the entries strictly
 * inside their bounds. The caller has checked that total is reachable. */
static void fill_scale(const double *w, size_t n, const unsigned char *use, const double *base,
		       const double *lo, const double *hi, double total, double *x)
{
	double s_hi = 0;
	for (size_t i = 0; i < n; i++)
		if (use[i] && w[i] > 0 && hi[i] / w[i] > s_hi)
			s_hi = hi[i] / w[i];
	double s_lo = 0;
	for (int it = 0; it < 200 && s_hi - s_lo > s_hi * 1e-15; it++) {
		double mid = 0.5 * (s_lo + s_hi);
		if (fill_sum(w, n, use, base, lo, hi, mid) < total)
			s_lo = mid;
		else
			s_hi = mid;
	}
	double s = 0.5 * (s_lo + s_hi), rest = total, inner = 0;
	for (size_t i = 0; i < n; i++) {
		double v = use[i] ? s * w[i] : base[i];
		if (use[i] && v > lo[i] && v < hi[i])
			inner += w[i];
		else
			rest -= use[i] ? util_clamp(v, lo[i], hi[i]) : base[i];
	}
	if (inner > 0 && rest > 0)
		s = rest / inner;
	for (size_t i = 0; i < n; i++)
		x[i] = use[i] ? util_clamp(s * w[i], lo[i], hi[i]) : base[i];
}

int policy_fill(const double *w, size_t n, double total, const double *lo, const double *hi,
		double *x)
{
	if (n == 0 || n > WD_MAX_BACKENDS || !isfinite(total))
		return -1;
	double sum_lo = 0, sum_hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(lo[i]) || !isfinite(hi[i]) || lo[i] < 0 || lo[i] > hi[i])
			return -1;
		sum_lo += lo[i];
		sum_hi += hi[i];
	}
	double tol = FILL_EPS * (1 + fabs(total));
	if (sum_lo > total + tol || sum_hi < total - tol)
		return -1;

	/* Already a valid share: kept bit for bit, so an unchanged input gives
	 * unchanged integers (no flip between equal remainders). */
	double sum_w = 0;
	bool inside = true;
	for (size_t i = 0; i < n && inside; i++) {
		inside = isfinite(w[i]) && w[i] >= lo[i] && w[i] <= hi[i];
		sum_w += w[i];
	}
	if (inside && fabs(sum_w - total) <= tol) {
		for (size_t i = 0; i < n; i++)
			x[i] = w[i];
		return 0;
	}

	unsigned char use[WD_MAX_BACKENDS];
	double base[WD_MAX_BACKENDS], ww[WD_MAX_BACKENDS];
	/* Stage 1: the positive weights scale; weight-0 entries stay at lo. */
	double reach = 0;
	for (size_t i = 0; i < n; i++) {
		ww[i] = isfinite(w[i]) && w[i] > 0 ? w[i] : 0;
		use[i] = lo[i] < hi[i] && ww[i] > 0;
		base[i] = lo[i];
		reach += use[i] ? hi[i] : lo[i];
	}
	if (reach >= total - tol) {
		fill_scale(ww, n, use, base, lo, hi, total, x);
		return 0;
	}
	/* Stage 2: the positive weights at hi; weight-0 entries share the rest evenly. */
	for (size_t i = 0; i < n; i++) {
		base[i] = use[i] ? hi[i] : lo[i];
		use[i] = lo[i] < hi[i] && ww[i] == 0;
		ww[i] = 1;
	}
	fill_scale(ww, n, use, base, lo, hi, total, x);
	return 0;
}

/* Order for handing out leftover units: larger remainder first, then lower index. */
static int before(const double *rem, size_t a, size_t b)
{
	return rem[a] > rem[b] || (rem[a] == rem[b] && a < b);
}

/* Shell sort of idx by `before` (qsort may allocate). */
static void sort_by_remainder(size_t *idx, size_t n, const double *rem)
{
	static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
	for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		size_t gap = gaps[g];
		for (size_t i = gap; i < n; i++) {
			size_t v = idx[i], j = i;
			for (; j >= gap && before(rem, v, idx[j - gap]); j -= gap)
				idx[j] = idx[j - gap];
			idx[j] = v;
		}
	}
}

int policy_apportion(const double *w, size_t n, int total, const int *lo, const int *hi,
		     int *out)
{
	if (n == 0 || n > WD_MAX_BACKENDS || total < 0)
		return -1;
	double dlo[WD_MAX_BACKENDS], dhi[WD_MAX_BACKENDS], x[WD_MAX_BACKENDS];
	long sum_lo = 0, sum_hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (lo[i] < 0 || lo[i] > hi[i])
			return -1;
		dlo[i] = lo[i];
		dhi[i] = hi[i];
		sum_lo += lo[i];
		sum_hi += hi[i];
	}
	if (sum_lo > total || sum_hi < total)
		return -1;
	if (policy_fill(w, n, total, dlo, dhi, x) < 0)
		return -1;

	double rem[WD_MAX_BACKENDS];
	size_t idx[WD_MAX_BACKENDS];
	long left = total;
	for (size_t i = 0; i < n; i++) {
		double f = floor(x[i] + FILL_EPS);
		int v = f < lo[i] ? lo[i] : f > hi[i] ? hi[i] : (int)f;
		out[i] = v;
		rem[i] = util_clamp(x[i] - v, 0, 1);
		idx[i] = i;
		left -= v;
	}
	sort_by_remainder(idx, n, rem);
	/* Rounding down leaves fewer than n units; each pass gives at most one
	 * per entry with room. A second pass only runs on numerically odd input. */
	while (left > 0) {
		long given = 0;
		for (size_t k = 0; k < n && left > 0; k++) {
			size_t i = idx[k];
			if (out[i] < hi[i]) {
				out[i]++;
				left--;
				given++;
			}
		}
		if (!given)
			return -1;
	}
	while (left < 0) { /* only if floor(x + eps) overshot: take from the smallest remainders */
		long taken = 0;
		for (size_t k = n; k-- > 0 && left < 0;) {
			size_t i = idx[k];
			if (out[i] > lo[i]) {
				out[i]--;
				left++;
				taken++;
			}
		}
		if (!taken)
			return -1;
	}
	return 0;
}
