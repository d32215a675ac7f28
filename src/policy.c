/* policy: the PID weight policy (eject, cost, error against the
 * pool, velocity-form PID with a gain schedule, step limit, pins and drains,
 * freeze, hold rules, clamping, apportionment, deadband), as pure functions
 * over struct wd_service_state. README.md "How weightd decides" is the
 * operator's account of the same rules. */
#include "policy.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Latencies below this are floored: ln(0) has no place in a ratio. */
#define MIN_LATENCY_S 1e-6
/* The in-flight estimate at which the gain schedule stops falling. */
#define POLICY_GAIN_INFLIGHT_CAP 8.0

const char *policy_action_name(enum wd_action a)
{
	static const char *const names[] = {"applied", "dry_run", "held", "pinned",
					    "frozen", "ejected", "stale"};
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
		}
		b[i].name = xstrdup(bc->name);
	}
	/* Not only for a new set: a reload that changes total, the bounds or
	 * the pins must not leave weights behind that break them (written as
	 * they are if the next tick has no data for this service). */
	normalise_start(svc, b, n);
	*out = (struct wd_service_state){.name = name, .b = b, .n = n, .dirty = st->dirty || changed};
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
};

/* Writes a decision's reason (truncated to fit). */
static void __attribute__((format(printf, 2, 3))) reasonf(struct wd_decision *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
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
	if (pc->objective == WD_OBJ_MARGINAL && isfinite(*inflight))
		c *= 1 + *inflight;
	return c;
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
		 double *x)
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
				lo[i] = pc->min_weight;
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
};

/* Eject and hold rules: what each backend is this tick; fills the costs.
 * Returns whether any backend is steered. */
static bool classify(const struct wd_service_cfg *svc, const struct wd_service_state *st,
		     const struct wd_measurement *m, enum role *role, double *lnc,
		     double *inflight, struct wd_decision *out)
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
		else if (error_usable(&m[i]) && m[i].error_ratio >= pc->eject_error_ratio)
			role[i] = R_EJECT;
		else if (m[i].has_latency)
			role[i] = R_PID;
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
 * not pooled). NaN when none is steered. */
static double pool_log_cost(const struct wd_service_cfg *svc, const struct wd_service_state *st,
			    const enum role *role, const double *lnc)
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
	return sum_w > 0 ? ln_ref + sum_wl / sum_w : NAN;
}

/* The continuous weight one backend asks for this tick (before shaping), its
 * action and reason, and its next PID memory. */
static double decide(const struct wd_service_cfg *svc, const struct wd_backend_cfg *bc,
		     const struct wd_backend_state *bs, enum role role,
		     const struct wd_measurement *m, double ln_pool, double inflight,
		     struct memory *mem, struct wd_decision *d)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	double step_max = log(1 + pc->max_step);
	double w = start_weight(pc, bc, bs);
	*mem = (struct memory){.e1 = bs->e1, .e2 = bs->e2, .n_err = 0, .stale = bs->stale};
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
		reasonf(d, "error ratio %.3g >= %.3g", m->error_ratio, pc->eject_error_ratio);
		mem->stale = 0;
		return pc->min_weight;
	case R_NODATA: {
		char why[96];
		no_data_why(pc, m, why, sizeof(why));
		mem->stale = bs->stale < pc->stale_ticks ? bs->stale + 1 : pc->stale_ticks + 1;
		if (mem->stale <= pc->stale_ticks) {
			mem->n_err = bs->n_err;
			d->action = WD_ACT_HELD;
			reasonf(d, "no data: %s (tick %d of %d)", why, mem->stale, pc->stale_ticks);
			return w;
		}
		/* Stale: drift toward the configured weight, at most one max_step a
		 * tick, so it gets traffic and produces data again. */
		d->action = WD_ACT_STALE;
		reasonf(d, "no data for over %d ticks: %s; back toward weight %d", pc->stale_ticks,
			why, bc->weight);
		return w * exp(util_clamp(log(bc->weight / w), -step_max, step_max));
	}
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
		g = 1 / (1 + (pc->objective == WD_OBJ_MARGINAL ? 2 : 1) * n);
	}
	double dd = g * (pc->kp * (e - e1) + pc->ki * e + pc->kd * (e - 2 * e1 + e2));
	if (!isfinite(dd))
		dd = 0;
	*mem = (struct memory){.e1 = e, .e2 = e1, .n_err = bs->n_err < 2 ? bs->n_err + 1 : 2,
			       .stale = 0};
	d->action = WD_ACT_APPLIED;
	reasonf(d, "cost %.3gs vs pool %.3gs", d->cost, exp(ln_pool));
	return w * exp(util_clamp(dd, -step_max, step_max));
}

