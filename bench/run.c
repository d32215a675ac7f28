/* run: one run of one policy over a scenario, in simulated time.
 *
 * The loop is weightd's: every tick (the scenario's interval) the model runs
 * to the tick's end, the policy looks at what Prometheus would show and may
 * set new weights, which the balancer uses from then on. weightd's policies
 * are the real ones: a weightd.conf is generated and loaded by config_load,
 * and policy_step turns measurements into the integers a write carries.
 * Measurements are what `rate(...[1m])` and `histogram_quantile(0.95, ...)`
 * give: the histogram deltas over the window (b->window_ticks ticks) ending
 * at the last scrape, merged, the bucket interpolation included, times a
 * lognormal noise drawn once per scrape (a tick that sees no new scrape
 * reads exactly what the last one did, as Prometheus answers). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "config.h"
#include "measure.h"
#include "policy.h"

/* ---- recording every request ------------------------------------------- */

struct rec {
	struct fleet_chooser inner;
	struct bench_run *r;
	size_t tick;
	bool oom;
};

static int rec_pick(void *ctx, struct fleet *f)
{
	struct rec *x = ctx;
	x->r->arrived[x->tick]++;
	int b = x->inner.pick(x->inner.ctx, f);
	if (b < 0)
		x->r->failed[x->tick]++;
	return b;
}

static void rec_weights(void *ctx, struct fleet *f)
{
	struct rec *x = ctx;
	if (x->inner.on_weights)
		x->inner.on_weights(x->inner.ctx, f);
}

static void rec_done(void *ctx, struct fleet *f, size_t b, double latency_s, int code)
{
	struct rec *x = ctx;
	struct bench_run *r = x->r;
	if (x->inner.on_done)
		x->inner.on_done(x->inner.ctx, f, b, latency_s, code);
	if (code != 200) {
		r->failed[x->tick]++;
		return;
	}
	if (r->n_lat == r->cap_lat) {
		size_t nc = r->cap_lat ? 2 * r->cap_lat : 65536;
		double *nv = realloc(r->lat, nc * sizeof *nv);
		if (!nv) {
			x->oom = true;
			return;
		}
		r->lat = nv;
		r->cap_lat = nc;
	}
	r->lat[r->n_lat++] = latency_s;
}

static void rec_free(void *ctx)
{
	struct rec *x = ctx;
	if (x->inner.free)
		x->inner.free(x->inner.ctx);
	free(x);
}

/* ---- measurements as Prometheus shows them ------------------------------ */

struct rng {
	uint64_t s;
};

static double rng_u(struct rng *g) /* splitmix64, (0,1] */
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return ((double)((z ^ (z >> 31)) >> 11) + 1) * 0x1.0p-53;
}

static double rng_normal(struct rng *g)
{
	return sqrt(-2 * log(rng_u(g))) * cos(2 * M_PI * rng_u(g));
}

/* Snapshots kept: back to the last scrape, and a window before it. */
#define METER_RING (2 * BENCH_MAX_WINDOW + 1)

struct meter {
	struct fleet_counters snap[METER_RING][BENCH_MAX_W]; /* ring by tick */
	uint64_t seed;
};

/* The noise factor of entity e's measurement from the scrape at tick ks:
 * the same whenever that scrape is read. */
static double meter_noise(const struct meter *m, const struct bench *b, size_t ks, size_t e)
{
	struct rng g = { m->seed ^ (ks * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)e << 48) };
	rng_u(&g);
	return exp(b->noise * rng_normal(&g));
}

static const struct fleet_counters *entity_counters(const struct bench *b, struct fleet *f,
						    size_t e)
{
	return b->groups ? fleet_group_counters(f, e) : fleet_backend_counters(f, e);
}

/* Snapshot at the end of tick k. */
static void meter_take(struct meter *m, const struct bench *b, struct fleet *f, size_t k)
{
	for (size_t e = 0; e < b->nw; e++)
		m->snap[k % METER_RING][e] = *entity_counters(b, f, e);
}

/* Entity e over the window ending with tick k, as the queries of the
 * README's example return it: p95 latency, 5xx ratio, request rate. */
