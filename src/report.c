/* report: the log lines, audit records, metrics series and dry-run table of
 * one tick; see report.h. */
#include "report.h"

#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "status.h"
#include "util.h"

/* Backend states whose start and end are logged once each. */
enum { REPORTED_EJECTED = 1, REPORTED_STALE = 2 };

void report_backend_change(struct wd_backend_state *bs, const char *svc,
			   const struct wd_measurement *m, const struct wd_decision *dec)
{
	enum wd_action a = dec->action;
	const char *backend = bs->name;
	char er[32] = "unknown";
	if (m && m->has_error)
		snprintf(er, sizeof(er), "%.4g", m->error_ratio);
	if (a == WD_ACT_EJECTED && !(bs->reported & REPORTED_EJECTED)) {
		log_warn("backend ejected: its error ratio is at or above eject_error_ratio", "service",
			 svc, "backend", backend, "error_ratio", er, "reason", dec->reason);
		bs->reported |= REPORTED_EJECTED;
	} else if ((bs->reported & REPORTED_EJECTED) && a != WD_ACT_EJECTED && a != WD_ACT_FROZEN) {
		log_info("backend returned from ejection", "service", svc, "backend", backend,
			 "error_ratio", er, "action", policy_action_name(a));
		bs->reported &= ~(unsigned)REPORTED_EJECTED;
	}
	if (a == WD_ACT_STALE && !(bs->reported & REPORTED_STALE)) {
		log_warn("backend stale: no data; moving it toward its initial weight", "service", svc,
			 "backend", backend, "reason", dec->reason);
		bs->reported |= REPORTED_STALE;
	} else if ((bs->reported & REPORTED_STALE) && m && m->has_latency) {
		log_info("backend recovered: its data is back", "service", svc, "backend", backend);
		bs->reported &= ~(unsigned)REPORTED_STALE;
	}
}

