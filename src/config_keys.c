/* config_keys: every key of weightd.conf, one row each (name, type, where it
 * may stand, field, default, bounds), with the rules a row cannot say: the
 * checks of single keys and the parse functions of the groups, which hold the
 * rules between keys. config.c reads a file by this table. */
#include "config_keys.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "delay.h"
#include "log.h"
#include "predict.h"
#include "preset.h"
#include "traefik.h"
#include "util.h"

static config_check_fn check_interval, check_listen, check_http_url, check_address,
	check_root_key, check_label, check_abs_path, check_hostname, check_api_url, check_strategy,
	check_transport, check_cookie_name;
static config_parse_fn parse_prometheus, parse_headers, parse_output, parse_top_policy,
	parse_services, parse_service_policy, parse_health, parse_backends, parse_health_headers,
	parse_sticky, parse_passive;

static const char *const objective_names[] = {"latency", "marginal", NULL};
static const char *const kind_names[] = {"servers", "weighted", NULL};
const char *const config_output_types[] = {"file", "redis", "haproxy", NULL};
static const char *const scheme_names[] = {"http", "https", NULL};
static const char *const metrics_names[] = {"custom", "traefik", "haproxy", NULL};
static const char *const stat_names[] = {"mean", "p95", NULL};
static const char *const same_site_names[] = {"none", "lax", "strict", NULL};

#define FIELD(T, f) .off = offsetof(T, f), .size = sizeof(((T *)0)->f)
#define TOP(f) FIELD(struct wd_config, f)
#define PROM(f) FIELD(struct wd_prom_cfg, f)
#define OUT(f) FIELD(struct wd_output_cfg, f)
#define POL(f) FIELD(struct wd_policy_cfg, f)
#define SVC(f) FIELD(struct wd_service_cfg, f)
#define BACK(f) FIELD(struct wd_backend_cfg, f)
#define HEALTH(f) FIELD(struct wd_health_cfg, f)
#define LB(f) FIELD(struct wd_lb_cfg, f)
#define AT_LEAST(x) .bounds = B_LO, .lo = (x)
#define ABOVE(x) .bounds = B_LO | B_LO_OPEN, .lo = (x)
#define WITHIN(a, b) .bounds = B_LO | B_HI, .lo = (a), .hi = (b)
#define ABOVE_UPTO(a, b) .bounds = B_LO | B_LO_OPEN | B_HI, .lo = (a), .hi = (b)
#define FILE_ONLY .only = 1u << WD_OUT_FILE
#define REDIS_ONLY .only = 1u << WD_OUT_REDIS
#define REDIS_HAPROXY .only = (1u << WD_OUT_REDIS) | (1u << WD_OUT_HAPROXY)
#define POLICY_KEY (P_POLICY | P_SERVICE_POLICY)

/* Every key of weightd.conf, one row each: its name, type, where it may
 * stand, its field, default and bounds. The loader, the defaults, the
 * unknown-key check, the "only for type" check and config_free all read this
 * table; nothing else states a default or a bound.
 *
 * To add a key: add its field to the struct in config.h and one row here in
 * the block of its group (within a group, keys are read in the order of the
 * rows). A number gets its bounds with AT_LEAST/ABOVE/WITHIN; a rule the
 * bounds cannot say goes in a check function (config_check_fn) named in the row. A
 * policy key (where POLICY_KEY) may be overridden in a service's policy group
 * at once; leave out P_SERVICE_POLICY to keep it global. A rule between keys
 * goes into the group's parse function (e.g. check_policy_relations). */
