/* policy: the PID weight policy (eject, cost, error against the
 * pool, velocity-form PID with a gain schedule, step limit, pins and drains,
 * freeze, hold rules, clamping, apportionment, deadband), as pure functions
 * over struct wd_service_state. README.md "How weightd decides" is the
 * operator's account of the same rules. */
#include "policy.h"
#include "delay.h"
#include "predict.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Latencies below this are floored: ln(0) has no place in a ratio. */
#define MIN_LATENCY_S 1e-6
/* Under leasttime: a backend failing at least this share is not held up by
 * the latency floor, and the deadband is at least total / this. */
#define POLICY_LEASTTIME_ERROR 0.01
#define POLICY_LEASTTIME_DEADBAND_DIV 10
/* Under leasttime: a slow backend the balancer sends under 1/this of its
 * weight's share of the requests is held (leasttime_steers). A cold restarted
 * server gets a sixth to a quarter of it there, the slowest of a
 * heterogeneous fleet about half (bench/: rolling-restart 1.059 -> 1.017 of
 * the oracle, as leasttime alone; with the cut only withheld, at a half
 * hetero90 lost its gain, 0.954 -> 1.018, and at a fifth the cold server was
 * still cut, 1.025-1.039). */
#define POLICY_LEASTTIME_STEERING 3.0
/* Slow start: a backend below its fair share ramps up while its cost is
 * below the pool's by this much (ln 1.25), by this factor a control step:
 * from min_weight to a fair share of 25 in two steps (bench/: rolling-restart
 * p95 1.059 -> 1.049 of the oracle, eject-recover 1.016 -> 1.012, against a
 * factor of 3). */
#define POLICY_RAMP_ERROR 0.2231
#define POLICY_RAMP_FACTOR 5.0
/* The in-flight estimate at which the gain schedule stops falling. */
#define POLICY_GAIN_INFLIGHT_CAP 8.0
/* A write of small moves only (no integer moving by more than this share of
 * the total, at least 2 points) must lower the fleet's predicted p95
 * (predict.h). */
#define POLICY_SMALL_MOVE_DIV 50
/* The elasticity the prediction gives a backend at most. An M/M/1 queue's
 * is its in-flight count however high, but a server with many slots, or a
 * quantile read from coarse buckets, moves far less with its load: past 4
 * the prediction held back moves the controller needed (bench/: heavy-tail
 * 1.25 of the oracle at a cap of 8, 1.08 at 4, as without the rule). */
#define POLICY_PREDICT_ELASTICITY_CAP 4.0

const char *policy_action_name(enum wd_action a)
{
	static const char *const names[] = {"applied", "dry_run", "held", "pinned",
					    "frozen", "ejected", "stale", "probing"};
	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

/* ---- state ----------------------------------------------------------------- */

/* At start and on every reload, the weights to carry until the first tick
 * with data must already be a valid output for the config: pins at their pin,
 * the others within [min_weight, max_weight], integers summing to total. A
 * set that already is one is left untouched (bumpless). */
static void normalise_start(const struct wd_service_cfg *svc, struct wd_backend_state *b, size_t n)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	long sum = 0;
	bool valid = true;
	for (size_t i = 0; i < n; i++) {
		int pin = svc->backends[i].pin, w = b[i].out_weight;
		sum += w;
		if (pin >= 0 ? w != pin : (w < pc->min_weight || w > pc->max_weight))
			valid = false;
	}
	if ((valid && sum == pc->total) || n > WD_MAX_BACKENDS)
		return;
	double w[WD_MAX_BACKENDS], lo[WD_MAX_BACKENDS], hi[WD_MAX_BACKENDS], x[WD_MAX_BACKENDS];
	int ilo[WD_MAX_BACKENDS], ihi[WD_MAX_BACKENDS], out[WD_MAX_BACKENDS];
	for (size_t i = 0; i < n; i++) {
		int pin = svc->backends[i].pin;
		ilo[i] = pin >= 0 ? pin : pc->min_weight;
		ihi[i] = pin >= 0 ? pin : pc->max_weight;
		lo[i] = ilo[i];
		hi[i] = ihi[i];
		w[i] = pin >= 0 ? pin : b[i].weight > 0 ? b[i].weight : b[i].out_weight;
	}
	if (policy_fill(w, n, pc->total, lo, hi, x) < 0 ||
	    policy_apportion(x, n, pc->total, ilo, ihi, out) < 0)
		return; /* config validation makes this unreachable */
	for (size_t i = 0; i < n; i++) {
		b[i].out_weight = out[i];
		if (svc->backends[i].pin < 0)
			b[i].weight = x[i];
	}
}

void policy_state_normalise(struct wd_service_state *st, const struct wd_service_cfg *svc)
{
	if (st->n == svc->n_backends)
		normalise_start(svc, st->b, st->n);
}

int policy_state_derive(const struct wd_service_state *st, const struct wd_service_cfg *svc,
			struct wd_service_state *out)
{
	size_t n = svc->n_backends;
	struct wd_backend_state *b = xcalloc(n, sizeof(*b));
	char *name = xstrdup(svc->name);
	bool changed = st->n != n || !st->name;
	for (size_t i = 0; i < n; i++) {
		const struct wd_backend_cfg *bc = &svc->backends[i];
		const struct wd_backend_state *old = NULL;
		for (size_t j = 0; j < st->n; j++) {
			if (st->b[j].name && strcmp(st->b[j].name, bc->name) == 0) {
				old = &st->b[j];
				if (j != i)
					changed = true;
				break;
			}
		}
		if (old) {
			b[i] = *old; /* everything but the name, which is copied below */
		} else {
			changed = true;
			b[i].weight = bc->pin > 0 ? bc->pin : bc->weight;
			b[i].out_weight = bc->pin >= 0 ? bc->pin : bc->weight;
			b[i].pin = bc->pin;
			b[i].last_latency = NAN;
			b[i].last_error_ratio = NAN;
			b[i].seen_weight = NAN;
			/* joined a running service */
			b[i].probation = st->n > 0 ? WD_PROBATION_WAITING : WD_PROBATION_NONE;
		}
		b[i].name = xstrdup(bc->name);
	}
	/* Not only for a new set: a reload that changes total, the bounds or
	 * the pins must not leave weights behind that break them (written as
	 * they are if the next tick has no data for this service). */
	normalise_start(svc, b, n);
	*out = (struct wd_service_state){.name = name, .b = b, .n = n, .dirty = st->dirty || changed,
					 .write_debt = st->write_debt, .since_write = st->since_write};
	return 0;
}

int policy_state_sync(struct wd_service_state *st, const struct wd_service_cfg *svc)
{
	struct wd_service_state next;
	if (policy_state_derive(st, svc, &next) < 0)
		return -1;
	policy_state_free(st);
	*st = next;
	return 0;
}

void policy_state_free(struct wd_service_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		free(st->b[i].name);
	free(st->b);
	free(st->name);
	memset(st, 0, sizeof(*st));
}