static struct wd_measurement meter_read(struct meter *m, const struct bench *b, struct fleet *f,
					size_t k, size_t e)
{
	struct wd_measurement out = { 0 };
	size_t sc = b->scrape_ticks, wt = b->window_ticks;
	if (k + 1 < sc)
		return out; /* not scraped yet */
	size_t ks = k - (k + 1) % sc; /* the tick the last scrape ended */
	const struct fleet_counters *now = &m->snap[ks % METER_RING][e];
	struct fleet_counters zero = { 0 };
	const struct fleet_counters *then = ks >= wt ? &m->snap[(ks - wt) % METER_RING][e] : &zero;
	size_t n_le;
	const double *le = fleet_buckets(f, &n_le);
	uint64_t cum[FLEET_MAX_BUCKETS + 1];
	for (size_t i = 0; i <= n_le; i++)
		cum[i] = now->hist.bucket[i] - then->hist.bucket[i];
	uint64_t count = now->hist.count - then->hist.count;
	size_t ticks = ks >= wt ? wt : ks + 1;
	double noise = meter_noise(m, b, ks, e);
	if (!count)
		return out; /* 0/0: no series */
	out.has_latency = true;
	out.latency_s = fleet_hist_quantile(0.95, le, n_le, cum) * noise;
	out.has_error = true;
	out.error_ratio = (double)(now->code500 + now->code503 - then->code500 - then->code503) /
			  (double)count;
	out.has_rate = true;
	out.rate = (double)count / ((double)ticks * b->tick_s);
	return out;
}

/* ---- weightd's policy, as the daemon runs it ----------------------------- */

struct wd {
	struct wd_config *cfg;
	struct wd_service_state st;
	size_t map[BENCH_MAX_W]; /* config backend -> entity */
	bool joined[BENCH_MAX_W];
};

