/* config: reads weightd.conf with libconfig into struct wd_config by the
 * table of keys in config_keys.c, collecting every error as
 * "FILE:LINE: message"; also durations and ${service} templates. */
#include "config.h"
#include "config_keys.h"
#include "haproxy_cli.h"
#include "text.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	e->msgs = xrealloc(e->msgs, (e->n + 1) * sizeof(*e->msgs));
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

/* Regex metacharacters of RE2, Prometheus's regex engine. */
static bool regex_meta(char c) { return c && strchr("\\.+*?()|[]{}^$", c) != NULL; }

/* Writes c inside a string opened by quote (0: outside any string): \ and
 * the quote are escaped in a "..." or '...' string; a raw `...` string has
 * no escapes. Returns the bytes written; o may be NULL to count them. */
static size_t put_char(char *o, char c, char quote)
{
	bool esc = quote && quote != '`' && (c == '\\' || c == quote);
	if (o) {
		o[0] = '\\';
		o[esc] = c;
	}
	return 1 + (size_t)esc;
}

/* Writes name as it must stand at its place in a PromQL expression: as is
 * outside a string; escaped for the string it stands in; and in the string
 * of a regex matcher (=~, !~) with the regex metacharacters escaped first,
 * so "a.b" matches only "a.b". A backquote cannot be escaped in a raw
 * string: names that reach here hold none (config validation). */
static size_t put_name(char *o, const char *name, char quote, bool regex)
{
	size_t n = 0;
	for (const char *c = name; *c; c++) {
		if (regex && regex_meta(*c))
			n += put_char(o ? o + n : NULL, '\\', quote);
		n += put_char(o ? o + n : NULL, *c, quote);
	}
	return n;
}

/* Is the string opening at p (a quote) the value of a regex matcher? */
static bool opens_regex(const char *tmpl, const char *p)
{
	while (p > tmpl && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n'))
		p--;
	return p - tmpl >= 2 && p[-1] == '~' && (p[-2] == '=' || p[-2] == '!');
}

/* One pass over tmpl following PromQL's strings; out NULL only counts. */
static size_t expand(char *out, const char *tmpl, const char *name)
{
	static const char key[] = "${service}";
	const size_t klen = sizeof(key) - 1;
	size_t n = 0;
	char quote = 0;
	bool regex = false;
	for (const char *p = tmpl; *p;) {
		if (strncmp(p, key, klen) == 0) {
			n += put_name(out ? out + n : NULL, name, quote, regex);
			p += klen;
			continue;
		}
		size_t take = 1;
		if (!quote && (*p == '"' || *p == '\'' || *p == '`')) {
			quote = *p;
			regex = opens_regex(tmpl, p);
		} else if (quote && *p == quote) {
			quote = 0;
		} else if (quote && quote != '`' && *p == '\\' && p[1]) {
			take = 2; /* an escaped character never ends the string */
		}
		if (out)
			memcpy(out + n, p, take);
		n += take;
		p += take;
	}
	return n;
}

char *config_expand_template(const char *tmpl, const char *name)
{
	size_t len = expand(NULL, tmpl, name);
	char *out = xmalloc(len + 1);
	expand(out, tmpl, name);
	out[len] = '\0';
	return out;
}

/* The place whose struct holds the key's field. */
unsigned config_home_of(const struct config_key *k)
{
	return k->where & -k->where;
}

/* The struct holding k's field when k is read in place from a group whose
 * struct is base: a query key on a service goes to the service's policy. */
static char *field_base(const struct config_key *k, unsigned place, void *base)
{
	if (place == P_SERVICE && config_home_of(k) == P_POLICY)
		return (char *)&((struct wd_service_cfg *)base)->policy;
	return base;
}

static size_t type_size(enum key_type t)
{
	switch (t) {
	case K_BOOL: return sizeof(bool);
	case K_TRISTATE: return sizeof(enum wd_tristate);
	case K_INT: case K_ENUM: return sizeof(int);
	case K_INT64: case K_DURATION: return sizeof(int64_t);
	case K_DOUBLE: return sizeof(double);
	case K_STRING: case K_SECRET: return sizeof(char *);
	default: return 0;
	}
}

/* ---- messages ----------------------------------------------------------- */

int config_line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

static void vreport(struct config_parser *p, struct wd_errors *to, const config_setting_t *s,
		    bool ctx, const char *fmt, va_list ap)
{
	char msg[1024], pre[600] = "";
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* A service or backend whose name is not read yet goes unnamed. */
	if (ctx && p->svc && p->svc->name)
		snprintf(pre, sizeof(pre), "service \"%s\": ", p->svc->name);
	if (ctx && p->backend && p->backend->name)
		snprintf(pre + strlen(pre), sizeof(pre) - strlen(pre), "backend \"%s\": ",
			 p->backend->name);
	errors_add(to, "%s:%d: %s%s", p->file, config_line_of(s), pre, msg);
}

/* An error at s, as is. */
void config_err(struct config_parser *p, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(p, p->errs, s, false, fmt, ap);
	va_end(ap);
}

/* An error at s, prefixed with the service and backend being read. */
void config_kerr(struct config_parser *p, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(p, p->errs, s, true, fmt, ap);
	va_end(ap);
}

void config_warn(struct config_parser *p, const config_setting_t *s, const char *fmt, ...)
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

int config_name_index(const char *const *names, const char *v)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], v) == 0)
			return i;
	return -1;
}