const struct config_key config_keys[] = {
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
	{"metrics", K_ENUM, P_TOP, TOP(metrics), .names = metrics_names},
	{"traefik_api", K_STRING, P_TOP, TOP(traefik_api), .def_str = "", .check = check_api_url},
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
	{"type", K_ENUM, P_OUTPUT, OUT(type), .flags = KF_REQUIRED, .names = config_output_types},
	{"path", K_STRING, P_OUTPUT, OUT(path), .flags = KF_REQUIRED | KF_NOT_EMPTY, FILE_ONLY},
	{"take_over", K_BOOL, P_OUTPUT, OUT(take_over), FILE_ONLY},
	/* Redis's address has a default; HAProxy's runtime API none (parse_output) */
	{"address", K_STRING, P_OUTPUT, OUT(address), .def_str = "127.0.0.1:6379", REDIS_HAPROXY,
	 .check = check_address},
	{"db", K_INT, P_OUTPUT, OUT(db), WITHIN(0, 1000), REDIS_ONLY},
	{"username", K_STRING, P_OUTPUT, OUT(username), .flags = KF_EMPTY_IS_NULL, REDIS_ONLY},
	{"password_file", K_SECRET, P_OUTPUT, OUT(password_file),
	 .secret_off = offsetof(struct wd_output_cfg, password), REDIS_ONLY},
	{"root_key", K_STRING, P_OUTPUT, OUT(root_key), .def_str = "traefik", REDIS_ONLY,
	 .check = check_root_key},
	{"timeout", K_DURATION, P_OUTPUT, OUT(timeout_ms), .def = 2000, REDIS_HAPROXY},

	/* services = ( { } ), up to its policy group: the query keys below may
	 * also stand on the service itself, and win over its policy group */
	{"name", K_STRING, P_SERVICE, SVC(name)},
	{"kind", K_ENUM, P_SERVICE, SVC(kind), .names = kind_names},
	/* its default is the top level's (parse_service) */
	{"metrics", K_ENUM, P_SERVICE, SVC(metrics), .names = metrics_names},
	{"label", K_STRING, P_SERVICE, SVC(label), .flags = KF_NOT_EMPTY, .check = check_label},
	{"freeze", K_BOOL, P_SERVICE, SVC(freeze)},
	/* output.type "haproxy" only (haproxy_check_config) */
	{"haproxy_backend", K_STRING, P_SERVICE, SVC(haproxy_backend)},
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
	{"write_budget", K_INT, POLICY_KEY, POL(write_budget), .def = 25, WITHIN(0, 100)},
	{"stale_ticks", K_INT, POLICY_KEY, POL(stale_ticks), .def = 4, AT_LEAST(1)},
	{"min_rate", K_DOUBLE, POLICY_KEY, POL(min_rate), .def = 0.0, AT_LEAST(0)},
	{"min_requests", K_DOUBLE, POLICY_KEY, POL(min_requests), .def = 10.0, AT_LEAST(0)},
	/* Templates: ${service} is replaced in a service's effective policy. */
	{"latency_query", K_STRING, POLICY_KEY | P_SERVICE, POL(latency_query), .def_str = ""},
	{"error_query", K_STRING, POLICY_KEY | P_SERVICE, POL(error_query), .def_str = ""},
	{"rate_query", K_STRING, POLICY_KEY | P_SERVICE, POL(rate_query), .def_str = ""},
	/* The signal's range; the built-in queries' statistic (preset.h). */
	{"window", K_DURATION, POLICY_KEY | P_SERVICE, POL(window_ms)},
	{"latency_statistic", K_ENUM, POLICY_KEY | P_SERVICE, POL(latency_stat), .names = stat_names},

	/* The operator's load-balancer options (traefik.h writes them) */
	{"strategy", K_STRING, P_SERVICE, SVC(lb.strategy), .check = check_strategy},
	{"pass_host_header", K_TRISTATE, P_SERVICE, SVC(lb.pass_host_header)},
	{"servers_transport", K_STRING, P_SERVICE, SVC(lb.servers_transport),
	 .check = check_transport},
	{"sticky_cookie", K_GROUP, P_SERVICE, .parse = parse_sticky},
	{"passive_health_check", K_GROUP, P_SERVICE, .parse = parse_passive},

	/* services = ( { } ), the rest */
	{"health_check", K_GROUP, P_SERVICE, .parse = parse_health},
	{"backends", K_LIST, P_SERVICE, .flags = KF_REQUIRED, .parse = parse_backends},

	/* backends = ( { } ); weight -1 is an equal share, pin -1 not pinned */
	{"name", K_STRING, P_BACKEND, BACK(name)},
	{"url", K_STRING, P_BACKEND, BACK(url)},
	{"weight", K_INT, P_BACKEND, BACK(weight), .def = -1, AT_LEAST(0),
	 .hint = " (leave weight out for an equal share)"},
	{"pin", K_INT, P_BACKEND, BACK(pin), .def = -1},
	{"haproxy_server", K_STRING, P_BACKEND, BACK(haproxy_server)},

	/* health_check = { }: what Traefik probes; 0 and NULL are unset */
	{"path", K_STRING, P_HEALTH, HEALTH(path), .flags = KF_REQUIRED, .check = check_abs_path},
	{"interval", K_DURATION, P_HEALTH, HEALTH(interval_ms)},
	{"timeout", K_DURATION, P_HEALTH, HEALTH(timeout_ms)},
	{"scheme", K_STRING, P_HEALTH, HEALTH(scheme), .names = scheme_names},
	{"hostname", K_STRING, P_HEALTH, HEALTH(hostname), .check = check_hostname},
	{"port", K_INT, P_HEALTH, HEALTH(port), WITHIN(1, 65535)},
	{"method", K_STRING, P_HEALTH, HEALTH(method), .flags = KF_NOT_EMPTY,
	 .check = check_hostname},
	{"follow_redirects", K_TRISTATE, P_HEALTH, HEALTH(follow_redirects)},
	{"headers", K_LIST, P_HEALTH, .hint = "of \"Name: value\" strings",
	 .parse = parse_health_headers},

	/* sticky_cookie = { }, passive_health_check = { }: may be empty */
	{"name", K_STRING, P_COOKIE, LB(cookie_name), .check = check_cookie_name},
	{"secure", K_TRISTATE, P_COOKIE, LB(cookie_secure)},
	{"http_only", K_TRISTATE, P_COOKIE, LB(cookie_http_only)},
	{"same_site", K_STRING, P_COOKIE, LB(cookie_same_site), .names = same_site_names},
	{"failure_window", K_DURATION, P_PASSIVE, LB(failure_window_ms)},
	{"max_failed_attempts", K_INT, P_PASSIVE, LB(max_failed_attempts), AT_LEAST(1)},
};
const size_t config_n_keys = sizeof(config_keys) / sizeof(config_keys[0]);

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
	{P_COOKIE, "sticky_cookie", "sticky_cookie."},
	{P_PASSIVE, "passive_health_check", "passive_health_check."},
};

