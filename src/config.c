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

/* ---- the keys ------------------------------------------------------------ */

struct parser;
struct key;

/* Where a key may stand: one bit per group of the file. A key's field lives
 * in the struct of the first place named in its where (its home): a policy
 * key is a field of struct wd_policy_cfg wherever it is written. */
enum place {
	P_TOP = 1 << 0,            /* struct wd_config */
	P_PROM = 1 << 1,           /* prometheus = { }: struct wd_prom_cfg */
	P_OUTPUT = 1 << 2,         /* output = { }: struct wd_output_cfg */
	P_POLICY = 1 << 3,         /* policy = { } at the top: struct wd_policy_cfg */
	P_SERVICE_POLICY = 1 << 4, /* a service's policy = { }: its own override */
	P_SERVICE = 1 << 5,        /* services = ( { } ): struct wd_service_cfg */
	P_BACKEND = 1 << 6,        /* backends = ( { } ): struct wd_backend_cfg */
	P_HEALTH = 1 << 7,         /* health_check = { }: struct wd_health_cfg */
};

enum key_type {
	K_BOOL,     /* bool */
	K_INT,      /* int */
	K_INT64,    /* int64_t */
	K_DOUBLE,   /* double, always finite */
	K_DURATION, /* int64_t milliseconds, from "15s" or a number of seconds */
	K_ENUM,     /* int-sized enum: the index of the string in names */
	K_STRING,   /* char *, owned; restricted to names when names is set */
	K_SECRET,   /* char * path at off, char * content read from it at secret_off */
	K_GROUP,    /* { ... }: read by parse */
	K_LIST,     /* ( ... ) or [ ... ]: read by parse */
};

/* What bounds a number has (lo and hi in the key's row). */
enum { B_LO = 1, B_HI = 2, B_LO_OPEN = 4 };

/* Flags of a key. */
enum {
	KF_REQUIRED = 1,      /* absent is an error */
	KF_EMPTY_IS_NULL = 2, /* "" means unset: the field stays NULL */
	KF_NOT_EMPTY = 4,     /* "" is an error */
};

typedef void check_fn(struct parser *p, const config_setting_t *s, const char *qname,
		      const void *field);
typedef void parse_fn(struct parser *p, const config_setting_t *s, void *base);

struct key {
	const char *name;
	enum key_type type;
	unsigned where;      /* the places it may stand in (enum place bits) */
	unsigned flags;      /* KF_* */
	unsigned only;       /* output types it is for (1 << enum wd_output_type); 0: all */
	size_t off, size;    /* the field in its home struct */
	size_t secret_off;   /* K_SECRET: the field the file's content goes to */
	double def;          /* default of a number, bool, duration (ms) or enum (index) */
	const char *def_str; /* default of a string (NULL: unset) */
	unsigned bounds;     /* B_*, with lo and hi */
	double lo, hi;
	const char *const *names; /* K_ENUM: the values; K_STRING: the allowed values */
	const char *hint;    /* appended to a bounds error; for groups and lists, the
			      * shape shown when it is missing or of the wrong type */
	check_fn *check;     /* a rule of its own, after the value is stored */
	parse_fn *parse;     /* K_GROUP, K_LIST: reads the member */
};

struct parser {
	const char *file;
	struct wd_errors *errs;
	struct wd_errors *warns;
	const struct wd_service_cfg *svc; /* the service being read, for messages */
	const struct wd_backend_cfg *backend;
};

static check_fn check_interval, check_listen, check_http_url, check_redis_address,
	check_root_key, check_abs_path;
static parse_fn parse_prometheus, parse_headers, parse_output, parse_top_policy,
	parse_services, parse_service_policy, parse_health, parse_backends;

static const char *const objective_names[] = {"latency", "marginal", NULL};
static const char *const kind_names[] = {"servers", "weighted", NULL};
static const char *const output_type_names[] = {"file", "redis", NULL};
static const char *const scheme_names[] = {"http", "https", NULL};

#define FIELD(T, f) .off = offsetof(T, f), .size = sizeof(((T *)0)->f)
#define TOP(f) FIELD(struct wd_config, f)
#define PROM(f) FIELD(struct wd_prom_cfg, f)
#define OUT(f) FIELD(struct wd_output_cfg, f)
#define POL(f) FIELD(struct wd_policy_cfg, f)
#define SVC(f) FIELD(struct wd_service_cfg, f)
#define BACK(f) FIELD(struct wd_backend_cfg, f)
#define HEALTH(f) FIELD(struct wd_health_cfg, f)
#define AT_LEAST(x) .bounds = B_LO, .lo = (x)
#define ABOVE(x) .bounds = B_LO | B_LO_OPEN, .lo = (x)
#define WITHIN(a, b) .bounds = B_LO | B_HI, .lo = (a), .hi = (b)
#define ABOVE_UPTO(a, b) .bounds = B_LO | B_LO_OPEN | B_HI, .lo = (a), .hi = (b)
#define FILE_ONLY .only = 1u << WD_OUT_FILE
#define REDIS_ONLY .only = 1u << WD_OUT_REDIS
#define POLICY_KEY (P_POLICY | P_SERVICE_POLICY)

