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
#include "policy.h"
#include "prom.h"

struct runtime {
	struct wd_config *cfg;
	struct prom *prom;
	struct output *out;
	struct wd_service_state *st; /* one per cfg service, same order */
	size_t n_st;
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
