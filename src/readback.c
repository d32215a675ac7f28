/* readback: Traefik's API read back after each write, and compared with what
 * was written (see readback.h). One libcurl easy handle, kept between checks
 * so the connection is reused; answers parsed with cJSON. */
#include "readback.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define API_TIMEOUT_MS 2000
#define MAX_BODY (4u << 20)

/* What was last written to one service, and whether Traefik shows it. */
struct rb_service {
	const char *name;    /* the config's */
	bool weighted;
	char **entries;      /* "ref=weight", sorted */
	size_t n;
	int64_t since_ms;    /* the write Traefik has not shown yet */
	bool applied;
};

struct readback {
	char *base;          /* <traefik_api>/api/http/services/ */
	const char *provider;
	CURL *easy;
	struct rb_service *svc;
	size_t n;
	struct util_buf body; /* the answer being read */
	bool too_big;
};

struct readback *readback_new(const struct wd_config *cfg, char *err, size_t errlen)
{
	if (!cfg->traefik_api || !cfg->traefik_api[0])
		return NULL;
	struct readback *rb = xcalloc(1, sizeof(*rb));
	size_t l = strlen(cfg->traefik_api);
	rb->base = xmalloc(l + 32);
	snprintf(rb->base, l + 32, "%s%s", cfg->traefik_api,
		 cfg->traefik_api[l - 1] == '/' ? "api/http/services/" : "/api/http/services/");
	if (!(rb->easy = curl_easy_init())) {
		readback_free(rb);
		snprintf(err, errlen, "cannot create a libcurl handle");
		return NULL;
	}
	rb->provider = cfg->output.type == WD_OUT_REDIS ? "redis" : "file";
	return rb;
}

static void service_clear(struct rb_service *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->entries[i]);
	free(s->entries);
	s->entries = NULL;
	s->n = 0;
}

void readback_free(struct readback *rb)
{
	if (!rb)
		return;
	for (size_t i = 0; i < rb->n; i++)
		service_clear(&rb->svc[i]);
	free(rb->svc);
	if (rb->easy)
		curl_easy_cleanup(rb->easy);
	free(rb->base);
	util_buf_free(&rb->body);
	free(rb);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A child service's name without our provider's suffix: Traefik's API may
 * show it either way. */
static int bare_len(const char *ref, bool weighted, const char *provider)
{
	const char *at = weighted ? strrchr(ref, '@') : NULL;
	return at && strcmp(at + 1, provider) == 0 ? (int)(at - ref) : (int)strlen(ref);
}

/* "ref=weight", ref cut to its first len bytes. */
static char *entry_string(const char *ref, int len, int weight)
{
	char w[24];
	int wl = snprintf(w, sizeof(w), "=%d", weight);
	char *v = xmalloc((size_t)len + (size_t)wl + 1);
	memcpy(v, ref, (size_t)len);
	memcpy(v + len, w, (size_t)wl + 1);
	return v;
}

/* "ref=weight" for each entry (a missing weight is 1, as in Traefik), sorted. */
static char **entry_strings(const struct traefik_service *t, const char *provider, size_t *n)
{
	char **v = xcalloc(t->n, sizeof(*v));
	for (size_t i = 0; i < t->n; i++)
		v[i] = entry_string(t->e[i].ref, bare_len(t->e[i].ref, t->weighted, provider),
				    t->e[i].weight < 0 ? 1 : t->e[i].weight);
	qsort(v, t->n, sizeof(*v), cmp_str);
	*n = t->n;
	return v;
}

static bool same_entries(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

int readback_expect(struct readback *rb, const struct wd_output_service *s, size_t n,
		    int64_t now_ms)
{
	struct traefik_layout lay;
	char err[128];
	if (traefik_layout(s, n, &lay, err, sizeof(err)) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < lay.n && rc == 0; i++) {
		const struct traefik_service *t = &lay.svc[i];
		if (t->child) /* the parent carries the weights */
			continue;
		size_t k = 0;
		while (k < rb->n && strcmp(rb->svc[k].name, t->name) != 0)
			k++;
		if (k == rb->n) {
			rb->svc = xrealloc(rb->svc, (rb->n + 1) * sizeof(*rb->svc));
			rb->svc[rb->n++] = (struct rb_service){.name = t->cfg->name, .applied = true};
		}
		struct rb_service *rs = &rb->svc[k];
		rs->name = t->cfg->name; /* the config may be a new one */
		size_t ne;
		char **e = entry_strings(t, rb->provider, &ne);
		if (same_entries(e, ne, rs->entries, rs->n)) {
			for (size_t j = 0; j < ne; j++)
				free(e[j]);
			free(e);
			continue;
		}
		service_clear(rs);
		rs->entries = e;
		rs->n = ne;
		rs->weighted = t->weighted;
		if (rs->applied) /* pending from the first write Traefik has not shown */
			rs->since_ms = now_ms;
		rs->applied = false;
	}
	traefik_layout_free(&lay);
	return rc;
}

/* ---- comparing ------------------------------------------------------------ */

/* Appends "ref=weight" strings of Traefik's list into v (a name with our
 * provider's suffix compared without it). */
static size_t read_entries(const cJSON *list, const char *refkey, const char *provider,
			   char **v, size_t max)
{
	size_t n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, list) {
		const cJSON *ref = cJSON_GetObjectItemCaseSensitive(it, refkey);
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(it, "weight");
		if (!cJSON_IsString(ref) || n == max)
			continue;
		const char *r = ref->valuestring;
		v[n++] = entry_string(r, bare_len(r, strcmp(refkey, "name") == 0, provider),
				      cJSON_IsNumber(w) ? (int)w->valuedouble : 1);
	}
	return n;
}

static void join(char *out, size_t len, char **v, size_t n)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && at < len; i++)
		at += (size_t)snprintf(out + at, len - at, "%s%s", i ? " " : "", v[i]);
}