/* Every key of weightd.conf, one row each: its name, type, where it may
 * stand, its field, default and bounds. The loader, the defaults, the
 * unknown-key check, the "only for type" check and config_free all read this
 * table; nothing else states a default or a bound.
 *
 * To add a key: add its field to the struct in config.h and one row here in
 * the block of its group (within a group, keys are read in the order of the
 * rows). A number gets its bounds with AT_LEAST/ABOVE/WITHIN; a rule the
 * bounds cannot say goes in a check function (check_fn) named in the row. A
 * policy key (where POLICY_KEY) may be overridden in a service's policy group
 * at once; leave out P_SERVICE_POLICY to keep it global. A rule between keys
 * goes into the group's parse function (e.g. check_policy_relations). */
static const struct key keys[] = {
	/* the top level */
	{"interval", K_DURATION, P_TOP, TOP(interval_ms), .def = 15000, AT_LEAST(100),
	 .check = check_interval},
	{"dry_run", K_BOOL, P_TOP, TOP(dry_run)},
	{"log_level", K_ENUM, P_TOP, TOP(log_level), .def = WD_LOG_INFO, .names = log_level_names},
	{"listen", K_STRING, P_TOP, TOP(listen), .def_str = "127.0.0.1:9477", .check = check_listen},
	{"state_file", K_STRING, P_TOP, TOP(state_file), .def_str = ""},
	{"audit_log", K_STRING, P_TOP, TOP(audit_log), .def_str = ""},
	{"prometheus", K_GROUP, P_TOP, .flags = KF_REQUIRED, .hint = "prometheus = { url = ...; }",
	 .parse = parse_prometheus},
	{"output", K_GROUP, P_TOP, .flags = KF_REQUIRED,
	 .hint = "output = { type = \"file\"; path = ...; }", .parse = parse_output},
	{"policy", K_GROUP, P_TOP, .parse = parse_top_policy},
	{"services", K_LIST, P_TOP, .flags = KF_REQUIRED, .hint = "services = ( { ... } )",
	 .parse = parse_services},

	/* prometheus = { } */
	{"url", K_STRING, P_PROM, PROM(url), .flags = KF_REQUIRED, .check = check_http_url},
	{"timeout", K_DURATION, P_PROM, PROM(timeout_ms), .def = 5000},
	{"bearer_token_file", K_SECRET, P_PROM, PROM(bearer_token_file),
	 .secret_off = offsetof(struct wd_prom_cfg, bearer_token)},
	{"username", K_STRING, P_PROM, PROM(username), .flags = KF_EMPTY_IS_NULL},
	{"password_file", K_SECRET, P_PROM, PROM(password_file),
	 .secret_off = offsetof(struct wd_prom_cfg, password)},
	{"headers", K_LIST, P_PROM, .hint = "of \"Name: value\" strings", .parse = parse_headers},
	{"ca_file", K_STRING, P_PROM, PROM(ca_file), .flags = KF_EMPTY_IS_NULL},
	{"insecure_skip_verify", K_BOOL, P_PROM, PROM(insecure_skip_verify)},
	{"max_response_bytes", K_INT64, P_PROM, PROM(max_response_bytes), .def = 16 << 20,
	 AT_LEAST(1024)},
	{"max_concurrency", K_INT, P_PROM, PROM(max_concurrency), .def = 32, WITHIN(1, 1024)},

	/* output = { }: the type first, since the other keys depend on it */
	{"type", K_ENUM, P_OUTPUT, OUT(type), .flags = KF_REQUIRED, .names = output_type_names},
	{"path", K_STRING, P_OUTPUT, OUT(path), .flags = KF_REQUIRED | KF_NOT_EMPTY, FILE_ONLY},
	{"take_over", K_BOOL, P_OUTPUT, OUT(take_over), FILE_ONLY},
	{"address", K_STRING, P_OUTPUT, OUT(address), .def_str = "127.0.0.1:6379", REDIS_ONLY,
	 .check = check_redis_address},
	{"db", K_INT, P_OUTPUT, OUT(db), WITHIN(0, 1000), REDIS_ONLY},
	{"username", K_STRING, P_OUTPUT, OUT(username), .flags = KF_EMPTY_IS_NULL, REDIS_ONLY},
	{"password_file", K_SECRET, P_OUTPUT, OUT(password_file),
	 .secret_off = offsetof(struct wd_output_cfg, password), REDIS_ONLY},
	{"root_key", K_STRING, P_OUTPUT, OUT(root_key), .def_str = "traefik", REDIS_ONLY,
	 .check = check_root_key},
	{"timeout", K_DURATION, P_OUTPUT, OUT(timeout_ms), .def = 2000, REDIS_ONLY},

	/* services = ( { } ), up to its policy group: the query keys below may
	 * also stand on the service itself, and win over its policy group */
	{"name", K_STRING, P_SERVICE, SVC(name)},
	{"kind", K_ENUM, P_SERVICE, SVC(kind), .names = kind_names},
	{"label", K_STRING, P_SERVICE, SVC(label), .flags = KF_NOT_EMPTY},
	{"freeze", K_BOOL, P_SERVICE, SVC(freeze)},
	{"policy", K_GROUP, P_SERVICE, .parse = parse_service_policy},

	/* policy = { }, at the top (the defaults) and in a service (its override) */
	{"objective", K_ENUM, POLICY_KEY, POL(objective), .names = objective_names},
	{"kp", K_DOUBLE, POLICY_KEY, POL(kp), .def = 0.2, AT_LEAST(0)},
	{"ki", K_DOUBLE, POLICY_KEY, POL(ki), .def = 0.4, AT_LEAST(0)},
	{"kd", K_DOUBLE, POLICY_KEY, POL(kd), .def = 0.0, AT_LEAST(0)},
	{"error_penalty", K_DOUBLE, POLICY_KEY, POL(error_penalty), .def = 10.0, AT_LEAST(0)},
	{"eject_error_ratio", K_DOUBLE, POLICY_KEY, POL(eject_error_ratio), .def = 0.5,
	 ABOVE_UPTO(0, 1)},
	{"total", K_INT, POLICY_KEY, POL(total), .def = 100, AT_LEAST(1)},
	{"min_weight", K_INT, POLICY_KEY, POL(min_weight), .def = 1, AT_LEAST(1),
	 .hint = " (drain a backend with pin = 0)"},
	{"max_weight", K_INT, POLICY_KEY, POL(max_weight), .def = 100},
	{"max_step", K_DOUBLE, POLICY_KEY, POL(max_step), .def = 0.5, ABOVE(0)},
	{"deadband", K_INT, POLICY_KEY, POL(deadband), .def = 1, AT_LEAST(0)},
	{"stale_ticks", K_INT, POLICY_KEY, POL(stale_ticks), .def = 4, AT_LEAST(1)},
	{"min_rate", K_DOUBLE, POLICY_KEY, POL(min_rate), .def = 0.0, AT_LEAST(0)},
	/* Templates: ${service} is replaced in a service's effective policy. */
	{"latency_query", K_STRING, POLICY_KEY | P_SERVICE, POL(latency_query), .def_str = ""},
	{"error_query", K_STRING, POLICY_KEY | P_SERVICE, POL(error_query), .def_str = ""},
	{"rate_query", K_STRING, POLICY_KEY | P_SERVICE, POL(rate_query), .def_str = ""},

	/* services = ( { } ), the rest */
	{"health_check", K_GROUP, P_SERVICE, .parse = parse_health},
	{"backends", K_LIST, P_SERVICE, .flags = KF_REQUIRED, .parse = parse_backends},

	/* backends = ( { } ); weight -1 is an equal share, pin -1 not pinned */
	{"name", K_STRING, P_BACKEND, BACK(name)},
	{"url", K_STRING, P_BACKEND, BACK(url)},
	{"weight", K_INT, P_BACKEND, BACK(weight), .def = -1},
	{"pin", K_INT, P_BACKEND, BACK(pin), .def = -1},

	/* health_check = { }: what Traefik probes; 0 and NULL are unset */
	{"path", K_STRING, P_HEALTH, HEALTH(path), .flags = KF_REQUIRED, .check = check_abs_path},
	{"interval", K_DURATION, P_HEALTH, HEALTH(interval_ms)},
	{"timeout", K_DURATION, P_HEALTH, HEALTH(timeout_ms)},
	{"scheme", K_STRING, P_HEALTH, HEALTH(scheme), .names = scheme_names},
	{"hostname", K_STRING, P_HEALTH, HEALTH(hostname)},
	{"port", K_INT, P_HEALTH, HEALTH(port), WITHIN(1, 65535)},
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* A place's name in messages, and the prefix of its keys' names. */
static const struct {
	unsigned place;
	const char *where, *prefix;
} places[] = {
	{P_TOP, "the top level", ""},        {P_PROM, "prometheus", "prometheus."},
	{P_OUTPUT, "output", "output."},     {P_POLICY, "policy", "policy."},
	{P_SERVICE_POLICY, "service policy", "policy."},
	{P_SERVICE, "service", ""},          {P_BACKEND, "backend", ""},
	{P_HEALTH, "health_check", "health_check."},
};

static const char *place_where(unsigned place)
{
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (places[i].place == place)
			return places[i].where;
	return "?";
}

static const char *place_prefix(unsigned place)
{
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (places[i].place == place)
			return places[i].prefix;
	return "";
}

/* The place whose struct holds the key's field. */
static unsigned home_of(const struct key *k)
{
	return k->where & -k->where;
}

/* The struct holding k's field when k is read in place from a group whose
 * struct is base: a query key on a service goes to the service's policy. */
static char *field_base(const struct key *k, unsigned place, void *base)
{
	if (place == P_SERVICE && home_of(k) == P_POLICY)
		return (char *)&((struct wd_service_cfg *)base)->policy;
	return base;
}

static size_t type_size(enum key_type t)
{
	switch (t) {
	case K_BOOL: return sizeof(bool);
	case K_INT: case K_ENUM: return sizeof(int);
	case K_INT64: case K_DURATION: return sizeof(int64_t);
	case K_DOUBLE: return sizeof(double);
	case K_STRING: case K_SECRET: return sizeof(char *);
	default: return 0;
	}
}

/* ---- messages ----------------------------------------------------------- */

static int line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

static void vreport(struct parser *p, struct wd_errors *to, const config_setting_t *s,
		    bool ctx, const char *fmt, va_list ap)
{
	char msg[1024], pre[600] = "";
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (ctx && p->svc)
		snprintf(pre, sizeof(pre), "service \"%s\": ", p->svc->name ? p->svc->name : "?");
	if (ctx && p->backend)
		snprintf(pre + strlen(pre), sizeof(pre) - strlen(pre), "backend \"%s\": ",
			 p->backend->name ? p->backend->name : "?");
	errors_add(to, "%s:%d: %s%s", p->file, line_of(s), pre, msg);
}

/* An error at s, as is. */
static void __attribute__((format(printf, 3, 4)))
perr(struct parser *p, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(p, p->errs, s, false, fmt, ap);
	va_end(ap);
}

/* An error at s, prefixed with the service and backend being read. */
static void __attribute__((format(printf, 3, 4)))
kerr(struct parser *p, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(p, p->errs, s, true, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
pwarn(struct parser *p, const config_setting_t *s, const char *fmt, ...)
{
	if (!p->warns)
		return;
	va_list ap;
	va_start(ap, fmt);
	vreport(p, p->warns, s, true, fmt, ap);
	va_end(ap);
}

/* "a", "b" or "c" */
static void choices(const char *const *names, char *buf, size_t len)
{
	size_t n = 0, at = 0;
	while (names[n])
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s\"%s\"",
				       i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
}

static int name_index(const char *const *names, const char *v)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], v) == 0)
			return i;
	return -1;
}

