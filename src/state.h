/* state: the controller state (weights and PID memory per service and
 * backend) saved as JSON with an atomic replace after each tick, and restored
 * at start so a restart continues without a jump. */
#ifndef WD_STATE_H
#define WD_STATE_H

#include <stddef.h>

#include "config.h"
#include "policy.h"

/* Saves every service's state atomically. 0, or -1 with err set. */
int state_save(const char *path, const struct wd_service_state *st, size_t n,
	       char *err, size_t errlen);

/* Restores into st (already synced with the config) the saved values of each
 * (service, backend) that both know. Unknown or invalid entries are skipped
 * with a line in warns; a missing file is not an error. Returns the number of
 * backends restored, or -1 when the file is unreadable as a whole (warns says
 * why; st is untouched). Restored weights are clamped to the config's bounds,
 * and each service's set is then made valid for the config as at any start
 * (policy_state_normalise): pins at their pin, integers summing to total. */
int state_load(const char *path, const struct wd_config *cfg,
	       struct wd_service_state *st, size_t n, struct wd_errors *warns);

#endif