/* Appends one part of a reason, "; " between parts, truncating to fit. */
static void add_part(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_part(char *buf, size_t len, const char *fmt, ...)
{
	size_t at = strlen(buf);
	if (at && at + 2 < len) {
		memcpy(buf + at, "; ", 3);
		at += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	if (at < len)
		vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
}

static bool steered(const struct wd_decision *d)
{
	return (d->action == WD_ACT_APPLIED || d->action == WD_ACT_DRY_RUN) && isfinite(d->error);
}

/* Names the backend that drove a controller move (the one furthest from the
 * pool's cost, d->error = ln pool - ln cost) and its signal: latency, or the
 * error ratio when that weighs more in its cost than its latency does. */
static void steering_reason(const struct wd_service_cfg *svc, const struct wd_measurement *m,
			    const struct wd_decision *dec, char *reason, size_t rlen)
{
	size_t n = svc->n_backends, drv = n, k = 0;
	double lat_mean = 0, pen_mean = 0, er_mean = 0;
	for (size_t b = 0; b < n; b++) {
		if (!steered(&dec[b]))
			continue;
		/* Ties (two backends around an even split) go to the slower one:
		 * "b latency 2x the pool" reads better than "a 0.5x". */
		double gap = drv == n ? 1 : fabs(dec[b].error) - fabs(dec[drv].error);
		if (gap > 1e-9 || (fabs(gap) <= 1e-9 && dec[b].error < dec[drv].error))
			drv = b;
		if (m && m[b].has_latency) {
			double er = m[b].has_error ? m[b].error_ratio : 0;
			lat_mean += log(fmax(m[b].latency_s, 1e-6));
			pen_mean += log1p(svc->policy.error_penalty * er);
			er_mean += er;
			k++;
		}
	}
	/* A backend alone in the pool (the others ejected or pinned) is at the
	 * pool's cost: the other parts of the reason explain the move. */
	if (drv == n || (reason[0] && fabs(dec[drv].error) < 0.01))
		return;
	const char *name = svc->backends[drv].name;
	if (!m || !m[drv].has_latency || !k) {
		add_part(reason, rlen, "%s cost %.2gx the pool", name, exp(-dec[drv].error));
		return;
	}
	const struct wd_measurement *x = &m[drv];
	double er = x->has_error ? x->error_ratio : 0;
	double d_lat = log(fmax(x->latency_s, 1e-6)) - lat_mean / (double)k;
	double d_pen = log1p(svc->policy.error_penalty * er) - pen_mean / (double)k;
	if (fabs(d_pen) > fabs(d_lat))
		add_part(reason, rlen, "%s error ratio %.2g vs pool %.2g", name, er, er_mean / (double)k);
	else
		add_part(reason, rlen, "%s latency %.2gx the pool (%.3gs)", name, exp(d_lat),
			 x->latency_s);
}

/* How a change line names a backend its own action moved ("c ejected: ..."),
 * or NULL for the actions that do not explain a move by themselves. */
static const char *moved_word(enum wd_action a)
{
	switch (a) {
	case WD_ACT_EJECTED: return " ejected:";
	case WD_ACT_STALE: return " stale:";
	case WD_ACT_PROBING: return " probing:";
	case WD_ACT_PINNED: return ""; /* its reason says "pinned to N" or "drained by pin = 0" */
	default: return NULL;
	}
}

bool report_change_line(const struct wd_service_cfg *svc, const struct wd_measurement *m,
			const struct wd_decision *dec, const bool *was_ejected, char *weights,
			size_t wlen, char *reason, size_t rlen)
{
	bool changed = false, moved_by_policy = false;
	for (size_t b = 0; b < svc->n_backends; b++)
		changed = changed || dec[b].old_weight != dec[b].new_weight;
	if (!changed)
		return false;
	weights[0] = reason[0] = '\0';
	size_t at = 0;
	for (size_t b = 0; b < svc->n_backends && at < wlen; b++) {
		const char *sep = b ? " " : "", *name = svc->backends[b].name;
		int o = dec[b].old_weight, n = dec[b].new_weight;
		at += (size_t)(o == n ? snprintf(weights + at, wlen - at, "%s%s=%d", sep, name, n)
				      : snprintf(weights + at, wlen - at, "%s%s=%d->%d", sep, name, o, n));
	}
	for (size_t b = 0; b < svc->n_backends; b++) {
		const struct wd_decision *d = &dec[b];
		const char *name = svc->backends[b].name;
		bool moved = d->old_weight != d->new_weight;
		const char *word = moved_word(d->action);
		if (word) {
			if (moved)
				add_part(reason, rlen, "%s%s %s", name, word, d->reason);
		} else if (d->action == WD_ACT_APPLIED || d->action == WD_ACT_DRY_RUN) {
			if (was_ejected && was_ejected[b])
				add_part(reason, rlen, "%s back from ejection", name);
			moved_by_policy = moved_by_policy || moved;
		}
	}
	if (moved_by_policy)
		steering_reason(svc, m, dec, reason, rlen);
	/* Held backends explain a move only when nothing else does. */
	for (size_t b = 0; !reason[0] && b < svc->n_backends; b++)
		if (dec[b].action == WD_ACT_HELD || dec[b].action == WD_ACT_FROZEN)
			add_part(reason, rlen, "%s held: %s", svc->backends[b].name, dec[b].reason);
	if (!reason[0])
		add_part(reason, rlen, "the backends, bounds or total changed in the config");
	return true;
}

/* Logs the change line of every service whose weights changed; before the
 * backends' own lines, which forget an ejection that ended. */
static void log_changes(const struct wd_config *cfg, const struct wd_service_state *st,
			const struct measure_tick *mt, struct wd_decision **dec)
{
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct wd_service_cfg *svc = &cfg->services[i];
		if (!dec[i] || !mt->svc || !mt->svc[i].ok)
			continue;
		bool was_ejected[WD_MAX_BACKENDS] = {0};
		for (size_t b = 0; b < svc->n_backends && b < WD_MAX_BACKENDS; b++)
			was_ejected[b] = (st[i].b[b].reported & REPORTED_EJECTED) != 0;
		char weights[1024], reason[1024];
		if (report_change_line(svc, mt->svc[i].m, dec[i], was_ejected, weights, sizeof(weights),
				       reason, sizeof(reason)))
			log_info("weights changed", "service", svc->name, "weights", weights, "reason",
				 reason, cfg->dry_run ? "dry_run" : NULL, "true");
	}
}

static void write_audit(struct report_sink *sink, const struct audit_record *rec, size_t n)
{
	if (!sink->audit)
		return;
	char err[512];
	int rc = 0;
	for (size_t r = 0; r < n && rc == 0; r++)
		rc = audit_write(sink->audit, &rec[r], err, sizeof(err));
	if (rc < 0 && !sink->audit_failing)
		log_error("cannot write the audit log; records are lost until it recovers", "error", err);
	else if (rc == 0 && sink->audit_failing)
		log_info("audit log writes recovered", "audit_log", audit_path(sink->audit));
	sink->audit_failing = rc < 0;
}

void report_tick(struct report_sink *sink, const struct wd_config *cfg,
		 struct wd_service_state *st, const struct measure_tick *mt,
		 struct wd_decision **dec, uint64_t tick, const int *applied)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_services; i++)
		n += dec[i] ? cfg->services[i].n_backends : 0;
	struct audit_record *rec = xcalloc(n, sizeof(*rec));
	struct metrics_backend *mb = xcalloc(n, sizeof(*mb));
	struct metrics_service *ms = xcalloc(cfg->n_services, sizeof(*ms));
	int64_t ts = util_wall_ms();
	size_t k = 0;
	for (size_t i = 0; i < cfg->n_services; i++)
		for (size_t b = 0; dec[i] && b < cfg->services[i].n_backends; b++)
			if (cfg->dry_run && dec[i][b].action == WD_ACT_APPLIED)
				dec[i][b].action = WD_ACT_DRY_RUN;
	log_changes(cfg, st, mt, dec);
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct wd_service_cfg *svc = &cfg->services[i];
		ms[i] = (struct metrics_service){svc->name, svc->freeze,
						 mt->svc && mt->svc[i].ok && mt->svc[i].no_data,
						 applied ? applied[i] : -1, st[i].budget_waiting};
		for (size_t b = 0; dec[i] && b < svc->n_backends; b++, k++) {
			struct wd_decision *x = &dec[i][b];
			const struct wd_measurement *m = mt->svc && mt->svc[i].m ? &mt->svc[i].m[b] : NULL;
			/* Nothing changes in a tick whose queries failed: nothing is known then. */
			if (mt->svc && mt->svc[i].ok)
				report_backend_change(&st[i].b[b], svc->name, m, x);
			rec[k] = (struct audit_record){ts, tick, svc->name, svc->backends[b].name, m, x};
			/* The weight the output carries: below the deadband the
			 * decision's new weight is not written. */
			mb[k] = (struct metrics_backend){
				svc->name, svc->backends[b].name, st[i].b[b].out_weight,
				m && m->has_latency ? m->latency_s : NAN,
				m && m->has_error ? m->error_ratio : NAN, x->cost, x->error, x->action,
				damping_gain(&st[i].b[b].damp), st[i].b[b].damp.count};
		}
	}
	write_audit(sink, rec, n);
	metrics_set_backends(sink->metrics, mb, n, ms, cfg->n_services);
	if (sink->table) {
		audit_print_table(sink->table, rec, n);
		fflush(sink->table);
	}
	free(rec);
	free(mb);
	free(ms);
}

