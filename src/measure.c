/* measure: the first stage of a tick. Runs the queries of the config's plan
 * (plan.h: each distinct text once, presets' fleet-wide queries) through prom
 * in one concurrent batch, and maps each result's series to the services'
 * backends by the value of the service's label (or a preset's keys). The data rules (NaN, Inf,
 * negative, duplicates, min_rate) live here, in measure_screen, and nowhere
 * else: policy_step trusts what it leaves. What is wrong with the data is
 * recorded as events for the tick to log. */
#include "measure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "plan.h"
#include "util.h"

enum qkind { Q_LATENCY = WD_SIG_LATENCY, Q_ERROR = WD_SIG_ERROR, Q_RATE = WD_SIG_RATE,
	     Q_KINDS = WD_SIGNALS };
static const char *const kind_name[Q_KINDS] = {"latency_query", "error_query", "rate_query"};

/* ---- mapping --------------------------------------------------------------- */

/* Backends sorted by name, for services too large to search linearly. */
#define LINEAR_MAX 16

struct named {
	const char *name;
	size_t idx;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* The index of the backend named label, or -1: a binary search over byname
 * (n entries sorted by name) when given, else config's linear search. */
static int backend_index(const struct wd_service_cfg *svc, const struct named *byname, size_t n,
			 const char *label)
{
	if (!byname)
		return config_backend_index(svc, label);
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(label, byname[mid].name);
		if (c == 0)
			return (int)byname[mid].idx;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* measure_map, also counting the series that name a backend (*matched). */
static void map_result(const struct prom_result *r, const struct wd_service_cfg *svc,
		       void (*set)(void *ctx, size_t backend, double value),
		       void (*dup)(void *ctx, const char *label), void *ctx, size_t *matched)
{
	*matched = 0;
	if (!r->ok || svc->n_backends == 0)
		return;
	/* count[b]: series naming backend b; value[b]: the last one's value.
	 * Many backends: labels are looked up by binary search, not linearly
	 * (which would be backends x series per query). */
	unsigned *count = xcalloc(svc->n_backends, sizeof(*count));
	double *value = xcalloc(svc->n_backends, sizeof(*value));
	struct named *byname = NULL;
	size_t n_named = 0;
	if (svc->n_backends > LINEAR_MAX && r->n_samples > 1) {
		byname = xmalloc(svc->n_backends * sizeof(*byname));
		for (size_t b = 0; b < svc->n_backends; b++)
			if (svc->backends[b].name)
				byname[n_named++] = (struct named){svc->backends[b].name, b};
		qsort(byname, n_named, sizeof(*byname), cmp_named);
	}
	for (size_t i = 0; i < r->n_samples; i++) {
		int b = backend_index(svc, byname, n_named, r->samples[i].label);
		if (b < 0)
			continue;
		count[b]++;
		value[b] = r->samples[i].value;
		(*matched)++;
	}
	for (size_t b = 0; b < svc->n_backends; b++) {
		if (count[b] == 1)
			set(ctx, b, value[b]);
		else if (count[b] > 1 && dup)
			dup(ctx, svc->backends[b].name);
	}
	free(byname);
	free(count);
	free(value);
}

void measure_map(const struct prom_result *r, const struct wd_service_cfg *svc,
		 void (*set)(void *ctx, size_t backend, double value),
		 void (*dup)(void *ctx, const char *label), void *ctx)
{
	size_t matched;
	map_result(r, svc, set, dup, ctx, &matched);
}

/* What one query said about each backend of a service. */
struct kind_values {
	const struct wd_service_cfg *svc;
	double *v;      /* value per backend */
	bool *have;     /* exactly one series named the backend */
	bool *bad;      /* two or more series named the backend */
	char dups[256]; /* their names, for the warning (may be cut short) */
};

static void set_value(void *ctx, size_t b, double value)
{
	struct kind_values *k = ctx;
	k->v[b] = value;
	k->have[b] = true;
}

static void set_dup(void *ctx, const char *label)
{
	struct kind_values *k = ctx;
	int b = config_backend_index(k->svc, label);
	if (b >= 0)
		k->bad[b] = true;
	size_t l = strlen(k->dups);
	snprintf(k->dups + l, sizeof(k->dups) - l, "%s\"%s\"", l ? ", " : "", label);
}

/* Notes series whose label names no backend (debug), and a warning when a
 * non-empty result names none of them: usually a label missing from "by". */
static void report_unmatched(const struct prom_result *r, const struct wd_service_cfg *svc,
			     const char *query, size_t matched, struct wd_events *ev)
{
	if (matched < r->n_samples && log_get_level() >= WD_LOG_DEBUG)
		for (size_t i = 0; i < r->n_samples; i++)
			if (config_backend_index(svc, r->samples[i].label) < 0)
				event_add(ev, WD_LOG_DEBUG, "series for an unknown backend ignored",
					  "service", svc->name, "query", query, "label", svc->label,
					  "value", r->samples[i].label, (char *)NULL);
	if (r->n_samples && !matched) {
		char detail[400];
		if (r->scalar) {
			snprintf(detail, sizeof(detail),
				 "a scalar names no backend: return a vector labelled by %s", svc->label);
		} else {
			int l = snprintf(detail, sizeof(detail),
					 "%zu series, none with a %s label naming a backend; values seen:",
					 r->n_samples, svc->label);
			for (size_t i = 0; i < r->n_samples && i < 5 && l > 0 && (size_t)l < sizeof(detail); i++)
				l += snprintf(detail + l, sizeof(detail) - (size_t)l, "%s\"%s\"", i ? ", " : " ",
					      r->samples[i].label);
			if (r->n_samples > 5 && l > 0 && (size_t)l < sizeof(detail))
				snprintf(detail + l, sizeof(detail) - (size_t)l, ", ...");
		}
		event_add_once(ev, WD_LOG_WARN, "query matches no backend of the service", "service",
			       svc->name, "query", query, "detail", detail, (char *)NULL);
	}
}

/* Records one query's raw values: a backend named by exactly one series gets
 * the value, one named by two or more gets none (and WD_DATA_DUPLICATE). */
static void apply(struct wd_measurement *mm, const struct wd_service_cfg *svc, enum qkind kind,
		  const struct kind_values *k)
{
	for (size_t b = 0; b < svc->n_backends; b++) {
		struct wd_measurement *m = &mm[b];
		if (k->bad[b])
			m->why = WD_DATA_DUPLICATE;
		if (!k->have[b])
			continue;
		switch (kind) {
		case Q_LATENCY: m->has_latency = true; m->latency_s = k->v[b]; break;
		case Q_ERROR: m->has_error = true; m->error_ratio = k->v[b]; break;
		case Q_RATE: m->has_rate = true; m->rate = k->v[b]; break;
		default: break;
		}
	}
}

/* The first reason a backend has no data is the one it is told. */
static void no_data(enum wd_data *why, enum wd_data w)
{
	if (*why == WD_DATA_OK)
		*why = w;
}

void measure_screen(const struct wd_policy_cfg *pc, bool rate_queried, struct wd_measurement *m)
{
	enum wd_data why = m->why;
	if (!m->has_latency)
		no_data(&why, WD_DATA_NO_SERIES);
	else if (!isfinite(m->latency_s) || m->latency_s < 0)
		no_data(&why, WD_DATA_BAD_LATENCY);
	if (m->has_error && isnan(m->error_ratio)) { /* 0/0: no traffic, no errors either */
		m->has_error = false;
		m->error_ratio = 0;
	} else if (m->has_error && isfinite(m->error_ratio) && m->error_ratio >= 0) {
		/* Above 1 happens when the numerator's and the denominator's
		 * windows disagree by a scrape: it means "all failing". */
		if (m->error_ratio > 1)
			m->error_ratio = 1;
	} else if (m->has_error) {
		m->has_error = false;
		no_data(&why, WD_DATA_BAD_ERROR);
	}
	if (m->has_rate && (!isfinite(m->rate) || m->rate < 0)) {
		m->has_rate = false;
		no_data(&why, WD_DATA_BAD_RATE);
	} else if (m->has_rate && m->rate < pc->min_rate) {
		why = WD_DATA_THIN; /* whatever else: it also keeps the error ratio out */
	} else if (!m->has_rate && rate_queried && pc->min_rate > 0) {
		/* No rate series while a minimum rate is required: no requests. */
		no_data(&why, WD_DATA_NO_RATE);
	}
	m->why = why;
	if (why != WD_DATA_OK)
		m->has_latency = false;
}

size_t measure_fill(const struct wd_service_cfg *svc, const struct prom_result *lat,
		    const struct prom_result *err, const struct prom_result *rate,
		    struct wd_measurement *m, struct wd_events *ev)
{
	size_t lat_matched = 0;
	const struct prom_result *res[Q_KINDS] = {lat, err, rate};
	memset(m, 0, svc->n_backends * sizeof(*m));
	struct kind_values k = {
		.svc = svc,
		.v = xcalloc(svc->n_backends, sizeof(double)),
		.have = xcalloc(svc->n_backends, sizeof(bool)),
		.bad = xcalloc(svc->n_backends, sizeof(bool)),
	};
	for (int kind = 0; kind < Q_KINDS; kind++) {
		const struct prom_result *r = res[kind];
		if (!r || !r->ok)
			continue;
		memset(k.have, 0, svc->n_backends * sizeof(bool));
		memset(k.bad, 0, svc->n_backends * sizeof(bool));
		k.dups[0] = '\0';
		size_t matched;
		map_result(r, svc, set_value, set_dup, &k, &matched);
		report_unmatched(r, svc, kind_name[kind], matched, ev);
		if (kind == Q_LATENCY)
			lat_matched = matched;
		if (k.dups[0]) {
			char detail[sizeof(k.dups) + 96];
			snprintf(detail, sizeof(detail),
				 "two or more series for %s %s (missing \"sum by (%s)\"?): no data for them",
				 svc->label, k.dups, svc->label);
			event_add_once(ev, WD_LOG_WARN, "duplicate series for a backend", "service",
				       svc->name, "query", kind_name[kind], "detail", detail, (char *)NULL);
		}
		apply(m, svc, (enum qkind)kind, &k);
	}
	for (size_t b = 0; b < svc->n_backends; b++)
		measure_screen(&svc->policy, rate && rate->ok, &m[b]);
	free(k.v);
	free(k.have);
	free(k.bad);
	return lat_matched;
}

/* ---- the tick --------------------------------------------------------------- */

/* An empty answer is the most common misconfiguration (a metric or label
 * that does not exist, a selector that matches nothing): said once per query.
 * A preset's answer is empty until Traefik has served requests through the
 * child services weightd just wrote, so that one is a note at first, and a
 * warning only while it lasts past its window and three more ticks. */
static void report_empty(struct plan_query *q, const struct wd_config *cfg, int64_t now_ms,
			 struct wd_events *ev)
{
	const struct wd_service_cfg *svc = &cfg->services[q->first_service];
	char who[300], detail[400];
	if (q->n_services > 1)
		snprintf(who, sizeof(who), "%s and %zu more", svc->name, q->n_services - 1);
	else
		snprintf(who, sizeof(who), "%s", svc->name);
	const char *sig = preset_signal_name(q->signal);
	if (!q->keyed) {
		snprintf(detail, sizeof(detail),
			 "the %s query returned no series: check its metric names and label matchers "
			 "in Prometheus; the services' weights hold meanwhile", sig);
		event_add_once(ev, WD_LOG_WARN, "query returned no series", "service", who, "query",
			       q->expr, "detail", detail, (char *)NULL);
		return;
	}
	if (!q->empty_since_ms)
		q->empty_since_ms = now_ms;
	if (now_ms - q->empty_since_ms < preset_window_ms(svc) + 3 * cfg->interval_ms) {
		snprintf(detail, sizeof(detail),
			 svc->metrics == WD_METRICS_HAPROXY
				 ? "no %s series for the servers yet: HAProxy's exporter has none until "
				   "they served requests within the window; the weights hold meanwhile"
				 : "no %s series for the child services yet: Traefik has none until they "
				   "exist and served requests within the window; the weights hold meanwhile",
			 sig);
		event_add_once(ev, WD_LOG_INFO, "preset query returned no series yet", "service", who,
			       "query", q->expr, "detail", detail, (char *)NULL);
		return;
	}
	snprintf(detail, sizeof(detail),
		 svc->metrics == WD_METRICS_HAPROXY
			 ? "still no %s series after the window and three ticks: is HAProxy's "
			   "prometheus-exporter scraped, and do its proxy and server names match "
			   "haproxy_backend and the backends' server names?"
			 : "still no %s series after the window and three ticks: is Traefik scraped, "
			   "with metrics.prometheus.addServicesLabels, and serving the routers that "
			   "point at these services?",
		 sig);
	event_add_once(ev, WD_LOG_WARN, "preset query returned no series", "service", who, "query",
		       q->expr, "detail", detail, (char *)NULL);
}

/* A keyed query's answer split by service: views[svc] holds the series of
 * svc's backends, labelled with the backend's name (borrowed from the
 * config; free only the samples arrays). Series naming no backend of the
 * services that read the query are reported and counted. */
static void split_keyed(const struct plan *pl, int qi, const struct prom_result *r,
			const struct wd_config *cfg, struct prom_result *views, struct measure_tick *t)
{
	size_t unmatched = 0;
	char values[256] = "";
	for (size_t i = 0; i < r->n_samples; i++) {
		size_t n;
		const struct plan_key *k = plan_find(pl, r->samples[i].label, &n);
		size_t used = 0;
		for (size_t j = 0; k && j < n; j++) {
			if (plan_at(pl, k[j].svc, pl->q[qi].signal) != qi)
				continue;
			struct prom_result *v = &views[k[j].svc];
			v->samples = xrealloc(v->samples, (v->n_samples + 1) * sizeof(*v->samples));
			const struct wd_service_cfg *svc = &cfg->services[k[j].svc];
			v->samples[v->n_samples++] = (struct prom_sample){svc->backends[k[j].backend].name,
									  r->samples[i].value};
			used++;
		}
		if (!used && unmatched++ < 5) {
			size_t l = strlen(values);
			snprintf(values + l, sizeof(values) - l, "%s\"%s\"", l ? ", " : "", r->samples[i].label);
		}
	}
	if (unmatched) {
		char detail[400];
		snprintf(detail, sizeof(detail), "%zu series with a %s label naming no managed backend: %s%s",
			 unmatched, pl->q[qi].label, values, unmatched > 5 ? ", ..." : "");
		event_add_once(&t->events, WD_LOG_WARN, "series match no backend", "service", "(fleet)",
			       "query", pl->q[qi].expr, "detail", detail, (char *)NULL);
	}
	t->unmatched += unmatched;
}

size_t measure_run(struct prom *p, const struct wd_config *cfg, struct plan *pl,
		   struct measure_tick *t, volatile sig_atomic_t *stop)
{
	memset(t, 0, sizeof(*t));
	size_t n_svc = cfg->n_services;
	t->svc = xcalloc(n_svc, sizeof(*t->svc));
	t->n_svc = n_svc;
	for (size_t i = 0; i < n_svc; i++)
		t->svc[i].m = xcalloc(cfg->services[i].n_backends, sizeof(struct wd_measurement));
	struct prom_query *q = xcalloc(pl->n_q, sizeof(*q));
	for (size_t j = 0; j < pl->n_q; j++) {
		q[j].expr = pl->q[j].expr;
		q[j].label = pl->q[j].label;
	}
	t->queries = pl->n_q;
	t->failed = (size_t)prom_query_batch(p, q, pl->n_q, stop);

	/* views[signal][svc]: the keyed queries' answers, split by service */
	struct prom_result *views[WD_SIGNALS];
	for (int sig = 0; sig < WD_SIGNALS; sig++)
		views[sig] = xcalloc(n_svc, sizeof(struct prom_result));
	int64_t now = util_mono_ms();
	for (size_t j = 0; j < pl->n_q; j++) {
		if (!q[j].result.ok)
			continue;
		if (q[j].result.n_samples == 0) {
			t->empty++;
			report_empty(&pl->q[j], cfg, now, &t->events);
		} else {
			pl->q[j].empty_since_ms = 0;
		}
		if (pl->q[j].keyed)
			split_keyed(pl, (int)j, &q[j].result, cfg, views[pl->q[j].signal], t);
	}

	size_t failed = 0;
	for (size_t i = 0; i < n_svc; i++) {
		const struct wd_service_cfg *svc = &cfg->services[i];
		struct measure_service *ms = &t->svc[i];
		const struct prom_result *res[Q_KINDS];
		ms->ok = true;
		for (int kind = 0; kind < Q_KINDS; kind++) {
			int j = plan_at(pl, i, (enum wd_signal)kind);
			res[kind] = j < 0 ? NULL : &q[j].result;
			if (!res[kind])
				continue;
			if (!res[kind]->ok && ms->ok) {
				/* "kind: cause", the cause cut short if need be */
				int l = snprintf(ms->err, sizeof(ms->err), "%s: ", kind_name[kind]);
				snprintf(ms->err + l, sizeof(ms->err) - (size_t)l, "%s", res[kind]->err);
				ms->ok = false;
			}
			if (res[kind]->warnings)
				event_add_once(&t->events, WD_LOG_WARN, "Prometheus returned warnings",
					       "service", svc->name, "query", kind_name[kind], "detail",
					       res[kind]->warnings, (char *)NULL);
			if (pl->q[j].keyed && res[kind]->ok) {
				views[kind][i].ok = 1;
				res[kind] = &views[kind][i];
			}
		}
		failed += !ms->ok;
		if (ms->ok)
			ms->no_data = measure_fill(svc, res[0], res[1], res[2], ms->m, &t->events) == 0;
	}
	for (size_t j = 0; j < pl->n_q; j++)
		prom_result_clear(&q[j].result);
	for (int sig = 0; sig < WD_SIGNALS; sig++) {
		for (size_t i = 0; i < n_svc; i++)
			free(views[sig][i].samples);
		free(views[sig]);
	}
	free(q);
	return failed;
}

void measure_tick_free(struct measure_tick *t)
{
	for (size_t i = 0; i < t->n_svc; i++)
		free(t->svc[i].m);
	free(t->svc);
	t->svc = NULL;
	t->n_svc = 0;
	event_clear(&t->events);
}