/* ---- reading one value -------------------------------------------------- */

static bool within_bounds(struct parser *p, const config_setting_t *s, const struct key *k,
			  const char *qn, double v)
{
	bool open = k->bounds & B_LO_OPEN;
	bool lo_ok = !(k->bounds & B_LO) || (open ? v > k->lo : v >= k->lo);
	bool hi_ok = !(k->bounds & B_HI) || v <= k->hi;
	if (lo_ok && hi_ok)
		return true;
	const char *h = k->hint ? k->hint : "";
	if (k->type == K_DURATION)
		kerr(p, s, "%s must be at least %.15gms%s", qn, k->lo, h);
	else if ((k->bounds & B_HI) && open)
		kerr(p, s, "%s %.15g must be in (%.15g, %.15g]%s", qn, v, k->lo, k->hi, h);
	else if (k->bounds & B_HI)
		kerr(p, s, "%s %.15g not within %.15g..%.15g%s", qn, v, k->lo, k->hi, h);
	else if (k->lo == 0)
		kerr(p, s, "%s must %s%s", qn, open ? "be above 0" : "not be negative", h);
	else
		kerr(p, s, "%s %.15g must be %s %.15g%s", qn, v, open ? "above" : "at least", k->lo, h);
	return false;
}

static bool setting_number(const config_setting_t *s, double *v, bool int_only)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT: *v = config_setting_get_int(s); return true;
	case CONFIG_TYPE_INT64: *v = (double)config_setting_get_int64(s); return true;
	case CONFIG_TYPE_FLOAT:
		if (int_only)
			return false;
		*v = config_setting_get_float(s);
		return true;
	default: return false;
	}
}

