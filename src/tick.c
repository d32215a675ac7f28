/* tick: one pass of measure -> policy -> output -> report -> state; see
 * tick.h. */
#include "tick.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "measure.h"
#include "metrics.h"
#include "output.h"
#include "policy.h"
#include "readback.h"
#include "state.h"
#include "util.h"

/* Logs the services whose queries failed when they start failing, and the
 * recovery when all answer again; reason gets the first failure. */
static void note_queries(struct tick *t, const struct wd_config *cfg,
			 const struct measure_tick *mt, size_t failed, char *reason, size_t len)
{
	for (size_t i = 0; failed && i < cfg->n_services; i++)
		if (!mt->svc[i].ok && !reason[0])
			snprintf(reason, len, "Prometheus query failed: service %s: %s",
				 cfg->services[i].name, mt->svc[i].err);
	if (failed && !t->prom_failing) {
		for (size_t i = 0; i < cfg->n_services; i++)
			if (!mt->svc[i].ok)
				log_error("Prometheus query failed; holding the service's weights",
					  "service", cfg->services[i].name, "error", mt->svc[i].err);
	} else if (!failed && t->prom_failing) {
		log_info("Prometheus queries recovered");
	}
	t->prom_failing = failed > 0;
}

/* Hands every service's current integer weights to the output in one
 * update, and logs what the output noticed. Returns what output_write
 * returns. */
static int write_output(struct tick *t, struct runtime *rt, char *err, size_t errlen)
{
	const struct wd_config *cfg = rt->cfg;
	struct wd_output_service *os = xcalloc(cfg->n_services, sizeof(*os));
	int **weights = xcalloc(cfg->n_services, sizeof(*weights));
	for (size_t i = 0; i < cfg->n_services; i++) {
		weights[i] = xcalloc(cfg->services[i].n_backends, sizeof(int));
		for (size_t b = 0; b < cfg->services[i].n_backends; b++)
			weights[i][b] = rt->st[i].b[b].out_weight;
		os[i].cfg = &cfg->services[i];
		os[i].weights = weights[i];
	}
	int rc = output_write(rt->out, os, cfg->n_services, err, errlen);
	if (rc == OUTPUT_WRITTEN && rt->rb)
		readback_expect(rt->rb, os, cfg->n_services, util_mono_ms());
	struct wd_events ev = {0};
	output_take_events(rt->out, &ev);
	event_log(&ev, &t->seen);
	for (size_t i = 0; i < cfg->n_services; i++)
		free(weights[i]);
	free(weights);
	free(os);
	return rc;
}

/* The output gets the weights every tick, changed or not: it compares them
 * with what its target holds and writes only a difference, so an output file
 * deleted or edited, or a Redis flushed or restarted empty, is put back while
 * the weights hold. Logs a failure once and the recovery once. */
static enum metrics_write_result apply(struct tick *t, struct runtime *rt, bool *written,
				       char *reason, size_t len)
{
	char err[512];
	const char *kind = output_kind(rt->out);
	int rc = write_output(t, rt, err, sizeof(err));
	*written = rc == OUTPUT_WRITTEN;
	if (rc < 0) {
		if (!t->output_failing)
			log_error("output write failed; the last good output stays; retrying next tick",
				  "output", kind, "error", err);
		t->output_failing = true;
		snprintf(reason, len, "output %s write failed: %s", kind, err);
		return METRICS_WRITE_FAILED;
	}
	/* Recovered means a write went through: weights that came back to what
	 * the target holds prove nothing about the fault. */
	if (rc != OUTPUT_WRITTEN && t->output_failing)
		return METRICS_WRITE_SKIPPED;
	if (t->output_failing)
		log_info("output write recovered", "output", kind);
	t->output_failing = false;
	if (rc != OUTPUT_WRITTEN)
		return METRICS_WRITE_SKIPPED;
	log_debug("output written", "output", kind);
	return rt->cfg->dry_run ? METRICS_WRITE_SKIPPED : METRICS_WRITE_OK;
}

