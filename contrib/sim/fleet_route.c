/* fleet_route: the balancer's routing strategies for the fleet model.
 *
 * wrr is Traefik's weighted round robin (pkg/server/service/loadbalancer/wrr):
 * earliest deadline first, the picked handler's deadline grows by 1/weight,
 * a handler of weight 0 is never added, and a rebuild (any weight change)
 * starts every deadline afresh from 1/weight. With weighted child services it
 * runs at two levels, children first, then their servers. p2c and leasttime
 * are the per-request strategies of Traefik v3.4 and v3.6. Each skips a
 * server the passive health check holds down (fleet_up), as Traefik's
 * balancers skip a server whose status is down. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

#define LT_WINDOW 100

/* ---- EDF weighted round robin -------------------------------------------- */

struct wrr {
	size_t n, n_groups;
	double *bd;   /* backend deadlines */
	double *bcur; /* per balancer (group, or [0] without groups) current deadline */
	double *gd;   /* group deadlines */
	double gcur;
};

static bool group_available(struct fleet *f, size_t g)
{
	for (size_t i = 0; i < fleet_n_backends(f); i++)
		if (fleet_backend_group(f, i) == (int)g && fleet_weight(f, i) > 0 && fleet_up(f, i))
			return true;
	return false;
}

static void wrr_reset(void *ctx, struct fleet *f)
{
	struct wrr *w = ctx;
	if (!w->bd) {
		w->n = fleet_n_backends(f);
		w->n_groups = fleet_n_groups(f);
		w->bd = calloc(w->n, sizeof *w->bd);
		w->bcur = calloc(w->n_groups + 1, sizeof *w->bcur);
		w->gd = calloc(w->n_groups + 1, sizeof *w->gd);
		if (!w->bd || !w->bcur || !w->gd)
			return;
	}
	for (size_t g = 0; g <= w->n_groups; g++)
		w->bcur[g] = 0;
	w->gcur = 0;
	for (size_t i = 0; i < w->n; i++) {
		double wt = fleet_weight(f, i);
		w->bd[i] = wt > 0 ? 1.0 / wt : INFINITY;
	}
	for (size_t g = 0; g < w->n_groups; g++) {
		double wt = fleet_group_weight(f, g);
		w->gd[g] = wt > 0 ? 1.0 / wt : INFINITY;
	}
}

/* One EDF step among the handlers for which in(i) holds: pops the earliest
 * deadline (ties: lowest index), advances it by 1/weight. -1 when none. */
static int edf(double *deadline, size_t n, double *cur, const double *weight)
{
	int best = -1;
	for (size_t i = 0; i < n; i++)
		if (weight[i] > 0 && isfinite(deadline[i]) &&
		    (best < 0 || deadline[i] < deadline[best]))
			best = (int)i;
	if (best >= 0) {
		*cur = deadline[best];
		deadline[best] += 1.0 / weight[best];
	}
	return best;
}

static int wrr_pick(void *ctx, struct fleet *f)
{
	struct wrr *w = ctx;
	if (!w->bd)
		return -1;
	double wt[w->n > w->n_groups ? w->n : w->n_groups + 1];
	int group = -1;
	if (w->n_groups) {
		for (size_t g = 0; g < w->n_groups; g++)
			wt[g] = fleet_group_weight(f, g);
		bool any = false;
		for (size_t g = 0; g < w->n_groups && !any; g++)
			any = wt[g] > 0 && group_available(f, g);
		if (!any)
			return -1;
		/* a child without servers is skipped, as Traefik skips a down child */
		do
			group = edf(w->gd, w->n_groups, &w->gcur, wt);
		while (!group_available(f, (size_t)group));
	}
	bool any = false;
	for (size_t i = 0; i < w->n; i++) {
		wt[i] = fleet_backend_group(f, i) == group ? fleet_weight(f, i) : 0;
		any = any || (wt[i] > 0 && fleet_up(f, i));
	}
	if (!any)
		return -1;
	/* new handlers join at the balancer's current deadline, as in Traefik;
	 * a server the passive health check holds down loses its turn */
	int best;
	do
		best = edf(w->bd, w->n, &w->bcur[group < 0 ? 0 : group + 1], wt);
	while (best >= 0 && !fleet_up(f, (size_t)best));
	return best;
}

static void wrr_free(void *ctx)
{
	struct wrr *w = ctx;
	if (!w)
		return;
	free(w->bd);
	free(w->bcur);
	free(w->gd);
	free(w);
}