/* A duration is a string with a unit, or a number of seconds. */
static bool read_duration(struct parser *p, const config_setting_t *s, const char *qn,
			  int64_t *ms)
{
	char err[256];
	double secs;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (config_parse_duration(config_setting_get_string(s), ms, err, sizeof(err)) < 0) {
			kerr(p, s, "%s: %s", qn, err);
			return false;
		}
		return true;
	}
	if (!setting_number(s, &secs, false)) {
		kerr(p, s, "%s must be a duration such as \"15s\"", qn);
		return false;
	}
	if (!isfinite(secs) || secs * 1000 < 1) {
		kerr(p, s, "%s must be a positive duration", qn);
		return false;
	}
	if (secs > 1e9) {
		kerr(p, s, "%s is too large", qn);
		return false;
	}
	*ms = (int64_t)llround(secs * 1000);
	return true;
}

/* Reads a secret from the file a *_file key names; trailing newlines dropped.
 * The message names the file, never the content. */
static char *read_secret(struct parser *p, const config_setting_t *s, const char *qn,
			 const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		kerr(p, s, "%s: cannot read \"%s\": %s", qn, path, strerror(errno));
		return NULL;
	}
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	bool toolong = !feof(f) && fgetc(f) != EOF;
	fclose(f);
	char *v = NULL;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (toolong)
		kerr(p, s, "%s: \"%s\" is larger than %zu bytes", qn, path, sizeof(buf) - 1);
	else if (n == 0)
		kerr(p, s, "%s: \"%s\" is empty", qn, path);
	else if (!(v = strdup(buf)))
		kerr(p, s, "%s: out of memory", qn);
	explicit_bzero(buf, sizeof(buf));
	return v;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Replaces the string at field with a copy of v. */
static bool set_string(struct parser *p, const config_setting_t *s, char **field, const char *v)
{
	char *c = v ? strdup(v) : NULL;
	if (v && !c) {
		perr(p, s, "out of memory");
		return false;
	}
	free(*field);
	*field = c;
	return true;
}