/* ---- reading one value -------------------------------------------------- */

static bool within_bounds(struct config_parser *p, const config_setting_t *s,
			  const struct config_key *k, const char *qn, double v)
{
	bool open = k->bounds & B_LO_OPEN;
	bool lo_ok = !(k->bounds & B_LO) || (open ? v > k->lo : v >= k->lo);
	bool hi_ok = !(k->bounds & B_HI) || v <= k->hi;
	if (lo_ok && hi_ok)
		return true;
	const char *h = k->hint ? k->hint : "";
	if (k->type == K_DURATION && (k->bounds & B_HI))
		config_kerr(p, s, "%s must be within %.15gms..%.15gms%s", qn, k->lo, k->hi, h);
	else if (k->type == K_DURATION)
		config_kerr(p, s, "%s must be at least %.15gms%s", qn, k->lo, h);
	else if ((k->bounds & B_HI) && open)
		config_kerr(p, s, "%s %.15g must be in (%.15g, %.15g]%s", qn, v, k->lo, k->hi, h);
	else if (k->bounds & B_HI)
		config_kerr(p, s, "%s %.15g not within %.15g..%.15g%s", qn, v, k->lo, k->hi, h);
	else if (k->lo == 0 && !open)
		config_kerr(p, s, "%s %.15g is negative%s", qn, v, h);
	else
		config_kerr(p, s, "%s %.15g must be %s %.15g%s", qn, v, open ? "above" : "at least", k->lo, h);
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
static bool read_duration(struct config_parser *p, const config_setting_t *s, const char *qn,
			  int64_t *ms)
{
	char err[256];
	double secs;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (config_parse_duration(config_setting_get_string(s), ms, err, sizeof(err)) < 0) {
			config_kerr(p, s, "%s: %s", qn, err);
			return false;
		}
		return true;
	}
	if (!setting_number(s, &secs, false)) {
		config_kerr(p, s, "%s must be a duration such as \"15s\"", qn);
		return false;
	}
	if (!isfinite(secs) || secs * 1000 < 1) {
		config_kerr(p, s, "%s must be a positive duration", qn);
		return false;
	}
	if (secs > 1e9) {
		config_kerr(p, s, "%s is too large", qn);
		return false;
	}
	*ms = (int64_t)llround(secs * 1000);
	return true;
}

/* Reads a secret from the file a *_file key names; trailing newlines dropped.
 * The message names the file, never the content. */
static char *read_secret(struct config_parser *p, const config_setting_t *s, const char *qn,
			 const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		config_kerr(p, s, "%s: cannot read \"%s\": %s", qn, path, strerror(errno));
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
		config_kerr(p, s, "%s: \"%s\" is larger than %zu bytes", qn, path, sizeof(buf) - 1);
	else if (n == 0)
		config_kerr(p, s, "%s: \"%s\" is empty", qn, path);
	else
		v = xstrdup(buf);
	util_wipe(buf, sizeof(buf));
	return v;
}

/* Replaces the string at field with a copy of v. */
void config_set_string(char **field, const char *v)
{
	char *c = v ? xstrdup(v) : NULL;
	free(*field);
	*field = c;
}

/* Every string of the config reaches an output, a query, a log line or a
 * file name, and the YAML emitter and Prometheus refuse bytes that are not
 * UTF-8: they are refused here, at load, with the line. */
bool config_valid_utf8(struct config_parser *p, const config_setting_t *s, const char *qn,
		       const char *v, char **fixed)
{
	long bad = text_utf8_invalid_at(v);
	if (bad < 0)
		return true;
	config_kerr(p, s, "%s is not valid UTF-8 (byte %ld of the string); write it in UTF-8", qn,
		    bad + 1);
	if (fixed && (*fixed = xstrdup(v)))
		while ((bad = text_utf8_invalid_at(*fixed)) >= 0)
			(*fixed)[bad] = '?';
	return false;
}

/* Stores v (allocated, owned from here) as the string at field of key k (qn:
 * its name in messages), "" as NULL where "" means unset; a K_SECRET's file
 * is read when use is set. Returns use. */