const char *config_place_name(unsigned place)
{
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (places[i].place == place)
			return places[i].where;
	return "?";
}

const char *config_place_prefix(unsigned place)
{
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (places[i].place == place)
			return places[i].prefix;
	return "";
}

/* ---- rules of single keys ------------------------------------------------ */

/* The output type the file names, read ahead from anywhere in it (the keys
 * of the top level are read before the output group). */
static bool output_type_is(const config_setting_t *s, const char *type)
{
	config_setting_t *root = config_root_setting(s->config);
	const config_setting_t *t = config_setting_lookup(root, "output.type");
	const char *v = t ? config_setting_get_string(t) : NULL;
	return v && strcmp(v, type) == 0;
}

static void check_interval(struct config_parser *p, const config_setting_t *s, const char *qn,
			   const void *field)
{
	/* HAProxy applies a runtime API change at once: only Traefik throttles. */
	if (*(const int64_t *)field < 2000 && !output_type_is(s, "haproxy"))
		config_warn(p, s, "%s below 2s: Traefik applies at most one change per 2s", qn);
}

static void check_listen(struct config_parser *p, const config_setting_t *s, const char *qn,
			 const void *field)
{
	const char *v = *(char *const *)field;
	const char *colon = strrchr(v, ':');
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (v[0] && (!colon || colon == v || !colon[1] || *end || port < 0 || port > 65535))
		config_kerr(p, s, "%s \"%s\" must be HOST:PORT (or \"\" to turn it off)", qn, v);
}

/* Has s a space (unless space_ok) or a control character? None belongs in a
 * path, a host name or a URL, nor a control character in a backend's label
 * value. */
static bool has_space_or_control(const char *s, bool space_ok)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < ' ' || *c == 0x7f || (*c == ' ' && !space_ok))
			return true;
	return false;
}

/* http:// or https://, a host, and no space or control character (which
 * neither Traefik nor curl take in a URL). */
static bool is_http_url(const char *u)
{
	if (has_space_or_control(u, false))
		return false;
	return (strncmp(u, "http://", 7) == 0 && u[7]) || (strncmp(u, "https://", 8) == 0 && u[8]);
}

static void check_http_url(struct config_parser *p, const config_setting_t *s, const char *qn,
			   const void *field)
{
	const char *v = *(char *const *)field;
	if (!is_http_url(v))
		config_kerr(p, s, "%s \"%s\" is not an http:// or https:// URL", qn, v);
}

static void check_address(struct config_parser *p, const config_setting_t *s, const char *qn,
			  const void *field)
{
	const char *v = *(char *const *)field;
	if (!v[0] || (v[0] != '/' && !strrchr(v, ':')))
		config_kerr(p, s, "%s \"%s\" must be HOST:PORT or a unix socket path", qn, v);
}

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define NAME_RULE "may use only letters, digits, \".\", \"_\" and \"-\""

/* A Traefik service name weightd writes or references: a "/" would break the
 * Redis key tree, "@" is Traefik's provider separator, a quote or backslash
 * would end up in a query. A weighted child may name its provider after one
 * "@" ("app-v1@file"), with the same characters. */
static bool valid_service_name(const char *s, bool provider_ok)
{
	const char *at = provider_ok ? strchr(s, '@') : NULL;
	size_t n = at ? (size_t)(at - s) : strlen(s);
	if (n == 0 || strspn(s, NAME_CHARS) != n)
		return false;
	return !at || (at[1] && strspn(at + 1, NAME_CHARS) == strlen(at + 1));
}

