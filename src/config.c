/* config: parses weightd.conf with libconfig into struct wd_config and
 * validates it, collecting every error as "FILE:LINE: message". */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delay.h"
#include "log.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

void errors_add(struct wd_errors *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	char **m = realloc(e->msgs, (e->n + 1) * sizeof(*m));
	if (!m) {
		free(msg);
		return;
	}
	e->msgs = m;
	e->msgs[e->n++] = msg;
}

void errors_free(struct wd_errors *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->msgs[i]);
	free(e->msgs);
	e->msgs = NULL;
	e->n = 0;
}

/* ---- durations ---------------------------------------------------------- */

int config_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen)
{
	if (!s || !*s) {
		snprintf(err, errlen, "empty duration (use e.g. \"15s\")");
		return -1;
	}
	const char *p = s;
	double total = 0;
	int parts = 0;
	while (*p) {
		if (*p == '-' || *p == '+') {
			snprintf(err, errlen, "duration \"%s\" must be positive and unsigned", s);
			return -1;
		}
		if (!isdigit((unsigned char)*p) && *p != '.') {
			snprintf(err, errlen, "invalid duration \"%s\" (use e.g. \"250ms\", \"15s\", \"1m\")", s);
			return -1;
		}
		char *end;
		errno = 0;
		double v = strtod(p, &end);
		if (end == p || errno == ERANGE || !isfinite(v)) {
			snprintf(err, errlen, "invalid number in duration \"%s\"", s);
			return -1;
		}
		p = end;
		double unit;
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60000;
			p++;
		} else if (*p == 'h') {
			unit = 3600000;
			p++;
		} else if (*p == '\0') {
			snprintf(err, errlen, "duration \"%s\" has no unit (use ms, s, m or h)", s);
			return -1;
		} else {
			snprintf(err, errlen, "duration \"%s\" has an unknown unit (use ms, s, m or h)", s);
			return -1;
		}
		total += v * unit;
		parts++;
	}
	if (total > 1e12) { /* about 31 years: anything above is a typo */
		snprintf(err, errlen, "duration \"%s\" is too large", s);
		return -1;
	}
	if (parts == 0 || total < 1) {
		snprintf(err, errlen, "duration \"%s\" must be at least 1ms", s);
		return -1;
	}
	*ms = (int64_t)llround(total);
	return 0;
}

