/* metrics: the registry behind GET /metrics and GET /healthz. Fixed metric
 * families (weightd knows every one it exports), one mutex, and a renderer for
 * the Prometheus text exposition format 0.0.4. */
#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procstat.h"
#include "util.h"

/* Upper bounds of the tick duration histogram, in seconds: a tick is a few
 * milliseconds on a healthy stack and up to prometheus.timeout. */
static const double tick_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
				      0.5,   1,    2.5,   5,    10,  30};
#define N_BUCKETS (sizeof(tick_buckets) / sizeof(tick_buckets[0]))
#define N_ACTIONS (WD_ACT_PROBING + 1)
/* Upper bounds of the time Traefik takes to show a write, in seconds: its
 * provider throttle is 2 s, and weightd looks once a tick. */
static const double apply_buckets[] = {0.5, 1, 2, 3, 5, 10, 15, 30, 60, 120, 300};
#define N_APPLY (sizeof(apply_buckets) / sizeof(apply_buckets[0]))

struct mbackend {
	char *service, *backend;
	int weight;
	double latency_s, error_ratio, cost, pid_error;
	enum wd_action action;
	double gain_damping;
	unsigned oscillations;
};

struct mservice {
	char *name;
	bool frozen, no_data, budget_waiting;
	int traefik_applied;
};

struct metrics {
	pthread_mutex_t mu;
	char *version;
	bool dry_run;
	int64_t interval_ms; /* 0 until metrics_set_config */
	int64_t start_mono_ms;

	uint64_t ticks[3];          /* by enum metrics_tick_result */
	uint64_t tick_bucket[N_BUCKETS];
	uint64_t tick_count;
	double tick_sum_s;
	uint64_t queries_ok, queries_failed;
	uint64_t queries_empty, series_unmatched;
	uint64_t apply_bucket[N_APPLY], apply_count, api_errors;
	double apply_sum_s;
	char data_note[512];        /* services without data in the last tick */
	uint64_t writes[3];         /* by enum metrics_write_result */
	uint64_t reloads_ok, reloads_failed;
	bool last_reload_ok;        /* the start's load counts as a success */
	double last_reload_ok_wall_s;
	double last_write_wall_s;   /* 0: never */
	double last_ok_wall_s;      /* 0: never */
	int64_t last_ok_mono_ms;
	bool any_ok;                /* last_ok_* are set */
	bool ticked;
	char last_reason[512];      /* of the last tick that was not ok */

	struct mbackend *b;
	size_t nb;
	struct mservice *s;
	size_t ns;
};

struct metrics *metrics_new(const char *version, int64_t start_mono_ms)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	m->version = xstrdup(version);
	pthread_mutex_init(&m->mu, NULL);
	m->start_mono_ms = start_mono_ms;
	m->last_reload_ok = true;
	return m;
}

static void free_series(struct mbackend *b, size_t nb, struct mservice *s, size_t ns)
{
	for (size_t i = 0; i < nb; i++) {
		free(b[i].service);
		free(b[i].backend);
	}
	free(b);
	for (size_t i = 0; i < ns; i++)
		free(s[i].name);
	free(s);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free_series(m->b, m->nb, m->s, m->ns);
	pthread_mutex_destroy(&m->mu);
	free(m->version);
	free(m);
}

void metrics_set_config(struct metrics *m, int64_t interval_ms, bool dry_run)
{
	pthread_mutex_lock(&m->mu);
	m->interval_ms = interval_ms;
	m->dry_run = dry_run;
	pthread_mutex_unlock(&m->mu);
}

