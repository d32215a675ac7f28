/* metrics: weightd's own counters, gauges and tick-duration histogram, kept in
 * memory and rendered in the Prometheus text exposition format (README.md "Observability"), plus
 * the health state /healthz reports.
 *
 * The tick loop updates a struct metrics; the HTTP thread renders it. Every
 * function takes the struct's mutex, so a scrape never sees half an update:
 * the per-backend series of a tick are replaced in one call. */
#ifndef WD_METRICS_H
#define WD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

enum metrics_tick_result { METRICS_TICK_OK = 0, METRICS_TICK_PARTIAL, METRICS_TICK_FAILED };
enum metrics_write_result { METRICS_WRITE_OK = 0, METRICS_WRITE_FAILED, METRICS_WRITE_SKIPPED };

/* One backend's series after a tick. NaN values are unknown: their series are
 * left out. Strings are copied. */
struct metrics_backend {
	const char *service;
	const char *backend;
	int weight;
	double latency_s;
	double error_ratio;
	double cost;
	double pid_error;
	enum wd_action action;
	double gain_damping;   /* the factor oscillation damping puts on its controller (1: none) */
	unsigned oscillations; /* oscillations found since weightd started */
};

/* One service's series after a tick. */
struct metrics_service {
	const char *name;
	bool frozen;
	bool no_data; /* its latency answer named none of its backends */
	int traefik_applied; /* Traefik's API shows the last write: 1, 0; -1 not read back */
	bool budget_waiting; /* the last tick held a move for the write budget */
};

struct metrics;

/* Creates the registry for a daemon of this version started at start_mono_ms
 * (monotonic ms; the health grace period counts from it). */
struct metrics *metrics_new(const char *version, int64_t start_mono_ms);
void metrics_free(struct metrics *m);

/* Records the tick interval and whether the daemon runs dry (at start and on
 * every reload). */
void metrics_set_config(struct metrics *m, int64_t interval_ms, bool dry_run);

/* Records one finished tick: its result, duration, the monotonic and wall-clock
 * time it finished, and (unless ok) a one-line reason for /healthz. */
void metrics_tick(struct metrics *m, enum metrics_tick_result r, double duration_s,
		  int64_t now_mono_ms, double now_wall_s, const char *reason);

/* Adds a tick's Prometheus queries by outcome. */
void metrics_queries(struct metrics *m, uint64_t ok, uint64_t failed);

/* Adds a tick's answers without data: queries answered with no series, and
 * series naming no managed backend. note ("" none) says which services have
 * no data, for the /healthz body. */
void metrics_data(struct metrics *m, uint64_t empty, uint64_t unmatched, const char *note);

/* Records one service's write seen applied by Traefik after apply_s seconds,
 * or (apply_s < 0) a failed read of Traefik's API. */
void metrics_traefik_apply(struct metrics *m, double apply_s);

/* Copies the last tick's note about services without data ("" none). */
void metrics_data_note(struct metrics *m, char *buf, size_t len);

/* Counts one tick's output outcome; an ok write also sets the last write time. */
void metrics_output_write(struct metrics *m, enum metrics_write_result r, double now_wall_s);

/* Records the config loaded at start (now_wall_s: Unix time). */
void metrics_config_loaded(struct metrics *m, double now_wall_s);

/* Counts one config reload; a success sets the last successful reload time,
 * and either sets whether the config in effect is the file's latest. */
void metrics_config_reload(struct metrics *m, bool ok, double now_wall_s);

/* Replaces every per-backend and per-service series (backends and services
 * not given disappear). Returns 0. */
int metrics_set_backends(struct metrics *m, const struct metrics_backend *b, size_t nb,
			 const struct metrics_service *s, size_t ns);

/* Renders the exposition text into a new NUL-terminated buffer the caller
 * frees. 0, or -1 when out of memory. */
int metrics_render(struct metrics *m, char **out, size_t *len);

/* Whether the last ok tick is younger than three intervals at now_mono_ms
 * (before the first ok tick, the start counts; before metrics_set_config,
 * nothing is overdue yet). When not, writes the reason into reason. */
bool metrics_healthy(struct metrics *m, int64_t now_mono_ms, char *reason, size_t reasonlen);

#endif