/* ---- one tick --------------------------------------------------------------- */

/* What a backend is this tick, before any number is computed. */
enum role {
	R_DRAIN,   /* pin = 0 */
	R_PIN,     /* pin = N */
	R_FROZEN,  /* service frozen */
	R_HOLDALL, /* no backend of the service has data */
	R_EJECT,   /* error ratio at or above eject_error_ratio */
	R_PID,     /* has data: steered */
	R_NODATA,  /* no data of its own: held, or drifting once stale */
	R_THIN,    /* data too thin or too old to steer on: held, or probed back */
	R_STEERED, /* under leasttime, slow but already avoided by the balancer: held */
};

/* What this tick's controller is, from the config and the signal's delay
 * (delay.h): the per-tick share of the gains and of the step limit. */
struct ctl {
	double scale;      /* the share of a control step one tick is */
	double step_max;   /* the largest log-weight move of one tick */
	double window_s;   /* the signal's window (four ticks when unknown) */
	double window_ticks; /* ticks it spans (at least 1) */
	int stale_ticks;   /* ticks without data before the stale drift */
	int repeat_ticks;  /* ticks a latency may repeat exactly before it is stale */
	double probe_w;    /* the weight a thin backend is probed back to */
	double lt_floor;   /* under leasttime: latency alone never cuts below it */
	double free_rate;  /* req/s of the backends not pinned (NaN: not all known) */
	double free_total; /* the weight they share */
	double fair_w;     /* an equal share of what the pins leave */
	double damping;    /* the service's damping: the lowest of its backends' */
	double pool_error; /* the mean error ratio of the backends not ejected */
	double pool_latency; /* the geometric mean latency of the backends with data (NaN none) */
};

/* Writes a decision's reason (truncated to fit). */
static void __attribute__((format(printf, 2, 3))) reasonf(struct wd_decision *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

/* Adds to a decision's reason (truncated to fit). */
static void __attribute__((format(printf, 2, 3))) reason_add(struct wd_decision *d, const char *fmt, ...)
{
	size_t len = strlen(d->reason);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->reason + len, sizeof(d->reason) - len, fmt, ap);
	va_end(ap);
}

/* The measurements are as measure_screen left them (policy.h): valid
 * wherever their has_ flag is set. A thin backend's error ratio does not
 * count. */
static bool error_usable(const struct wd_measurement *m)
{
	return m->has_error && m->why != WD_DATA_THIN;
}

/* Why a backend has no data, for the decision's reason. */
static void no_data_why(const struct wd_policy_cfg *pc, const struct wd_measurement *m,
			char *buf, size_t len)
{
	switch (m->why) {
	case WD_DATA_THIN:
		snprintf(buf, len, "rate %.3g/s below min_rate %.3g/s", m->rate, pc->min_rate);
		break;
	case WD_DATA_DUPLICATE: snprintf(buf, len, "two or more series name it"); break;
	case WD_DATA_BAD_LATENCY:
		snprintf(buf, len, "latency %g is not a usable value", m->latency_s);
		break;
	case WD_DATA_BAD_ERROR:
		snprintf(buf, len, "error ratio %g is not a usable value", m->error_ratio);
		break;
	case WD_DATA_BAD_RATE: snprintf(buf, len, "rate %g is not a usable value", m->rate); break;
	case WD_DATA_NO_RATE: snprintf(buf, len, "no rate series while min_rate is set"); break;
	default: snprintf(buf, len, "no latency series"); break;
	}
}

/* Cost (README "How weightd decides"): cost, and the in-flight estimate n
 * (NaN when the rate is unknown). */
static double cost_of(const struct wd_policy_cfg *pc, const struct wd_measurement *m,
		      double *inflight)
{
	double lat = m->latency_s < MIN_LATENCY_S ? MIN_LATENCY_S : m->latency_s;
	double er = error_usable(m) ? m->error_ratio : 0;
	double c = lat * (1 + pc->error_penalty * er);
	*inflight = m->has_rate ? m->rate * m->latency_s : NAN;
	return c;
}

/* Whether m's error ratio is within bounds of the pool's: at most half as
 * much again, plus half a percent (unknown counts as 0). */
static bool error_at_most_pool(const struct wd_measurement *m,
			       const struct ctl *c)
{
	double er = error_usable(m) ? m->error_ratio : 0;
	return er <= 1.5 * c->pool_error + 0.005;
}

/* Whether m's error ratio fell since the last tick (an ejected backend's
 * window still holds its old failures while it recovers). */
static bool error_falling(const struct wd_backend_state *bs,
			  const struct wd_measurement *m)
{
	return error_usable(m) && isfinite(bs->last_error_ratio) &&
	       m->error_ratio < bs->last_error_ratio;
}

/* The integer an ejected backend gets: min_weight; under leasttime nothing
 * (left out of the output), since leasttime prefers a server that fails
 * fast whatever its weight. Its continuous weight stays at min_weight, so
 * when it turns stale it is probed back from there. */
static int ejected_weight(const struct wd_policy_cfg *pc)
{
	return pc->leasttime ? 0 : pc->min_weight;
}

/* The weight a steered backend continues from: its continuous weight, or its
 * configured weight when it comes back from a drain (its weight was 0). */
static double start_weight(const struct wd_policy_cfg *pc, const struct wd_backend_cfg *bc,
			   const struct wd_backend_state *bs)
{
	double w = bs->weight;
	if (bs->pin == 0 || !isfinite(w) || w <= 0)
		w = bc->weight;
	return util_clamp(w, pc->min_weight, pc->max_weight);
}

/* Sets every decision to "hold as is" with one reason (used when the state
 * does not match the config, which policy_state_sync prevents). */
static bool hold_unchanged(const struct wd_service_cfg *svc, const struct wd_service_state *st,
			   struct wd_decision *out, const char *why)
{
	for (size_t i = 0; i < svc->n_backends; i++) {
		int w = i < st->n ? st->b[i].out_weight : 0;
		out[i] = (struct wd_decision){.action = WD_ACT_HELD, .cost = NAN, .error = NAN,
					      .old_weight = w, .new_weight = w};
		reasonf(&out[i], "%s", why);
	}
	return false;
}

/* Shape: the continuous weights x of this tick, summing to total. Fixed
 * entries (pins, drains) keep their value. Tried with the held, stale,
 * frozen and ejected weights fixed too, so only steered backends share the
 * rest; if that is infeasible (few steered backends, or total or bounds
 * changed by a reload), the held ones scale with them; last, the ejected. */