/* Traefik's rootKey: names joined by single "/" (a stray "/" or "*" would put
 * the keys where Traefik does not look, or into a pattern). */
static void check_root_key(struct config_parser *p, const config_setting_t *s, const char *qn,
			   const void *field)
{
	const char *v = *(char *const *)field;
	size_t n = strlen(v);
	if (!n || strspn(v, NAME_CHARS "/") != n || v[0] == '/' || v[n - 1] == '/' || strstr(v, "//"))
		config_kerr(p, s,
			    "%s \"%s\" must be a key prefix of letters, digits, \".\", \"_\", \"-\" and "
			    "inner \"/\"",
			    qn, v);
}

/* A Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*. */
static void check_label(struct config_parser *p, const config_setting_t *s, const char *qn,
			const void *field)
{
	const char *v = *(char *const *)field;
	bool ok = !isdigit((unsigned char)v[0]);
	for (const char *c = v; *c; c++)
		ok = ok && (isalnum((unsigned char)*c) || *c == '_');
	if (!ok)
		config_kerr(p, s, "%s \"%s\" is not a Prometheus label name (letters, digits and "
				  "\"_\", not starting with a digit)",
			    qn, v);
}

static void check_abs_path(struct config_parser *p, const config_setting_t *s, const char *qn,
			   const void *field)
{
	const char *v = *(char *const *)field;
	if (v[0] != '/' || has_space_or_control(v, false))
		config_kerr(p, s, "%s \"%s\" must start with \"/\" and hold no space or control "
				  "character",
			    qn, v);
}

static void check_hostname(struct config_parser *p, const config_setting_t *s, const char *qn,
			   const void *field)
{
	const char *v = *(char *const *)field;
	if (!v[0] || has_space_or_control(v, false))
		config_kerr(p, s, "%s must be a host name, without spaces or control characters", qn);
}

static void check_api_url(struct config_parser *p, const config_setting_t *s, const char *qn,
			  const void *field)
{
	if ((*(char *const *)field)[0])
		check_http_url(p, s, qn, field);
}

/* wrr, hrw or leasttime; p2c ignores weights; a split layout's parent is a
 * weighted service, which knows only weighted round robin. */
static void check_strategy(struct config_parser *p, const config_setting_t *s, const char *qn,
			   const void *field)
{
	static const char *const ok[] = {"wrr", "hrw", "leasttime", NULL};
	const char *v = *(char *const *)field;
	if (strcmp(v, "p2c") == 0)
		config_kerr(p, s, "%s \"p2c\" ignores weights; use \"wrr\", \"hrw\" or \"leasttime\"", qn);
	else if (config_name_index(ok, v) < 0)
		config_kerr(p, s, "%s \"%s\" is not \"wrr\", \"hrw\" or \"leasttime\"", qn, v);
	else if (p->svc && config_split_layout(p->svc) && strcmp(v, "wrr") != 0)
		config_kerr(p, s, "with metrics = \"%s\" the service is a weighted parent over one-server "
			    "children, which Traefik balances by weighted round robin only: remove %s, "
			    "or set metrics = \"custom\"", config_metrics_name(p->svc->metrics), qn);
}

static void check_transport(struct config_parser *p, const config_setting_t *s, const char *qn,
			    const void *field)
{
	const char *v = *(char *const *)field;
	if (!valid_service_name(v, true))
		config_kerr(p, s, "%s \"%s\" " NAME_RULE " (and one \"@provider\")", qn, v);
}

static void check_cookie_name(struct config_parser *p, const config_setting_t *s, const char *qn,
			      const void *field)
{
	const char *v = *(char *const *)field;
	if (!valid_service_name(v, false))
		config_kerr(p, s, "%s \"%s\" " NAME_RULE, qn, v);
}

/* ---- groups --------------------------------------------------------------- */

static void parse_prometheus(struct config_parser *p, const config_setting_t *g, void *base)
{
	struct wd_prom_cfg *pc = &((struct wd_config *)base)->prom;
	config_read_group(p, g, P_PROM, pc, 0);
	if (pc->password && !pc->username)
		config_err(p, config_setting_get_member(g, "password_file"),
		     "prometheus.password_file needs a username");
	if (pc->bearer_token && pc->username)
		config_err(p, g, "prometheus: use either bearer_token_file or username/password_file, not both");
}

