/* scenario: the scenario file parser (see scenario.h). */
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "scenario.h"

struct ctx {
	const char *name;
	char *err;
	size_t errlen;
	bool failed;
};

static int perr(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	if (c->failed)
		return -1;
	c->failed = true;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (s && config_setting_source_line(s))
		snprintf(c->err, c->errlen, "%s:%u: %s", c->name, config_setting_source_line(s), msg);
	else
		snprintf(c->err, c->errlen, "%s: %s", c->name, msg);
	return -1;
}

int scenario_parse_seconds(const char *s, double *out, char *err, size_t errlen)
{
	char *end;
	double v = strtod(s, &end);
	if (end != s && v == 0 && (!*end || !strcmp(end, "s") || !strcmp(end, "ms") ||
				   !strcmp(end, "m") || !strcmp(end, "h"))) {
		*out = 0;
		return 0;
	}
	int64_t ms;
	if (config_parse_duration(s, &ms, err, errlen) < 0)
		return -1;
	*out = (double)ms / 1000.0;
	return 0;
}

/* A number of seconds, or a duration string. */
static int get_seconds(struct ctx *c, const config_setting_t *s, const char *what, double *out)
{
	char e[200];
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
	case CONFIG_TYPE_FLOAT:
		*out = config_setting_type(s) == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) :
			(double)config_setting_get_int64(s);
		if (!isfinite(*out) || *out < 0)
			return perr(c, s, "%s must be a non-negative number of seconds", what);
		return 0;
	case CONFIG_TYPE_STRING:
		if (scenario_parse_seconds(config_setting_get_string(s), out, e, sizeof e) < 0)
			return perr(c, s, "%s: %s", what, e);
		return 0;
	default:
		return perr(c, s, "%s must be a duration such as \"15s\"", what);
	}
}

static int get_number(struct ctx *c, const config_setting_t *s, const char *what, double *out)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		*out = (double)config_setting_get_int64(s);
		return 0;
	case CONFIG_TYPE_FLOAT:
		*out = config_setting_get_float(s);
		return isfinite(*out) ? 0 : perr(c, s, "%s must be finite", what);
	default:
		return perr(c, s, "%s must be a number", what);
	}
}

/* A schedule: a value, or a list of steps ("AT", value) / { at = ...; value = ...; }.
 * Values are seconds (a duration string is accepted) when secs is set. */
static int get_sched(struct ctx *c, const config_setting_t *s, const char *what, bool secs,
		     struct fleet_sched *out)
{
	fleet_sched_free(out);
	double v;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		if ((secs ? get_seconds(c, s, what, &v) : get_number(c, s, what, &v)) < 0)
			return -1;
		return fleet_sched_add(out, 0, v) < 0 ? perr(c, s, "out of memory") : 0;
	}
	int n = config_setting_length(s);
	if (n == 0)
		return perr(c, s, "%s: an empty schedule", what);
	double last = -1;
	for (int i = 0; i < n; i++) {
		config_setting_t *st = config_setting_get_elem(s, (unsigned)i);
		config_setting_t *at, *val;
		if (config_setting_type(st) == CONFIG_TYPE_LIST && config_setting_length(st) == 2) {
			at = config_setting_get_elem(st, 0);
			val = config_setting_get_elem(st, 1);
		} else if (config_setting_is_group(st) && config_setting_length(st) == 2 &&
			   (at = config_setting_get_member(st, "at")) &&
			   (val = config_setting_get_member(st, "value"))) {
		} else {
			return perr(c, st, "%s: a step is (\"AT\", VALUE) or { at = \"AT\"; value = VALUE; }",
				    what);
		}
		double t;
		if (get_seconds(c, at, what, &t) < 0 ||
		    (secs ? get_seconds(c, val, what, &v) : get_number(c, val, what, &v)) < 0)
			return -1;
		if (t <= last)
			return perr(c, at, "%s: steps must be in increasing time order", what);
		last = t;
		if (fleet_sched_add(out, t, v) < 0)
			return perr(c, st, "out of memory");
	}
	return 0;
}

static int check_keys(struct ctx *c, const config_setting_t *g, const char *const *keys)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		bool known = false;
		for (const char *const *k = keys; *k && !known; k++)
			known = strcmp(*k, name) == 0;
		if (!known)
			return perr(c, m, "unknown key \"%s\"", name);
	}
	return 0;
}

static int get_string(struct ctx *c, const config_setting_t *g, const char *key, char *out,
		      size_t outlen)
{
	config_setting_t *s = config_setting_get_member(g, key);
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return perr(c, s, "%s must be a string", key);
	const char *v = config_setting_get_string(s);
	if (strlen(v) >= outlen)
		return perr(c, s, "%s is too long", key);
	snprintf(out, outlen, "%s", v);
	return 1;
}