/* Reads setting s into field, by the rules of key k (qn: its name in
 * messages). Returns false when s was not valid; the field is then unchanged. */
static bool read_value(struct parser *p, const config_setting_t *s, const struct key *k,
		       const char *qn, char *field)
{
	double v;
	int64_t ms;
	const char *str = config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s)
								       : NULL;
	char alts[256];
	switch (k->type) {
	case K_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			kerr(p, s, "%s must be true or false", qn);
			return false;
		}
		*(bool *)field = config_setting_get_bool(s) != 0;
		return true;
	case K_INT:
	case K_INT64:
		if (!setting_number(s, &v, true)) {
			kerr(p, s, "%s must be an integer", qn);
			return false;
		}
		if (v < -1e9 || v > 1e9) {
			kerr(p, s, "%s = %.0f is out of range", qn, v);
			return false;
		}
		if (!within_bounds(p, s, k, qn, v))
			return false;
		if (k->type == K_INT)
			*(int *)field = (int)v;
		else
			*(int64_t *)field = (int64_t)v;
		return true;
	case K_DOUBLE:
		if (!setting_number(s, &v, false)) {
			kerr(p, s, "%s must be a number", qn);
			return false;
		}
		if (!isfinite(v)) {
			kerr(p, s, "%s must be finite", qn);
			return false;
		}
		if (!within_bounds(p, s, k, qn, v))
			return false;
		*(double *)field = v;
		return true;
	case K_DURATION:
		if (!read_duration(p, s, qn, &ms) || !within_bounds(p, s, k, qn, (double)ms))
			return false;
		*(int64_t *)field = ms;
		return true;
	case K_ENUM:
		if (!str) {
			kerr(p, s, "%s must be a string", qn);
			return false;
		}
		if (name_index(k->names, str) < 0) {
			choices(k->names, alts, sizeof(alts));
			kerr(p, s, "%s \"%s\" is not %s", qn, str, alts);
			return false;
		}
		*(int *)field = name_index(k->names, str);
		return true;
	case K_STRING:
	case K_SECRET:
		if (!str) {
			kerr(p, s, "%s must be a string", qn);
			return false;
		}
		if (k->names && name_index(k->names, str) < 0) {
			choices(k->names, alts, sizeof(alts));
			kerr(p, s, "%s \"%s\" is not %s", qn, str, alts);
			return false;
		}
		if (!str[0] && (k->flags & KF_NOT_EMPTY)) {
			kerr(p, s, "%s is empty", qn);
			return false;
		}
		if (!set_string(p, s, (char **)field, !str[0] && (k->flags & KF_EMPTY_IS_NULL) ? NULL : str))
			return false;
		if (k->type == K_SECRET && str[0]) {
			char **secret = (char **)(field - k->off + k->secret_off);
			free_secret(*secret);
			*secret = read_secret(p, s, qn, str);
		}
		return true;
	default:
		return false;
	}
}

/* ---- reading a group ---------------------------------------------------- */

static const struct key *find_key(unsigned place, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if ((keys[i].where & place) && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Checks the shape of a group or list member. */
static bool is_shape(struct parser *p, const config_setting_t *s, const struct key *k,
		     const char *qn)
{
	if (k->type == K_GROUP && config_setting_type(s) != CONFIG_TYPE_GROUP) {
		kerr(p, s, "%s must be a group { ... }", qn);
		return false;
	}
	if (k->type == K_LIST && !config_setting_is_list(s) && !config_setting_is_array(s)) {
		kerr(p, s, "%s must be a list %s", qn, k->hint ? k->hint : "( { ... }, ... )");
		return false;
	}
	return true;
}

static void report_missing(struct parser *p, const config_setting_t *g, const struct key *k,
			   const char *qn)
{
	char alts[256] = "";
	if (k->type == K_ENUM)
		choices(k->names, alts, sizeof(alts));
	if (k->only)
		kerr(p, g, "%s is required for type \"%s\"", qn,
		     output_type_names[__builtin_ctz(k->only)]);
	else if (alts[0])
		kerr(p, g, "%s is required (%s)", qn, alts);
	else if (k->hint && (k->type == K_GROUP || k->type == K_LIST))
		kerr(p, g, "%s is required", k->hint);
	else
		kerr(p, g, "%s is required", qn);
}

/* Reads the keys of place from group g into base (the place's struct).
 * Output keys depend on the type: a first call with variant 0 rejects the
 * unknown keys and reads the keys for every type; a second call with the
 * type's bit reads the keys for that type and rejects those of others. */
static void read_place(struct parser *p, const config_setting_t *g, unsigned place, void *base,
		       unsigned variant)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		if (!(k->where & place) || (variant == 0) != (k->only == 0))
			continue;
		char qn[128];
		snprintf(qn, sizeof(qn), "%s%s", place_prefix(place), k->name);
		config_setting_t *s = config_setting_get_member(g, k->name);
		if (variant && !(k->only & variant)) {
			if (s)
				kerr(p, s, "%s is only for type \"%s\"", qn,
				     output_type_names[__builtin_ctz(k->only)]);
			continue;
		}
		if (!s) {
			if (k->flags & KF_REQUIRED)
				report_missing(p, g, k, qn);
			continue;
		}
		char *fb = field_base(k, place, base);
		if (k->parse) {
			if (is_shape(p, s, k, qn))
				k->parse(p, s, fb);
		} else if (read_value(p, s, k, qn, fb + k->off) && k->check) {
			k->check(p, s, qn, fb + k->off);
		}
	}
	/* After the known keys, so that messages can name the service or backend. */
	int n = config_setting_length(g);
	for (int i = 0; variant == 0 && i < n; i++) {
		config_setting_t *c = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(c);
		if (name && !find_key(place, name))
			kerr(p, c, "unknown key \"%s\" in %s", name, place_where(place));
	}
}