/* A list of "Name: value" strings (qn: its name in messages) into *out. */
static void read_header_list(struct config_parser *p, const config_setting_t *h, const char *qn,
			     char ***out, size_t *n_out)
{
	int n = config_setting_length(h);
	*out = xcalloc((size_t)n + 1, sizeof(char *));
	char what[64];
	snprintf(what, sizeof(what), "%s[]", qn);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(h, (unsigned)i);
		const char *v = config_setting_get_string(e);
		const char *colon = v ? strchr(v, ':') : NULL;
		if (!v || !colon || colon == v || strpbrk(v, "\r\n"))
			config_err(p, e, "%s[%d] must be \"Name: value\"", qn, i);
		else if (!config_valid_utf8(p, e, what, v, NULL))
			continue;
		else
			(*out)[(*n_out)++] = xstrdup(v);
	}
}

static void parse_headers(struct config_parser *p, const config_setting_t *h, void *base)
{
	struct wd_prom_cfg *pc = base;
	read_header_list(p, h, "prometheus.headers", &pc->headers, &pc->n_headers);
}

static void parse_health_headers(struct config_parser *p, const config_setting_t *h, void *base)
{
	struct wd_health_cfg *hc = base;
	read_header_list(p, h, "health_check.headers", &hc->headers, &hc->n_headers);
}

static void parse_sticky(struct config_parser *p, const config_setting_t *g, void *base)
{
	struct wd_service_cfg *svc = base;
	svc->lb.sticky = true;
	config_read_group(p, g, P_COOKIE, &svc->lb, 0);
}

static void parse_passive(struct config_parser *p, const config_setting_t *g, void *base)
{
	struct wd_service_cfg *svc = base;
	svc->lb.passive = true;
	config_read_group(p, g, P_PASSIVE, &svc->lb, 0);
}

static void parse_output(struct config_parser *p, const config_setting_t *g, void *base)
{
	struct wd_output_cfg *oc = &((struct wd_config *)base)->output;
	config_read_group(p, g, P_OUTPUT, oc, 0);
	const config_setting_t *t = config_setting_get_member(g, "type");
	const char *type = t ? config_setting_get_string(t) : NULL;
	int i = type ? config_name_index(config_output_types, type) : -1;
	if (i >= 0) /* else the type's error is all there is to say */
		config_read_group(p, g, P_OUTPUT, oc, 1u << i);
	if (i == WD_OUT_HAPROXY && !config_setting_get_member(g, "address"))
		config_kerr(p, g, "output.address (HAProxy's runtime API: HOST:PORT or a unix socket "
			    "path) is required for type \"haproxy\"");
	if (i == WD_OUT_REDIS && oc->username && (!oc->password_file || !oc->password_file[0]))
		config_err(p, config_setting_get_member(g, "username"),
			   "output.username needs a password_file (Redis ACL users authenticate with "
			   "both)");
}

/* The rules between a policy's keys; prefix: who to name. The retired
 * objective "marginal" becomes "latency" here, with a warning. */
static void check_policy_relations(struct config_parser *p, const config_setting_t *s,
				   struct wd_policy_cfg *pc)
{
	if (pc->objective == WD_OBJ_MARGINAL) {
		const config_setting_t *o = config_setting_get_member(s, "objective");
		if (o)
			config_warn(p, o, "objective \"marginal\" is retired (it lost to \"latency\" in "
				    "every benchmark scenario) and now means \"latency\"; remove the "
				    "objective key");
		pc->objective = WD_OBJ_LATENCY;
	}
	if (pc->max_weight < pc->min_weight)
		config_kerr(p, s, "policy.max_weight %d below min_weight %d", pc->max_weight, pc->min_weight);
	if (pc->max_weight > pc->total)
		config_kerr(p, s, "policy.max_weight %d above total %d", pc->max_weight, pc->total);
}

static void parse_top_policy(struct config_parser *p, const config_setting_t *g, void *base)
{
	struct wd_policy_cfg *pc = &((struct wd_config *)base)->policy;
	config_read_group(p, g, P_POLICY, pc, 0);
	check_policy_relations(p, g, pc);
}

static void parse_service_policy(struct config_parser *p, const config_setting_t *g, void *base)
{
	struct wd_service_cfg *svc = base;
	config_read_group(p, g, P_SERVICE_POLICY, &svc->policy, 0);
	check_policy_relations(p, g, &svc->policy);
}

static void parse_health(struct config_parser *p, const config_setting_t *g, void *base)
{
	struct wd_service_cfg *svc = base;
	if (svc->kind != WD_KIND_SERVERS)
		config_kerr(p, g, "health_check is only for kind \"servers\"");
	svc->health.set = true;
	config_read_group(p, g, P_HEALTH, &svc->health, 0);
}