static bool store_string(struct config_parser *p, const config_setting_t *s,
			 const struct config_key *k, const char *qn, char *field, char *v,
			 bool use)
{
	char **f = (char **)field;
	free(*f);
	if (!v[0] && (k->flags & KF_EMPTY_IS_NULL)) {
		free(v);
		v = NULL;
	}
	*f = v;
	if (use && k->type == K_SECRET && v && v[0]) {
		char **secret = (char **)(field - k->off + k->secret_off);
		util_free_secret(*secret);
		*secret = read_secret(p, s, qn, v);
	}
	return use;
}

/* Reads setting s into field, by the rules of key k (qn: its name in
 * messages). Returns false when s was not valid; the field is then unchanged. */
static bool read_value(struct config_parser *p, const config_setting_t *s,
		       const struct config_key *k, const char *qn, char *field)
{
	double v;
	int64_t ms;
	const char *str = config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s)
								       : NULL;
	char alts[256];
	char *fixed = NULL;
	bool text = k->type == K_STRING || k->type == K_SECRET || k->type == K_ENUM;
	if (text && str && !config_valid_utf8(p, s, qn, str, &fixed)) {
		if (k->type != K_ENUM)
			return store_string(p, s, k, qn, field, fixed, false);
		free(fixed);
		return false;
	}
	switch (k->type) {
	case K_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			config_kerr(p, s, "%s must be true or false", qn);
			return false;
		}
		*(bool *)field = config_setting_get_bool(s) != 0;
		return true;
	case K_TRISTATE:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			config_kerr(p, s, "%s must be true or false", qn);
			return false;
		}
		*(enum wd_tristate *)field = config_setting_get_bool(s) ? WD_YES : WD_NO;
		return true;
	case K_INT:
	case K_INT64:
		if (!setting_number(s, &v, true)) {
			config_kerr(p, s, "%s must be an integer", qn);
			return false;
		}
		if (v < -1e9 || v > 1e9) {
			config_kerr(p, s, "%s = %.0f is out of range", qn, v);
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
			config_kerr(p, s, "%s must be a number", qn);
			return false;
		}
		if (!isfinite(v)) {
			config_kerr(p, s, "%s must be finite", qn);
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
			config_kerr(p, s, "%s must be a string", qn);
			return false;
		}
		if (config_name_index(k->names, str) < 0) {
			choices(k->names, alts, sizeof(alts));
			config_kerr(p, s, "%s \"%s\" is not %s", qn, str, alts);
			return false;
		}
		*(int *)field = config_name_index(k->names, str);
		return true;
	case K_STRING:
	case K_SECRET:
		if (!str) {
			config_kerr(p, s, "%s must be a string", qn);
			return false;
		}
		if (k->names && config_name_index(k->names, str) < 0) {
			choices(k->names, alts, sizeof(alts));
			config_kerr(p, s, "%s \"%s\" is not %s", qn, str, alts);
			return false;
		}
		if (!str[0] && (k->flags & KF_NOT_EMPTY)) {
			config_kerr(p, s, "%s is empty", qn);
			return false;
		}
		return store_string(p, s, k, qn, field, xstrdup(str), true);
	default:
		return false;
	}
}

/* ---- reading a group ---------------------------------------------------- */