/* Sets the fields whose home is place to their defaults (base: zeroed, or
 * holding strings this frees). */
static bool set_defaults(unsigned place, void *base)
{
	bool ok = true;
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		if (home_of(k) != place || k->type == K_GROUP || k->type == K_LIST)
			continue;
		if (k->size != type_size(k->type))
			abort(); /* a row names a field of another type: a bug in the table */
		char *f = (char *)base + k->off;
		switch (k->type) {
		case K_BOOL: *(bool *)f = k->def != 0; break;
		case K_INT: case K_ENUM: *(int *)f = (int)k->def; break;
		case K_INT64: case K_DURATION: *(int64_t *)f = (int64_t)k->def; break;
		case K_DOUBLE: *(double *)f = k->def; break;
		case K_STRING:
		case K_SECRET:
			free(*(char **)f);
			*(char **)f = k->def_str ? strdup(k->def_str) : NULL;
			ok = ok && (!k->def_str || *(char **)f);
			break;
		default: break;
		}
	}
	return ok;
}

/* Frees the strings of the fields whose home is place (secrets wiped). */
static void free_place(unsigned place, void *base)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		if (home_of(k) != place || (k->type != K_STRING && k->type != K_SECRET))
			continue;
		char **f = (char **)((char *)base + k->off);
		free(*f);
		*f = NULL;
		if (k->type == K_SECRET) {
			char **secret = (char **)((char *)base + k->secret_off);
			free_secret(*secret);
			*secret = NULL;
		}
	}
}

/* ---- rules of single keys ------------------------------------------------ */

static void check_interval(struct parser *p, const config_setting_t *s, const char *qn,
			   const void *field)
{
	if (*(const int64_t *)field < 2000)
		pwarn(p, s, "%s below 2s: Traefik applies at most one change per 2s", qn);
}

static void check_listen(struct parser *p, const config_setting_t *s, const char *qn,
			 const void *field)
{
	const char *v = *(char *const *)field;
	const char *colon = strrchr(v, ':');
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (v[0] && (!colon || colon == v || !colon[1] || *end || port < 0 || port > 65535))
		kerr(p, s, "%s \"%s\" must be HOST:PORT (or \"\" to turn it off)", qn, v);
}

static bool is_http_url(const char *u)
{
	return (strncmp(u, "http://", 7) == 0 && u[7]) || (strncmp(u, "https://", 8) == 0 && u[8]);
}

static void check_http_url(struct parser *p, const config_setting_t *s, const char *qn,
			   const void *field)
{
	const char *v = *(char *const *)field;
	if (!is_http_url(v))
		kerr(p, s, "%s \"%s\" is not an http:// or https:// URL", qn, v);
}

static void check_redis_address(struct parser *p, const config_setting_t *s, const char *qn,
				const void *field)
{
	const char *v = *(char *const *)field;
	if (!v[0] || (v[0] != '/' && !strrchr(v, ':')))
		kerr(p, s, "%s \"%s\" must be HOST:PORT or a unix socket path", qn, v);
}

static void check_root_key(struct parser *p, const config_setting_t *s, const char *qn,
			   const void *field)
{
	const char *v = *(char *const *)field;
	if (!v[0] || strchr(v, '*'))
		kerr(p, s, "%s must be a non-empty key prefix", qn);
}

static void check_abs_path(struct parser *p, const config_setting_t *s, const char *qn,
			   const void *field)
{
	const char *v = *(char *const *)field;
	if (v[0] != '/')
		kerr(p, s, "%s \"%s\" must start with \"/\"", qn, v);
}

/* ---- groups --------------------------------------------------------------- */

static void parse_prometheus(struct parser *p, const config_setting_t *g, void *base)
{
	struct wd_prom_cfg *pc = &((struct wd_config *)base)->prom;
	read_place(p, g, P_PROM, pc, 0);
	if (pc->password && !pc->username)
		perr(p, config_setting_get_member(g, "password_file"),
		     "prometheus.password_file needs a username");
	if (pc->bearer_token && pc->username)
		perr(p, g, "prometheus: use either bearer_token_file or username/password_file, not both");
}