struct fleet_chooser fleet_chooser_wrr(void)
{
	struct fleet_chooser ch = { .pick = wrr_pick, .on_weights = wrr_reset, .free = wrr_free };
	ch.ctx = calloc(1, sizeof(struct wrr));
	if (!ch.ctx)
		ch.pick = NULL;
	return ch;
}

/* ---- power of two choices ------------------------------------------------ */

static int p2c_pick(void *ctx, struct fleet *f)
{
	(void)ctx;
	size_t n = fleet_n_backends(f), m = 0;
	size_t idx[n];
	for (size_t i = 0; i < n; i++)
		if (fleet_weight(f, i) > 0 && fleet_up(f, i))
			idx[m++] = i;
	if (!m)
		return -1;
	if (m == 1)
		return (int)idx[0];
	size_t a = (size_t)(fleet_random(f) * (double)m);
	size_t b = (size_t)(fleet_random(f) * (double)(m - 1));
	if (b >= a)
		b++;
	return (int)(fleet_inflight(f, idx[b]) < fleet_inflight(f, idx[a]) ? idx[b] : idx[a]);
}

struct fleet_chooser fleet_chooser_p2c(void)
{
	struct fleet_chooser ch = { .pick = p2c_pick };
	return ch;
}

/* ---- least time ---------------------------------------------------------- */

/* One balancer generation's view of a backend: what Traefik's leasttime
 * keeps per server (it starts again with every rebuild, that is every
 * configuration change): its last LT_WINDOW response times and its
 * in-flight count. Requests routed by an older generation still run on the
 * backend (old), but neither count nor report to this one; FIFO service
 * finishes them first. */
struct lt_backend {
	double ring[LT_WINDOW];
	size_t n, next;
	double sum;
	size_t old;
};

struct lt {
	size_t n;
	struct lt_backend *b;
};

static void lt_reset(void *ctx, struct fleet *f)
{
	struct lt *l = ctx;
	if (!l->b) {
		l->n = fleet_n_backends(f);
		l->b = calloc(l->n, sizeof *l->b);
	}
	/* a rebuilt balancer starts without response times or in-flight counts */
	if (l->b) {
		memset(l->b, 0, l->n * sizeof *l->b);
		for (size_t i = 0; i < l->n; i++)
			l->b[i].old = fleet_inflight(f, i);
	}
}

static void lt_done(void *ctx, struct fleet *f, size_t b, double latency_s, int code)
{
	(void)f;
	(void)code;
	struct lt *l = ctx;
	if (!l->b || b >= l->n)
		return;
	struct lt_backend *x = &l->b[b];
	if (x->old) { /* answered through the previous generation */
		x->old--;
		return;
	}
	if (x->n == LT_WINDOW)
		x->sum -= x->ring[x->next];
	else
		x->n++;
	x->ring[x->next] = latency_s;
	x->sum += latency_s;
	x->next = (x->next + 1) % LT_WINDOW;
}

static int lt_pick(void *ctx, struct fleet *f)
{
	struct lt *l = ctx;
	if (!l->b)
		return -1;
	int best = -1;
	double best_score = INFINITY;
	unsigned ties = 0;
	for (size_t i = 0; i < l->n; i++) {
		double w = fleet_weight(f, i);
		if (!(w > 0) || !fleet_up(f, i))
			continue;
		double avg = l->b[i].n ? l->b[i].sum / (double)l->b[i].n : 0;
		double inflight = (double)fleet_inflight(f, i) - (double)l->b[i].old;
		double score = avg * (1.0 + (inflight > 0 ? inflight : 0)) / w;
		if (best < 0 || score < best_score) {
			best = (int)i;
			best_score = score;
			ties = 1;
		} else if (score == best_score && fleet_random(f) * ++ties < 1.0) {
			best = (int)i; /* reservoir: each tied backend equally likely */
		}
	}
	return best;
}

static void lt_free(void *ctx)
{
	struct lt *l = ctx;
	if (l)
		free(l->b);
	free(l);
}

struct fleet_chooser fleet_chooser_leasttime(void)
{
	struct fleet_chooser ch = { .pick = lt_pick, .on_weights = lt_reset, .on_done = lt_done,
				    .free = lt_free };
	ch.ctx = calloc(1, sizeof(struct lt));
	if (!ch.ctx)
		ch.pick = NULL;
	return ch;
}
