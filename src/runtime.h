/* runtime: everything one config needs to run ticks, built and torn down as
 * a unit: the config, the Prometheus client, the output, and the controller
 * state of every service. A reload builds a whole new runtime aside from the
 * running one, carrying the controller state over by name, and the caller
 * swaps it in with one assignment: all or nothing, and on any failure the
 * running one is untouched. What outlives a config (metrics, the HTTP
 * listener, the audit log) belongs to the daemon, not here. */
#ifndef WD_RUNTIME_H
#define WD_RUNTIME_H

#include <stddef.h>

#include "config.h"
#include "output.h"
#include "plan.h"
#include "policy.h"
#include "prom.h"
#include "readback.h"

struct runtime {
	struct wd_config *cfg;
	struct prom *prom;
	struct output *out;
	struct wd_service_state *st; /* one per cfg service, same order */
	size_t n_st;
	struct plan plan;            /* the queries a tick sends */
	/* Traefik's API read back: rb NULL without traefik_api (or in a dry
	 * run); per service: rb_state -1 not written yet, 0 pending, 1
	 * applied; rb_warned: Traefik showing others was warned about. */
	struct readback *rb;
	int *rb_state;
	bool *rb_warned;
};

/* Builds the runtime for cfg, which it takes over (freed on failure too).
 * Each service's state is a copy of old's (NULL at start) by service and
 * backend name, reconciled with cfg; old itself is not changed. On failure
 * returns NULL with *what (what failed, a log message) and err (why) set. */
struct runtime *runtime_new(struct wd_config *cfg, const struct runtime *old,
			    const char **what, char *err, size_t errlen);

/* Frees everything the runtime holds, its config included; NULL is fine. */
void runtime_free(struct runtime *rt);

#endif