/* Loads a weightd.conf for the entities that have joined by tick k. */
static int wd_config(const struct bench *b, bool leasttime, size_t k, struct wd *w,
		     char *err, size_t errlen)
{
	char path[] = "/tmp/weightd-bench.XXXXXX";
	int fd = mkstemp(path);
	FILE *o = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!o) {
		snprintf(err, errlen, "cannot write a temporary config in /tmp");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(o, "interval = \"%gs\";\nlisten = \"\";\nstate_file = \"\";\n"
		   "prometheus = { url = \"http://127.0.0.1:1\"; };\n"
		   "output = { type = \"file\"; path = \"/nonexistent/weightd-bench.yml\"; };\n"
		   "policy = { latency_query = \"histogram_quantile(0.95, sum by (le, instance)"
		   " (rate(l_bucket[1m])))\"; error_query = \"e\";"
		   " rate_query = \"r\"; window = \"%gs\"; %s };\n"
		   "services = ( { name = \"bench\"; kind = \"%s\"; label = \"instance\";%s\n"
		   "  backends = (\n",
		b->tick_s, b->window_s,
		b->policy_set ? b->policy_set : "", b->groups ? "weighted" : "servers",
		/* the leasttime mode as documented: with Traefik's passive health
		 * check, which takes a failing server out per request */
		leasttime ? " strategy = \"leasttime\"; passive_health_check = { };" : "");
	int wint[BENCH_MAX_W], lo[BENCH_MAX_W], hi[BENCH_MAX_W];
	for (size_t e = 0; e < b->nw; e++) {
		lo[e] = 1;
		hi[e] = 100;
	}
	/* the scenario's weights as integers of total 100, as an operator writes them */
	if (policy_apportion(b->init_w, b->nw, 100, lo, hi, wint) < 0)
		for (size_t e = 0; e < b->nw; e++)
			wint[e] = 100 / (int)b->nw;
	size_t n = 0;
	for (size_t e = 0; e < b->nw; e++) {
		if (b->join_tick[e] > k)
			continue;
		fprintf(o, "%s    { name = \"%s\"; weight = %d;", n ? ",\n" : "", b->names[e], wint[e]);
		if (!b->groups)
			fprintf(o, " url = \"%s\";", b->urls[e]);
		fputs(" }", o);
		w->map[n++] = e;
	}
	fputs("\n  ); } );\n", o);
	fclose(o);
	struct wd_errors errs = { 0 };
	struct wd_config *cfg = NULL;
	int rc = config_load(path, &cfg, &errs, NULL);
	unlink(path);
	if (rc < 0) {
		snprintf(err, errlen, "weightd config: %s", errs.n ? errs.msgs[0] : "invalid");
		errors_free(&errs);
		return -1;
	}
	errors_free(&errs);
	if (policy_state_sync(&w->st, &cfg->services[0]) < 0) {
		config_free(cfg);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	config_free(w->cfg); /* a reload: the state keeps every known backend's memory */
	w->cfg = cfg;
	for (size_t e = 0; e < b->nw; e++)
		w->joined[e] = b->join_tick[e] <= k;
	return 0;
}

/* One tick of weightd for the window ending with tick k: true when it writes,
 * with the weights in w (per entity). */
static bool wd_tick(struct wd *d, struct meter *m, const struct bench *b, struct fleet *f,
		    size_t k, double *w)
{
	const struct wd_service_cfg *svc = &d->cfg->services[0];
	struct wd_measurement meas[BENCH_MAX_W];
	struct wd_decision dec[BENCH_MAX_W];
	for (size_t i = 0; i < svc->n_backends; i++) {
		meas[i] = meter_read(m, b, f, k, d->map[i]);
		measure_screen(&svc->policy, svc->policy.rate_query[0] != '\0', &meas[i]);
	}
	if (!policy_step(svc, &d->st, meas, true, dec))
		return false;
	for (size_t i = 0; i < svc->n_backends; i++)
		w[d->map[i]] = d->st.b[i].out_weight;
	if (b->verbose > 1)
		for (size_t i = 0; i < svc->n_backends; i++)
			fprintf(stderr, "t=%zu %s lat=%.4f err=%.3f rate=%.1f w=%d %s\n", k,
				b->names[d->map[i]], meas[i].latency_s, meas[i].error_ratio, meas[i].rate,
				dec[i].new_weight, policy_action_name(dec[i].action));
	return true;
}

/* ---- Flagger-style steps --------------------------------------------------
 * The canary (the last child service) starts at stepWeight and gains
 * stepWeight every analysis interval (1 minute) while its p95 stays within
 * STEP_MAX_RATIO of the primary's and its errors under 1 %, up to maxWeight
 * (promotion, which replaces the primary's code, is beyond the model: the
 * split holds). After `threshold` failed checks it rolls back to 0. Flagger's
 * documented example: stepWeight 10, maxWeight 50, threshold 5, interval 1m. */
#define STEP_WEIGHT 10
#define STEP_MAX 50
#define STEP_THRESHOLD 5
#define STEP_MAX_RATIO 1.5

struct step {
	int canary, fails;
	bool rolled_back;
};

static bool step_tick(struct step *s, struct meter *m, const struct bench *b, struct fleet *f,
		      size_t k, double *w)
{
	if (s->rolled_back || (k + 1) % b->minute_ticks)
		return false;
	struct wd_measurement pri = meter_read(m, b, f, k, 0), can = meter_read(m, b, f, k, 1);
	bool ok = can.has_latency && pri.has_latency &&
		  can.latency_s <= STEP_MAX_RATIO * pri.latency_s && can.error_ratio < 0.01;
	int was = s->canary;
	if (ok && s->canary < STEP_MAX) {
		s->canary += STEP_WEIGHT;
	} else if (!ok && ++s->fails >= STEP_THRESHOLD) {
		s->canary = 0;
		s->rolled_back = true;
	}
	w[0] = 100 - s->canary;
	w[1] = s->canary;
	return s->canary != was;
}

/* ---- the run --------------------------------------------------------------- */

static void apply(const struct bench *b, struct fleet *f, const double *w)
{
	if (b->groups) {
		for (size_t e = 0; e < b->nw; e++)
			fleet_set_group_weight(f, e, w[e]);
	} else {
		fleet_set_weights(f, w);
	}
}

/* The weights in force during tick k, over the entities that have joined, summing to 100. */
static void record_weights(const struct bench *b, const double *w, size_t k, double *row)
{
	double sum = 0;
	for (size_t e = 0; e < b->nw; e++)
		sum += b->join_tick[e] <= k ? w[e] : 0;
	for (size_t e = 0; e < b->nw; e++)
		row[e] = b->join_tick[e] <= k && sum > 0 ? 100 * w[e] / sum : 0;
}

static int run_alloc(struct bench_run *r, size_t ticks, size_t nw)
{
	memset(r, 0, sizeof *r);
	r->nw = nw;
	r->w = calloc(ticks * nw, sizeof *r->w);
	r->off = calloc(ticks + 1, sizeof *r->off);
	r->arrived = calloc(ticks, sizeof *r->arrived);
	r->failed = calloc(ticks, sizeof *r->failed);
	return r->w && r->off && r->arrived && r->failed ? 0 : -1;
}

void bench_run_free(struct bench_run *r)
{
	free(r->w);
	free(r->lat);
	free(r->off);
	free(r->arrived);
	free(r->failed);
	memset(r, 0, sizeof *r);
}

int bench_run(const struct bench *b, enum bench_policy p, const double *seg_w, size_t upto,
	      struct bench_run *r, char *err, size_t errlen)
{
	size_t ticks = upto && upto < b->n_ticks ? upto : b->n_ticks;
	if (run_alloc(r, ticks, b->nw) < 0) {
		snprintf(err, errlen, "out of memory");
		bench_run_free(r);
		return -1;
	}
	struct fleet *f = fleet_new(&b->sc.spec, err, errlen);
	struct rec *x = calloc(1, sizeof *x);
	struct meter *m = calloc(1, sizeof *m);
	struct wd d = { 0 };
	struct step st = { .canary = STEP_WEIGHT };
	int rc = -1;
	if (!f || !x || !m) {
		if (f)
			snprintf(err, errlen, "out of memory");
		free(x);
		goto out;
	}
	m->seed = b->sc.spec.seed * 7919 + 17;
	x->r = r;
	x->inner = p == BP_P2C ? fleet_chooser_p2c()
		 : p == BP_LEASTTIME || p == BP_LEASTTIME_PHC || p == BP_WD_LEASTTIME
			 ? fleet_chooser_leasttime()
			 : fleet_chooser_wrr();
	fleet_set_chooser(f, (struct fleet_chooser){ .pick = rec_pick, .on_weights = rec_weights,
						     .on_done = rec_done, .free = rec_free,
						     .ctx = x });
	if (!x->inner.pick) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	double w[BENCH_MAX_W];
	for (size_t e = 0; e < b->nw; e++) {
		switch (p) {
		case BP_CAPACITY:
			w[e] = b->capacity[e];
			break;
		case BP_WD_LATENCY:
		case BP_WD_LEASTTIME:
			w[e] = 0; /* in Traefik once weightd writes it */
			break;
		case BP_STEP:
			w[e] = e ? st.canary : 100 - st.canary;
			break;
		default:
			w[e] = 1;
		}
	}
	bool wd = p == BP_WD_LATENCY || p == BP_WD_LEASTTIME;
	if (wd) {
		if (wd_config(b, p == BP_WD_LEASTTIME, 0, &d, err,
			      errlen) < 0)
			goto out;
		for (size_t i = 0; i < d.cfg->services[0].n_backends; i++)
			w[d.map[i]] = d.st.b[i].out_weight;
		const struct wd_lb_cfg *lb = &d.cfg->services[0].lb;
		if (lb->passive)
			fleet_set_passive(f,
					  lb->max_failed_attempts ? (unsigned)lb->max_failed_attempts
								  : BENCH_PASSIVE_MAX_FAILED,
					  lb->failure_window_ms ? (double)lb->failure_window_ms / 1000
								: BENCH_PASSIVE_WINDOW_S);
	} else if (p == BP_LEASTTIME_PHC) {
		fleet_set_passive(f, BENCH_PASSIVE_MAX_FAILED, BENCH_PASSIVE_WINDOW_S);
	}
	apply(b, f, w);
	size_t seg = 0;
	for (size_t k = 0; k < ticks; k++) {
		if (p == BP_ORACLE && k == b->seg[seg]) {
			if (k)
				r->writes++;
			apply(b, f, seg_w + seg * b->nw);
			memcpy(w, seg_w + seg * b->nw, b->nw * sizeof *w);
			seg++;
		}
		if (wd && k) {
			bool change = false;
			for (size_t e = 0; e < b->nw; e++)
				change |= (b->join_tick[e] <= k) != d.joined[e];
			/* an operator adds the new server to the config as it joins */
			if (change && wd_config(b, p == BP_WD_LEASTTIME, k, &d, err,
						errlen) < 0)
				goto out;
		}
		record_weights(b, w, k, r->w + k * b->nw);
		x->tick = k;
		r->off[k] = r->n_lat;
		fleet_run_until(f, (double)(k + 1) * b->tick_s);
		r->n_ticks = k + 1;
		meter_take(m, b, f, k);
		bool wrote = false;
		if (wd)
			wrote = wd_tick(&d, m, b, f, k, w);
		else if (p == BP_STEP)
			wrote = step_tick(&st, m, b, f, k, w);
		if (wrote) {
			r->writes++;
			apply(b, f, w);
		}
	}
	r->off[ticks] = r->n_lat;
	if (x->oom) {
		snprintf(err, errlen, "out of memory recording latencies");
		goto out;
	}
	rc = 0;
out:
	fleet_free(f);
	free(m);
	policy_state_free(&d.st);
	config_free(d.cfg);
	if (rc < 0)
		bench_run_free(r);
	return rc;
}