/* Reads back what Traefik shows for every service written and not yet seen
 * applied: records how long it took, and warns once per episode when Traefik
 * still shows other weights after three intervals (and at least 10 s, past
 * Traefik's 2 s provider throttle). */
static void check_readback(struct tick *t, struct runtime *rt)
{
	struct metrics *metrics = t->report.metrics;
	struct readback_result res;
	size_t failed = readback_check(rt->rb, util_mono_ms(), &res);
	for (size_t k = 0; k < failed; k++)
		metrics_traefik_apply(metrics, -1);
	double limit_s = 3 * rt->cfg->interval_ms / 1000.0;
	if (limit_s < 10)
		limit_s = 10;
	for (size_t k = 0; k < res.n; k++) {
		const struct readback_service *r = &res.svc[k];
		const struct wd_service_cfg *svc = config_find_service(rt->cfg, r->name);
		if (!svc)
			continue;
		size_t i = (size_t)(svc - rt->cfg->services);
		char d[32];
		rt->rb_state[i] = r->applied;
		if (r->newly_applied) {
			metrics_traefik_apply(metrics, r->apply_s);
			snprintf(d, sizeof(d), "%.1fs", r->apply_s);
			if (rt->rb_warned[i])
				log_info("Traefik now shows the weights weightd wrote", "service", r->name,
					 "after", d);
			else
				log_debug("Traefik shows the weights weightd wrote", "service", r->name,
					  "after", d);
			rt->rb_warned[i] = false;
		} else if (!r->applied && r->pending_s >= limit_s && !rt->rb_warned[i]) {
			snprintf(d, sizeof(d), "%.1fs", r->pending_s);
			log_warn("Traefik shows other weights than weightd wrote", "service", r->name,
				 "for", d, "written", r->want, "traefik", r->seen);
			rt->rb_warned[i] = true;
		}
	}
	free(res.svc);
}

/* Tells the metrics (and so /healthz) about the answers without data. */
static void note_no_data(struct metrics *metrics, const struct wd_config *cfg,
			 const struct measure_tick *mt)
{
	char names[512] = "", note[600] = "";
	size_t n = 0, len = 0;
	for (size_t i = 0; i < cfg->n_services; i++) {
		if (!mt->svc[i].ok || !mt->svc[i].no_data)
			continue;
		if (n++ < 5 && len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", n > 1 ? ", " : "",
						cfg->services[i].name);
	}
	if (n > 5 && len < sizeof(names))
		snprintf(names + len, sizeof(names) - len, " and %zu more", n - 5);
	if (n)
		snprintf(note, sizeof(note), "no data: the latency answers name no backend of %s "
			 "(weights held; see the log)", names);
	metrics_data(metrics, mt->empty, mt->unmatched, note);
}

/* Saves the controller state after the tick; a failure is logged once. */
/* Warns once per service when its samples come less often than the tick:
 * the policy then counts the spacing into the signal's delay, but ticks that
 * see nothing new are wasted. Only once the estimate has a few dozen ticks
 * behind it (the first ticks of a run say little). */
static void warn_sample_spacing(const struct wd_config *cfg, struct wd_service_state *st,
				uint64_t tick)
{
	for (size_t i = 0; tick >= 3 * POLICY_SPACING_MIN_TICKS && i < cfg->n_services; i++) {
		double spacing = policy_sample_spacing(&st[i]);
		if (spacing < 1.5 || st[i].spacing_warned)
			continue;
		st[i].spacing_warned = true;
		char every[32], interval[32], want[32];
		double tick_s = (double)cfg->interval_ms / 1000.0;
		snprintf(every, sizeof(every), "%.3gs", spacing * tick_s);
		snprintf(interval, sizeof(interval), "%.3gs", tick_s);
		snprintf(want, sizeof(want), "%.0fs", ceil(spacing * tick_s));
		log_warn("the tick is shorter than the spacing of the samples the service's queries read: "
			 "most ticks see nothing new; set interval to at least the samples' spacing "
			 "(or scrape more often)", "service", cfg->services[i].name, "interval", interval,
			 "samples_every", every, "suggested_interval", want);
	}
}