static void parse_backend(struct config_parser *p, const config_setting_t *g,
			  struct wd_service_cfg *svc, struct wd_backend_cfg *b)
{
	b->line = config_line_of(g);
	config_set_defaults(P_BACKEND, b);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		config_kerr(p, g, "each backend must be a group { name = ...; }");
		return;
	}
	p->backend = b;
	config_read_group(p, g, P_BACKEND, b, 0);
	/* Messages about the name itself name the service only. */
	p->backend = NULL;
	const config_setting_t *name = config_setting_get_member(g, "name");
	if (!b->name || !b->name[0])
		config_kerr(p, g, "backend without a name");
	else if (has_space_or_control(b->name, true))
		config_kerr(p, name, "backend name holds a control character");
	else if (svc->kind == WD_KIND_WEIGHTED && !valid_service_name(b->name, true))
		config_kerr(p, name,
			    "backend \"%s\" names a Traefik service, so it " NAME_RULE
			    ", then optionally @provider",
			    b->name);
	p->backend = b;
	const config_setting_t *url = config_setting_get_member(g, "url");
	if (svc->kind == WD_KIND_SERVERS) {
		/* HAProxy knows its servers' addresses: a url is only checked there. */
		if (!b->url && !output_type_is(g, "haproxy"))
			config_kerr(p, g, "url is required for kind \"servers\"");
		else if (b->url)
			check_http_url(p, url, "url", &b->url);
	} else if (b->url) {
		config_kerr(p, url, "url is only for kind \"servers\" (a weighted child is a service name)");
	}
	const config_setting_t *pin = config_setting_get_member(g, "pin");
	if (pin && (b->pin < 0 || b->pin > svc->policy.total)) {
		config_kerr(p, pin, "pin %d not within 0..%d", b->pin, svc->policy.total);
		b->pin = -1; /* one error, not one more for the sum of the pins */
	}
	p->backend = NULL;
}

static void validate_service_weights(struct config_parser *p, const config_setting_t *g,
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
		config_kerr(p, g, "pins sum to %ld, above total %d", pinsum, pc->total);
	else if (!positive)
		config_kerr(p, g, "every backend is pinned to 0; at least one must keep traffic");
	else if (unpinned == 0 && pinsum != pc->total)
		config_kerr(p, g, "every backend is pinned, so the pins must sum to total %d (they sum to %ld)",
		     pc->total, pinsum);
	else if (unpinned > 0 && (long)unpinned * pc->min_weight > pc->total - pinsum)
		config_kerr(p, g, "%zu unpinned backends at min_weight %d need more than the %ld left by the pins",
		     unpinned, pc->min_weight, pc->total - pinsum);
	else if (unpinned > 0 && (long)unpinned * pc->max_weight < pc->total - pinsum)
		config_kerr(p, g, "%zu unpinned backends at max_weight %d cannot reach total %d", unpinned,
		     pc->max_weight, pc->total);
}

/* The zeroed elements of list l, each size bytes; NULL after an error when
 * the list is empty (empty says so) or memory is short. */
static void *new_elems(struct config_parser *p, const config_setting_t *l, size_t size,
		       const char *empty)
{
	int n = config_setting_length(l);
	if (n == 0) {
		config_kerr(p, l, "%s", empty);
		return NULL;
	}
	return xcalloc((size_t)n, size);
}

/* The line of the first of a[0..i) named like a[i] (each with a char *name
 * and an int line), or 0. */
static int twin_line(const char *base, size_t stride, size_t name_off, size_t line_off, int i)
{
	const char *name = *(char *const *)(base + (size_t)i * stride + name_off);
	for (int j = 0; name && j < i; j++) {
		const char *other = *(char *const *)(base + (size_t)j * stride + name_off);
		if (other && strcmp(name, other) == 0)
			return *(const int *)(base + (size_t)j * stride + line_off);
	}
	return 0;
}
#define TWIN_LINE(a, i) \
	twin_line((const char *)(a), sizeof(*(a)), offsetof(__typeof__(*(a)), name), \
		  offsetof(__typeof__(*(a)), line), (i))

static void parse_backends(struct config_parser *p, const config_setting_t *bl, void *base)
{
	struct wd_service_cfg *svc = base;
	int n = config_setting_length(bl);
	if (n > WD_MAX_BACKENDS) {
		config_kerr(p, bl, "%d backends, more than %d", n, WD_MAX_BACKENDS);
		return;
	}
	if (!(svc->backends = new_elems(p, bl, sizeof(*svc->backends), "needs at least one backend")))
		return;
	svc->n_backends = (size_t)n;
	for (int i = 0; i < n; i++) {
		config_setting_t *bg = config_setting_get_elem(bl, (unsigned)i);
		parse_backend(p, bg, svc, &svc->backends[i]);
		int first = TWIN_LINE(svc->backends, i);
		if (first)
			config_kerr(p, bg, "backend \"%s\" defined twice (first at line %d)",
				    svc->backends[i].name, first);
	}
	validate_service_weights(p, bl, svc);
}