static int shape(const struct wd_service_cfg *svc, const enum role *role, const double *want,
		 const double *floor, double *x)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	size_t n = svc->n_backends;
	double lo[WD_MAX_BACKENDS], hi[WD_MAX_BACKENDS];
	bool steered = false;
	for (size_t i = 0; i < n; i++)
		steered |= role[i] == R_PID;
	if (!steered) {
		/* Nothing steered (frozen, or no data): every weight holds as it is,
		 * even if they do not sum to total; the integers are made to. */
		for (size_t i = 0; i < n; i++)
			x[i] = role[i] == R_DRAIN || role[i] == R_PIN
				       ? want[i]
				       : util_clamp(want[i], pc->min_weight, pc->max_weight);
		return 0;
	}
	for (int level = 0; level < 3; level++) {
		for (size_t i = 0; i < n; i++) {
			bool fixed;
			switch (role[i]) {
			case R_DRAIN:
			case R_PIN:
				fixed = true;
				break;
			case R_PID:
				fixed = false;
				break;
			case R_EJECT:
				fixed = level < 2;
				break;
			default:
				fixed = level < 1;
				break;
			}
			if (fixed) {
				lo[i] = hi[i] = want[i];
			} else {
				lo[i] = role[i] == R_PID && level == 0 ? floor[i] : pc->min_weight;
				hi[i] = pc->max_weight;
			}
		}
		if (policy_fill(want, n, pc->total, lo, hi, x) == 0)
			return 0;
	}
	return -1;
}

/* The PID memory of one backend as this tick leaves it; committed to the
 * state only when the tick completes. */
struct memory {
	double e1, e2;
	int n_err, stale;
	double last_latency;
	int repeats;
	bool probing;
	enum wd_probation probation;
	double last_error_ratio;
	struct wd_damping damp;
};

/* How many requests the signal of m was built from: its rate over the
 * window; NaN when the rate is unknown. */
static double evidence(const struct ctl *c, const struct wd_measurement *m)
{
	return m->has_rate ? m->rate * c->window_s : NAN;
}

/* How many ticks in a row m repeats the latency bs saw, this one included. */
static int repeats_of(const struct wd_backend_state *bs, const struct wd_measurement *m)
{
	return m->latency_s == bs->last_latency ? bs->repeats + 1 : 0;
}

/* A signal the controller must not push a backend further on: built from
 * fewer than min_requests requests, or (without a rate to tell) a starved
 * backend's latency (below half a fair share) repeated exactly for longer
 * than the signal's delay: nothing has refreshed it, as when a server's
 * average is left over from the last requests it served. */
static bool signal_thin(const struct wd_policy_cfg *pc, const struct ctl *c,
			const struct wd_backend_state *bs, const struct wd_measurement *m)
{
	double ev = evidence(c, m);
	if (isfinite(ev))
		return ev < pc->min_requests;
	return bs->weight < c->fair_w / 2 && repeats_of(bs, m) >= c->repeat_ticks;
}

/* The error ratio of the newest tick, as far as the window shows it: a
 * window's average moves by a window's share of what the newest tick brought
 * (ticks per window times its change, from where it was), so failures that
 * began a tick ago are seen whole instead of a quarter of them. Never below
 * the window's own ratio; the window's when the last is unknown, and for an
 * overloaded backend (latency above twice the pool's): its errors are the
 * queue's overflow, which the cost already steers away from, not a failure
 * to eject at once. */
static double newest_error_ratio(const struct ctl *c, const struct wd_backend_state *bs,
				 const struct wd_measurement *m)
{
	double er = m->error_ratio;
	if (!isfinite(bs->last_error_ratio) || !(er > bs->last_error_ratio) ||
	    (m->has_latency && isfinite(c->pool_latency) && m->latency_s > 2 * c->pool_latency))
		return er;
	return fmin(1, fmax(er, bs->last_error_ratio + c->window_ticks * (er - bs->last_error_ratio)));
}

/* Under leasttime, whether the balancer already steers requests away from a
 * backend slower than the pool: it sends it under 1/POLICY_LEASTTIME_STEERING
 * of its weight's share. Such a backend is held, and left out of the pool: a
 * cut on the window's lagging latency would land after the cause has passed
 * (a cold restart) and count it twice, and its latency would lift everyone
 * else's weight. */
static bool leasttime_steers(const struct wd_policy_cfg *pc, const struct ctl *c,
			     const struct wd_backend_state *bs, const struct wd_measurement *m)
{
	return pc->leasttime && m->has_latency && m->has_rate && c->free_rate > 0 &&
	       c->free_total > 0 && m->latency_s > c->pool_latency &&
	       m->rate / c->free_rate * POLICY_LEASTTIME_STEERING < bs->out_weight / c->free_total;
}

/* Eject and hold rules: what each backend is this tick; fills the costs.
 * Returns whether any backend is steered. */
static bool classify(const struct wd_service_cfg *svc, const struct wd_service_state *st,
		     const struct ctl *c, const struct wd_measurement *m, enum role *role,
		     double *lnc, double *inflight, struct wd_decision *out)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	bool any_steered = false;
	for (size_t i = 0; i < svc->n_backends; i++) {
		const struct wd_backend_cfg *bc = &svc->backends[i];
		out[i] = (struct wd_decision){.cost = NAN, .error = NAN,
					      .old_weight = st->b[i].out_weight};
		inflight[i] = NAN;
		if (bc->pin == 0)
			role[i] = R_DRAIN;
		else if (bc->pin > 0)
			role[i] = R_PIN;
		else if (svc->freeze)
			role[i] = R_FROZEN;
		else if (error_usable(&m[i]) && newest_error_ratio(c, &st->b[i], &m[i]) >= pc->eject_error_ratio)
			role[i] = R_EJECT;
		else if (m[i].has_latency)
			role[i] = signal_thin(pc, c, &st->b[i], &m[i]) ? R_THIN
				  : leasttime_steers(pc, c, &st->b[i], &m[i]) ? R_STEERED
									    : R_PID;
		else
			role[i] = R_NODATA;
		if (m[i].has_latency) {
			out[i].cost = cost_of(pc, &m[i], &inflight[i]);
			lnc[i] = log(out[i].cost);
		}
		any_steered |= role[i] == R_PID;
	}
	return any_steered;
}

/* Error: ln cbar, the mean of ln c over the steered backends weighted by
 * their current continuous weights (pins and ejections are not steered, so
 * not pooled). NaN when none is steered. *pooled: the weight it averages
 * over. */
static double pool_log_cost(const struct wd_service_cfg *svc, const struct wd_service_state *st,
			    const enum role *role, const double *lnc, double *pooled)
{
	double sum_w = 0, sum_wl = 0, ln_ref = NAN;
	for (size_t i = 0; i < svc->n_backends; i++) {
		if (role[i] != R_PID)
			continue;
		if (isnan(ln_ref))
			ln_ref = lnc[i]; /* averaging offsets from it: equal costs give e = 0 exactly */
		double w = start_weight(&svc->policy, &svc->backends[i], &st->b[i]);
		sum_w += w;
		sum_wl += w * (lnc[i] - ln_ref);
	}
	*pooled = sum_w;
	return sum_w > 0 ? ln_ref + sum_wl / sum_w : NAN;
}

/* The continuous weight one backend asks for this tick (before shaping), its
 * action and reason, and its next PID memory. */