char *config_expand_template(const char *tmpl, const char *name)
{
	static const char key[] = "${service}";
	size_t klen = sizeof(key) - 1, nlen = strlen(name), count = 0;
	for (const char *p = strstr(tmpl, key); p; p = strstr(p + klen, key))
		count++;
	size_t len = strlen(tmpl) + count * nlen + 1;
	char *out = malloc(len);
	if (!out)
		return NULL;
	char *o = out;
	for (const char *p = tmpl; *p;) {
		if (strncmp(p, key, klen) == 0) {
			memcpy(o, name, nlen);
			o += nlen;
			p += klen;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* ---- parsing helpers ---------------------------------------------------- */

struct parser {
	const char *file;
	struct wd_errors *errs;
	struct wd_errors *warns;
};

static int line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

static void perr(struct parser *p, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void perr(struct parser *p, const config_setting_t *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errors_add(p->errs, "%s:%d: %s", p->file, line_of(s), msg);
}

static void pwarn(struct parser *p, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pwarn(struct parser *p, const config_setting_t *s, const char *fmt, ...)
{
	if (!p->warns)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errors_add(p->warns, "%s:%d: %s", p->file, line_of(s), msg);
}

/* Rejects every member of group g whose name is not in the NULL-ended list. */
static void check_keys(struct parser *p, const config_setting_t *g, const char *where,
		       const char *const *allowed)
{
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		config_setting_t *c = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(c);
		if (!name)
			continue;
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, name) == 0)
				ok = 1;
		if (!ok)
			perr(p, c, "unknown key \"%s\" in %s", name, where);
	}
}

static int get_string(struct parser *p, const config_setting_t *g, const char *key,
		      char **out)
{
	config_setting_t *s = config_setting_get_member(g, key);
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		perr(p, s, "%s must be a string", key);
		return -1;
	}
	char *v = strdup(config_setting_get_string(s));
	if (!v)
		return -1;
	free(*out);
	*out = v;
	return 1;
}

static int get_bool(struct parser *p, const config_setting_t *g, const char *key, bool *out)
{
	config_setting_t *s = config_setting_get_member(g, key);
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		perr(p, s, "%s must be true or false", key);
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

static int get_int(struct parser *p, const config_setting_t *g, const char *key, int *out)
{
	config_setting_t *s = config_setting_get_member(g, key);
	if (!s)
		return 0;
	int t = config_setting_type(s);
	long long v;
	if (t == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (t == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else {
		perr(p, s, "%s must be an integer", key);
		return -1;
	}
	if (v < -1000000000LL || v > 1000000000LL) {
		perr(p, s, "%s = %lld is out of range", key, v);
		return -1;
	}
	*out = (int)v;
	return 1;
}

static int get_double(struct parser *p, const config_setting_t *g, const char *key, double *out)
{
	config_setting_t *s = config_setting_get_member(g, key);
	if (!s)
		return 0;
	int t = config_setting_type(s);
	double v;
	if (t == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (t == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (t == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else {
		perr(p, s, "%s must be a number", key);
		return -1;
	}
	if (!isfinite(v)) {
		perr(p, s, "%s must be finite", key);
		return -1;
	}
	*out = v;
	return 1;
}

/* A duration is a string with a unit, or a number of seconds. */
static int get_duration(struct parser *p, const config_setting_t *g, const char *key,
			int64_t *out_ms)
{
	config_setting_t *s = config_setting_get_member(g, key);
	if (!s)
		return 0;
	int t = config_setting_type(s);
	char err[256];
	if (t == CONFIG_TYPE_STRING) {
		if (config_parse_duration(config_setting_get_string(s), out_ms, err, sizeof(err)) < 0) {
			perr(p, s, "%s: %s", key, err);
			return -1;
		}
		return 1;
	}
	double secs;
	if (t == CONFIG_TYPE_INT)
		secs = config_setting_get_int(s);
	else if (t == CONFIG_TYPE_INT64)
		secs = (double)config_setting_get_int64(s);
	else if (t == CONFIG_TYPE_FLOAT)
		secs = config_setting_get_float(s);
	else {
		perr(p, s, "%s must be a duration such as \"15s\"", key);
		return -1;
	}
	if (!isfinite(secs) || secs * 1000 < 1) {
		perr(p, s, "%s must be a positive duration", key);
		return -1;
	}
	if (secs > 1e9) {
		perr(p, s, "%s is too large", key);
		return -1;
	}
	*out_ms = (int64_t)llround(secs * 1000);
	return 1;
}

/* Reads a secret from the file a *_file key names; trailing newlines dropped.
 * The message names the file, never the content. */
static char *read_secret(struct parser *p, const config_setting_t *g, const char *key,
			 const char *path)
{
	config_setting_t *s = config_setting_get_member(g, key);
	FILE *f = fopen(path, "r");
	if (!f) {
		perr(p, s, "%s: cannot read \"%s\": %s", key, path, strerror(errno));
		return NULL;
	}
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	int toolong = !feof(f) && fgetc(f) != EOF;
	fclose(f);
	if (toolong) {
		perr(p, s, "%s: \"%s\" is larger than %zu bytes", key, path, sizeof(buf) - 1);
		return NULL;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0) {
		perr(p, s, "%s: \"%s\" is empty", key, path);
		return NULL;
	}
	char *v = strdup(buf);
	memset(buf, 0, sizeof(buf));
	return v;
}

static void free_secret(char *s)
{
	if (s) {
		volatile char *v = s;
		while (*v)
			*v++ = 0;
		free(s);
	}
}

/* ---- policy ------------------------------------------------------------- */

static const char *const policy_keys[] = {
	"objective", "kp", "ki", "kd", "error_penalty", "eject_error_ratio", "total",
	"min_weight", "max_weight", "max_step", "deadband", "stale_ticks", "min_rate",
	"min_requests", "window", "latency_query", "error_query", "rate_query", NULL};

static void policy_defaults(struct wd_policy_cfg *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->objective = WD_OBJ_LATENCY;
	pc->kp = 0.2;
	pc->ki = 0.4;
	pc->kd = 0.0;
	pc->error_penalty = 10.0;
	pc->eject_error_ratio = 0.5;
	pc->total = 100;
	pc->min_weight = 1;
	pc->max_weight = 100;
	pc->max_step = 0.5;
	pc->deadband = 1;
	pc->stale_ticks = 4;
	pc->min_rate = 0.0;
	pc->min_requests = 10.0;
}

static int policy_copy(struct wd_policy_cfg *dst, const struct wd_policy_cfg *src)
{
	*dst = *src;
	dst->latency_query = strdup(src->latency_query ? src->latency_query : "");
	dst->error_query = strdup(src->error_query ? src->error_query : "");
	dst->rate_query = strdup(src->rate_query ? src->rate_query : "");
	return dst->latency_query && dst->error_query && dst->rate_query ? 0 : -1;
}

static void policy_cfg_free(struct wd_policy_cfg *pc)
{
	free(pc->latency_query);
	free(pc->error_query);
	free(pc->rate_query);
	pc->latency_query = pc->error_query = pc->rate_query = NULL;
}

/* Overrides pc with the keys present in group g. */
static void parse_policy(struct parser *p, const config_setting_t *g, struct wd_policy_cfg *pc,
			 const char *where)
{
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		perr(p, g, "%s must be a group { ... }", where);
		return;
	}
	check_keys(p, g, where, policy_keys);
	char *obj = NULL;
	if (get_string(p, g, "objective", &obj) > 0) {
		if (strcmp(obj, "latency") == 0)
			pc->objective = WD_OBJ_LATENCY;
		else if (strcmp(obj, "marginal") == 0)
			pwarn(p, config_setting_get_member(g, "objective"),
			      "objective \"marginal\" is retired (it lost to \"latency\" in every benchmark "
			      "scenario) and now means \"latency\"; remove the objective key");
		else
			perr(p, config_setting_get_member(g, "objective"),
			     "objective \"%s\" is not \"latency\"", obj);
	}
	free(obj);
	struct {
		const char *key;
		double *v;
	} dbl[] = {{"kp", &pc->kp}, {"ki", &pc->ki}, {"kd", &pc->kd},
		   {"error_penalty", &pc->error_penalty}, {"eject_error_ratio", &pc->eject_error_ratio},
		   {"max_step", &pc->max_step}, {"min_rate", &pc->min_rate},
		   {"min_requests", &pc->min_requests}};
	for (size_t i = 0; i < sizeof(dbl) / sizeof(dbl[0]); i++)
		if (get_double(p, g, dbl[i].key, dbl[i].v) > 0 && *dbl[i].v < 0)
			perr(p, config_setting_get_member(g, dbl[i].key), "%s must not be negative",
			     dbl[i].key);
	struct {
		const char *key;
		int *v;
	} ints[] = {{"total", &pc->total}, {"min_weight", &pc->min_weight},
		    {"max_weight", &pc->max_weight}, {"deadband", &pc->deadband},
		    {"stale_ticks", &pc->stale_ticks}};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		get_int(p, g, ints[i].key, ints[i].v);
	get_duration(p, g, "window", &pc->window_ms);
	get_string(p, g, "latency_query", &pc->latency_query);
	get_string(p, g, "error_query", &pc->error_query);
	get_string(p, g, "rate_query", &pc->rate_query);
}

/* Checks the numeric rules of an effective policy; s is where to point. */
static void validate_policy(struct parser *p, const config_setting_t *s,
			    const struct wd_policy_cfg *pc, const char *who)
{
	if (pc->eject_error_ratio <= 0 || pc->eject_error_ratio > 1)
		perr(p, s, "%seject_error_ratio %g must be in (0, 1]", who, pc->eject_error_ratio);
	if (pc->max_step <= 0)
		perr(p, s, "%smax_step must be above 0", who);
	if (pc->total < 1)
		perr(p, s, "%stotal %d must be at least 1", who, pc->total);
	if (pc->min_weight < 1)
		perr(p, s, "%smin_weight %d must be at least 1 (drain a backend with pin = 0)", who,
		     pc->min_weight);
	if (pc->max_weight < pc->min_weight)
		perr(p, s, "%smax_weight %d below min_weight %d", who, pc->max_weight, pc->min_weight);
	if (pc->max_weight > pc->total)
		perr(p, s, "%smax_weight %d above total %d", who, pc->max_weight, pc->total);
	if (pc->deadband < 0)
		perr(p, s, "%sdeadband must not be negative", who);
	if (pc->stale_ticks < 1)
		perr(p, s, "%sstale_ticks must be at least 1", who);
}

/* ---- services ----------------------------------------------------------- */

static const char *const service_keys[] = {
	"name", "kind", "label", "latency_query", "error_query", "rate_query", "backends",
	"health_check", "freeze", "policy", NULL};
static const char *const backend_keys[] = {"name", "url", "weight", "pin", NULL};
static const char *const health_keys[] = {"path", "interval", "timeout", "scheme",
					  "hostname", "port", NULL};

static int is_http_url(const char *u)
{
	return (strncmp(u, "http://", 7) == 0 && u[7]) || (strncmp(u, "https://", 8) == 0 && u[8]);
}

static void parse_health(struct parser *p, const config_setting_t *g, struct wd_health_cfg *h)
{
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		perr(p, g, "health_check must be a group { ... }");
		return;
	}
	check_keys(p, g, "health_check", health_keys);
	h->set = true;
	if (get_string(p, g, "path", &h->path) <= 0 || h->path[0] != '/')
		perr(p, g, "health_check.path must be set and start with \"/\"");
	get_duration(p, g, "interval", &h->interval_ms);
	get_duration(p, g, "timeout", &h->timeout_ms);
	get_string(p, g, "hostname", &h->hostname);
	if (get_string(p, g, "scheme", &h->scheme) > 0 && strcmp(h->scheme, "http") != 0 &&
	    strcmp(h->scheme, "https") != 0)
		perr(p, config_setting_get_member(g, "scheme"),
		     "health_check.scheme must be \"http\" or \"https\"");
	if (get_int(p, g, "port", &h->port) > 0 && (h->port < 1 || h->port > 65535))
		perr(p, config_setting_get_member(g, "port"), "health_check.port must be 1..65535");
}

static void parse_backend(struct parser *p, const config_setting_t *g,
			  const struct wd_service_cfg *svc, struct wd_backend_cfg *b)
{
	b->line = line_of(g);
	b->pin = -1;
	b->weight = -1;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		perr(p, g, "service \"%s\": each backend must be a group { name = ...; }", svc->name);
		return;
	}
	check_keys(p, g, "backend", backend_keys);
	if (get_string(p, g, "name", &b->name) <= 0 || !b->name[0])
		perr(p, g, "service \"%s\": backend without a name", svc->name);
	const char *bn = b->name ? b->name : "?";
	int has_url = get_string(p, g, "url", &b->url) > 0;
	if (svc->kind == WD_KIND_SERVERS) {
		if (!has_url)
			perr(p, g, "backend \"%s\": url is required for kind \"servers\"", bn);
		else if (!is_http_url(b->url))
			perr(p, config_setting_get_member(g, "url"),
			     "backend \"%s\": url \"%s\" is not an http:// or https:// URL", bn, b->url);
	} else if (has_url) {
		perr(p, config_setting_get_member(g, "url"),
		     "backend \"%s\": url is only for kind \"servers\" (a weighted child is a service name)",
		     bn);
	}
	get_int(p, g, "weight", &b->weight);
	if (get_int(p, g, "pin", &b->pin) > 0 && (b->pin < 0 || b->pin > svc->policy.total))
		perr(p, config_setting_get_member(g, "pin"), "backend \"%s\": pin %d not within 0..%d",
		     bn, b->pin, svc->policy.total);
}

static void validate_service_weights(struct parser *p, const config_setting_t *g,
				     struct wd_service_cfg *svc)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	size_t n = svc->n_backends, unpinned = 0;
	long pinsum = 0;
	int positive = 0;
	for (size_t i = 0; i < n; i++) {
		struct wd_backend_cfg *b = &svc->backends[i];
		if (b->weight < 0) { /* default: an equal share, within bounds */
			int w = (int)(pc->total / (int)n);
			b->weight = w < pc->min_weight ? pc->min_weight : w > pc->max_weight ? pc->max_weight : w;
		} else if (b->weight < pc->min_weight || b->weight > pc->max_weight) {
			errors_add(p->errs, "%s:%d: backend \"%s\": weight %d not within min_weight %d .. max_weight %d",
				   p->file, b->line, b->name ? b->name : "?", b->weight, pc->min_weight,
				   pc->max_weight);
		}
		if (b->pin >= 0) {
			pinsum += b->pin;
			if (b->pin > 0)
				positive = 1;
		} else {
			unpinned++;
			positive = 1;
		}
	}
	if (pinsum > pc->total)
		perr(p, g, "service \"%s\": pins sum to %ld, above total %d", svc->name, pinsum, pc->total);
	else if (!positive)
		perr(p, g, "service \"%s\": every backend is pinned to 0; at least one must keep traffic",
		     svc->name);
	else if (unpinned == 0 && pinsum != pc->total)
		perr(p, g, "service \"%s\": every backend is pinned, so the pins must sum to total %d (they sum to %ld)",
		     svc->name, pc->total, pinsum);
	else if (unpinned > 0 && (long)unpinned * pc->min_weight > pc->total - pinsum)
		perr(p, g, "service \"%s\": %zu unpinned backends at min_weight %d need more than the %ld left by the pins",
		     svc->name, unpinned, pc->min_weight, pc->total - pinsum);
	else if (unpinned > 0 && (long)unpinned * pc->max_weight < pc->total - pinsum)
		perr(p, g, "service \"%s\": %zu unpinned backends at max_weight %d cannot reach total %d",
		     svc->name, unpinned, pc->max_weight, pc->total);
}

/* The service's signal window (delay.h): its window, else the longest range
 * selector in its queries. Warns when neither says, since the gains then
 * assume four intervals of window. */
static void signal_window(struct parser *p, const config_setting_t *s, struct wd_service_cfg *svc)
{
	struct wd_policy_cfg *pc = &svc->policy;
	pc->signal_window_ms = pc->window_ms;
	const char *q[] = {pc->latency_query, pc->error_query, pc->rate_query};
	for (size_t i = 0; !pc->window_ms && i < 3; i++) {
		int64_t r = delay_longest_range_ms(q[i]);
		if (r > pc->signal_window_ms)
			pc->signal_window_ms = r;
	}
	if (!pc->signal_window_ms && pc->latency_query && pc->latency_query[0])
		pwarn(p, s, "service \"%s\": its queries have no range selector such as [1m] and no window "
		      "is set, so weightd cannot know how old its signal is and assumes %d intervals "
		      "(%gs); set window = \"1m\" in the service's policy group to what the queries "
		      "average over", svc->name, DELAY_REF_TICKS_PER_WINDOW,
		      DELAY_REF_TICKS_PER_WINDOW * pc->tick_ms / 1000.0);
}

static void parse_service(struct parser *p, const config_setting_t *g,
			  const struct wd_policy_cfg *defaults, struct wd_service_cfg *svc)
{
	svc->line = line_of(g);
	if (policy_copy(&svc->policy, defaults) < 0)
		return;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		perr(p, g, "each service must be a group { name = ...; }");
		return;
	}
	check_keys(p, g, "service", service_keys);
	if (get_string(p, g, "name", &svc->name) <= 0 || !svc->name[0]) {
		perr(p, g, "service without a name");
		free(svc->name);
		svc->name = strdup("?");
	}
	char *kind = NULL;
	if (get_string(p, g, "kind", &kind) > 0) {
		if (strcmp(kind, "servers") == 0)
			svc->kind = WD_KIND_SERVERS;
		else if (strcmp(kind, "weighted") == 0)
			svc->kind = WD_KIND_WEIGHTED;
		else
			perr(p, config_setting_get_member(g, "kind"),
			     "service \"%s\": kind \"%s\" is not \"servers\" or \"weighted\"", svc->name, kind);
	}
	free(kind);
	if (get_string(p, g, "label", &svc->label) <= 0)
		svc->label = strdup(svc->kind == WD_KIND_SERVERS ? "instance" : "service");
	else if (!svc->label[0])
		perr(p, config_setting_get_member(g, "label"), "service \"%s\": label is empty", svc->name);
	get_bool(p, g, "freeze", &svc->freeze);

	config_setting_t *pol = config_setting_get_member(g, "policy");
	if (pol)
		parse_policy(p, pol, &svc->policy, "service policy");
	/* Queries set directly on the service win over its policy group. */
	get_string(p, g, "latency_query", &svc->policy.latency_query);
	get_string(p, g, "error_query", &svc->policy.error_query);
	get_string(p, g, "rate_query", &svc->policy.rate_query);
	char **q[] = {&svc->policy.latency_query, &svc->policy.error_query, &svc->policy.rate_query};
	for (size_t i = 0; i < 3; i++) {
		char *x = config_expand_template(*q[i], svc->name);
		free(*q[i]);
		*q[i] = x;
	}
	signal_window(p, pol ? pol : g, svc);
	if (pol) { /* without a policy group the defaults were validated already */
		char who[300];
		snprintf(who, sizeof(who), "service \"%s\": ", svc->name);
		validate_policy(p, pol, &svc->policy, who);
	}
	if (!svc->policy.latency_query || !svc->policy.latency_query[0])
		perr(p, g, "service \"%s\": no latency_query (set it on the service or in policy)",
		     svc->name);

	config_setting_t *hc = config_setting_get_member(g, "health_check");
	if (hc) {
		if (svc->kind != WD_KIND_SERVERS)
			perr(p, hc, "service \"%s\": health_check is only for kind \"servers\"", svc->name);
		parse_health(p, hc, &svc->health);
	}

	config_setting_t *bl = config_setting_get_member(g, "backends");
	if (!bl) {
		perr(p, g, "service \"%s\": backends is required", svc->name);
		return;
	}
	if (!config_setting_is_list(bl) && !config_setting_is_array(bl)) {
		perr(p, bl, "service \"%s\": backends must be a list ( { ... }, ... )", svc->name);
		return;
	}
	int n = config_setting_length(bl);
	if (n == 0) {
		perr(p, bl, "service \"%s\": needs at least one backend", svc->name);
		return;
	}
	if (n > WD_MAX_BACKENDS) {
		perr(p, bl, "service \"%s\": %d backends, more than %d", svc->name, n, WD_MAX_BACKENDS);
		return;
	}
	svc->backends = calloc((size_t)n, sizeof(*svc->backends));
	if (!svc->backends)
		return;
	svc->n_backends = (size_t)n;
	for (int i = 0; i < n; i++) {
		config_setting_t *bg = config_setting_get_elem(bl, (unsigned)i);
		parse_backend(p, bg, svc, &svc->backends[i]);
		for (int j = 0; j < i; j++)
			if (svc->backends[i].name && svc->backends[j].name &&
			    strcmp(svc->backends[i].name, svc->backends[j].name) == 0)
				perr(p, bg, "service \"%s\": backend \"%s\" defined twice (first at line %d)",
				     svc->name, svc->backends[i].name, svc->backends[j].line);
	}
	validate_service_weights(p, bl, svc);
}

/* ---- top level ---------------------------------------------------------- */

static const char *const top_keys[] = {"interval", "dry_run", "log_level", "listen",
				       "state_file", "audit_log", "prometheus", "output",
				       "policy", "services", NULL};
static const char *const prom_keys[] = {"url", "timeout", "bearer_token_file", "username",
					"password_file", "headers", "ca_file",
					"insecure_skip_verify", "max_response_bytes",
					"max_concurrency", NULL};
static const char *const output_keys[] = {"type", "path", "take_over", "address", "db",
					  "username", "password_file", "root_key", "timeout", NULL};

static void parse_prometheus(struct parser *p, const config_setting_t *root, struct wd_prom_cfg *pc)
{
	pc->timeout_ms = 5000;
	pc->max_response_bytes = 16 << 20;
	pc->max_concurrency = 32;
	config_setting_t *g = config_setting_get_member(root, "prometheus");
	if (!g) {
		perr(p, root, "prometheus = { url = ...; } is required");
		return;
	}
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		perr(p, g, "prometheus must be a group { ... }");
		return;
	}
	check_keys(p, g, "prometheus", prom_keys);
	if (get_string(p, g, "url", &pc->url) <= 0)
		perr(p, g, "prometheus.url is required");
	else if (!is_http_url(pc->url))
		perr(p, config_setting_get_member(g, "url"),
		     "prometheus.url \"%s\" is not an http:// or https:// URL", pc->url);
	get_duration(p, g, "timeout", &pc->timeout_ms);
	if (get_string(p, g, "bearer_token_file", &pc->bearer_token_file) > 0 && pc->bearer_token_file[0])
		pc->bearer_token = read_secret(p, g, "bearer_token_file", pc->bearer_token_file);
	if (get_string(p, g, "username", &pc->username) > 0 && !pc->username[0]) {
		free(pc->username);
		pc->username = NULL;
	}
	if (get_string(p, g, "password_file", &pc->password_file) > 0 && pc->password_file[0]) {
		pc->password = read_secret(p, g, "password_file", pc->password_file);
		if (!pc->username)
			perr(p, config_setting_get_member(g, "password_file"),
			     "prometheus.password_file needs a username");
	}
	if (pc->bearer_token && pc->username)
		perr(p, g, "prometheus: use either bearer_token_file or username/password_file, not both");
	config_setting_t *h = config_setting_get_member(g, "headers");
	if (h) {
		if (!config_setting_is_array(h) && !config_setting_is_list(h)) {
			perr(p, h, "prometheus.headers must be a list of \"Name: value\" strings");
		} else {
			int n = config_setting_length(h);
			pc->headers = calloc((size_t)n + 1, sizeof(char *));
			for (int i = 0; pc->headers && i < n; i++) {
				config_setting_t *e = config_setting_get_elem(h, (unsigned)i);
				const char *v = config_setting_get_string(e);
				const char *colon = v ? strchr(v, ':') : NULL;
				if (!v || !colon || colon == v || strpbrk(v, "\r\n")) {
					perr(p, e, "prometheus.headers[%d] must be \"Name: value\"", i);
					continue;
				}
				pc->headers[pc->n_headers++] = strdup(v);
			}
		}
	}
	if (get_string(p, g, "ca_file", &pc->ca_file) > 0 && !pc->ca_file[0]) {
		free(pc->ca_file);
		pc->ca_file = NULL;
	}
	get_bool(p, g, "insecure_skip_verify", &pc->insecure_skip_verify);
	int maxb = 0;
	if (get_int(p, g, "max_concurrency", &pc->max_concurrency) > 0 &&
	    (pc->max_concurrency < 1 || pc->max_concurrency > 1024))
		perr(p, config_setting_get_member(g, "max_concurrency"),
		     "prometheus.max_concurrency %d not within 1..1024", pc->max_concurrency);
	if (get_int(p, g, "max_response_bytes", &maxb) > 0) {
		if (maxb < 1024)
			perr(p, config_setting_get_member(g, "max_response_bytes"),
			     "prometheus.max_response_bytes must be at least 1024");
		else
			pc->max_response_bytes = maxb;
	}
}

static void parse_output(struct parser *p, const config_setting_t *root, struct wd_output_cfg *oc)
{
	oc->timeout_ms = 2000;
	oc->root_key = strdup("traefik");
	config_setting_t *g = config_setting_get_member(root, "output");
	if (!g) {
		perr(p, root, "output = { type = \"file\"; path = ...; } is required");
		return;
	}
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		perr(p, g, "output must be a group { ... }");
		return;
	}
	check_keys(p, g, "output", output_keys);
	char *type = NULL;
	if (get_string(p, g, "type", &type) <= 0) {
		perr(p, g, "output.type is required (\"file\" or \"redis\")");
	} else if (strcmp(type, "file") == 0) {
		oc->type = WD_OUT_FILE;
		if (get_string(p, g, "path", &oc->path) <= 0 || !oc->path[0])
			perr(p, g, "output.path is required for type \"file\"");
		get_bool(p, g, "take_over", &oc->take_over);
		static const char *const redis_only[] = {"address", "db", "username", "password_file",
							 "root_key", "timeout", NULL};
		for (const char *const *k = redis_only; *k; k++)
			if (config_setting_get_member(g, *k))
				perr(p, config_setting_get_member(g, *k),
				     "output.%s is only for type \"redis\"", *k);
	} else if (strcmp(type, "redis") == 0) {
		oc->type = WD_OUT_REDIS;
		if (get_string(p, g, "address", &oc->address) <= 0)
			oc->address = strdup("127.0.0.1:6379");
		else if (!oc->address[0] ||
			 (oc->address[0] != '/' && !strrchr(oc->address, ':')))
			perr(p, config_setting_get_member(g, "address"),
			     "output.address \"%s\" must be HOST:PORT or a unix socket path", oc->address);
		if (get_int(p, g, "db", &oc->db) > 0 && (oc->db < 0 || oc->db > 1000))
			perr(p, config_setting_get_member(g, "db"), "output.db must be 0..1000");
		if (get_string(p, g, "username", &oc->username) > 0 && !oc->username[0]) {
			free(oc->username);
			oc->username = NULL;
		}
		if (get_string(p, g, "password_file", &oc->password_file) > 0 && oc->password_file[0])
			oc->password = read_secret(p, g, "password_file", oc->password_file);
		if (get_string(p, g, "root_key", &oc->root_key) > 0 &&
		    (!oc->root_key[0] || strchr(oc->root_key, '*')))
			perr(p, config_setting_get_member(g, "root_key"),
			     "output.root_key must be a non-empty key prefix");
		get_duration(p, g, "timeout", &oc->timeout_ms);
		for (const char *k = "path"; k; k = strcmp(k, "path") == 0 ? "take_over" : NULL)
			if (config_setting_get_member(g, k))
				perr(p, config_setting_get_member(g, k), "output.%s is only for type \"file\"", k);
	} else {
		perr(p, config_setting_get_member(g, "type"),
		     "output.type \"%s\" is not \"file\" or \"redis\"", type);
	}
	free(type);
}

