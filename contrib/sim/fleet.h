/* fleet: a discrete-event model of a fleet of backends behind a Traefik-like
 * load balancer. One model serves the real-time simulator (weightd-sim) and the
 * simulated-time benchmark (weightd-bench).
 *
 * Time is an abstract clock: a double of seconds since the start. The model
 * never reads a wall clock; its driver calls fleet_run_until(t) and decides how
 * t maps to real time (weightd-sim sleeps until it, the benchmark does not).
 * The same seed gives the same run, event for event.
 *
 * Backends (SIM_* scenario keys in brackets; see contrib/sim/scenario.h):
 *   capacity [req/s], slots, latency [s], error ratio: each a schedule of steps.
 *   A request waits in a FIFO queue for one of `slots`; in service, the
 *   `slots` requests share the backend like processor sharing: alone a request
 *   takes `latency` (times a lognormal jitter), and `slots` of them together
 *   complete at `capacity` per second, so latency rises with load from
 *   `latency` (idle) to slots/capacity (busy), then queueing adds on top.
 *   Batch mode (GPU-like): latency stays flat until every slot is busy.
 *   A failing request (probability = error ratio) answers 500; with
 *   `error_latency` set it answers at once without taking a slot (fail fast).
 *
 * Routing: a pluggable chooser picks the backend of each request. The default
 * is Traefik's earliest-deadline-first weighted round robin (deadline +=
 * 1/weight; weight 0 or drained gets nothing), two-level when backends belong
 * to weighted child services. fleet_chooser_p2c() and fleet_chooser_leasttime()
 * are the per-request strategies Traefik v3 also offers. */
#ifndef WD_FLEET_H
#define WD_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLEET_NAME_MAX 128
#define FLEET_MAX_BUCKETS 32
#define FLEET_PASSIVE_MAX 16 /* max_failed_attempts the model keeps, at most */

/* A piecewise-constant schedule: value v[i] from time t_s[i] on; before the
 * first step the first value holds. Steps are sorted by time. */
struct fleet_sched {
	double *t_s;
	double *v;
	size_t n;
};

/* Value of a schedule at time t (0 for an empty schedule). */
double fleet_sched_at(const struct fleet_sched *s, double t);
/* Appends a step (keeps time order; a step at an existing time replaces it).
 * Returns 0 or -1 when out of memory. */
int fleet_sched_add(struct fleet_sched *s, double t_s, double v);
void fleet_sched_free(struct fleet_sched *s);

struct fleet_backend_spec {
	char name[FLEET_NAME_MAX];    /* instance label, e.g. "server1:8080" */
	char url[FLEET_NAME_MAX];     /* Traefik server url, e.g. "http://server1:8080" */
	char service[FLEET_NAME_MAX]; /* weighted child service, "" for none */
	double weight;                /* initial server weight */
	struct fleet_sched capacity;  /* req/s when every slot is busy */
	struct fleet_sched slots;     /* parallel requests in service (rounded, >= 1) */
	struct fleet_sched latency;   /* seconds, one request alone */
	struct fleet_sched errors;    /* error ratio 0..1 */
	struct fleet_sched error_latency; /* empty: failures take a slot like
					   * successes; else seconds to fail fast */
	bool batch;                   /* GPU-like: flat latency until saturation */
	double jitter;                /* sigma of the lognormal service-time factor */
	double join_s;                /* joins the balancer at this time (0: from the
				       * start); before it the balancer sees weight 0 */
};

struct fleet_load_spec {
	struct fleet_sched rate;      /* offered req/s (Poisson arrivals) */
	double diurnal_amplitude;     /* 0 off; rate *= 1 + a*sin(2*pi*(t-phase)/period) */
	double diurnal_period_s;
	double diurnal_phase_s;
};

struct fleet_spec {
	uint64_t seed;
	struct fleet_load_spec load;
	struct fleet_backend_spec *backends;
	size_t n_backends;
	double buckets[FLEET_MAX_BUCKETS]; /* histogram upper bounds (s), ascending; +Inf implied */
	size_t n_buckets;                  /* 0: Prometheus' default buckets */
	size_t queue_limit;                /* 0: unbounded; else arrivals beyond it get 503 */
};

/* Frees what the spec's schedules hold (not the spec itself). */
void fleet_spec_free(struct fleet_spec *spec);

struct fleet;

/* A routing strategy. pick returns a backend index, or -1 when no backend
 * can take the request (the balancer answers 503). The hooks may be NULL. */
struct fleet_chooser {
	int (*pick)(void *ctx, struct fleet *f);
	/* Weights changed (Traefik rebuilds its balancers: scheduler state resets). */
	void (*on_weights)(void *ctx, struct fleet *f);
	/* A request finished on backend b after latency_s with HTTP code. */
	void (*on_done)(void *ctx, struct fleet *f, size_t b, double latency_s, int code);
	void (*free)(void *ctx);
	void *ctx;
};

/* Builds a fleet from spec (copied; the caller keeps ownership of spec).
 * Installs the EDF weighted round robin. Returns NULL with err on bad spec. */
struct fleet *fleet_new(const struct fleet_spec *spec, char *err, size_t errlen);
void fleet_free(struct fleet *f);