void metrics_tick(struct metrics *m, enum metrics_tick_result r, double duration_s,
		  int64_t now_mono_ms, double now_wall_s, const char *reason)
{
	pthread_mutex_lock(&m->mu);
	if ((unsigned)r < 3)
		m->ticks[r]++;
	for (size_t i = 0; i < N_BUCKETS; i++)
		if (duration_s <= tick_buckets[i])
			m->tick_bucket[i]++;
	m->tick_count++;
	m->tick_sum_s += duration_s;
	m->ticked = true;
	if (r == METRICS_TICK_OK) {
		m->last_ok_mono_ms = now_mono_ms;
		m->any_ok = true;
		m->last_ok_wall_s = now_wall_s;
		m->last_reason[0] = '\0';
	} else {
		snprintf(m->last_reason, sizeof(m->last_reason), "%s",
			 reason && *reason ? reason : "unknown failure");
	}
	pthread_mutex_unlock(&m->mu);
}

void metrics_queries(struct metrics *m, uint64_t ok, uint64_t failed)
{
	pthread_mutex_lock(&m->mu);
	m->queries_ok += ok;
	m->queries_failed += failed;
	pthread_mutex_unlock(&m->mu);
}

void metrics_output_write(struct metrics *m, enum metrics_write_result r, double now_wall_s)
{
	pthread_mutex_lock(&m->mu);
	if ((unsigned)r < 3)
		m->writes[r]++;
	if (r == METRICS_WRITE_OK)
		m->last_write_wall_s = now_wall_s;
	pthread_mutex_unlock(&m->mu);
}

void metrics_config_loaded(struct metrics *m, double now_wall_s)
{
	pthread_mutex_lock(&m->mu);
	m->last_reload_ok = true;
	m->last_reload_ok_wall_s = now_wall_s;
	pthread_mutex_unlock(&m->mu);
}

void metrics_config_reload(struct metrics *m, bool ok, double now_wall_s)
{
	pthread_mutex_lock(&m->mu);
	if (ok) {
		m->reloads_ok++;
		m->last_reload_ok_wall_s = now_wall_s;
	} else {
		m->reloads_failed++;
	}
	m->last_reload_ok = ok;
	pthread_mutex_unlock(&m->mu);
}

int metrics_set_backends(struct metrics *m, const struct metrics_backend *b, size_t nb,
			 const struct metrics_service *s, size_t ns)
{
	/* Copy outside the lock; swap inside it. */
	struct mbackend *nbk = xcalloc(nb, sizeof(*nbk));
	struct mservice *nsv = xcalloc(ns, sizeof(*nsv));
	for (size_t i = 0; i < nb; i++) {
		nbk[i] = (struct mbackend){
			.service = xstrdup(b[i].service), .backend = xstrdup(b[i].backend),
			.weight = b[i].weight, .latency_s = b[i].latency_s,
			.error_ratio = b[i].error_ratio, .cost = b[i].cost,
			.pid_error = b[i].pid_error, .action = b[i].action,
			.gain_damping = b[i].gain_damping, .oscillations = b[i].oscillations,
		};
	}
	for (size_t i = 0; i < ns; i++) {
		nsv[i].name = xstrdup(s[i].name);
		nsv[i].frozen = s[i].frozen;
		nsv[i].no_data = s[i].no_data;
		nsv[i].traefik_applied = s[i].traefik_applied;
		nsv[i].budget_waiting = s[i].budget_waiting;
	}
	pthread_mutex_lock(&m->mu);
	struct mbackend *ob = m->b;
	struct mservice *os = m->s;
	size_t onb = m->nb, ons = m->ns;
	m->b = nbk;
	m->nb = nb;
	m->s = nsv;
	m->ns = ns;
	pthread_mutex_unlock(&m->mu);
	free_series(ob, onb, os, ons);
	return 0;
}

void metrics_data(struct metrics *m, uint64_t empty, uint64_t unmatched, const char *note)
{
	pthread_mutex_lock(&m->mu);
	m->queries_empty += empty;
	m->series_unmatched += unmatched;
	snprintf(m->data_note, sizeof(m->data_note), "%s", note ? note : "");
	pthread_mutex_unlock(&m->mu);
}

void metrics_traefik_apply(struct metrics *m, double apply_s)
{
	pthread_mutex_lock(&m->mu);
	if (apply_s < 0) {
		m->api_errors++;
	} else {
		for (size_t i = 0; i < N_APPLY; i++)
			if (apply_s <= apply_buckets[i])
				m->apply_bucket[i]++;
		m->apply_count++;
		m->apply_sum_s += apply_s;
	}
	pthread_mutex_unlock(&m->mu);
}

