/* plan: the queries of one tick, each distinct text sent once.
 *
 * Custom services' queries are shared when their texts (and labels) are
 * identical. Preset services are grouped by preset, window and latency
 * statistic into one fleet-wide query per signal, whose series name their
 * backend by a key (plan_find). So Prometheus's load does not grow with the
 * number of services. A plan is built once per config and also remembers,
 * per query, since when it has answered empty. */
#ifndef WD_PLAN_H
#define WD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>


#include "config.h"
#include "preset.h"

struct plan_query {
	char *expr;            /* PromQL */
	const char *label;     /* the label naming a backend (not owned) */
	enum wd_signal signal;
	bool keyed;            /* a preset's fleet query: series carry keys */
	size_t n_services;     /* how many services read it */
	size_t first_service;  /* the first of them (index in cfg) */
	int64_t empty_since_ms; /* monotonic: answered empty since (0: it was not) */
};

/* One backend's key in a keyed query's answers. */
struct plan_key {
	char *key;
	size_t svc, backend;
};

struct plan {
	struct plan_query *q;
	size_t n_q;
	int *at;               /* [svc * WD_SIGNALS + signal]: index in q, or -1 */
	struct plan_key *keys; /* every preset backend's key, sorted by key */
	size_t n_keys;
};

/* Builds the plan of cfg; free it with plan_free. */
void plan_build(const struct wd_config *cfg, struct plan *p);
void plan_free(struct plan *p);

/* The index in q of service svc's query for signal, or -1. */
int plan_at(const struct plan *p, size_t svc, enum wd_signal signal);

/* The entries whose key is key: *n of them from the one returned (a child
 * service shared by two weighted services has two); NULL when none. */
const struct plan_key *plan_find(const struct plan *p, const char *key, size_t *n);

/* Writes the plan for an operator (weightd -t): the number of queries, then
 * for each a comment line saying which signal of which services it answers
 * and the query on a line of its own, ready to paste into Prometheus. */
void plan_print(const struct plan *p, const struct wd_config *cfg, FILE *f);

#endif