static int valid_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	return *end == '\0' && colon[1] && port >= 0 && port <= 65535;
}

static void parse_top(struct parser *p, config_setting_t *root, struct wd_config *cfg)
{
	check_keys(p, root, "the top level", top_keys);
	cfg->interval_ms = 15000;
	cfg->log_level = WD_LOG_INFO;
	cfg->listen = strdup("127.0.0.1:9477");
	cfg->state_file = strdup("");
	cfg->audit_log = strdup("");
	if (get_duration(p, root, "interval", &cfg->interval_ms) > 0) {
		config_setting_t *s = config_setting_get_member(root, "interval");
		if (cfg->interval_ms < 100)
			perr(p, s, "interval must be at least 100ms");
		else if (cfg->interval_ms < 2000)
			pwarn(p, s, "interval below 2s: Traefik applies at most one change per 2s");
	}
	get_bool(p, root, "dry_run", &cfg->dry_run);
	char *lvl = NULL;
	if (get_string(p, root, "log_level", &lvl) > 0) {
		cfg->log_level = log_level_from_name(lvl);
		if (cfg->log_level < 0) {
			perr(p, config_setting_get_member(root, "log_level"),
			     "log_level \"%s\" is not error, warn, info or debug", lvl);
			cfg->log_level = WD_LOG_INFO;
		}
	}
	free(lvl);
	if (get_string(p, root, "listen", &cfg->listen) > 0 && cfg->listen[0] &&
	    !valid_listen(cfg->listen))
		perr(p, config_setting_get_member(root, "listen"),
		     "listen \"%s\" must be HOST:PORT (or \"\" to turn it off)", cfg->listen);
	get_string(p, root, "state_file", &cfg->state_file);
	get_string(p, root, "audit_log", &cfg->audit_log);

	parse_prometheus(p, root, &cfg->prom);
	parse_output(p, root, &cfg->output);

	policy_defaults(&cfg->policy);
	cfg->policy.tick_ms = cfg->interval_ms;
	config_setting_t *pol = config_setting_get_member(root, "policy");
	if (pol)
		parse_policy(p, pol, &cfg->policy, "policy");
	validate_policy(p, pol ? pol : root, &cfg->policy, "policy: ");

	config_setting_t *sl = config_setting_get_member(root, "services");
	if (!sl) {
		perr(p, root, "services = ( { ... } ) is required");
		return;
	}
	if (!config_setting_is_list(sl) && !config_setting_is_array(sl)) {
		perr(p, sl, "services must be a list ( { ... }, ... )");
		return;
	}
	int n = config_setting_length(sl);
	if (n == 0) {
		perr(p, sl, "services needs at least one service");
		return;
	}
	cfg->services = calloc((size_t)n, sizeof(*cfg->services));
	if (!cfg->services)
		return;
	cfg->n_services = (size_t)n;
	for (int i = 0; i < n; i++) {
		config_setting_t *sg = config_setting_get_elem(sl, (unsigned)i);
		parse_service(p, sg, &cfg->policy, &cfg->services[i]);
		for (int j = 0; j < i; j++)
			if (cfg->services[i].name && cfg->services[j].name &&
			    strcmp(cfg->services[i].name, cfg->services[j].name) == 0)
				perr(p, sg, "service \"%s\" defined twice (first at line %d)",
				     cfg->services[i].name, cfg->services[j].line);
	}
}