/* Shape, in integers: apportions x into newi. Held and frozen backends
 * first try to keep their exact integer, ejected ones min_weight; when the
 * others cannot absorb that (e.g. every backend ejected), only pins stay
 * fixed. Sets *forced when the current integers cannot stand: the sum is not
 * total, a pin was set or lifted, or an integer is outside its bounds (a new
 * ejection, drain or undrain, or a reload changed the bounds). 0 or -1. */
static int integers(const struct wd_service_cfg *svc, const struct wd_service_state *st,
		    const enum role *role, const struct memory *mem, const double *x, int *newi,
		    bool *forced)
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
			lo[i] = hi[i] = pc->min_weight;
		} else {
			lo[i] = pc->min_weight;
			hi[i] = pc->max_weight;
		}
		bool held = role[i] == R_HOLDALL || role[i] == R_FROZEN ||
			    (role[i] == R_NODATA && mem[i].stale <= pc->stale_ticks);
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

bool policy_step(const struct wd_service_cfg *svc, struct wd_service_state *st,
		 const struct wd_measurement *m, bool service_data, struct wd_decision *out)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	size_t n = svc->n_backends;
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
	bool any_steered = classify(svc, st, m, role, lnc, inflight, out);
	/* No backend with data: fail static, without stale drift (the cause is
	 * the service's metrics, not one backend). Ejections and pins still apply. */
	if (!svc->freeze && !any_steered)
		for (size_t i = 0; i < n; i++)
			if (role[i] == R_NODATA)
				role[i] = R_HOLDALL;
	double ln_pool = pool_log_cost(svc, st, role, lnc);
	for (size_t i = 0; i < n; i++) {
		if (isfinite(ln_pool) && isfinite(out[i].cost))
			out[i].error = ln_pool - lnc[i];
		want[i] = decide(svc, &svc->backends[i], &st->b[i], role[i], &m[i], ln_pool,
				 inflight[i], &mem[i], &out[i]);
	}

	double x[WD_MAX_BACKENDS];
	int newi[WD_MAX_BACKENDS];
	bool forced = st->dirty;
	if (shape(svc, role, want, x) < 0)
		return hold_unchanged(svc, st, out, "weights cannot be shaped within bounds: holding all");
	if (integers(svc, st, role, mem, x, newi, &forced) < 0)
		return hold_unchanged(svc, st, out, "weights cannot be apportioned: holding all");

	/* Write: deadband 0 and 1 both mean "any change". A move counts
	 * when the integer moved by the deadband and the continuous weight moved
	 * as far from the written one: noise that only carries a weight across a
	 * rounding boundary (27.4 -> 27.6 flips 27 to 28) is no reason for
	 * Traefik to rebuild its balancers. */
	int db = pc->deadband > 1 ? pc->deadband : 1;
	bool moved = false;
	for (size_t i = 0; i < n; i++)
		if (abs(newi[i] - st->b[i].out_weight) >= db && fabs(x[i] - st->b[i].out_weight) >= db)
			moved = true;
	bool write = forced || moved;

	for (size_t i = 0; i < n; i++) {
		struct wd_backend_state *bs = &st->b[i];
		if (role[i] != R_DRAIN) /* a drained backend keeps its weight as memory */
			bs->weight = x[i];
		bs->e1 = mem[i].e1;
		bs->e2 = mem[i].e2;
		bs->n_err = mem[i].n_err;
		bs->stale = mem[i].stale;
		bs->pin = svc->backends[i].pin;
		if (write)
			bs->out_weight = newi[i];
		out[i].new_weight = bs->out_weight;
		if (!write && role[i] == R_PID) {
			out[i].action = WD_ACT_HELD;
			if (newi[i] != out[i].old_weight)
				reasonf(&out[i], "cost %.3gs vs pool %.3gs; move %+d below deadband %d",
					out[i].cost, exp(ln_pool), newi[i] - out[i].old_weight,
					pc->deadband);
		}
	}
	if (write)
		st->dirty = false;
	return write;
}
