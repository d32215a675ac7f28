/* traefik: the layout of what weightd writes, its checks, and the KV
 * encoding (the YAML one is in traefik_yaml.c). */
#include "traefik.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- layout ------------------------------------------------------------- */

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
	out->svc = calloc(n_svc, sizeof(*out->svc));
	out->entries = calloc(n_e ? n_e : 1, sizeof(*out->entries));
	if (!out->svc || !out->entries) {
		traefik_layout_free(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct traefik_entry *e = out->entries;
	for (size_t i = 0; i < n; i++) {
		const struct wd_service_cfg *c = s[i].cfg;
		bool split = config_split_layout(c);
		struct traefik_service *top = &out->svc[out->n++];
		*top = (struct traefik_service){c->name, c->kind == WD_KIND_WEIGHTED || split, e, 0, c,
						false};
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
								      true};
		}
	}
	return 0;
}

void traefik_layout_free(struct traefik_layout *l)
{
	free(l->svc);
	free(l->entries);
	memset(l, 0, sizeof(*l));
}

/* ---- KV ----------------------------------------------------------------- */

static int kv_add(struct wd_kv_list *l, const char *key, const char *value)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct wd_kv *nk = realloc(l->kv, cap * sizeof(*nk));
		if (!nk)
			return -1;
		l->kv = nk;
		l->cap = cap;
	}
	char *k = strdup(key), *v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return -1;
	}
	l->kv[l->n].key = k;
	l->kv[l->n].value = v;
	l->n++;
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

static int kv_health(struct wd_kv_list *l, const char *p, const struct wd_health_cfg *h)
{
	char v[64];
	int rc = kvf(l, p, "loadBalancer/healthCheck/path", h->path);
	if (h->scheme)
		rc |= kvf(l, p, "loadBalancer/healthCheck/scheme", h->scheme);
	if (h->hostname)
		rc |= kvf(l, p, "loadBalancer/healthCheck/hostname", h->hostname);
	if (h->port) {
		snprintf(v, sizeof(v), "%d", h->port);
		rc |= kvf(l, p, "loadBalancer/healthCheck/port", v);
	}
	if (h->interval_ms) {
		traefik_duration(h->interval_ms, v, sizeof(v));
		rc |= kvf(l, p, "loadBalancer/healthCheck/interval", v);
	}
	if (h->timeout_ms) {
		traefik_duration(h->timeout_ms, v, sizeof(v));
		rc |= kvf(l, p, "loadBalancer/healthCheck/timeout", v);
	}
	return rc ? -1 : 0;
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
	const struct wd_health_cfg *h = &t->cfg->health;
	if (rc == 0 && !t->weighted && h->set)
		rc = kv_health(l, p, h);
	/* A split parent follows its children's health (an empty struct is "true"). */
	if (rc == 0 && t->weighted && h->set && config_split_layout(t->cfg))
		rc = kvf(l, p, "weighted/healthCheck", "true");
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
		snprintf(err, errlen, "out of memory, or a key longer than 2 KiB");
		return -1;
	}
	return 0;
}