/* Unix time in milliseconds as RFC 3339 UTC with milliseconds. */
static void rfc3339(int64_t ms, char *buf, size_t len)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

static void add_known(cJSON *o, const char *key, bool known, double v)
{
	if (known && isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

void report_status(struct report_sink *sink, const struct wd_config *cfg,
		   const struct wd_service_state *st, const struct measure_tick *mt,
		   struct wd_decision **dec, uint64_t tick, const char *result, const char *reason)
{
	if (!sink->status)
		return;
	char ts[40];
	rfc3339(util_wall_ms(), ts, sizeof(ts));
	cJSON *doc = cJSON_CreateObject();
	cJSON *last = cJSON_AddObjectToObject(doc, "last_tick");
	cJSON_AddNumberToObject(last, "number", (double)tick);
	cJSON_AddStringToObject(last, "time", ts);
	cJSON_AddStringToObject(last, "result", result);
	cJSON_AddStringToObject(last, "reason", reason);
	cJSON *services = cJSON_AddArrayToObject(doc, "services");
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct wd_service_cfg *svc = &cfg->services[i];
		bool measured = mt->svc && mt->svc[i].ok;
		cJSON *s = cJSON_CreateObject();
		cJSON_AddItemToArray(services, s);
		cJSON_AddStringToObject(s, "name", svc->name);
		cJSON_AddBoolToObject(s, "frozen", svc->freeze);
		cJSON_AddBoolToObject(s, "measured", measured);
		cJSON_AddBoolToObject(s, "no_data", measured && mt->svc[i].no_data);
		cJSON *w = cJSON_AddObjectToObject(s, "weights");
		cJSON *backends = cJSON_AddArrayToObject(s, "backends");
		for (size_t b = 0; b < svc->n_backends; b++) {
			const struct wd_measurement *m = measured && mt->svc[i].m ? &mt->svc[i].m[b] : NULL;
			const struct wd_decision *d = dec[i] ? &dec[i][b] : NULL;
			cJSON_AddNumberToObject(w, svc->backends[b].name, st[i].b[b].out_weight);
			cJSON *o = cJSON_CreateObject();
			cJSON_AddItemToArray(backends, o);
			cJSON_AddStringToObject(o, "name", svc->backends[b].name);
			cJSON_AddNumberToObject(o, "weight", st[i].b[b].out_weight);
			cJSON_AddStringToObject(o, "action", d ? policy_action_name(d->action) : "unknown");
			cJSON_AddStringToObject(o, "reason", d ? d->reason : "");
			add_known(o, "latency_s", m && m->has_latency, m ? m->latency_s : NAN);
			add_known(o, "error_ratio", m && m->has_error, m ? m->error_ratio : NAN);
		}
	}
	status_set_tick(sink->status, doc);
}

void report_dry_diff(struct report_sink *sink, const char *text)
{
	if (!sink->diff || !text || !text[0])
		return;
	fputs(text, sink->diff);
	fflush(sink->diff);
}
