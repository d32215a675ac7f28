/* oracle: the best static split of each segment, searched in the same model.
 *
 * Segment by segment (earlier ones at their found splits), starting from
 * capacity-proportional weights: move `delta` of the total from one backend
 * to another whenever that lowers the segment's cost (p95 x (1 + 10 x error
 * share)), until no move helps, then halve delta (16 % down to 1 %). Every
 * evaluation replays the scenario's seed from the start (common random
 * numbers), so differences between splits are not sampling noise of the
 * arrivals. Weights may reach 0: the oracle knows which backend fails.
 * Past ORACLE_SEARCH_MAX entities the pairwise search (n x (n - 1) runs a
 * round) would take hours: the oracle is then the split by each phase's
 * capacity, the best static split of a fleet whose servers differ only in
 * capacity. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define ORACLE_SEARCH_MAX 8

/* Entity e's capacity at time t (the schedule's, summed per child). */
static double capacity_at(const struct bench *b, size_t e, double t)
{
	double c = 0;
	const struct fleet_spec *sp = &b->sc.spec;
	for (size_t i = 0; i < sp->n_backends; i++) {
		const struct fleet_backend_spec *bs = &sp->backends[i];
		if (strcmp(b->groups ? bs->service : bs->name, b->names[e]) == 0)
			c += fleet_sched_at(&bs->capacity, t);
	}
	return c;
}

static int eval(const struct bench *b, double *seg_w, size_t s, double *cost, char *err,
		size_t errlen)
{
	struct bench_run r;
	if (bench_run(b, BP_ORACLE, seg_w, b->seg[s + 1], &r, err, errlen) < 0)
		return -1;
	*cost = bench_cost(&r, b->seg[s], b->seg[s + 1]);
	bench_run_free(&r);
	return 0;
}

int bench_oracle(const struct bench *b, double *seg_w, char *err, size_t errlen)
{
	static const double deltas[] = { 16, 8, 4, 2, 1 };
	unsigned evals = 0;
	for (size_t s = 0; s < b->n_seg; s++) {
		double *w = seg_w + s * b->nw;
		size_t k0 = b->seg[s];
		bool in[BENCH_MAX_W];
		double cap = 0;
		bool big = b->nw > ORACLE_SEARCH_MAX;
		double now[BENCH_MAX_W];
		for (size_t e = 0; e < b->nw; e++) {
			in[e] = b->join_tick[e] <= k0;
			now[e] = big ? capacity_at(b, e, (double)k0 * b->tick_s) : b->capacity[e];
			cap += in[e] ? now[e] : 0;
		}
		/* a later segment of the same phase starts from the last split */
		bool same_phase = false;
		for (size_t i = 0; s && i < b->n_changes; i++)
			same_phase |= b->changes[i] == k0;
		same_phase = s && !same_phase;
		for (size_t e = 0; e < b->nw; e++)
			w[e] = same_phase ? w[e - b->nw] : in[e] ? 100 * now[e] / cap : 0;
		double best;
		if (eval(b, seg_w, s, &best, err, errlen) < 0)
			return -1;
		evals++;
		for (size_t d = same_phase ? 2 : 0; !big && d < sizeof deltas / sizeof *deltas; d++) {
			bool improved = true;
			for (int round = 0; improved && round < 6; round++) {
				improved = false;
				for (size_t i = 0; i < b->nw; i++) {
					for (size_t j = 0; j < b->nw; j++) {
						if (i == j || !in[i] || !in[j] || w[i] < deltas[d] - 1e-9)
							continue;
						w[i] -= deltas[d];
						w[j] += deltas[d];
						double c;
						if (eval(b, seg_w, s, &c, err, errlen) < 0)
							return -1;
						evals++;
						if (c < best * (1 - 1e-4)) {
							best = c;
							improved = true;
						} else {
							w[i] += deltas[d];
							w[j] -= deltas[d];
						}
					}
				}
			}
		}
		if (b->verbose) {
			fprintf(stderr, "weightd-bench: %s: oracle segment %zu (ticks %zu-%zu): cost %.4fs, weights",
				b->name, s, k0, b->seg[s + 1], best);
			for (size_t e = 0; e < b->nw; e++)
				fprintf(stderr, " %.0f", w[e]);
			fputc('\n', stderr);
		}
	}
	if (b->verbose)
		fprintf(stderr, "weightd-bench: %s: oracle search took %u runs\n", b->name, evals);
	return 0;
}