/* Compares Traefik's entries with a sorted want list. */
static int compare_json(const char *json, bool weighted, char **want, size_t nwant,
			const char *provider, char *seen, size_t seenlen)
{
	cJSON *doc = cJSON_Parse(json);
	const cJSON *lb = cJSON_GetObjectItemCaseSensitive(doc, "loadBalancer");
	const cJSON *wr = cJSON_GetObjectItemCaseSensitive(doc, "weighted");
	const cJSON *list = weighted ? cJSON_GetObjectItemCaseSensitive(wr, "services")
				     : cJSON_GetObjectItemCaseSensitive(lb, "servers");
	if (!doc || (!lb && !wr)) {
		snprintf(seen, seenlen, "not a service in Traefik's answer");
		cJSON_Delete(doc);
		return -1;
	}
	if (!cJSON_IsArray(list)) {
		snprintf(seen, seenlen, "a %s service", weighted ? "loadBalancer" : "weighted");
		cJSON_Delete(doc);
		return 0;
	}
	size_t max = (size_t)cJSON_GetArraySize(list);
	char **have = xcalloc(max, sizeof(*have));
	size_t n = read_entries(list, weighted ? "name" : "url", provider, have, max);
	cJSON_Delete(doc);
	qsort(have, n, sizeof(*have), cmp_str);
	int same = same_entries(have, n, want, nwant);
	if (!same)
		join(seen, seenlen, have, n);
	for (size_t i = 0; i < n; i++)
		free(have[i]);
	free(have);
	return same;
}

int readback_compare(const char *json, const struct traefik_service *want, const char *provider,
		     char *seen, size_t seenlen)
{
	size_t n;
	char **w = entry_strings(want, provider, &n);
	int rc = compare_json(json, want->weighted, w, n, provider, seen, seenlen);
	for (size_t i = 0; i < n; i++)
		free(w[i]);
	free(w);
	return rc;
}

/* ---- reading -------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct readback *rb = user;
	size_t n = size * nmemb;
	if (rb->body.len + n + 1 > MAX_BODY) {
		rb->too_big = true;
		return 0;
	}
	util_buf_add(&rb->body, data, n);
	return n;
}

/* GETs one service; 0 with the body in rb->body, or -1 with why in err; -2
 * when Traefik's API cannot be reached at all (no use asking it again). */
static int fetch(struct readback *rb, const char *name, char *err, size_t errlen)
{
	char url[1200];
	snprintf(url, sizeof(url), "%s%s@%s", rb->base, name, rb->provider);
	rb->body.len = 0;
	rb->too_big = false;
	CURL *e = rb->easy;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)API_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, rb);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode c = curl_easy_perform(e);
	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (c != CURLE_OK) {
		snprintf(err, errlen, "Traefik's API: %s", rb->too_big ? "answer too large"
							 : curl_easy_strerror(c));
		return rb->too_big ? -1 : -2;
	}
	if (status == 404) {
		snprintf(err, errlen, "Traefik does not have the service");
		return -1;
	}
	if (status != 200 || !rb->body.p) {
		snprintf(err, errlen, "Traefik's API answered HTTP %ld", status);
		return -1;
	}
	return 0;
}

size_t readback_check(struct readback *rb, int64_t now_ms, struct readback_result *out)
{
	out->n = 0;
	out->svc = xcalloc(rb->n, sizeof(*out->svc));
	size_t failed = 0;
	bool reachable = true;
	for (size_t i = 0; i < rb->n; i++) {
		struct rb_service *rs = &rb->svc[i];
		struct readback_service *o = &out->svc[out->n++];
		o->name = rs->name;
		o->applied = rs->applied;
		if (rs->applied)
			continue;
		o->pending_s = (double)(now_ms - rs->since_ms) / 1000.0;
		join(o->want, sizeof(o->want), rs->entries, rs->n);
		if (!reachable) {
			snprintf(o->seen, sizeof(o->seen), "Traefik's API cannot be reached");
			continue;
		}
		int f = fetch(rb, rs->name, o->seen, sizeof(o->seen));
		if (f < 0) {
			/* a tick waits for one timeout at most, not one per service */
			reachable = f != -2;
			failed++;
			continue;
		}
		if (compare_json(rb->body.p, rs->weighted, rs->entries, rs->n, rb->provider, o->seen,
				 sizeof(o->seen)) == 1) {
			rs->applied = o->applied = o->newly_applied = true;
			o->apply_s = o->pending_s;
		}
	}
	return failed;
}
