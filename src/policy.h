/* policy: the PID weight policy of SPEC §3, as pure functions over per-service
 * state. No I/O, no clock, no allocation in policy_step. */
#ifndef WD_POLICY_H
#define WD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* What one tick measured for one backend. */
struct wd_measurement {
	bool has_latency; /* false: no data this tick */
	double latency_s;
	bool has_error;   /* false: error ratio 0 (no error query or no series) */
	double error_ratio;
	bool has_rate;    /* false: rate unknown */
	double rate;
};

enum wd_action {
	WD_ACT_APPLIED = 0,
	WD_ACT_DRY_RUN,
	WD_ACT_HELD,
	WD_ACT_PINNED,
	WD_ACT_FROZEN,
	WD_ACT_EJECTED,
	WD_ACT_STALE,
};
const char *policy_action_name(enum wd_action a);

/* What the policy decided for one backend, for the audit, metrics and table. */
struct wd_decision {
	enum wd_action action;
	char reason[128];
	double cost;      /* NaN when unknown */
	double error;     /* e_i; NaN when unknown */
	int old_weight;
	int new_weight;
};

/* Controller memory of one backend. */
struct wd_backend_state {
	char *name;
	double weight;   /* continuous weight the controller integrates */
	int out_weight;  /* the integer last decided (what the output carries) */
	double e1, e2;   /* errors of the last two ticks */
	int n_err;       /* how many of e1, e2 are valid (0..2) */
	int stale;       /* consecutive ticks without data */
};

struct wd_service_state {
	char *name;
	struct wd_backend_state *b; /* in the order of the service's config backends */
	size_t n;
};

/* Creates or reconciles a service's state with its config (at start and on
 * reload): keeps backends by name, adds new ones at their configured weight,
 * drops removed ones. Allocates; not for the hot path. 0 or -1. */
int policy_state_sync(struct wd_service_state *st, const struct wd_service_cfg *svc);
void policy_state_free(struct wd_service_state *st);

/* One tick for one service. m and out are indexed like svc->backends.
 * service_data is false when the service's queries failed (hold everything).
 * Returns true when some weight moved by at least the deadband, or the set of
 * written backends changed (a write is due). */
bool policy_step(const struct wd_service_cfg *svc, struct wd_service_state *st,
		 const struct wd_measurement *m, bool service_data,
		 struct wd_decision *out);

/* Integer apportionment by largest remainder: weights w[0..n) (>= 0) scaled to
 * sum exactly to total, each in [lo[i], hi[i]]. Returns 0 or -1 if impossible. */
int policy_apportion(const double *w, size_t n, int total, const int *lo,
		     const int *hi, int *out);

#endif
