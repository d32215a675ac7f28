/* traefik: the layout of what weightd writes, its checks, and the KV
 * encoding (the YAML one is in traefik_yaml.c). */
#include "traefik.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static size_t put_safe(char *buf, size_t at, size_t len, const char *s)
{
	for (; *s; s++, at++)
		if (at < len)
			buf[at] = isalnum((unsigned char)*s) || strchr("._-", *s) ? *s : '-';
	return at;
}

int traefik_child_name(const char *service, const char *backend, char *buf, size_t len)
{
	size_t at = put_safe(buf, 0, len, service);
	at = put_safe(buf, at, len, "--");
	at = put_safe(buf, at, len, backend);
	if (at >= len)
		return -1;
	buf[at] = '\0';
	return (int)at;
}

void traefik_duration(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRId64 "ms", ms);
}

static int check(const struct wd_output_service *s, size_t n, char *err, size_t errlen)
{
	if (n == 0) {
		snprintf(err, errlen, "no service to write");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int any = 0;
		for (size_t b = 0; b < s[i].cfg->n_backends; b++) {
			if (s[i].weights[b] < 0) {
				snprintf(err, errlen, "service \"%s\": backend \"%s\": negative weight %d",
					 s[i].cfg->name, s[i].cfg->backends[b].name, s[i].weights[b]);
				return -1;
			}
			any |= s[i].weights[b] > 0;
		}
		if (!any) {
			snprintf(err, errlen,
				 "service \"%s\": every backend is at weight 0; refusing to write a service "
				 "that would serve nothing", s[i].cfg->name);
			return -1;
		}
	}
	return 0;
}

/* ---- options ------------------------------------------------------------ */

/* Every path below a service that the layout writes: entries, then options. */
static const char *const rendered[] = {
	"loadBalancer/servers", "weighted/services", "loadBalancer/healthCheck",
	"weighted/healthCheck", "loadBalancer/strategy", "loadBalancer/passHostHeader",
	"loadBalancer/serversTransport", "loadBalancer/sticky", "weighted/sticky",
	"loadBalancer/passiveHealthCheck",
};

bool traefik_kv_renders(const char *path)
{
	for (size_t i = 0; i < sizeof(rendered) / sizeof(rendered[0]); i++) {
		size_t l = strlen(rendered[i]);
		if (strncmp(path, rendered[i], l) == 0 && (path[l] == '\0' || path[l] == '/'))
			return true;
	}
	return false;
}

static void opt_add(struct traefik_service *t, const char *path, const char *value,
		    enum traefik_type type)
{
	t->opt = xrealloc(t->opt, (t->n_opt + 1) * sizeof(*t->opt));
	t->opt[t->n_opt++] = (struct traefik_opt){xstrdup(path), value ? xstrdup(value) : NULL, type};
}

/* The option when set: a duration not 0, a number not 0, a boolean not
 * WD_UNSET, a string not NULL. */
static void opt_dur(struct traefik_service *t, const char *path, int64_t ms)
{
	char d[32];
	traefik_duration(ms, d, sizeof(d));
	if (ms)
		opt_add(t, path, d, TRAEFIK_STR);
}

static void opt_int(struct traefik_service *t, const char *path, long v)
{
	char d[32];
	snprintf(d, sizeof(d), "%ld", v);
	if (v)
		opt_add(t, path, d, TRAEFIK_INT);
}

static void opt_bool(struct traefik_service *t, const char *path, enum wd_tristate v)
{
	if (v != WD_UNSET)
		opt_add(t, path, v == WD_YES ? "true" : "false", TRAEFIK_BOOL);
}

static void opt_str(struct traefik_service *t, const char *path, const char *v)
{
	if (v)
		opt_add(t, path, v, TRAEFIK_STR);
}