static double decide(const struct wd_service_cfg *svc, const struct ctl *c,
		     const struct wd_backend_cfg *bc, const struct wd_backend_state *bs,
		     enum role role, const struct wd_measurement *m, double ln_pool,
		     double inflight, struct memory *mem, struct wd_decision *d)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	double step_max = c->step_max;
	double w = start_weight(pc, bc, bs);
	*mem = (struct memory){.e1 = bs->e1, .e2 = bs->e2, .n_err = 0, .stale = bs->stale,
			       .last_latency = NAN, .damp = bs->damp, .probation = bs->probation,
			       .last_error_ratio = error_usable(m) ? m->error_ratio : NAN};
	if (m->has_latency) {
		mem->last_latency = m->latency_s;
		mem->repeats = repeats_of(bs, m);
	}
	switch (role) {
	case R_DRAIN:
		d->action = WD_ACT_PINNED;
		reasonf(d, "drained by pin = 0");
		mem->stale = 0;
		return 0;
	case R_PIN:
		d->action = WD_ACT_PINNED;
		reasonf(d, "pinned to %d by config", bc->pin);
		mem->stale = 0;
		return bc->pin;
	case R_FROZEN:
		d->action = WD_ACT_FROZEN;
		reasonf(d, "frozen by config");
		return w;
	case R_HOLDALL:
		mem->n_err = bs->n_err; /* a hold keeps the memory: continue as after one tick */
		d->action = WD_ACT_HELD;
		reasonf(d, "no data for any backend: holding all");
		return w;
	case R_EJECT:
		d->action = WD_ACT_EJECTED;
		if (m->error_ratio >= pc->eject_error_ratio)
			reasonf(d, "error ratio %.3g >= %.3g", m->error_ratio, pc->eject_error_ratio);
		else
			reasonf(d, "error ratio %.3g, rising: %.3g in the newest tick >= %.3g",
				m->error_ratio, newest_error_ratio(c, bs, m), pc->eject_error_ratio);
		mem->stale = 0;
		mem->probation = WD_PROBATION_WAITING;
		return pc->min_weight; /* kept as memory: a probe starts from it */
	case R_NODATA: {
		char why[96];
		no_data_why(pc, m, why, sizeof(why));
		mem->stale = bs->stale < c->stale_ticks ? bs->stale + 1 : c->stale_ticks + 1;
		if (mem->stale <= c->stale_ticks) {
			mem->n_err = bs->n_err;
			d->action = WD_ACT_HELD;
			reasonf(d, "no data: %s (tick %d of %d)", why, mem->stale, c->stale_ticks);
			return w;
		}
		/* Stale: drift toward the configured weight, at most one max_step a
		 * tick, so it gets traffic and produces data again. */
		d->action = WD_ACT_STALE;
		mem->probation = WD_PROBATION_WAITING;
		reasonf(d, "no data for over %d ticks: %s; back toward weight %d", c->stale_ticks,
			why, bc->weight);
		double drift = w * exp(util_clamp(log(bc->weight / w), -step_max, step_max));
		return pc->leasttime && drift < c->lt_floor ? fmin(c->lt_floor, bc->weight) : drift;
	}
	case R_THIN: {
		/* Not pushed further on a signal that says little: held, or
		 * probed back (one step a tick) to a share that measures it. */
		char why[96];
		double ev = evidence(c, m);
		if (isfinite(ev))
			snprintf(why, sizeof(why), "signal from %.3g requests (min_requests %g)", ev,
				 pc->min_requests);
		else
			snprintf(why, sizeof(why), "latency unchanged for %d ticks", mem->repeats + 1);
		mem->stale = 0;
		mem->probation = WD_PROBATION_WAITING;
		if (w < c->probe_w) {
			d->action = WD_ACT_PROBING;
			mem->probing = true;
			reasonf(d, "%s: probing back toward weight %.3g", why, c->probe_w);
			if (pc->leasttime)
				return c->probe_w;
			return w * exp(util_clamp(log(c->probe_w / w), 0, step_max));
		}
		d->action = WD_ACT_HELD;
		reasonf(d, "%s: holding", why);
		return w;
	}
	case R_STEERED:
		mem->stale = 0;
		d->action = WD_ACT_HELD;
		reasonf(d, "latency %.3gs over the pool's %.3gs, but leasttime sends it %.0f%% of the requests: holding",
			m->latency_s, c->pool_latency, 100 * m->rate / c->free_rate);
		return w;
	case R_PID:
		break;
	}
	/* Controller: velocity-form PID in log-weight. Missing history counts as
	 * "no change", so a fresh start (or the first tick after a freeze, pin,
	 * ejection or stale drift) has no proportional or derivative kick. A
	 * short hold keeps the history: the change is measured across the gap. */
	double e = d->error;
	double e1 = bs->n_err >= 1 ? bs->e1 : e;
	double e2 = bs->n_err >= 2 ? bs->e2 : e1;
	/* The gain schedule keeps the loop gain steady as a backend nears
	 * saturation. It stops at POLICY_GAIN_INFLIGHT_CAP: a backend whose
	 * queue is overflowing reports hundreds in flight, and an uncapped
	 * schedule would all but stop the controller exactly when it must act
	 * (measured in bench/: capacity-drop p95 1.30 -> ~1.1 of the oracle). */
	double g = 1;
	if (isfinite(inflight)) {
		double n = inflight < POLICY_GAIN_INFLIGHT_CAP ? inflight : POLICY_GAIN_INFLIGHT_CAP;
		g = 1 / (1 + n);
	}
	/* Per tick, the integral and the step limit take the tick's share of a
	 * control step (delay.h); the proportional term telescopes over the
	 * ticks and needs no share; the derivative's second difference shrinks
	 * with the square of the tick, so it takes the inverse share. */
	double dd = g * (pc->kp * (e - e1) + pc->ki * c->scale * e +
			 pc->kd / c->scale * (e - 2 * e1 + e2));
	if (!isfinite(dd))
		dd = 0;
	/* Slow start, gated on what it measures: a backend on probation
	 * (joined, or back from an ejection, staleness or a thin signal) below
	 * its fair share waits until its latency is clearly below the pool's
	 * cost and its errors within the pool's (or falling, as an ejected
	 * backend's window forgets its failures), then grows fivefold each
	 * control step up to a fair share; the first tick it measures badly while
	 * ramping, probation ends and the PID above takes over (and backs off
	 * if it must). */
	bool ramp = bs->probation != WD_PROBATION_NONE && w < c->fair_w &&
		    ln_pool - log(fmax(m->latency_s, MIN_LATENCY_S)) > POLICY_RAMP_ERROR &&
		    (error_at_most_pool(m, c) || error_falling(bs, m));
	mem->probation = ramp ? WD_PROBATION_RAMPING
		       : bs->probation == WD_PROBATION_WAITING && w < c->fair_w ? WD_PROBATION_WAITING
										 : WD_PROBATION_NONE;
	double move = util_clamp(dd * c->damping, -step_max, step_max);
	if (ramp) /* fivefold a control step, up to a fair share: there in two or three ticks */
		move = fmax(move, fmin(log(POLICY_RAMP_FACTOR) * c->scale, log(c->fair_w / w)));
	mem->e1 = e;
	mem->e2 = e1;
	mem->n_err = bs->n_err < 2 ? bs->n_err + 1 : 2;
	mem->stale = 0;
	d->action = WD_ACT_APPLIED;
	if (ramp)
		reasonf(d, "cost %.3gs vs pool %.3gs; below fair share %.3g: ramping up", d->cost,
			exp(ln_pool), c->fair_w);
	else
		reasonf(d, "cost %.3gs vs pool %.3gs", d->cost, exp(ln_pool));
	return w * exp(move);
}

