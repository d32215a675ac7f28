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

/* Where a tick's report goes. */
struct report_sink {
	struct audit *audit;  /* NULL when audit_log = "" */
	bool audit_failing;   /* a write failed: logged once, and its recovery once */
	struct metrics *metrics;
	FILE *table;          /* NULL, or where the decisions go as a table */
};

/* Reports tick number tick of cfg: st holds every service's state after the
 * policy step (the weights the output carries, the states already logged),
 * mt what was measured and dec[i] (NULL when unknown) service i's decisions,
 * which a dry run relabels; applied (NULL: not read back) whether Traefik's
 * API shows each service's last write (readback.h). */
void report_tick(struct report_sink *sink, const struct wd_config *cfg,
		 struct wd_service_state *st, const struct measure_tick *mt,
		 struct wd_decision **dec, uint64_t tick, const int *applied);

/* Logs a backend's ejection, return, staleness and recovery once per change,
 * remembered in bs->reported. m is NULL when nothing was measured. */
void report_backend_change(struct wd_backend_state *bs, const char *service,
			   const struct wd_measurement *m, const struct wd_decision *dec);

#endif