/* Replaces the chooser (the fleet frees the old one with its free hook). */
void fleet_set_chooser(struct fleet *f, struct fleet_chooser ch);
/* Per-request strategies of Traefik v3 (they ignore or use weights as Traefik does):
 * p2c: two distinct random backends with weight > 0, the fewer in-flight wins;
 * leasttime: lowest avg latency of the last 100 answers x (1 + in-flight) / weight,
 * ties broken at random; a backend without answers yet scores 0; every weight
 * change rebuilds it (history and in-flight counts start from nothing; the
 * requests still running answer to the old one). */
struct fleet_chooser fleet_chooser_wrr(void);
struct fleet_chooser fleet_chooser_p2c(void);
struct fleet_chooser fleet_chooser_leasttime(void);

/* Traefik's passive health check on the balancer (passiveHealthCheck,
 * v3.5+): max_failed consecutive 5xx answers of a server within window_s take
 * it out of every strategy's choice for window_s (its turns pass, nothing
 * else resets). max_failed 0 or window_s 0: off (the default). Traefik's
 * defaults are 1 and 10 s. */
void fleet_set_passive(struct fleet *f, unsigned max_failed, double window_s);
/* False while the passive health check holds the backend down. */
bool fleet_up(const struct fleet *f, size_t b);

/* Processes every event up to and including time t_s (seconds); the clock
 * then reads t_s. Times before the current clock are ignored. */
void fleet_run_until(struct fleet *f, double t_s);
/* The clock, and the time of the next pending event (INFINITY if none). */
double fleet_now(const struct fleet *f);
double fleet_next_event(const struct fleet *f);

/* Weights, as the balancer sees them. Weight 0 or drained: no traffic.
 * A change resets the scheduler the way a Traefik reload does; so does a
 * backend joining (fleet_weight reads 0 before its join time, whatever was set). */
size_t fleet_n_backends(const struct fleet *f);
const char *fleet_backend_name(const struct fleet *f, size_t b);
const char *fleet_backend_url(const struct fleet *f, size_t b);
/* Index of the backend's weighted child service, or -1. */
int fleet_backend_group(const struct fleet *f, size_t b);
size_t fleet_n_groups(const struct fleet *f);
const char *fleet_group_name(const struct fleet *f, size_t g);
/* Returns 0, or -1 for an index out of range or a weight negative or not finite. */
int fleet_set_weight(struct fleet *f, size_t b, double w);
int fleet_set_group_weight(struct fleet *f, size_t g, double w);
/* Sets many weights at once (one reload): w has one entry per backend. */
int fleet_set_weights(struct fleet *f, const double *w);
double fleet_weight(const struct fleet *f, size_t b);
double fleet_group_weight(const struct fleet *f, size_t g);
/* In-flight requests of a backend (queued plus in service). */
unsigned fleet_inflight(const struct fleet *f, size_t b);
/* Uniform random double in [0,1) from the fleet's seeded generator (for choosers). */
double fleet_random(struct fleet *f);

/* Cumulative, Prometheus-style metrics since the start. */
struct fleet_hist {
	uint64_t bucket[FLEET_MAX_BUCKETS + 1]; /* cumulative: <= le[i]; last is +Inf */
	double sum_s;
	uint64_t count;
};
struct fleet_counters {
	struct fleet_hist hist;
	uint64_t code200, code500, code503;
};
/* The bucket bounds in use (count in *n, +Inf not included). */
const double *fleet_buckets(const struct fleet *f, size_t *n);
/* Per backend, per weighted child service, and for the whole fleet (the last
 * also counts the 503s of a balancer with no backend available). */
const struct fleet_counters *fleet_backend_counters(const struct fleet *f, size_t b);
const struct fleet_counters *fleet_group_counters(const struct fleet *f, size_t g);
const struct fleet_counters *fleet_total_counters(const struct fleet *f);

/* Prometheus' histogram_quantile over cumulative bucket counts (the delta of
 * two snapshots gives a rate window): linear within the bucket, the highest
 * finite bound when the quantile falls in +Inf. NAN without observations. */
double fleet_hist_quantile(double q, const double *le, size_t n_le, const uint64_t *cum);

/* Ground truth of one interval (from the previous fleet_truth_take). Shares
 * count requests routed in the interval; latencies those finished in it
 * (exact quantiles, every request kept). */
struct fleet_truth_backend {
	double weight;       /* at the end of the interval */
	uint64_t routed;
	double share;        /* routed / all routed; 0 when nothing was routed */
	uint64_t done, errors;
	double error_ratio;  /* errors / done; NAN when none done */
	double p50_s, p95_s, p99_s, mean_s; /* NAN when none done */
};
struct fleet_truth {
	double t0_s, t1_s;
	size_t n;                       /* backends */
	struct fleet_truth_backend *b;  /* n entries, owned by the fleet until the next take */
	uint64_t arrived, routed, rejected, done, errors;
	double error_ratio;             /* (errors + rejected) / (done + rejected) */
	double p50_s, p95_s, p99_s, mean_s;
};
/* Closes the interval at the current clock and returns its summary (valid
 * until the next call or fleet_free). Returns 0. */
int fleet_truth_take(struct fleet *f, const struct fleet_truth **out);

/* Whole-run latency quantile of the fleet (1 % resolution), NAN if empty. */
double fleet_run_quantile(const struct fleet *f, double q);

#endif
