/* report: tells the outside what one tick decided. The log lines for a
 * backend's state changes (once per change), the audit records, the metrics
 * series, and for a one-shot dry run the table on stdout. In a dry run the
 * decisions are relabelled: what would have been "applied" is "dry_run". */
#ifndef WD_REPORT_H
#define WD_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "audit.h"
#include "config.h"
#include "measure.h"
#include "metrics.h"
#include "policy.h"
#include "status.h"

/* Where a tick's report goes. */
struct report_sink {
	struct audit *audit;  /* NULL when audit_log = "" */
	bool audit_failing;   /* a write failed: logged once, and its recovery once */
	struct metrics *metrics;
	FILE *table;          /* NULL, or where the decisions go as a table */
	FILE *diff;           /* NULL, or where a dry run's diff goes */
	struct status *status; /* NULL, or what GET /status serves */
};

/* Reports tick number tick of cfg: st holds every service's state after the
 * policy step (the weights the output carries, the states already logged),
 * mt what was measured and dec[i] (NULL when unknown) service i's decisions,
 * which a dry run relabels; applied (NULL: not read back) whether Traefik's
 * API shows each service's last write (readback.h). */
void report_tick(struct report_sink *sink, const struct wd_config *cfg,
		 struct wd_service_state *st, const struct measure_tick *mt,
		 struct wd_decision **dec, uint64_t tick, const int *applied);

/* The one line an operator reads for a service whose written weights
 * changed this tick: weights gets "a=50->62 b=50->38 c=10" (every backend,
 * in config order; one that kept its weight shows only that), reason says
 * why in words (which backend drove the move and on which signal: latency
 * or errors against the pool; or an ejection, a return from one, a drain, a
 * pin, a stale backend's drift). m (NULL when
 * nothing was measured) and dec are indexed like svc->backends; was_ejected
 * (NULL: none) marks the backends ejected before this tick. Returns false,
 * writing nothing, when no backend's weight changed. */
bool report_change_line(const struct wd_service_cfg *svc, const struct wd_measurement *m,
			const struct wd_decision *dec, const bool *was_ejected, char *weights,
			size_t wlen, char *reason, size_t rlen);

/* Builds the tick's part of the /status document (services, backends,
 * actions, reasons, and the tick's number, time, result and reason) and
 * swaps it into sink->status (nothing when NULL). Call after report_tick,
 * which relabels a dry run's decisions. */
void report_status(struct report_sink *sink, const struct wd_config *cfg,
		   const struct wd_service_state *st, const struct measure_tick *mt,
		   struct wd_decision **dec, uint64_t tick, const char *result, const char *reason);

/* Prints a dry run's diff (text; NULL or "" for none) on sink->diff, if set. */
void report_dry_diff(struct report_sink *sink, const char *text);

/* Logs a backend's ejection, return, staleness and recovery once per change,
 * remembered in bs->reported. m is NULL when nothing was measured. */
void report_backend_change(struct wd_backend_state *bs, const char *service,
			   const struct wd_measurement *m, const struct wd_decision *dec);

#endif
