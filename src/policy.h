/* policy: the PID weight policy (README.md "How weightd decides"), as pure
 * functions over per-service state. No I/O, no clock, no allocation in
 * policy_step (its scratch arrays live on the stack, bounded by
 * WD_MAX_BACKENDS). The integer apportionment (policy_apportion, policy_fill)
 * lives in apportion.c. */
#ifndef WD_POLICY_H
#define WD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "damping.h"

/* Why a backend has no data this tick (see struct wd_measurement). */
enum wd_data {
	WD_DATA_OK = 0,
	WD_DATA_NO_SERIES,   /* no latency series */
	WD_DATA_DUPLICATE,   /* two or more series name the backend in one query */
	WD_DATA_BAD_LATENCY, /* latency_s holds the unusable value */
	WD_DATA_BAD_ERROR,   /* error_ratio holds the unusable value */
	WD_DATA_BAD_RATE,    /* rate holds the unusable value */
	WD_DATA_NO_RATE,     /* no rate series while policy.min_rate is set */
	WD_DATA_THIN,        /* rate below policy.min_rate: too thin to steer by */
};

/* What one tick measured for one backend, as measure_screen leaves it: the
 * data rules (finiteness, signs, min_rate) are applied there, once, and
 * policy_step trusts the result and checks none of them again:
 * - has_latency: the backend's data steers this tick; latency_s is finite
 *   and >= 0, and the error ratio and the rate, where present, are valid;
 * - has_error: error_ratio is in [0, 1] (false: 0, no query or no series);
 * - has_rate: rate is finite and >= 0 (false: unknown);
 * - why: when has_latency is false, the reason; WD_DATA_THIN also keeps the
 *   error ratio from counting (a thin backend is not ejected). */
struct wd_measurement {
	bool has_latency;
	double latency_s;
	bool has_error;
	double error_ratio;
	bool has_rate;
	double rate;
	enum wd_data why;
};

enum wd_action {
	WD_ACT_APPLIED = 0,
	WD_ACT_DRY_RUN,
	WD_ACT_HELD,
	WD_ACT_PINNED,
	WD_ACT_FROZEN,
	WD_ACT_EJECTED,
	WD_ACT_STALE,
	WD_ACT_PROBING, /* a thin signal's backend brought back to a share that measures it */
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
	bool oscillating; /* this tick found the backend oscillating and damped its gain */
};

/* Slow start: a backend that joined a running service, or came back from an
 * ejection, staleness or a thin signal, waits until it measures well, then
 * ramps up to a fair share; it leaves probation there, or the first tick it
 * measures badly while ramping. */
enum wd_probation { WD_PROBATION_NONE = 0, WD_PROBATION_WAITING, WD_PROBATION_RAMPING };

/* A backend's cost against the rest of the pool: how long it has been
 * three times theirs or more, and whether a slowdown is under way (policy.c,
 * slowdown_feed). */
struct wd_slowdown {
	int run; /* ticks in a row at three times the rest's cost or more */
	bool on; /* slow for more than a signal window, and not back yet */
};

/* Controller memory of one backend. The first six fields are what the state
 * file saves and restores; their meaning is part of the state file format.
 *  weight      the continuous weight the controller integrates, in units of
 *              `total` (after a tick that steers, the weights of the backends
 *              not drained sum to total). A pinned backend holds its pin; a
 *              drained one keeps a weight it does not use (its configured one
 *              when it is drained from the start).
 *  out_weight  the integer the output carries (the last written decision);
 *              0 only for a backend drained by pin = 0.
 *  e1, e2      the PID error e_i of the last tick and the one before.
 *  n_err       how many of e1, e2 are valid (0..2). Set to 0 by a freeze, a
 *              pin, an ejection or a stale drift, so the next steered tick has
 *              no proportional or derivative kick; a hold keeps it.
 *  stale       consecutive ticks the backend had no data of its own. */
struct wd_backend_state {
	char *name;
	double weight;
	int out_weight;
	double e1, e2;
	int n_err;
	int stale;
	int pin;         /* the pin the last step applied (-1 none): notices pins set or lifted */
	double last_latency; /* the last usable latency (NaN none): repeats mean no new sample */
	int repeats;     /* consecutive ticks it repeated exactly */
	struct wd_damping damp; /* oscillation memory and the gain's damping */
	enum wd_probation probation; /* joined, or back from an ejection, staleness or a thin signal */
	double last_error_ratio; /* the last usable error ratio (NaN none) */
	struct wd_slowdown slow; /* three times as slow as the rest, lastingly (not saved) */
	int last_move;      /* the sign of its move in the last write (not saved) */
	double seen_weight; /* the integer weight in force, averaged over the signal's
			     * window: what the measurements saw (NaN: not yet known) */
	unsigned reported; /* not the policy's: which states (ejected, stale) the report
			    * logged as begun, so their end is logged once too */
};