static void parse_headers(struct parser *p, const config_setting_t *h, void *base)
{
	struct wd_prom_cfg *pc = base;
	int n = config_setting_length(h);
	pc->headers = calloc((size_t)n + 1, sizeof(char *));
	if (!pc->headers) {
		perr(p, h, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(h, (unsigned)i);
		const char *v = config_setting_get_string(e);
		const char *colon = v ? strchr(v, ':') : NULL;
		if (!v || !colon || colon == v || strpbrk(v, "\r\n"))
			perr(p, e, "prometheus.headers[%d] must be \"Name: value\"", i);
		else if (!(pc->headers[pc->n_headers++] = strdup(v)))
			perr(p, e, "out of memory");
	}
}

static void parse_output(struct parser *p, const config_setting_t *g, void *base)
{
	struct wd_output_cfg *oc = &((struct wd_config *)base)->output;
	read_place(p, g, P_OUTPUT, oc, 0);
	const config_setting_t *t = config_setting_get_member(g, "type");
	const char *type = t ? config_setting_get_string(t) : NULL;
	int i = type ? name_index(output_type_names, type) : -1;
	if (i >= 0) /* else the type's error is all there is to say */
		read_place(p, g, P_OUTPUT, oc, 1u << i);
}

/* The rules between a policy's keys; prefix: who to name. */
static void check_policy_relations(struct parser *p, const config_setting_t *s,
				   const struct wd_policy_cfg *pc)
{
	if (pc->max_weight < pc->min_weight)
		kerr(p, s, "policy.max_weight %d below min_weight %d", pc->max_weight, pc->min_weight);
	if (pc->max_weight > pc->total)
		kerr(p, s, "policy.max_weight %d above total %d", pc->max_weight, pc->total);
}

static void parse_top_policy(struct parser *p, const config_setting_t *g, void *base)
{
	struct wd_policy_cfg *pc = &((struct wd_config *)base)->policy;
	read_place(p, g, P_POLICY, pc, 0);
	check_policy_relations(p, g, pc);
}

static void parse_service_policy(struct parser *p, const config_setting_t *g, void *base)
{
	struct wd_service_cfg *svc = base;
	read_place(p, g, P_SERVICE_POLICY, &svc->policy, 0);
	check_policy_relations(p, g, &svc->policy);
}

static void parse_health(struct parser *p, const config_setting_t *g, void *base)
{
	struct wd_service_cfg *svc = base;
	if (svc->kind != WD_KIND_SERVERS)
		kerr(p, g, "health_check is only for kind \"servers\"");
	svc->health.set = true;
	read_place(p, g, P_HEALTH, &svc->health, 0);
}

static void parse_backend(struct parser *p, const config_setting_t *g, struct wd_service_cfg *svc,
			  struct wd_backend_cfg *b)
{
	b->line = line_of(g);
	if (!set_defaults(P_BACKEND, b))
		perr(p, g, "out of memory");
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		kerr(p, g, "each backend must be a group { name = ...; }");
		return;
	}
	p->backend = b;
	read_place(p, g, P_BACKEND, b, 0);
	if (!b->name || !b->name[0]) {
		p->backend = NULL;
		kerr(p, g, "backend without a name");
		p->backend = b;
	}
	const config_setting_t *url = config_setting_get_member(g, "url");
	if (svc->kind == WD_KIND_SERVERS) {
		if (!b->url)
			kerr(p, g, "url is required for kind \"servers\"");
		else
			check_http_url(p, url, "url", &b->url);
	} else if (b->url) {
		kerr(p, url, "url is only for kind \"servers\" (a weighted child is a service name)");
	}
	const config_setting_t *pin = config_setting_get_member(g, "pin");
	if (pin && (b->pin < 0 || b->pin > svc->policy.total)) {
		kerr(p, pin, "pin %d not within 0..%d", b->pin, svc->policy.total);
		b->pin = -1; /* one error, not one more for the sum of the pins */
	}
	p->backend = NULL;
}

static void validate_service_weights(struct parser *p, const config_setting_t *g,
				     struct wd_service_cfg *svc)
{
	const struct wd_policy_cfg *pc = &svc->policy;
	size_t n = svc->n_backends, unpinned = 0;
	long pinsum = 0;
	bool positive = false;
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
				positive = true;
		} else {
			unpinned++;
			positive = true;
		}
	}
	if (pinsum > pc->total)
		kerr(p, g, "pins sum to %ld, above total %d", pinsum, pc->total);
	else if (!positive)
		kerr(p, g, "every backend is pinned to 0; at least one must keep traffic");
	else if (unpinned == 0 && pinsum != pc->total)
		kerr(p, g, "every backend is pinned, so the pins must sum to total %d (they sum to %ld)",
		     pc->total, pinsum);
	else if (unpinned > 0 && (long)unpinned * pc->min_weight > pc->total - pinsum)
		kerr(p, g, "%zu unpinned backends at min_weight %d need more than the %ld left by the pins",
		     unpinned, pc->min_weight, pc->total - pinsum);
	else if (unpinned > 0 && (long)unpinned * pc->max_weight < pc->total - pinsum)
		kerr(p, g, "%zu unpinned backends at max_weight %d cannot reach total %d", unpinned,
		     pc->max_weight, pc->total);
}