void metrics_data_note(struct metrics *m, char *buf, size_t len)
{
	pthread_mutex_lock(&m->mu);
	snprintf(buf, len, "%s", m->data_note);
	pthread_mutex_unlock(&m->mu);
}

/* --- rendering ------------------------------------------------------------ */

/* Label values escape backslash, double quote and newline. */
static void put_label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void put_double(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else
		fprintf(f, "%.15g", v);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	/* Help texts are constants without backslashes or newlines. */
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sb_series(FILE *f, const char *name, const struct mbackend *b, double v)
{
	fprintf(f, "%s{service=\"", name);
	put_label_value(f, b->service);
	fputs("\",backend=\"", f);
	put_label_value(f, b->backend);
	fputs("\"} ", f);
	put_double(f, v);
	fputc('\n', f);
}

/* One gauge family over the backends, leaving out unknown (NaN) values. */
static void backend_gauge(FILE *f, const struct metrics *m, const char *name, const char *help,
			  size_t off)
{
	family(f, name, "gauge", help);
	for (size_t i = 0; i < m->nb; i++) {
		double v = *(const double *)((const char *)&m->b[i] + off);
		if (!isnan(v))
			sb_series(f, name, &m->b[i], v);
	}
}

static void counter3(FILE *f, const char *name, const char *help, const char *const *labels,
		     const uint64_t *v, size_t n)
{
	family(f, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s{result=\"%s\"} %" PRIu64 "\n", name, labels[i], v[i]);
}

/* One histogram family: n bucket counts at the bounds le, then the +Inf
 * bucket (count), the sum and the count. */
static void histogram(FILE *f, const char *name, const char *help, const double *le,
		      const uint64_t *bucket, size_t n, uint64_t count, double sum)
{
	family(f, name, "histogram", help);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, le[i], bucket[i]);
	fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum ", name, count, name);
	put_double(f, sum);
	fprintf(f, "\n%s_count %" PRIu64 "\n", name, count);
}

enum service_value { S_FROZEN, S_NO_DATA, S_BUDGET, S_APPLIED };

/* One 0/1 gauge family over the services; a service whose value is unknown
 * (-1) has no series. */
static void service_gauge(FILE *f, const struct metrics *m, const char *name, const char *help,
			  enum service_value which)
{
	family(f, name, "gauge", help);
	for (size_t i = 0; i < m->ns; i++) {
		const struct mservice *s = &m->s[i];
		int v = which == S_FROZEN    ? s->frozen
			: which == S_NO_DATA ? s->no_data
			: which == S_BUDGET  ? s->budget_waiting
					     : s->traefik_applied;
		if (v < 0)
			continue;
		fprintf(f, "%s{service=\"", name);
		put_label_value(f, s->name);
		fprintf(f, "\"} %d\n", v);
	}
}

static void render_locked(FILE *f, const struct metrics *m)
{
	family(f, "weightd_build_info", "gauge", "weightd's version, as a label; always 1.");
	fputs("weightd_build_info{version=\"", f);
	put_label_value(f, m->version);
	fputs("\"} 1\n", f);

	family(f, "weightd_dry_run", "gauge", "1 when weightd decides but never writes the output.");
	fprintf(f, "weightd_dry_run %d\n", m->dry_run ? 1 : 0);

	family(f, "weightd_backend_weight", "gauge",
	       "Weight of the backend in the output weightd writes (0: drained).");
	for (size_t i = 0; i < m->nb; i++)
		sb_series(f, "weightd_backend_weight", &m->b[i], m->b[i].weight);
	backend_gauge(f, m, "weightd_backend_latency_seconds",
		      "Backend latency measured in the last tick (absent without data).",
		      offsetof(struct mbackend, latency_s));
	backend_gauge(f, m, "weightd_backend_error_ratio",
		      "Backend error ratio measured in the last tick (absent without data).",
		      offsetof(struct mbackend, error_ratio));
	backend_gauge(f, m, "weightd_backend_cost",
		      "Backend cost the controller equalises: latency * (1 + error_penalty * error_ratio).",
		      offsetof(struct mbackend, cost));
	backend_gauge(f, m, "weightd_pid_error",
		      "Controller error ln(mean cost / backend cost); positive gains weight.",
		      offsetof(struct mbackend, pid_error));

	backend_gauge(f, m, "weightd_backend_gain_damping",
		      "Factor on the backend's controller gain after oscillations (1: undamped).",
		      offsetof(struct mbackend, gain_damping));
	family(f, "weightd_backend_oscillations_total", "counter",
	       "Oscillations of the backend's weight found (and damped) since weightd started.");
	for (size_t i = 0; i < m->nb; i++)
		sb_series(f, "weightd_backend_oscillations_total", &m->b[i], m->b[i].oscillations);

	family(f, "weightd_backend_action", "gauge",
	       "1 for the action weightd took for the backend in the last tick, 0 for the others.");
	for (size_t i = 0; i < m->nb; i++) {
		for (int a = 0; a < (int)N_ACTIONS; a++) {
			fputs("weightd_backend_action{service=\"", f);
			put_label_value(f, m->b[i].service);
			fputs("\",backend=\"", f);
			put_label_value(f, m->b[i].backend);
			fprintf(f, "\",action=\"%s\"} %d\n", policy_action_name((enum wd_action)a),
				m->b[i].action == (enum wd_action)a ? 1 : 0);
		}
	}

	service_gauge(f, m, "weightd_service_frozen",
		      "1 while the service is frozen by its config (weights held).", S_FROZEN);
	service_gauge(f, m, "weightd_service_no_data",
		      "1 while the service's latency answer names none of its backends (weights held).",
		      S_NO_DATA);
	service_gauge(f, m, "weightd_service_budget_waiting",
		      "1 while a move waits for the service's write budget (the last tick held one).",
		      S_BUDGET);
	service_gauge(f, m, "weightd_traefik_applied",
		      "1 when Traefik's API shows the weights last written, 0 while it shows others "
		      "(with traefik_api set).", S_APPLIED);
	histogram(f, "weightd_traefik_apply_seconds",
		  "Time from a write until Traefik's API shows it (a tick's resolution).", apply_buckets,
		  m->apply_bucket, N_APPLY, m->apply_count, m->apply_sum_s);
	family(f, "weightd_traefik_api_errors_total", "counter",
	       "Reads of Traefik's API that failed (traefik_api).");
	fprintf(f, "weightd_traefik_api_errors_total %" PRIu64 "\n", m->api_errors);

	static const char *const tick_labels[] = {"ok", "partial", "failed"};
	counter3(f, "weightd_ticks_total",
		 "Ticks by result: ok, partial (some services' queries failed), failed.",
		 tick_labels, m->ticks, 3);

	histogram(f, "weightd_tick_duration_seconds", "Duration of a whole tick.", tick_buckets,
		  m->tick_bucket, N_BUCKETS, m->tick_count, m->tick_sum_s);

	static const char *const q_labels[] = {"ok", "failed"};
	uint64_t q[2] = {m->queries_ok, m->queries_failed};
	counter3(f, "weightd_prometheus_queries_total", "Prometheus queries by result.", q_labels, q, 2);

	family(f, "weightd_prometheus_queries_empty_total", "counter",
	       "Prometheus queries answered with no series at all.");
	fprintf(f, "weightd_prometheus_queries_empty_total %" PRIu64 "\n", m->queries_empty);
	family(f, "weightd_prometheus_series_unmatched_total", "counter",
	       "Series of fleet-wide answers whose label names no managed backend.");
	fprintf(f, "weightd_prometheus_series_unmatched_total %" PRIu64 "\n", m->series_unmatched);

	static const char *const w_labels[] = {"ok", "failed", "skipped"};
	counter3(f, "weightd_output_writes_total",
		 "Output updates by result: ok (written), failed, skipped (nothing changed, or dry run).",
		 w_labels, m->writes, 3);

	static const char *const r_labels[] = {"ok", "failed"};
	uint64_t r[2] = {m->reloads_ok, m->reloads_failed};
	counter3(f, "weightd_config_reloads_total", "Config reloads (SIGHUP) by result.", r_labels, r, 2);

	family(f, "weightd_config_last_reload_successful", "gauge",
	       "1 when the config in effect is the file's latest (the last load or reload "
	       "succeeded), 0 while a rejected edit waits on disk.");
	fprintf(f, "weightd_config_last_reload_successful %d\n", m->last_reload_ok ? 1 : 0);
	family(f, "weightd_config_last_reload_success_timestamp_seconds", "gauge",
	       "Unix time of the last successful config load or reload.");
	fputs("weightd_config_last_reload_success_timestamp_seconds ", f);
	put_double(f, m->last_reload_ok_wall_s);
	fputc('\n', f);

	family(f, "weightd_last_write_timestamp_seconds", "gauge",
	       "Unix time of the last output write (0: none since start).");
	fputs("weightd_last_write_timestamp_seconds ", f);
	put_double(f, m->last_write_wall_s);
	fputc('\n', f);

	family(f, "weightd_last_success_timestamp_seconds", "gauge",
	       "Unix time of the last tick whose result was ok (0: none since start).");
	fputs("weightd_last_success_timestamp_seconds ", f);
	put_double(f, m->last_ok_wall_s);
	fputc('\n', f);
}

/* The standard process_* families, read at scrape time as client libraries
 * do; a figure /proc does not give is left out. */
static void render_process(FILE *f)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} fam[] = {
		{"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
		 offsetof(struct procstat, cpu_seconds)},
		{"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
		 offsetof(struct procstat, resident_bytes)},
		{"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
		 offsetof(struct procstat, virtual_bytes)},
		{"process_open_fds", "gauge", "Number of open file descriptors.",
		 offsetof(struct procstat, open_fds)},
		{"process_max_fds", "gauge", "Maximum number of open file descriptors.",
		 offsetof(struct procstat, max_fds)},
		{"process_start_time_seconds", "gauge",
		 "Start time of the process since unix epoch in seconds.",
		 offsetof(struct procstat, start_time_s)},
	};
	struct procstat p;
	procstat_read(&p);
	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		double v = *(const double *)((const char *)&p + fam[i].off);
		if (!isfinite(v))
			continue;
		family(f, fam[i].name, fam[i].type, fam[i].help);
		fprintf(f, "%s ", fam[i].name);
		put_double(f, v);
		fputc('\n', f);
	}
}