int config_load(const char *path, struct wd_config **out, struct wd_errors *errs,
		struct wd_errors *warns)
{
	*out = NULL;
	size_t errs_before = errs->n;
	FILE *f = fopen(path, "r");
	if (!f) {
		errors_add(errs, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	config_t lc;
	config_init(&lc);
	if (!config_read(&lc, f)) {
		errors_add(errs, "%s:%d: %s", path, config_error_line(&lc), config_error_text(&lc));
		config_destroy(&lc);
		fclose(f);
		return -1;
	}
	fclose(f);
	struct wd_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		config_destroy(&lc);
		errors_add(errs, "%s: out of memory", path);
		return -1;
	}
	cfg->path = strdup(path);
	struct parser p = {.file = path, .errs = errs, .warns = warns};
	parse_top(&p, config_root_setting(&lc), cfg);
	config_destroy(&lc);
	if (errs->n > errs_before) {
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

void config_free(struct wd_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->listen);
	free(cfg->state_file);
	free(cfg->audit_log);
	struct wd_prom_cfg *pc = &cfg->prom;
	free(pc->url);
	free_secret(pc->bearer_token);
	free(pc->bearer_token_file);
	free(pc->username);
	free_secret(pc->password);
	free(pc->password_file);
	for (size_t i = 0; i < pc->n_headers; i++)
		free(pc->headers[i]);
	free(pc->headers);
	free(pc->ca_file);
	struct wd_output_cfg *oc = &cfg->output;
	free(oc->path);
	free(oc->address);
	free(oc->username);
	free_secret(oc->password);
	free(oc->password_file);
	free(oc->root_key);
	policy_cfg_free(&cfg->policy);
	for (size_t i = 0; i < cfg->n_services; i++) {
		struct wd_service_cfg *s = &cfg->services[i];
		free(s->name);
		free(s->label);
		policy_cfg_free(&s->policy);
		for (size_t j = 0; j < s->n_backends; j++) {
			free(s->backends[j].name);
			free(s->backends[j].url);
		}
		free(s->backends);
		free(s->health.path);
		free(s->health.scheme);
		free(s->health.hostname);
	}
	free(cfg->services);
	free(cfg);
}

const struct wd_service_cfg *config_find_service(const struct wd_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_services; i++)
		if (strcmp(cfg->services[i].name, name) == 0)
			return &cfg->services[i];
	return NULL;
}

int config_backend_index(const struct wd_service_cfg *svc, const char *name)
{
	for (size_t i = 0; i < svc->n_backends; i++)
		if (svc->backends[i].name && strcmp(svc->backends[i].name, name) == 0)
			return (int)i;
	return -1;
}