static void parse_backends(struct parser *p, const config_setting_t *bl, void *base)
{
	struct wd_service_cfg *svc = base;
	int n = config_setting_length(bl);
	if (n == 0) {
		kerr(p, bl, "needs at least one backend");
		return;
	}
	if (n > WD_MAX_BACKENDS) {
		kerr(p, bl, "%d backends, more than %d", n, WD_MAX_BACKENDS);
		return;
	}
	svc->backends = calloc((size_t)n, sizeof(*svc->backends));
	if (!svc->backends) {
		perr(p, bl, "out of memory");
		return;
	}
	svc->n_backends = (size_t)n;
	for (int i = 0; i < n; i++) {
		config_setting_t *bg = config_setting_get_elem(bl, (unsigned)i);
		parse_backend(p, bg, svc, &svc->backends[i]);
		for (int j = 0; j < i; j++)
			if (svc->backends[i].name && svc->backends[j].name &&
			    strcmp(svc->backends[i].name, svc->backends[j].name) == 0)
				kerr(p, bg, "backend \"%s\" defined twice (first at line %d)",
				     svc->backends[i].name, svc->backends[j].line);
	}
	validate_service_weights(p, bl, svc);
}

/* A copy of src, its strings duplicated; false when out of memory. */
static bool policy_copy(struct wd_policy_cfg *dst, const struct wd_policy_cfg *src)
{
	*dst = *src;
	bool ok = true;
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		if (home_of(k) != P_POLICY || k->type != K_STRING)
			continue;
		char **f = (char **)((char *)dst + k->off);
		*f = *f ? strdup(*f) : NULL;
		ok = ok && *f;
	}
	return ok;
}

/* Replaces ${service} in the policy's strings (the query templates). */
static bool policy_expand(struct wd_policy_cfg *pc, const char *name)
{
	bool ok = true;
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		if (home_of(k) != P_POLICY || k->type != K_STRING)
			continue;
		char **f = (char **)((char *)pc + k->off);
		char *x = *f ? config_expand_template(*f, name) : NULL;
		ok = ok && (!*f || x);
		free(*f);
		*f = x;
	}
	return ok;
}

static void parse_service(struct parser *p, const config_setting_t *g,
			  const struct wd_policy_cfg *defaults, struct wd_service_cfg *svc)
{
	svc->line = line_of(g);
	if (!policy_copy(&svc->policy, defaults) || !set_defaults(P_SERVICE, svc)) {
		perr(p, g, "out of memory");
		return;
	}
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		perr(p, g, "each service must be a group { name = ...; }");
		return;
	}
	p->svc = svc;
	read_place(p, g, P_SERVICE, svc, 0);
	p->svc = NULL;
	if (!svc->name || !svc->name[0]) {
		perr(p, g, "service without a name");
		if (!set_string(p, g, &svc->name, "?"))
			return;
	}
	p->svc = svc;
	if (!svc->label && !set_string(p, g, &svc->label, svc->kind == WD_KIND_SERVERS ? "instance" : "service"))
		goto out;
	if (!policy_expand(&svc->policy, svc->name))
		perr(p, g, "out of memory");
	if (!svc->policy.latency_query || !svc->policy.latency_query[0])
		kerr(p, g, "no latency_query (set it on the service or in policy)");
	const config_setting_t *pol = config_setting_get_member(g, "policy");
	if (svc->policy.objective == WD_OBJ_MARGINAL &&
	    (!svc->policy.rate_query || !svc->policy.rate_query[0]))
		kerr(p, pol ? pol : g, "objective \"marginal\" needs a rate_query");
out:
	p->svc = NULL;
}

static void parse_services(struct parser *p, const config_setting_t *sl, void *base)
{
	struct wd_config *cfg = base;
	int n = config_setting_length(sl);
	if (n == 0) {
		perr(p, sl, "services needs at least one service");
		return;
	}
	cfg->services = calloc((size_t)n, sizeof(*cfg->services));
	if (!cfg->services) {
		perr(p, sl, "out of memory");
		return;
	}
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

/* ---- the file ------------------------------------------------------------ */

int config_defaults(struct wd_config *cfg)
{
	bool ok = set_defaults(P_TOP, cfg);
	ok = set_defaults(P_PROM, &cfg->prom) && ok;
	ok = set_defaults(P_OUTPUT, &cfg->output) && ok;
	ok = set_defaults(P_POLICY, &cfg->policy) && ok;
	return ok ? 0 : -1;
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
	if (!cfg || !(cfg->path = strdup(path)) || config_defaults(cfg) < 0) {
		config_destroy(&lc);
		config_free(cfg);
		errors_add(errs, "%s: out of memory", path);
		return -1;
	}
	struct parser p = {.file = path, .errs = errs, .warns = warns};
	read_place(&p, config_root_setting(&lc), P_TOP, cfg, 0);
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
	free_place(P_TOP, cfg);
	free_place(P_PROM, &cfg->prom);
	for (size_t i = 0; i < cfg->prom.n_headers; i++)
		free(cfg->prom.headers[i]);
	free(cfg->prom.headers);
	free_place(P_OUTPUT, &cfg->output);
	free_place(P_POLICY, &cfg->policy);
	for (size_t i = 0; i < cfg->n_services; i++) {
		struct wd_service_cfg *s = &cfg->services[i];
		free_place(P_SERVICE, s);
		free_place(P_POLICY, &s->policy);
		free_place(P_HEALTH, &s->health);
		for (size_t j = 0; j < s->n_backends; j++)
			free_place(P_BACKEND, &s->backends[j]);
		free(s->backends);
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