/* Shape, in integers: apportions x into newi. Held and frozen backends
 * first try to keep their exact integer, ejected ones min_weight; when the
 * others cannot absorb that (e.g. every backend ejected), only pins stay
 * fixed. Sets *forced when the current integers cannot stand: the sum is not
 * total, a pin was set or lifted, or an integer is outside its bounds (a new
 * ejection, drain or undrain, or a reload changed the bounds). 0 or -1. */
static int integers(const struct wd_service_cfg *svc, const struct wd_service_state *st,
		    const enum role *role, const struct memory *mem, int stale_ticks,
		    const double *x, int *newi, bool *forced)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	size_t n = svc->n_backends;
	int lo[WD_MAX_BACKENDS], hi[WD_MAX_BACKENDS];
	long old_sum = 0;
	for (size_t i = 0; i < n; i++) {
		int ow = st->b[i].out_weight;
		old_sum += ow;
		if (role[i] == R_DRAIN || role[i] == R_PIN) {
			lo[i] = hi[i] = role[i] == R_PIN ? svc->backends[i].pin : 0;
		} else if (role[i] == R_EJECT) {
			lo[i] = hi[i] = ejected_weight(pc);
		} else {
			lo[i] = pc->min_weight;
			hi[i] = pc->max_weight;
		}
		bool held = role[i] == R_HOLDALL || role[i] == R_FROZEN ||
			    (role[i] == R_NODATA && mem[i].stale <= stale_ticks) ||
			    (role[i] == R_THIN && !mem[i].probing) || role[i] == R_STEERED;
		/* under leasttime an ejected backend (left out) stays out while it
		 * waits for staleness: weight 1 would only rebuild the balancer */
		if (held && pc->leasttime && ow == ejected_weight(pc) && role[i] == R_NODATA)
			lo[i] = ow;
		if (ow < lo[i] || ow > hi[i] || st->b[i].pin != svc->backends[i].pin)
			*forced = true;
		else if (held)
			lo[i] = hi[i] = ow;
	}
	if (old_sum != pc->total)
		*forced = true;
	if (policy_apportion(x, n, pc->total, lo, hi, newi) == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (role[i] != R_DRAIN && role[i] != R_PIN) {
			lo[i] = pc->min_weight;
			hi[i] = pc->max_weight;
		}
	}
	return policy_apportion(x, n, pc->total, lo, hi, newi);
}

/* The samples' spacing in ticks, from how often a tick brought no new
 * latency for any backend (see policy_sample_spacing). */
double policy_sample_spacing(const struct wd_service_state *st)
{
	if (st->ticks_seen < POLICY_SPACING_MIN_TICKS || st->ticks_repeated >= st->ticks_seen)
		return 1.0;
	return (double)st->ticks_seen / (double)(st->ticks_seen - st->ticks_repeated);
}

/* Counts whether this tick brought any new latency (every usable one
 * repeating its last exactly means no sample arrived since). */
static void count_spacing(const struct wd_service_cfg *svc, struct wd_service_state *st,
			  const struct wd_measurement *m)
{
	bool any = false, fresh = false;
	for (size_t i = 0; i < svc->n_backends; i++) {
		if (!m[i].has_latency)
			continue;
		any = true;
		fresh |= m[i].latency_s != st->b[i].last_latency;
	}
	if (!any)
		return;
	if (st->ticks_seen >= 2 * POLICY_SPACING_MIN_TICKS) { /* a memory of the last few dozen */
		st->ticks_seen /= 2;
		st->ticks_repeated /= 2;
	}
	st->ticks_seen++;
	st->ticks_repeated += !fresh;
}

/* This tick's controller: the gains' per-tick share from the tick and the
 * signal's window, lengthened by the samples' spacing when the tick is
 * shorter than it; and the weight a thin backend is probed back to. */
static void control_of(const struct wd_service_cfg *svc, const struct wd_service_state *st,
		       const struct wd_measurement *m, struct ctl *c)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	int64_t tick = pc->tick_ms, win = pc->signal_window_ms;
	if (win <= 0)
		win = DELAY_REF_TICKS_PER_WINDOW * tick;
	double spacing = policy_sample_spacing(st);
	int64_t extra = (int64_t)((spacing - 1) * (double)tick);
	c->scale = delay_tick_scale(tick, win + extra);
	c->step_max = log(1 + pc->max_step) * c->scale;
	c->window_s = (double)win / 1000.0;
	c->window_ticks = tick > 0 ? fmax(1, (double)win / (double)tick) : DELAY_REF_TICKS_PER_WINDOW;
	c->stale_ticks = (int)ceil(pc->stale_ticks / c->scale - 1e-9);
	c->repeat_ticks = tick > 0 ? (int)ceil((double)(delay_signal_ms(tick, win) + extra) /
					   (double)tick - 1e-9) : 5;
	/* A probe gets what measures it: twice min_requests over the window,
	 * from the traffic the service's rates show; never over half a fair share. */
	double rate = 0, fixed = 0;
	size_t free_n = 0;
	bool rates = true;
	for (size_t i = 0; i < svc->n_backends; i++) {
		int pin = svc->backends[i].pin;
		if (pin >= 0) {
			fixed += pin;
			continue;
		}
		free_n++;
		if (m[i].has_rate)
			rate += m[i].rate;
		else
			rates = false;
	}
	double fair = free_n ? (pc->total - fixed) / (double)free_n : pc->total;
	c->fair_w = fair;
	c->free_rate = rates ? rate : NAN;
	c->free_total = pc->total - fixed;
	double er_sum = 0;
	size_t er_n = 0;
	for (size_t i = 0; i < svc->n_backends; i++) {
		if (error_usable(&m[i]) && m[i].error_ratio < pc->eject_error_ratio) {
			er_sum += m[i].error_ratio;
			er_n++;
		}
	}
	c->pool_error = er_n ? er_sum / (double)er_n : 0;
	double ln_sum = 0;
	size_t lat_n = 0;
	for (size_t i = 0; i < svc->n_backends; i++) {
		if (m[i].has_latency) {
			ln_sum += log(fmax(m[i].latency_s, MIN_LATENCY_S));
			lat_n++;
		}
	}
	c->pool_latency = lat_n ? exp(ln_sum / (double)lat_n) : NAN;
	/* An oscillation is a mode of the whole service (every weight moves
	 * against the others), so one backend's damping damps them all. */
	c->damping = 1;
	for (size_t i = 0; i < svc->n_backends; i++)
		c->damping = fmin(c->damping, damping_gain(&st->b[i].damp));
	double want = rates && rate > 0
			      ? pc->total * 2 * pc->min_requests / (rate * c->window_s)
			      : fair / 4;
	c->probe_w = util_clamp(want, pc->min_weight, fair / 2 > pc->min_weight ? fair / 2 : pc->min_weight);
	/* Under leasttime a weight divides the balancer's latency score, so a
	 * latency cut counts twice and a slow backend starves outright (no
	 * traffic, no data): latency alone never takes a backend below a
	 * quarter of a fair share there; errors still do. A small probe buys
	 * nothing there either (a server that fails fast wins leasttime's score
	 * at any weight), so a thin or stale backend goes back to that floor
	 * at once. */
	c->lt_floor = pc->leasttime ? fmax(pc->min_weight, fmin(fair / 4, pc->max_weight)) : pc->min_weight;
	if (pc->leasttime)
		c->probe_w = c->lt_floor;
}

