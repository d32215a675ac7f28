/* report: the log lines, audit records, metrics series and dry-run table of
 * one tick; see report.h. */
#include "report.h"

#include <math.h>
#include <stdlib.h>

#include "log.h"
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
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct wd_service_cfg *svc = &cfg->services[i];
		ms[i] = (struct metrics_service){svc->name, svc->freeze,
						 mt->svc && mt->svc[i].ok && mt->svc[i].no_data,
						 applied ? applied[i] : -1};
		for (size_t b = 0; dec[i] && b < svc->n_backends; b++, k++) {
			struct wd_decision *x = &dec[i][b];
			const struct wd_measurement *m = mt->svc && mt->svc[i].m ? &mt->svc[i].m[b] : NULL;
			if (cfg->dry_run && x->action == WD_ACT_APPLIED)
				x->action = WD_ACT_DRY_RUN;
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