/* Replaces each string of the policy by map(it, name): a policy's strings
 * are the query templates. Frees the old strings when owned. */
static void map_policy_strings(struct wd_policy_cfg *pc, char *(*map)(const char *, const char *),
			       const char *name, bool owned)
{
	for (size_t i = 0; i < config_n_keys; i++) {
		const struct config_key *k = &config_keys[i];
		if (config_home_of(k) != P_POLICY || k->type != K_STRING)
			continue;
		char **f = (char **)((char *)pc + k->off);
		char *x = *f ? map(*f, name) : NULL;
		if (owned)
			free(*f);
		*f = x;
	}
}

static char *copy_string(const char *s, const char *unused)
{
	(void)unused;
	return xstrdup(s);
}

/* The service's signal window (delay.h): the built-in queries' window for a
 * preset; else its window, else the longest range selector in its queries.
 * Warns when neither says, since the gains then assume four intervals of
 * window. Also notes whether the balancer is Traefik's leasttime, and which
 * quantile the latency signal is (predict.h). */
static void signal_window(struct config_parser *p, const config_setting_t *g,
			  struct wd_service_cfg *svc)
{
	struct wd_policy_cfg *pc = &svc->policy;
	pc->leasttime = svc->lb.strategy && strcmp(svc->lb.strategy, "leasttime") == 0;
	if (svc->metrics != WD_METRICS_CUSTOM) {
		pc->signal_window_ms = preset_window_ms(svc);
		pc->latency_quantile = pc->latency_stat == WD_STAT_P95 ? 0.95 : 0;
		return;
	}
	pc->latency_quantile = predict_query_quantile(pc->latency_query);
	pc->signal_window_ms = pc->window_ms;
	const char *q[] = {pc->latency_query, pc->error_query, pc->rate_query};
	for (size_t i = 0; !pc->window_ms && i < 3; i++) {
		int64_t r = delay_longest_range_ms(q[i]);
		if (r > pc->signal_window_ms)
			pc->signal_window_ms = r;
	}
	if (!pc->signal_window_ms && pc->latency_query && pc->latency_query[0])
		config_warn(p, g, "its queries have no range selector such as [1m] and no window is "
			    "set, so weightd cannot know how old its signal is and assumes %d "
			    "intervals (%gs); set window = \"1m\" in the service's policy group to "
			    "what the queries average over", DELAY_REF_TICKS_PER_WINDOW,
			    DELAY_REF_TICKS_PER_WINDOW * pc->tick_ms / 1000.0);
}

/* metrics = "traefik" or "haproxy": the preset writes the queries and names
 * the label; for Traefik's kind servers each backend gets its child service's
 * name. */
static void check_preset(struct config_parser *p, const config_setting_t *g,
			 struct wd_service_cfg *svc)
{
	static const char *const own[] = {"label", "latency_query", "error_query", "rate_query"};
	const config_setting_t *pol = config_setting_get_member(g, "policy");
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		const config_setting_t *s = config_setting_get_member(g, own[i]);
		if (!s && pol && config_setting_type(pol) == CONFIG_TYPE_GROUP)
			s = config_setting_get_member(pol, own[i]);
		if (s)
			config_kerr(p, s, "%s is built in with metrics = \"%s\"; remove it, or set "
				    "metrics = \"custom\"", own[i], config_metrics_name(svc->metrics));
	}
	config_set_string(&svc->label, preset_get(svc->metrics)->label);
	for (size_t b = 0; config_split_layout(svc) && b < svc->n_backends; b++) {
		struct wd_backend_cfg *bc = &svc->backends[b];
		char name[1024];
		if (bc->name && traefik_child_name(svc->name, bc->name, name, sizeof(name)) < 0)
			config_kerr(p, g, "backend name \"%.40s...\" too long for a child service name",
				    bc->name);
		else if (bc->name)
			bc->child = xstrdup(name);
	}
}

/* The keys a weighted service has no use for: it has no servers of its own. */
static void check_weighted_keys(struct config_parser *p, const config_setting_t *g)
{
	static const char *const servers_only[] = {"strategy", "pass_host_header", "servers_transport",
						   "passive_health_check"};
	for (size_t i = 0; i < sizeof(servers_only) / sizeof(servers_only[0]); i++) {
		const config_setting_t *s = config_setting_get_member(g, servers_only[i]);
		if (s)
			config_kerr(p, s, "%s is only for kind \"servers\" (a weighted service has no "
				    "servers of its own)", servers_only[i]);
	}
}