/* The fleet's p95 predicted for the written integers (*p_old) and for the
 * new ones (*p_new), in seconds; false, and both NaN, unless every backend
 * is steered with a latency and a rate (and never under leasttime, whose
 * score, not a split, decides there). The prediction starts from what the
 * window saw (seen_weight), not from the written integers, so a write
 * whose effect has not reached the window yet is not counted twice; a
 * backend's elasticity is its in-flight count from its mean latency (the
 * measured latency over the exponential's ratio of the query's quantile to
 * its mean, predict.h). */
static bool predict_write(const struct wd_service_cfg *svc, const struct wd_service_state *st,
			  const enum role *role, const struct wd_measurement *m,
			  const double *inflight, const int *newi, double *p_old, double *p_new)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	size_t n = svc->n_backends;
	struct predict_backend pb[WD_MAX_BACKENDS];
	int old[WD_MAX_BACKENDS];
	double mean_scale = predict_quantile_over_mean(pc->latency_quantile);
	/* the measured statistic as the p95 of its exponential (the prediction's
	 * unit): a mean x 3.0, a p95 as it is */
	double p95_scale = predict_quantile_over_mean(0.95) / mean_scale;
	*p_old = *p_new = NAN;
	if (pc->leasttime)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct wd_backend_state *bs = &st->b[i];
		if (role[i] != R_PID || !m[i].has_rate || !isfinite(inflight[i]) ||
		    !(m[i].latency_s > 0) || !(bs->seen_weight > 0))
			return false;
		pb[i] = (struct predict_backend){
			.latency_s = m[i].latency_s * p95_scale,
			.seen_weight = bs->seen_weight,
			.elasticity = fmin(inflight[i] / mean_scale, POLICY_PREDICT_ELASTICITY_CAP),
		};
		old[i] = bs->out_weight;
	}
	*p_old = predict_fleet_p95(pb, old, n);
	*p_new = predict_fleet_p95(pb, newi, n);
	return isfinite(*p_old) && isfinite(*p_new);
}

/* Whether a write that carries small moves only would not help: no integer
 * moving by more than a fiftieth of the total (2 points at least), and the
 * fleet's p95 predicted for the new integers no lower than for the written
 * ones. Near saturation the controller otherwise walks between neighbouring
 * splits on the lattice of integers, each step chasing the window's lag:
 * one point of a small backend's weight can be worth 40 % of its latency
 * there, and the walk keeps leaving the best split for worse ones. A small
 * move that takes back part of the last write within a signal window (a
 * backend moving against its move then) must be predicted to lower the p95
 * by POLICY_REVERSAL_MARGIN: the window still holds that write's effect
 * half seen, and the prediction's noise alone turns such a walk around
 * (tests/unit/test_policy_loop, the capacity step under the default
 * budget: 86-90.5 % of 400 seeds held the band without the margin, 94-98 %
 * with it; a margin of 2 % on every small move, 98.5 %, but in bench/
 * flapping then lost 0.03 of p95 and gpu-batch 0.02: it held their small
 * corrections). */
#define POLICY_REVERSAL_MARGIN 0.05

static bool small_move_pointless(const struct wd_service_cfg *svc, const struct wd_service_state *st,
				 const struct ctl *c, const int *newi, bool predicted, double p_old,
				 double p_new, bool *takes_back)
{
	*takes_back = false;
	int total = svc->policy.total;
	int small = total / POLICY_SMALL_MOVE_DIV > 2 ? total / POLICY_SMALL_MOVE_DIV : 2;
	if (!predicted)
		return false;
	bool reverses = false;
	for (size_t i = 0; i < svc->n_backends; i++) {
		int move = newi[i] - st->b[i].out_weight;
		if (abs(move) > small)
			return false;
		reverses |= move != 0 && (move > 0 ? 1 : -1) == -st->b[i].last_move;
	}
	*takes_back = reverses && st->since_write <= c->window_ticks;
	return p_new >= p_old * (*takes_back ? 1.0 - POLICY_REVERSAL_MARGIN : 1.0);
}

/* A slowdown: a backend's cost three times the rest of the pool's or more
 * (e, its error against the others, at -ln 3 or below) for more than a
 * signal window in a row. It lasts until e is back above half that
 * (-ln 3 / 2: 1.73 times). For a window or less it may be noise: a few slow
 * requests lift a heavy-tailed p95 that far for as long as they stay in the
 * window. At twice the rest's cost, a fleet near saturation at eight ticks
 * per window (bench/ hetero90, 7.5 s ticks) had each server in turn
 * overloaded for longer than the window, and their one-point cuts, written
 * at once, chased the window's lag (1.154 and 1.339 of the oracle at two
 * seeds, against 1.003 and 0.971 without the rule; 1.007 and 1.034 at
 * three times). */
#define POLICY_SLOW_ERROR 1.0986

static void slowdown_feed(struct wd_slowdown *s, const struct ctl *c, double e)
{
	if (!isfinite(e)) {
		*s = (struct wd_slowdown){0};
		return;
	}
	s->run = e <= -POLICY_SLOW_ERROR ? s->run + 1 : 0;
	if (e > -POLICY_SLOW_ERROR / 2)
		s->on = false;
	else if (s->run > c->window_ticks)
		s->on = true;
}

