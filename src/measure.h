/* measure: the first stage of a tick. Builds a tick's queries from the config, runs
 * them through prom in one batch, and maps each result's series to the
 * service's backends by the service's label. */
#ifndef WD_MEASURE_H
#define WD_MEASURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "event.h"
#include "plan.h"
#include "policy.h"
#include "prom.h"

/* The outcome of one service's queries in one tick. */
struct measure_service {
	bool ok;           /* every configured query of the service succeeded */
	char err[512];     /* when !ok: the first failure, naming the query */
	struct wd_measurement *m; /* n_backends entries, indexed like cfg backends */
	bool no_data;      /* when ok: the latency answer named none of its backends */
};

struct measure_tick {
	struct measure_service *svc; /* cfg->n_services entries */
	size_t n_svc;
	size_t queries, failed;      /* counts for metrics */
	size_t empty;                /* queries answered with no series at all */
	size_t unmatched;            /* series of fleet-wide answers naming no backend */
	struct wd_events events;     /* warnings about the data, for the tick to log */
};

/* Runs the queries of cfg's plan pl (plan_build) of one tick concurrently and
 * maps their answers to every service's backends. Allocates t's arrays
 * (measure_tick_free releases them). Returns the number of services whose
 * queries failed. Warnings about the data (duplicate series, Prometheus
 * warnings, empty answers) go into t->events, marked once (they recur while
 * their cause lasts); pl remembers since when each query answered empty. */
size_t measure_run(struct prom *p, const struct wd_config *cfg, struct plan *pl,
		   struct measure_tick *t, volatile sig_atomic_t *stop);
void measure_tick_free(struct measure_tick *t);

/* Maps one query's result onto a service's backends: calls set(ctx, index,
 * value) for each backend with exactly one series; a backend with two or more
 * series is reported through dup (label value), and is given no value.
 * Exposed for tests. */
void measure_map(const struct prom_result *r, const struct wd_service_cfg *svc,
		 void (*set)(void *ctx, size_t backend, double value),
		 void (*dup)(void *ctx, const char *label), void *ctx);

/* Fills m (svc->n_backends entries) from the results of one service's
 * queries: each backend's values as its series gave them, then
 * measure_screen. Two series for one backend in any query take its data
 * away (a warning in ev, which may be NULL). err and rate are NULL when not
 * configured. Returns how many of the service's backends the latency answer
 * named (0: the service has no data). Exposed for tests. */
size_t measure_fill(const struct wd_service_cfg *svc, const struct prom_result *lat,
		    const struct prom_result *err, const struct prom_result *rate,
		    struct wd_measurement *m, struct wd_events *ev);

/* The data rules, applied once to one backend's raw values (has_*: a series
 * was there; the values as Prometheus gave them), leaving what policy.h's
 * struct wd_measurement promises: a latency needs one finite, non-negative
 * value; an error ratio that is NaN (0/0, no traffic) counts as 0, one above 1
 * as 1, one infinite or negative takes the data away; a rate infinite,
 * negative or below pc->min_rate takes the data away, and so does no rate
 * series when rate_queried and min_rate is set. why says which rule did. */
void measure_screen(const struct wd_policy_cfg *pc, bool rate_queried, struct wd_measurement *m);

#endif