static void parse_service(struct config_parser *p, const config_setting_t *g,
			  const struct wd_policy_cfg *defaults, enum wd_metrics metrics,
			  struct wd_service_cfg *svc)
{
	svc->line = config_line_of(g);
	svc->policy = *defaults;
	map_policy_strings(&svc->policy, copy_string, NULL, false);
	config_set_defaults(P_SERVICE, svc);
	svc->metrics = metrics;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		config_err(p, g, "each service must be a group { name = ...; }");
		return;
	}
	p->svc = svc;
	config_read_group(p, g, P_SERVICE, svc, 0);
	p->svc = NULL;
	if (!svc->name || !svc->name[0]) {
		config_err(p, g, "service without a name");
		config_set_string(&svc->name, "?");
	} else if (!valid_service_name(svc->name, false)) {
		config_err(p, config_setting_get_member(g, "name"), "service name \"%s\" " NAME_RULE,
			   svc->name);
	}
	p->svc = svc;
	if (svc->kind == WD_KIND_WEIGHTED)
		check_weighted_keys(p, g);
	if (svc->metrics != WD_METRICS_CUSTOM) {
		check_preset(p, g, svc);
		signal_window(p, g, svc);
		p->svc = NULL;
		return;
	}
	const char *label = svc->kind == WD_KIND_SERVERS ? "instance" : "service";
	if (!svc->label)
		config_set_string(&svc->label, label);
	map_policy_strings(&svc->policy, config_expand_template, svc->name, true);
	if (!svc->policy.latency_query || !svc->policy.latency_query[0])
		config_kerr(p, g, "no latency_query (set it on the service or in policy)");
	signal_window(p, g, svc);
	p->svc = NULL;
}

/* Whoever gives a Traefik service its name: a service, or a backend's child. */
struct owner {
	const char *name, *svc, *backend;
	int line;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static void describe(char *buf, size_t len, const struct owner *o, bool with_line)
{
	int n = o->backend ? snprintf(buf, len, "backend \"%s\" of service \"%s\"", o->backend, o->svc)
			   : snprintf(buf, len, "service \"%s\"", o->svc);
	if (with_line && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " (line %d)", o->line);
}

/* Every Traefik service weightd writes has a name of its own: the managed
 * services and the split layout's children (sorted, so a fleet of any size
 * is checked in one pass). */
static void check_names(struct config_parser *p, const struct wd_config *cfg)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_services; i++)
		n += 1 + cfg->services[i].n_backends;
	struct owner *o = xcalloc(n, sizeof(*o));
	n = 0;
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct wd_service_cfg *s = &cfg->services[i];
		if (s->name)
			o[n++] = (struct owner){s->name, s->name, NULL, s->line};
		for (size_t b = 0; b < s->n_backends; b++)
			if (s->backends[b].child)
				o[n++] = (struct owner){s->backends[b].child, s->name, s->backends[b].name,
							s->backends[b].line};
	}
	qsort(o, n, sizeof(*o), cmp_owner);
	for (size_t i = 1; i < n; i++) {
		const struct owner *first = &o[i - 1], *later = &o[i];
		/* two services of one name are reported elsewhere */
		if (strcmp(first->name, later->name) != 0 || (!first->backend && !later->backend))
			continue;
		char a[600], b[600];
		describe(a, sizeof(a), later, false);
		describe(b, sizeof(b), first, true);
		errors_add(p->errs, "%s:%d: %s and %s both give the Traefik service name \"%s\"; "
			   "rename one (child names replace characters outside A-Z a-z 0-9 . _ - by -)",
			   p->file, later->line, a, b, later->name);
	}
	free(o);
}

static void parse_services(struct config_parser *p, const config_setting_t *sl, void *base)
{
	struct wd_config *cfg = base;
	int n = config_setting_length(sl);
	if (!(cfg->services = new_elems(p, sl, sizeof(*cfg->services),
					"services needs at least one service")))
		return;
	cfg->n_services = (size_t)n;
	cfg->policy.tick_ms = cfg->interval_ms; /* for the policy's delay arithmetic */
	for (int i = 0; i < n; i++) {
		config_setting_t *sg = config_setting_get_elem(sl, (unsigned)i);
		parse_service(p, sg, &cfg->policy, cfg->metrics, &cfg->services[i]);
		int first = TWIN_LINE(cfg->services, i);
		if (first)
			config_err(p, sg, "service \"%s\" defined twice (first at line %d)",
				   cfg->services[i].name, first);
	}
	check_names(p, cfg);
}