static void save_state(struct tick *t, const struct runtime *rt)
{
	const struct wd_config *cfg = rt->cfg;
	char err[512];
	if (!cfg->state_file[0] || cfg->dry_run)
		return;
	if (state_save(cfg->state_file, rt->st, rt->n_st, err, sizeof(err)) < 0) {
		if (!t->state_failing)
			log_warn("cannot save the controller state", "state_file", cfg->state_file,
				 "error", err);
		t->state_failing = true;
	} else {
		t->state_failing = false;
	}
}

enum tick_result tick_run(struct tick *t, struct runtime *rt)
{
	const struct wd_config *cfg = rt->cfg;
	struct metrics *metrics = t->report.metrics;
	char reason[700] = "";
	double start_s = util_mono_s();
	t->n++;
	struct measure_tick mt = {0};
	if (t->query_sigmask)
		sigprocmask(SIG_SETMASK, t->query_sigmask, NULL);
	size_t failed = measure_run(rt->prom, cfg, &rt->plan, &mt, t->stop);
	if (t->sigmask)
		sigprocmask(SIG_SETMASK, t->sigmask, NULL);
	if (*t->stop) {
		measure_tick_free(&mt);
		return TICK_FAILED;
	}
	event_log(&mt.events, &t->seen);
	metrics_queries(metrics, mt.queries - mt.failed, mt.failed);
	note_no_data(metrics, cfg, &mt);
	note_queries(t, cfg, &mt, failed, reason, sizeof(reason));
	bool all_failed = failed == cfg->n_services;

	/* Every service's decisions are kept for the audit and the metrics. */
	struct wd_decision **dec = xcalloc(cfg->n_services, sizeof(*dec));
	for (size_t i = 0; i < cfg->n_services; i++) {
		dec[i] = xcalloc(cfg->services[i].n_backends, sizeof(**dec));
		policy_step(&cfg->services[i], &rt->st[i], mt.svc[i].m, mt.svc[i].ok, dec[i]);
	}
	warn_sample_spacing(cfg, rt->st, t->n);

	enum tick_result res = failed ? (all_failed ? TICK_FAILED : TICK_PARTIAL) : TICK_OK;
	enum metrics_write_result wres = METRICS_WRITE_SKIPPED;
	bool dry_diff_due = false;
	if (!all_failed) {
		wres = apply(t, rt, &dry_diff_due, reason, sizeof(reason));
		if (wres == METRICS_WRITE_FAILED)
			res = TICK_FAILED;
	}
	metrics_output_write(metrics, wres, util_wall_ms() / 1000.0);
	if (rt->rb)
		check_readback(t, rt);
	report_tick(&t->report, cfg, rt->st, &mt, dec, t->n, rt->rb ? rt->rb_state : NULL);
	/* A dry run shows what it would write, after the decisions, when that
	 * changed since the last tick (its write returned OUTPUT_WRITTEN). */
	if (!all_failed && dry_diff_due)
		report_dry_diff(&t->report, output_diff(rt->out));
	static const char *const rname[] = {
		[TICK_OK] = "ok", [TICK_PARTIAL] = "partial", [TICK_FAILED] = "failed"};
	report_status(&t->report, cfg, rt->st, &mt, dec, t->n, rname[res], reason);
	for (size_t i = 0; i < cfg->n_services; i++)
		free(dec[i]);
	free(dec);
	measure_tick_free(&mt);
	save_state(t, rt);
	static const enum metrics_tick_result mres[] = {
		[TICK_OK] = METRICS_TICK_OK, [TICK_PARTIAL] = METRICS_TICK_PARTIAL,
		[TICK_FAILED] = METRICS_TICK_FAILED};
	metrics_tick(metrics, mres[res], util_mono_s() - start_s, util_mono_ms(),
		     util_wall_ms() / 1000.0, reason);
	return res;
}