/* The write budget (write_budget, ordinary writes per 100 ticks, 25 by
 * default; 0: no limit), a token bucket: a fifth of the budget as a burst,
 * 12 % as an overdraft, and the rest as a steady rate, so that no 100
 * ticks hold more ordinary writes than the budget (at up to four ticks per
 * window; see budget_limit). A write is ordinary when it carries only the
 * PID's moves, none of a tenth of the total in one control step (2 points
 * at least): it spends a token, and waits when none is left. A write worth
 * it, predicted to lower the fleet's p95 by a tenth or more, may use the
 * overdraft: the fine tuning that follows a change (a
 * capacity drop, a start) is such a run of writes, and without the loan it
 * waited behind the burst the change had spent. A larger move is urgent:
 * it spends a token while one is left and never waits; so is a move off a
 * backend in a slowdown (slowdown_feed): at 1 s ticks (tests/integration/086)
 * a backend four times as slow as the pool, losing 2-3 points a tick,
 * stopped at 26 % of the traffic for 22 s once the bucket was spent. A move
 * that is not the PID's (an ejection, a drain, a probe, a stale drift, a
 * ramp on probation) neither waits nor spends: a ramp that spent the bucket
 * left the joining backend's last steps to its share waiting. */
#define POLICY_BUDGET_BURST_SHARE 0.2
#define POLICY_BUDGET_URGENT_DIV 10
#define POLICY_BUDGET_WORTH_GAIN 0.1
#define POLICY_BUDGET_OVERDRAFT_SHARE 0.12

static double budget_burst(const struct wd_policy_cfg *pc)
{
	return fmax(1.0, pc->write_budget * POLICY_BUDGET_BURST_SHARE);
}

static double budget_overdraft(const struct wd_policy_cfg *pc)
{
	return pc->write_budget * POLICY_BUDGET_OVERDRAFT_SHARE;
}

/* Tokens per 100 ticks: what the burst and the overdraft leave of the
 * budget (a quarter of it at least, for a budget of 1). */
static double budget_rate(const struct wd_policy_cfg *pc)
{
	return fmax(pc->write_budget / 4.0, pc->write_budget - budget_burst(pc) - budget_overdraft(pc));
}

/* What the budget makes of a write: ordinary steering waits for a token;
 * a move of a tenth of the total in one control step, or one off a backend
 * in a slowdown, is urgent; a write that carries a move not the PID's is
 * free. */
enum budget_kind { BUDGET_ORDINARY, BUDGET_URGENT, BUDGET_FREE };

static enum budget_kind budget_kind(const struct wd_service_cfg *svc, const struct wd_service_state *st,
				    const struct ctl *c, const enum role *role, const struct memory *mem,
				    const struct wd_slowdown *slow, const int *newi)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	enum budget_kind kind = BUDGET_ORDINARY;
	/* a tenth of the total per control step: the same share of a move at
	 * any tick per window */
	double urgent = fmax(2.0, (double)pc->total / POLICY_BUDGET_URGENT_DIV * fmin(1.0, c->scale));
	for (size_t i = 0; i < svc->n_backends; i++) {
		int move = abs(newi[i] - st->b[i].out_weight);
		if (move == 0)
			continue;
		if (role[i] != R_PID || mem[i].probation != WD_PROBATION_NONE ||
		    st->b[i].probation != WD_PROBATION_NONE)
			return BUDGET_FREE;
		if (move >= urgent || (slow[i].on && newi[i] < st->b[i].out_weight))
			kind = BUDGET_URGENT;
	}
	return kind;
}

/* How far the tokens in use may go before a write waits (worth: with the
 * overdraft). At more than four ticks per window a tick makes only its
 * share of a control step's move, so a change takes that many more writes:
 * the burst and the overdraft are counted per control step's worth of
 * ticks. */
static double budget_limit(const struct wd_policy_cfg *pc, const struct ctl *c, bool worth)
{
	return (budget_burst(pc) + (worth ? budget_overdraft(pc) : 0.0)) / fmin(1.0, c->scale);
}

/* Whether a write of this kind finds no token left for it. */
static bool budget_spent(const struct wd_policy_cfg *pc, const struct wd_service_state *st,
			 const struct ctl *c, enum budget_kind kind, bool worth)
{
	return pc->write_budget > 0 && kind == BUDGET_ORDINARY &&
	       st->write_debt + 1.0 > budget_limit(pc, c, worth) + 1e-9;
}

/* One tick of the bucket: the steady rate refills it; an ordinary write
 * spends a token, an urgent one too while one is left. */
static void budget_account(const struct wd_policy_cfg *pc, struct wd_service_state *st,
			   const struct ctl *c, bool write, enum budget_kind kind)
{
	if (pc->write_budget <= 0)
		return;
	double debt = fmax(0.0, st->write_debt - budget_rate(pc) / 100.0);
	bool spend = write && (kind == BUDGET_ORDINARY ||
			       (kind == BUDGET_URGENT && debt + 1.0 <= budget_limit(pc, c, false) + 1e-9));
	st->write_debt = debt + (spend ? 1.0 : 0.0);
}