static void opts_health(struct traefik_service *t, const struct wd_health_cfg *h)
{
	opt_str(t, "healthCheck/path", h->path);
	opt_str(t, "healthCheck/method", h->method);
	opt_str(t, "healthCheck/scheme", h->scheme);
	opt_str(t, "healthCheck/hostname", h->hostname);
	opt_int(t, "healthCheck/port", h->port);
	opt_dur(t, "healthCheck/interval", h->interval_ms);
	opt_dur(t, "healthCheck/timeout", h->timeout_ms);
	opt_bool(t, "healthCheck/followRedirects", h->follow_redirects);
	for (size_t i = 0; i < h->n_headers; i++) {
		/* "Name: value" -> healthCheck/headers/Name = value */
		char path[300];
		const char *colon = strchr(h->headers[i], ':'), *v = colon + 1;
		snprintf(path, sizeof(path), "healthCheck/headers/%.*s", (int)(colon - h->headers[i]),
			 h->headers[i]);
		while (*v == ' ' || *v == '\t')
			v++;
		opt_add(t, path, v, TRAEFIK_STR);
	}
}

static void opts_sticky(struct traefik_service *t, const struct wd_lb_cfg *lb)
{
	if (!lb->sticky)
		return;
	size_t before = t->n_opt;
	opt_str(t, "sticky/cookie/name", lb->cookie_name);
	opt_bool(t, "sticky/cookie/secure", lb->cookie_secure);
	opt_bool(t, "sticky/cookie/httpOnly", lb->cookie_http_only);
	opt_str(t, "sticky/cookie/sameSite", lb->cookie_same_site);
	if (t->n_opt == before) /* a cookie with every option at its default */
		opt_add(t, "sticky/cookie", NULL, TRAEFIK_EMPTY);
}

/* The options of a service's load balancer (a plain one, or a child). */
static void opts_lb(struct traefik_service *t, const struct wd_service_cfg *c, bool child)
{
	const struct wd_lb_cfg *lb = &c->lb;
	if (!child)
		opt_str(t, "strategy", lb->strategy);
	if (c->health.set)
		opts_health(t, &c->health);
	if (lb->passive) {
		size_t before = t->n_opt;
		opt_dur(t, "passiveHealthCheck/failureWindow", lb->failure_window_ms);
		opt_int(t, "passiveHealthCheck/maxFailedAttempts", lb->max_failed_attempts);
		if (t->n_opt == before) /* Traefik's defaults */
			opt_add(t, "passiveHealthCheck", NULL, TRAEFIK_EMPTY);
	}
	opt_bool(t, "passHostHeader", lb->pass_host_header);
	opt_str(t, "serversTransport", lb->servers_transport);
	if (!child)
		opts_sticky(t, lb);
}

/* The options of a weighted service: its sticky cookie and, as a split
 * parent over health-checked children, following their health. */
static void opts_weighted(struct traefik_service *t, const struct wd_service_cfg *c)
{
	opts_sticky(t, &c->lb);
	if (c->health.set && config_split_layout(c))
		opt_add(t, "healthCheck", NULL, TRAEFIK_EMPTY);
}

/* ---- layout ------------------------------------------------------------- */

int traefik_layout(const struct wd_output_service *s, size_t n, struct traefik_layout *out,
		   char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (check(s, n, err, errlen) < 0)
		return -1;
	size_t n_svc = 0, n_e = 0;
	for (size_t i = 0; i < n; i++) {
		size_t nb = s[i].cfg->n_backends;
		bool split = config_split_layout(s[i].cfg);
		n_svc += 1 + (split ? nb : 0);
		n_e += nb * (split ? 2 : 1);
	}
	out->svc = xcalloc(n_svc, sizeof(*out->svc));
	out->entries = xcalloc(n_e, sizeof(*out->entries));
	struct traefik_entry *e = out->entries;
	for (size_t i = 0; i < n; i++) {
		const struct wd_service_cfg *c = s[i].cfg;
		bool split = config_split_layout(c);
		struct traefik_service *top = &out->svc[out->n++];
		*top = (struct traefik_service){c->name, c->kind == WD_KIND_WEIGHTED || split, e, 0, c,
						false, NULL, 0};
		for (size_t b = 0; b < c->n_backends; b++) {
			int w = s[i].weights[b];
			if (c->kind == WD_KIND_WEIGHTED)
				*e++ = (struct traefik_entry){c->backends[b].name, w};
			else if (w > 0) /* drained: left out, never weight 0 */
				*e++ = (struct traefik_entry){split ? c->backends[b].child : c->backends[b].url, w};
		}
		top->n = (size_t)(e - top->e);
		for (size_t b = 0; split && b < c->n_backends; b++) {
			*e = (struct traefik_entry){c->backends[b].url, -1};
			out->svc[out->n++] = (struct traefik_service){c->backends[b].child, false, e++, 1, c,
								      true, NULL, 0};
		}
	}
	for (size_t i = 0; i < out->n; i++) {
		struct traefik_service *t = &out->svc[i];
		if (t->weighted)
			opts_weighted(t, t->cfg);
		else
			opts_lb(t, t->cfg, t->child);
	}
	return 0;
}

