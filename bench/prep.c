/* prep: a scenario file made ready for the benchmark (see bench.h): what is
 * steered, nominal capacities, change points and the oracle's segments. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

const char *const bench_policy_names[BP_N] = {
	"equal",	    "capacity",		"p2c",		   "leasttime", "leasttime-phc",
	"step",	    "weightd-latency", "weightd-leasttime", "oracle",
};

static double sched_max(const struct fleet_sched *s)
{
	double m = 0;
	for (size_t i = 0; i < s->n; i++)
		m = s->v[i] > m ? s->v[i] : m;
	return m;
}

/* Adds tick k to a sorted set of ticks (no duplicates). */
static void add_tick(size_t *set, size_t *n, size_t k)
{
	size_t i = 0;
	while (i < *n && set[i] < k)
		i++;
	if ((i < *n && set[i] == k) || *n >= BENCH_MAX_SEG)
		return;
	memmove(set + i + 1, set + i, (*n - i) * sizeof *set);
	set[i] = k;
	(*n)++;
}

/* The first tick that starts at or after t (a change mid-tick counts from the next). */
static size_t tick_of(const struct bench *b, double t)
{
	return (size_t)ceil(t / b->tick_s - 1e-9);
}

static void add_steps(struct bench *b, const struct fleet_sched *s)
{
	for (size_t i = 0; i < s->n; i++) {
		size_t k = tick_of(b, s->t_s[i]);
		if (s->t_s[i] > 0 && k < b->n_ticks)
			add_tick(b->changes, &b->n_changes, k);
	}
}

static int entity_of(const struct bench *b, const char *name)
{
	for (size_t e = 0; e < b->nw; e++)
		if (strcmp(b->names[e], name) == 0)
			return (int)e;
	return -1;
}

int bench_load(struct bench *b, const char *path, double duration_s, char *err, size_t errlen)
{
	struct bench keep = *b; /* the caller's options */
	memset(b, 0, sizeof *b);
	b->noise = keep.noise;
	b->policy_set = keep.policy_set;
	b->verbose = keep.verbose;
	b->tick_override_s = keep.tick_override_s;
	b->seed_override = keep.seed_override;
	b->window_s = keep.window_s > 0 ? keep.window_s : BENCH_WINDOW_S;
	if (scenario_load(path, &b->sc, err, errlen) < 0)
		return -1;
	if (b->seed_override)
		b->sc.spec.seed = b->seed_override;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	snprintf(b->name, sizeof b->name, "%.*s", (int)strcspn(base, "."), base);
	b->tick_s = b->tick_override_s > 0 ? b->tick_override_s : b->sc.interval_s;
	double dur = duration_s > 0 ? duration_s : b->sc.duration_s;
	if (!(b->tick_s >= 1) || !(dur >= 4 * b->tick_s)) {
		snprintf(err, errlen, "%s: interval (the tick) must be at least 1s and duration "
			 "at least four ticks", path);
		goto fail;
	}
	b->window_ticks = (size_t)lround(b->window_s / b->tick_s);
	b->scrape_ticks = b->sc.scrape_s > 0 ? (size_t)lround(b->sc.scrape_s / b->tick_s) : 1;
	b->minute_ticks = (size_t)lround(60 / b->tick_s);
	b->window_ticks = b->window_ticks ? b->window_ticks : 1;
	b->scrape_ticks = b->scrape_ticks ? b->scrape_ticks : 1;
	b->minute_ticks = b->minute_ticks ? b->minute_ticks : 1;
	if (b->window_ticks > BENCH_MAX_WINDOW || b->scrape_ticks > BENCH_MAX_WINDOW) {
		snprintf(err, errlen, "%s: window %gs and scrape %gs must each span at most %d ticks "
			 "of %gs", path, b->window_s, b->sc.scrape_s, BENCH_MAX_WINDOW, b->tick_s);
		goto fail;
	}
	b->n_ticks = (size_t)floor(dur / b->tick_s + 1e-9);
	b->warm_ticks = (size_t)ceil(300 / b->tick_s - 1e-9);
	if (b->warm_ticks > b->n_ticks / 4)
		b->warm_ticks = b->n_ticks / 4;
	const struct fleet_spec *sp = &b->sc.spec;
	b->groups = sp->backends[0].service[0] != 0;
	for (size_t i = 0; i < sp->n_backends; i++) {
		const struct fleet_backend_spec *bs = &sp->backends[i];
		const char *name = b->groups ? bs->service : bs->name;
		int e = entity_of(b, name);
		if (e < 0) {
			if (b->nw == BENCH_MAX_W) {
				snprintf(err, errlen, "%s: more than %d steered backends", path, BENCH_MAX_W);
				goto fail;
			}
			e = (int)b->nw++;
			snprintf(b->names[e], FLEET_NAME_MAX, "%s", name);
			snprintf(b->urls[e], FLEET_NAME_MAX, "%s", bs->url);
			b->join_tick[e] = tick_of(b, bs->join_s);
		}
		b->capacity[e] += sched_max(&bs->capacity);
		b->init_w[e] += bs->weight;
		add_steps(b, &bs->capacity);
		add_steps(b, &bs->slots);
		add_steps(b, &bs->latency);
		add_steps(b, &bs->errors);
		if (bs->join_s > 0 && tick_of(b, bs->join_s) < b->n_ticks)
			add_tick(b->changes, &b->n_changes, tick_of(b, bs->join_s));
	}
	add_steps(b, &sp->load.rate);
	add_tick(b->changes, &b->n_changes, 0);
	/* the oracle's segments: the phases, cut into eighths of a diurnal period */
	for (size_t i = 0; i < b->n_changes; i++)
		add_tick(b->seg, &b->n_seg, b->changes[i]);
	const struct fleet_load_spec *l = &sp->load;
	if (l->diurnal_amplitude > 0) {
		double step = l->diurnal_period_s / 8;
		for (double t = step; t < dur; t += step)
			add_tick(b->seg, &b->n_seg, tick_of(b, t));
	}
	b->seg[b->n_seg] = b->n_ticks;
	return 0;
fail:
	scenario_free(&b->sc);
	return -1;
}

void bench_free(struct bench *b)
{
	scenario_free(&b->sc);
}

bool bench_applies(const struct bench *b, enum bench_policy p)
{
	if (p == BP_STEP)
		return b->groups && b->nw == 2;
	if (p == BP_P2C || p == BP_LEASTTIME || p == BP_LEASTTIME_PHC || p == BP_WD_LEASTTIME)
		return !b->groups;
	return true;
}