static const struct config_key *find_key(unsigned place, const char *name)
{
	for (size_t i = 0; i < config_n_keys; i++)
		if ((config_keys[i].where & place) && strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/* Checks the shape of a group or list member. */
static bool is_shape(struct config_parser *p, const config_setting_t *s, const struct config_key *k,
		     const char *qn)
{
	if (k->type == K_GROUP && config_setting_type(s) != CONFIG_TYPE_GROUP) {
		config_kerr(p, s, "%s must be a group { ... }", qn);
		return false;
	}
	if (k->type == K_LIST && !config_setting_is_list(s) && !config_setting_is_array(s)) {
		config_kerr(p, s, "%s must be a list %s", qn, k->hint ? k->hint : "( { ... }, ... )");
		return false;
	}
	return true;
}

/* The output types of a key's only mask: "\"redis\" or \"haproxy\"". */
static const char *only_types(unsigned only, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	for (unsigned t = 0; config_output_types[t] && at < len; t++)
		if (only & (1u << t))
			at += (size_t)snprintf(buf + at, len - at, "%s\"%s\"", at ? " or " : "",
					       config_output_types[t]);
	return buf;
}

static void report_missing(struct config_parser *p, const config_setting_t *g,
			   const struct config_key *k, const char *qn)
{
	char alts[256] = "";
	if (k->type == K_ENUM)
		choices(k->names, alts, sizeof(alts));
	if (k->only)
		config_kerr(p, g, "%s is required for type %s", qn,
			    only_types(k->only, alts, sizeof(alts)));
	else if (alts[0])
		config_kerr(p, g, "%s is required (%s)", qn, alts);
	else if (k->hint && (k->type == K_GROUP || k->type == K_LIST))
		config_kerr(p, g, "%s is required", k->hint);
	else
		config_kerr(p, g, "%s is required", qn);
}

/* Reads the keys of place from group g into base (the place's struct).
 * Output keys depend on the type: a first call with variant 0 rejects the
 * unknown keys and reads the keys for every type; a second call with the
 * type's bit reads the keys for that type and rejects those of others. */
void config_read_group(struct config_parser *p, const config_setting_t *g, unsigned place,
		       void *base, unsigned variant)
{
	for (size_t i = 0; i < config_n_keys; i++) {
		const struct config_key *k = &config_keys[i];
		if (!(k->where & place) || (variant == 0) != (k->only == 0))
			continue;
		char qn[128];
		snprintf(qn, sizeof(qn), "%s%s", config_place_prefix(place), k->name);
		config_setting_t *s = config_setting_get_member(g, k->name);
		if (variant && !(k->only & variant)) {
			char types[64];
			if (s)
				config_kerr(p, s, "%s is only for type %s", qn,
					    only_types(k->only, types, sizeof(types)));
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
			config_kerr(p, c, "unknown key \"%s\" in %s", name, config_place_name(place));
	}
}

/* Sets the fields whose home is place to their defaults (base: zeroed, or
 * holding strings this frees). */
void config_set_defaults(unsigned place, void *base)
{
	for (size_t i = 0; i < config_n_keys; i++) {
		const struct config_key *k = &config_keys[i];
		if (config_home_of(k) != place || k->type == K_GROUP || k->type == K_LIST)
			continue;
		if (k->size != type_size(k->type))
			abort(); /* a row names a field of another type: a bug in the table */
		char *f = (char *)base + k->off;
		switch (k->type) {
		case K_BOOL: *(bool *)f = k->def != 0; break;
		case K_TRISTATE: *(enum wd_tristate *)f = WD_UNSET; break;
		case K_INT: case K_ENUM: *(int *)f = (int)k->def; break;
		case K_INT64: case K_DURATION: *(int64_t *)f = (int64_t)k->def; break;
		case K_DOUBLE: *(double *)f = k->def; break;
		case K_STRING:
		case K_SECRET:
			free(*(char **)f);
			*(char **)f = k->def_str ? xstrdup(k->def_str) : NULL;
			break;
		default: break;
		}
	}
}

/* Frees the strings of the fields whose home is place (secrets wiped). */
static void free_place(unsigned place, void *base)
{
	for (size_t i = 0; i < config_n_keys; i++) {
		const struct config_key *k = &config_keys[i];
		if (config_home_of(k) != place || (k->type != K_STRING && k->type != K_SECRET))
			continue;
		char **f = (char **)((char *)base + k->off);
		free(*f);
		*f = NULL;
		if (k->type == K_SECRET) {
			char **secret = (char **)((char *)base + k->secret_off);
			util_free_secret(*secret);
			*secret = NULL;
		}
	}
}

/* ---- the file ------------------------------------------------------------ */

int config_defaults(struct wd_config *cfg)
{
	config_set_defaults(P_TOP, cfg);
	config_set_defaults(P_PROM, &cfg->prom);
	config_set_defaults(P_OUTPUT, &cfg->output);
	config_set_defaults(P_POLICY, &cfg->policy);
	return 0;
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
	struct wd_config *cfg = xcalloc(1, sizeof(*cfg));
	cfg->path = xstrdup(path);
	config_defaults(cfg);
	struct config_parser p = {.file = path, .errs = errs, .warns = warns};
	config_read_group(&p, config_root_setting(&lc), P_TOP, cfg, 0);
	config_destroy(&lc);
	if (errs->n == errs_before)
		haproxy_check_config(cfg, errs);
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
		for (size_t j = 0; j < s->health.n_headers; j++)
			free(s->health.headers[j]);
		free(s->health.headers);
		free_place(P_COOKIE, &s->lb);
		for (size_t j = 0; j < s->n_backends; j++) {
			free_place(P_BACKEND, &s->backends[j]);
			free(s->backends[j].child);
		}
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

const char *config_metrics_name(enum wd_metrics m)
{
	return m == WD_METRICS_TRAEFIK ? "traefik" : m == WD_METRICS_HAPROXY ? "haproxy" : "custom";
}

bool config_split_layout(const struct wd_service_cfg *svc)
{
	return svc->metrics == WD_METRICS_TRAEFIK && svc->kind == WD_KIND_SERVERS;
}

int config_backend_index(const struct wd_service_cfg *svc, const char *name)
{
	for (size_t i = 0; i < svc->n_backends; i++)
		if (svc->backends[i].name && strcmp(svc->backends[i].name, name) == 0)
			return (int)i;
	return -1;
}