int metrics_render(struct metrics *m, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return -1;
	pthread_mutex_lock(&m->mu);
	render_locked(f, m);
	pthread_mutex_unlock(&m->mu);
	render_process(f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return -1;
	}
	if (fclose(f) != 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

bool metrics_healthy(struct metrics *m, int64_t now_mono_ms, char *reason, size_t reasonlen)
{
	pthread_mutex_lock(&m->mu);
	int64_t limit = 3 * m->interval_ms;
	bool any_ok = m->any_ok;
	int64_t since = any_ok ? m->last_ok_mono_ms : m->start_mono_ms;
	int64_t age = now_mono_ms - since;
	bool ok = m->interval_ms == 0 || age < limit;
	if (!ok) {
		const char *last = !m->ticked	     ? "none has finished yet"
				   : *m->last_reason ? m->last_reason
						     : "ok, and none has finished since";
		if (any_ok)
			snprintf(reason, reasonlen,
				 "last successful tick %.1fs ago, more than three intervals (%.1fs); last tick: %s",
				 age / 1000.0, limit / 1000.0, last);
		else
			snprintf(reason, reasonlen,
				 "no successful tick in the %.1fs since start, more than three intervals (%.1fs); last tick: %s",
				 age / 1000.0, limit / 1000.0, last);
	}
	pthread_mutex_unlock(&m->mu);
	return ok;
}