struct wd_service_state {
	char *name;
	struct wd_backend_state *b; /* in the order of the service's config backends */
	size_t n;
	bool dirty;      /* backends added, removed or reordered since the last write was due */
	double write_debt; /* the write budget's tokens in use, 0 to its limit (policy.c,
			    * budget_limit): 0 after a start, carried across reloads */
	bool budget_waiting; /* the last tick held a move for the write budget */
	unsigned since_write; /* ticks without a write since the last one (not saved) */
	unsigned ticks_seen, ticks_repeated; /* ticks with latencies; of them, with none new */
	bool spacing_warned; /* the caller warned once that the tick is shorter than the samples */
};

/* Ticks with data before the samples' spacing is estimated. */
#define POLICY_SPACING_MIN_TICKS 8

/* How many ticks apart the samples the service's queries read arrive (1:
 * new data every tick), estimated from the last few dozen ticks: a tick in
 * which no backend's latency changed at all brought no new sample. Above 1
 * the tick is shorter than the samples' spacing (Prometheus scrape or rule
 * evaluation interval); the policy counts that spacing into the signal's
 * delay. */
double policy_sample_spacing(const struct wd_service_state *st);

/* Creates or reconciles a service's state with its config (at start and on
 * reload): keeps backends by name with all their memory (bumpless), adds new
 * ones at their configured weight (a pinned one at its pin), drops removed
 * ones; a renamed backend is a removal plus an addition. The integers carried
 * until the next tick with data are then made valid for the config (pins at
 * their pin, the rest within the bounds, summing to total), untouched when
 * they already are. st is either zeroed
 * or a state of the same service. Allocates (running out aborts); not for
 * the hot path. Returns 0. */
int policy_state_sync(struct wd_service_state *st, const struct wd_service_cfg *svc);

/* As policy_state_sync, but leaves st as it is and builds the reconciled
 * state in out (which the caller frees with policy_state_free): what a reload
 * builds aside from the running state. Returns 0. */
int policy_state_derive(const struct wd_service_state *st, const struct wd_service_cfg *svc,
			struct wd_service_state *out);

/* Makes st's weights valid for svc again, as policy_state_sync does (pins at
 * their pin, the rest within the bounds, integers summing to total), after
 * something outside the policy set them: a restored state file. st must have
 * been synced with svc. Untouched when they already are valid. */
void policy_state_normalise(struct wd_service_state *st, const struct wd_service_cfg *svc);
void policy_state_free(struct wd_service_state *st);

/* One tick for one service (every rule but the data rules, which measure
 * applies). m and out are indexed like svc->backends; st must have been synced
 * with svc. service_data is false (or m NULL) when the service's queries
 * failed: then nothing in st changes (not even pins from a reload: they wait
 * for a tick with data) and it returns false. Updates the continuous weights
 * and PID memory every tick. Returns true and sets every out_weight to the new
 * integers (summing to total) when a write is due: some integer moved by at
 * least the deadband (deadband 0 and 1 both mean any change), or an override
 * (pin, drain, ejection) or the backend set, total or bounds changed what must
 * be written. Otherwise leaves out_weight alone and returns false. out[i]
 * explains each backend's decision; a normal move is WD_ACT_APPLIED (never
 * WD_ACT_DRY_RUN: that is the caller's relabelling). */
bool policy_step(const struct wd_service_cfg *svc, struct wd_service_state *st,
		 const struct wd_measurement *m, bool service_data,
		 struct wd_decision *out);

/* Integer apportionment by largest remainder: weights w[0..n) (>= 0) scaled to
 * sum exactly to total, each in [lo[i], hi[i]]: first policy_fill, then each
 * share rounded down and the units left over given one each to the largest
 * remainders (ties: the lower index). Returns 0, or -1 if impossible (sum of
 * lo above total, sum of hi below it, lo > hi, n 0 or above WD_MAX_BACKENDS). */
int policy_apportion(const double *w, size_t n, int total, const int *lo,
		     const int *hi, int *out);

/* Continuous counterpart: x[i] = clamp(s * w[i], lo[i], hi[i]) with the one
 * scale s that makes the x sum to total (water filling). Entries with
 * lo == hi are fixed. If the positive weights cannot reach total even at
 * their hi, entries of weight 0 are raised evenly. Returns 0, or -1 if
 * impossible (as policy_apportion). No allocation. */
int policy_fill(const double *w, size_t n, double total, const double *lo,
		const double *hi, double *x);

#endif