static int parse_backend(struct ctx *c, const config_setting_t *g, struct fleet_backend_spec *b)
{
	static const char *const keys[] = { "name", "url", "service", "weight", "capacity",
					    "slots", "latency", "errors", "error_latency",
					    "batch", "jitter", "join", NULL };
	if (!config_setting_is_group(g))
		return perr(c, g, "a backend is a group { name = ...; ... }");
	if (check_keys(c, g, keys) < 0)
		return -1;
	if (get_string(c, g, "name", b->name, sizeof b->name) <= 0)
		return perr(c, g, "backend without a name");
	if (get_string(c, g, "url", b->url, sizeof b->url) < 0 ||
	    get_string(c, g, "service", b->service, sizeof b->service) < 0)
		return -1;
	if (!b->url[0])
		snprintf(b->url, sizeof b->url, "http://%.*s", (int)sizeof b->url - 8, b->name);
	b->weight = 1;
	b->jitter = 0.3;
	config_setting_t *s;
	if ((s = config_setting_get_member(g, "weight")) && get_number(c, s, "weight", &b->weight) < 0)
		return -1;
	if ((s = config_setting_get_member(g, "jitter")) && get_number(c, s, "jitter", &b->jitter) < 0)
		return -1;
	if ((s = config_setting_get_member(g, "join")) && get_seconds(c, s, "join", &b->join_s) < 0)
		return -1;
	if ((s = config_setting_get_member(g, "batch"))) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return perr(c, s, "batch must be true or false");
		b->batch = config_setting_get_bool(s);
	}
	struct {
		const char *key;
		bool secs, required;
		struct fleet_sched *out;
	} sch[] = {
		{ "capacity", false, true, &b->capacity },
		{ "slots", false, false, &b->slots },
		{ "latency", true, true, &b->latency },
		{ "errors", false, false, &b->errors },
		{ "error_latency", true, false, &b->error_latency },
	};
	for (size_t i = 0; i < sizeof sch / sizeof *sch; i++) {
		s = config_setting_get_member(g, sch[i].key);
		if (!s) {
			if (sch[i].required)
				return perr(c, g, "backend \"%s\": %s missing", b->name, sch[i].key);
			continue;
		}
		if (get_sched(c, s, sch[i].key, sch[i].secs, sch[i].out) < 0)
			return -1;
	}
	if (!b->slots.n && fleet_sched_add(&b->slots, 0, 1) < 0)
		return perr(c, g, "out of memory");
	return 0;
}

static int parse_load(struct ctx *c, const config_setting_t *g, struct fleet_load_spec *l)
{
	static const char *const keys[] = { "rate", "diurnal", NULL };
	static const char *const dkeys[] = { "amplitude", "period", "phase", NULL };
	if (!config_setting_is_group(g))
		return perr(c, g, "load must be a group { rate = ...; }");
	if (check_keys(c, g, keys) < 0)
		return -1;
	config_setting_t *s = config_setting_get_member(g, "rate");
	if (!s)
		return perr(c, g, "load: rate missing");
	if (get_sched(c, s, "rate", false, &l->rate) < 0)
		return -1;
	config_setting_t *d = config_setting_get_member(g, "diurnal");
	if (!d)
		return 0;
	if (!config_setting_is_group(d) || check_keys(c, d, dkeys) < 0)
		return perr(c, d, "diurnal must be a group { amplitude; period; phase; }");
	if ((s = config_setting_get_member(d, "amplitude")) &&
	    get_number(c, s, "amplitude", &l->diurnal_amplitude) < 0)
		return -1;
	if ((s = config_setting_get_member(d, "period")) &&
	    get_seconds(c, s, "period", &l->diurnal_period_s) < 0)
		return -1;
	if ((s = config_setting_get_member(d, "phase")) &&
	    get_seconds(c, s, "phase", &l->diurnal_phase_s) < 0)
		return -1;
	return 0;
}