bool policy_step(const struct wd_service_cfg *svc, struct wd_service_state *st,
		 const struct wd_measurement *m, bool service_data, struct wd_decision *out)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	size_t n = svc->n_backends;
	st->budget_waiting = false; /* a tick that holds everything holds no move for it */
	if (n == 0)
		return false;
	if (n > WD_MAX_BACKENDS)
		return hold_unchanged(svc, st, out, "too many backends: holding all");
	if (st->n != n)
		return hold_unchanged(svc, st, out, "state not synced with config: holding all");
	/* Hold rules: Prometheus unreachable: hold everything, write nothing.
	 * Nothing changes, not even the controller's memory; overrides from a
	 * reload wait for the first tick with data (st->dirty stays set). */
	if (!service_data || !m)
		return hold_unchanged(svc, st, out, "service queries failed: holding all");

	enum role role[WD_MAX_BACKENDS];
	double lnc[WD_MAX_BACKENDS], inflight[WD_MAX_BACKENDS], want[WD_MAX_BACKENDS];
	struct memory mem[WD_MAX_BACKENDS];
	struct wd_slowdown slow[WD_MAX_BACKENDS];
	struct ctl c;
	count_spacing(svc, st, m);
	control_of(svc, st, m, &c);
	bool any_steered = classify(svc, st, &c, m, role, lnc, inflight, out);
	/* No backend with data: fail static, without stale drift (the cause is
	 * the service's metrics, not one backend). Ejections and pins still apply. */
	if (!svc->freeze && !any_steered) {
		for (size_t i = 0; i < n; i++)
			if (role[i] == R_NODATA)
				role[i] = R_HOLDALL;
		c.probe_w = 0; /* every signal thin: nothing to probe against */
	}
	double pooled;
	double ln_pool = pool_log_cost(svc, st, role, lnc, &pooled);
	for (size_t i = 0; i < n; i++) {
		if (isfinite(ln_pool) && isfinite(out[i].cost))
			out[i].error = ln_pool - lnc[i];
		want[i] = decide(svc, &c, &svc->backends[i], &st->b[i], role[i], &m[i], ln_pool,
				 inflight[i], &mem[i], &out[i]);
	}
	for (size_t i = 0; i < n; i++) {
		/* against the rest of the pool: a slow backend's own share of
		 * the pool's cost hides part of its slowness */
		double rest = pooled - start_weight(pc, &svc->backends[i], &st->b[i]);
		slow[i] = st->b[i].slow;
		slowdown_feed(&slow[i], &c, role[i] == R_PID && rest > 0 ? out[i].error * pooled / rest : NAN);
	}

	double x[WD_MAX_BACKENDS];
	int newi[WD_MAX_BACKENDS];
	bool forced = st->dirty;
	/* Under leasttime a backend whose bad history makes the balancer skip
	 * it gets no requests, so that history never improves: the write that
	 * rebuilds the balancer when it turns stale gives it a fresh start. */
	for (size_t i = 0; pc->leasttime && i < n; i++)
		if (role[i] == R_NODATA && st->b[i].stale == c.stale_ticks &&
		    mem[i].stale > c.stale_ticks)
			forced = true;
	/* Under leasttime: the floor (see control_of) for latency; errors still
	 * cut below it. */
	double floor[WD_MAX_BACKENDS];
	for (size_t i = 0; i < n; i++)
		floor[i] = error_usable(&m[i]) && m[i].error_ratio >= POLICY_LEASTTIME_ERROR ? pc->min_weight
											       : c.lt_floor;
	if (shape(svc, role, want, floor, x) < 0)
		return hold_unchanged(svc, st, out, "weights cannot be shaped within bounds: holding all");
	if (integers(svc, st, role, mem, c.stale_ticks, x, newi, &forced) < 0)
		return hold_unchanged(svc, st, out, "weights cannot be apportioned: holding all");

	/* Write: deadband 0 and 1 both mean "any change". A move counts
	 * when the integer moved by the deadband and the continuous weight moved
	 * as far from the written one: noise that only carries a weight across a
	 * rounding boundary (27.4 -> 27.6 flips 27 to 28) is no reason for
	 * Traefik to rebuild its balancers. */
	/* Under leasttime every write also wipes the balancer's history: only
	 * moves of a tenth of the total are worth it. */
	int db = pc->deadband > 1 ? pc->deadband : 1;
	if (pc->leasttime && db < pc->total / POLICY_LEASTTIME_DEADBAND_DIV)
		db = pc->total / POLICY_LEASTTIME_DEADBAND_DIV;
	/* ... but a backend leasttime barely sees (below the floor) coming back
	 * to it is written at once */
	bool moved = false;
	for (size_t i = 0; i < n; i++) {
		int ow = st->b[i].out_weight;
		bool past_deadband = abs(newi[i] - ow) >= db && fabs(x[i] - ow) >= db;
		bool back_to_floor = pc->leasttime && ow < c.lt_floor && newi[i] > ow &&
				     newi[i] >= (int)c.lt_floor;
		moved = moved || past_deadband || back_to_floor;
	}
	bool write = forced || moved;
	/* A small move that would not lower the predicted p95 is not written,
	 * nor ordinary steering once the write budget is spent; the controller
	 * then restarts from the written integers (no windup toward a move it
	 * will not make). */
	double p_old = NAN, p_new = NAN;
	bool predicted = write && !forced && predict_write(svc, st, role, m, inflight, newi, &p_old, &p_new);
	bool takes_back = false;
	bool pointless = write && !forced &&
			 small_move_pointless(svc, st, &c, newi, predicted, p_old, p_new, &takes_back);
	bool worth = predicted && p_new <= p_old * (1.0 - POLICY_BUDGET_WORTH_GAIN);
	enum budget_kind kind = forced ? BUDGET_FREE : budget_kind(svc, st, &c, role, mem, slow, newi);
	bool over_budget = write && !pointless && budget_spent(pc, st, &c, kind, worth);
	if (pointless || over_budget) {
		write = false;
		for (size_t i = 0; i < n; i++)
			x[i] = st->b[i].out_weight;
	}
	budget_account(pc, st, &c, write, kind);

	for (size_t i = 0; i < n; i++) {
		struct wd_backend_state *bs = &st->b[i];
		double w0 = start_weight(pc, &svc->backends[i], bs);
		if (role[i] != R_DRAIN) /* a drained backend keeps its weight as memory */
			bs->weight = x[i];
		bs->e1 = mem[i].e1;
		bs->e2 = mem[i].e2;
		bs->n_err = mem[i].n_err;
		bs->stale = mem[i].stale;
		bs->last_latency = mem[i].last_latency;
		bs->repeats = mem[i].repeats;
		bs->damp = mem[i].damp;
		bs->slow = slow[i];
		bs->probation = mem[i].probation;
		bs->last_error_ratio = mem[i].last_error_ratio;
		/* The weight's real move (after the others' moves shared the
		 * total), in points of the total: a swing between weights 1 and 2
		 * is not worth damping, one between 40 and 60 is. */
		if (role[i] == R_PID && damping_feed(&bs->damp, (x[i] - w0) / pc->total, c.scale)) {
			out[i].oscillating = true;
			reason_add(&out[i], "; oscillating: gain damped to %.2g", damping_gain(&bs->damp));
		}
		if (role[i] == R_PID && slow[i].on)
			reason_add(&out[i], "; slowdown: three times the rest's cost or more");
		bs->pin = svc->backends[i].pin;
		if (write) {
			bs->last_move = newi[i] > bs->out_weight ? 1 : newi[i] < bs->out_weight ? -1 : 0;
			bs->out_weight = newi[i];
		}
		/* what the next windows see: the integers in force, averaged */
		if (!(bs->seen_weight > 0))
			bs->seen_weight = bs->out_weight;
		else
			bs->seen_weight += (bs->out_weight - bs->seen_weight) / c.window_ticks;
		out[i].new_weight = bs->out_weight;
		if (!write && role[i] == R_PID) {
			out[i].action = WD_ACT_HELD;
			if (pointless && newi[i] != out[i].old_weight) {
				char by[64] = "";
				if (takes_back)
					snprintf(by, sizeof(by), " by %.0f %% (it takes back the last write)",
						 100 * POLICY_REVERSAL_MARGIN);
				reasonf(&out[i], "cost %.3gs vs pool %.3gs; move %+d would not lower the"
					" predicted p95%s (%.3gs -> %.3gs)", out[i].cost, exp(ln_pool),
					newi[i] - out[i].old_weight, by, p_old, p_new);
			} else if (over_budget && newi[i] != out[i].old_weight)
				reasonf(&out[i], "cost %.3gs vs pool %.3gs; move %+d waits: write budget"
					" of %d per 100 ticks spent", out[i].cost, exp(ln_pool),
					newi[i] - out[i].old_weight, pc->write_budget);
			else if (newi[i] != out[i].old_weight)
				reasonf(&out[i], "cost %.3gs vs pool %.3gs; move %+d below deadband %d%s",
					out[i].cost, exp(ln_pool), newi[i] - out[i].old_weight,
					pc->deadband, out[i].oscillating ? "; oscillating: gain damped" : "");
		}
	}
	if (write)
		st->dirty = false;
	st->since_write = write ? 0 : st->since_write < UINT_MAX ? st->since_write + 1 : UINT_MAX;
	st->budget_waiting = over_budget;
	return write;
}