void traefik_layout_free(struct traefik_layout *l)
{
	for (size_t i = 0; l->svc && i < l->n; i++) {
		for (size_t j = 0; j < l->svc[i].n_opt; j++) {
			free(l->svc[i].opt[j].path);
			free(l->svc[i].opt[j].value);
		}
		free(l->svc[i].opt);
	}
	free(l->svc);
	free(l->entries);
	memset(l, 0, sizeof(*l));
}

/* ---- KV ----------------------------------------------------------------- */

static int kv_add(struct wd_kv_list *l, const char *key, const char *value)
{
	l->kv = util_grow(l->kv, &l->cap, l->n + 1, sizeof(*l->kv), 32);
	l->kv[l->n++] = (struct wd_kv){xstrdup(key), xstrdup(value)};
	return 0;
}

void traefik_kv_free(struct wd_kv_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->kv[i].key);
		free(l->kv[i].value);
	}
	free(l->kv);
	memset(l, 0, sizeof(*l));
}

/* Adds prefix/suffix = value. */
static int kvf(struct wd_kv_list *l, const char *prefix, const char *suffix, const char *value)
{
	char key[2048];
	if ((size_t)snprintf(key, sizeof(key), "%s/%s", prefix, suffix) >= sizeof(key))
		return -1;
	return kv_add(l, key, value);
}

static int kv_service(struct wd_kv_list *l, const char *root_key, const struct traefik_service *t)
{
	char p[1024], sub[64], w[24];
	if ((size_t)snprintf(p, sizeof(p), "%s/http/services/%s", root_key, t->name) >= sizeof(p))
		return -1;
	int rc = 0;
	for (size_t i = 0; i < t->n && rc == 0; i++) {
		snprintf(sub, sizeof(sub), t->weighted ? "weighted/services/%zu/name"
						       : "loadBalancer/servers/%zu/url", i);
		rc |= kvf(l, p, sub, t->e[i].ref);
		if (t->e[i].weight >= 0) {
			snprintf(w, sizeof(w), "%d", t->e[i].weight);
			snprintf(sub, sizeof(sub), t->weighted ? "weighted/services/%zu/weight"
							       : "loadBalancer/servers/%zu/weight", i);
			rc |= kvf(l, p, sub, w);
		}
	}
	/* an empty group is "true", as in Traefik's labels */
	for (size_t i = 0; i < t->n_opt && rc == 0; i++) {
		char path[400];
		snprintf(path, sizeof(path), "%s/%s", t->weighted ? "weighted" : "loadBalancer",
			 t->opt[i].path);
		rc = kvf(l, p, path, t->opt[i].type == TRAEFIK_EMPTY ? "true" : t->opt[i].value);
	}
	return rc;
}

int traefik_kv(const char *root_key, const struct wd_output_service *s, size_t n,
	       struct wd_kv_list *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct traefik_layout lay;
	if (traefik_layout(s, n, &lay, err, errlen) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < lay.n && rc == 0; i++)
		rc = kv_service(out, root_key, &lay.svc[i]);
	traefik_layout_free(&lay);
	if (rc) {
		traefik_kv_free(out);
		snprintf(err, errlen, "a key longer than 2 KiB");
		return -1;
	}
	return 0;
}