static int parse_root(struct ctx *c, config_t *cf, struct scenario *sc)
{
	static const char *const keys[] = { "seed", "duration", "interval", "scrape", "queue_limit",
					    "buckets", "load", "traefik", "backends", NULL };
	config_setting_t *root = config_root_setting(cf), *s;
	if (check_keys(c, root, keys) < 0)
		return -1;
	sc->interval_s = 1;
	double v;
	if ((s = config_setting_get_member(root, "seed"))) {
		if (get_number(c, s, "seed", &v) < 0 || v < 0)
			return perr(c, s, "seed must be a non-negative integer");
		sc->spec.seed = (uint64_t)v;
	}
	if ((s = config_setting_get_member(root, "duration")) &&
	    get_seconds(c, s, "duration", &sc->duration_s) < 0)
		return -1;
	if ((s = config_setting_get_member(root, "interval")) &&
	    (get_seconds(c, s, "interval", &sc->interval_s) < 0 || !(sc->interval_s > 0)))
		return perr(c, s, "interval must be a positive duration");
	if ((s = config_setting_get_member(root, "scrape")) &&
	    (get_seconds(c, s, "scrape", &sc->scrape_s) < 0 || !(sc->scrape_s > 0)))
		return perr(c, s, "scrape must be a positive duration");
	if ((s = config_setting_get_member(root, "queue_limit"))) {
		if (get_number(c, s, "queue_limit", &v) < 0 || v < 0)
			return perr(c, s, "queue_limit must be a non-negative integer");
		sc->spec.queue_limit = (size_t)v;
	}
	if ((s = config_setting_get_member(root, "buckets"))) {
		int n = config_setting_length(s);
		if (!config_setting_is_aggregate(s) || n < 1 || n > FLEET_MAX_BUCKETS)
			return perr(c, s, "buckets must be a list of 1 to %d bounds", FLEET_MAX_BUCKETS);
		for (int i = 0; i < n; i++)
			if (get_number(c, config_setting_get_elem(s, (unsigned)i), "bucket",
				       &sc->spec.buckets[i]) < 0)
				return -1;
		sc->spec.n_buckets = (size_t)n;
	}
	if (!(s = config_setting_get_member(root, "load")))
		return perr(c, NULL, "load missing");
	if (parse_load(c, s, &sc->spec.load) < 0)
		return -1;
	if ((s = config_setting_get_member(root, "traefik"))) {
		static const char *const tkeys[] = { "service", "weighted", NULL };
		if (!config_setting_is_group(s) || check_keys(c, s, tkeys) < 0)
			return perr(c, s, "traefik must be a group { service; weighted; }");
		if (get_string(c, s, "service", sc->service, sizeof sc->service) < 0 ||
		    get_string(c, s, "weighted", sc->weighted, sizeof sc->weighted) < 0)
			return -1;
	}
	s = config_setting_get_member(root, "backends");
	if (!s || !config_setting_is_list(s) || config_setting_length(s) < 1)
		return perr(c, s, "backends must be a non-empty list ( { name = ...; }, ... )");
	size_t n = (size_t)config_setting_length(s);
	sc->spec.backends = calloc(n, sizeof *sc->spec.backends);
	if (!sc->spec.backends)
		return perr(c, s, "out of memory");
	for (size_t i = 0; i < n; i++) {
		sc->spec.n_backends++;
		if (parse_backend(c, config_setting_get_elem(s, (unsigned)i), &sc->spec.backends[i]) < 0)
			return -1;
	}
	/* the model's own checks (ranges, duplicates), reported against the file */
	char e[300];
	struct fleet *f = fleet_new(&sc->spec, e, sizeof e);
	if (!f)
		return perr(c, NULL, "%s", e);
	fleet_free(f);
	return 0;
}

static int finish(struct ctx *c, config_t *cf, struct scenario *sc, int ok)
{
	if (!ok) {
		snprintf(c->err, c->errlen, "%s:%d: %s", c->name, config_error_line(cf),
			 config_error_text(cf));
		config_destroy(cf);
		return -1;
	}
	int rc = parse_root(c, cf, sc);
	config_destroy(cf);
	if (rc < 0)
		scenario_free(sc);
	return rc;
}

int scenario_load(const char *path, struct scenario *sc, char *err, size_t errlen)
{
	struct ctx c = { .name = path, .err = err, .errlen = errlen };
	config_t cf;
	memset(sc, 0, sizeof *sc);
	config_init(&cf);
	if (!config_read_file(&cf, path) && config_error_type(&cf) == CONFIG_ERR_FILE_IO) {
		snprintf(err, errlen, "%s: cannot read the file", path);
		config_destroy(&cf);
		return -1;
	}
	return finish(&c, &cf, sc, config_error_type(&cf) == CONFIG_ERR_NONE);
}

int scenario_parse(const char *text, const char *name, struct scenario *sc, char *err,
		   size_t errlen)
{
	struct ctx c = { .name = name, .err = err, .errlen = errlen };
	config_t cf;
	memset(sc, 0, sizeof *sc);
	config_init(&cf);
	int ok = config_read_string(&cf, text);
	return finish(&c, &cf, sc, ok == CONFIG_TRUE);
}

void scenario_free(struct scenario *sc)
{
	fleet_spec_free(&sc->spec);
}
