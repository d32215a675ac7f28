/* plan: every distinct query of a tick once, custom texts shared, preset
 * services grouped into fleet-wide queries. */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A preset group: services with the same preset, window and statistic. */
struct group {
	const struct preset *ps;
	int64_t window_ms;
	enum wd_latency_stat stat;
	int q[WD_SIGNALS]; /* the group's query per signal */
};

static int cmp_key(const void *a, const void *b)
{
	const struct plan_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->svc < y->svc ? -1 : x->svc > y->svc;
}

/* Adds a query (taking expr) and returns its index. */
static int add_query(struct plan *p, char *expr, const char *label, enum wd_signal sig, bool keyed,
		     size_t svc)
{
	p->q = xrealloc(p->q, (p->n_q + 1) * sizeof(*p->q));
	p->q[p->n_q] = (struct plan_query){.expr = expr, .label = label, .signal = sig,
					   .keyed = keyed, .first_service = svc};
	return (int)p->n_q++;
}

static void use(struct plan *p, size_t svc, enum wd_signal sig, int qi)
{
	p->at[svc * WD_SIGNALS + sig] = qi;
	if (p->q[qi].n_services++ == 0)
		p->q[qi].first_service = svc;
}

/* A custom query: shared with an earlier service's identical one. The
 * earlier ones are searched through a table sorted as it grows. */
struct text_ref {
	const char *expr, *label;
	int q;
};

static int cmp_text(const void *a, const void *b)
{
	const struct text_ref *x = a, *y = b;
	int c = strcmp(x->expr, y->expr);
	return c ? c : strcmp(x->label, y->label);
}

static void plan_custom(struct plan *p, const struct wd_config *cfg)
{
	struct text_ref *refs = xmalloc(cfg->n_services * WD_SIGNALS * sizeof(*refs));
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct wd_service_cfg *svc = &cfg->services[i];
		if (svc->metrics != WD_METRICS_CUSTOM)
			continue;
		const char *qs[WD_SIGNALS] = {svc->policy.latency_query, svc->policy.error_query,
					      svc->policy.rate_query};
		for (int sig = 0; sig < WD_SIGNALS; sig++) {
			if (!qs[sig] || !qs[sig][0])
				continue;
			struct text_ref want = {qs[sig], svc->label, -1};
			struct text_ref *found = n ? bsearch(&want, refs, n, sizeof(*refs), cmp_text) : NULL;
			if (!found) {
				want.q = add_query(p, xstrdup(qs[sig]), svc->label, (enum wd_signal)sig, false, i);
				/* keep refs sorted: insert in place */
				size_t at = 0;
				while (at < n && cmp_text(&refs[at], &want) < 0)
					at++;
				memmove(&refs[at + 1], &refs[at], (n - at) * sizeof(*refs));
				refs[at] = want;
				n++;
				found = &refs[at];
			}
			use(p, i, (enum wd_signal)sig, found->q);
		}
	}
	free(refs);
}

static bool in_group(const struct wd_service_cfg *svc, const struct group *g)
{
	return preset_get(svc->metrics) == g->ps && preset_window_ms(svc) == g->window_ms &&
	       svc->policy.latency_stat == g->stat;
}

/* The group's fleet-wide queries, over the keys of its services' backends
 * (p->keys is sorted, so is the selector). */
static void group_queries(struct plan *p, const struct wd_config *cfg, struct group *g)
{
	const char **keys = xmalloc(p->n_keys * sizeof(*keys));
	size_t n = 0;
	for (size_t k = 0; k < p->n_keys; k++)
		if (in_group(&cfg->services[p->keys[k].svc], g) &&
		    (n == 0 || strcmp(keys[n - 1], p->keys[k].key) != 0))
			keys[n++] = p->keys[k].key;
	for (int sig = 0; sig < WD_SIGNALS; sig++) {
		char *expr = preset_query(g->ps, (enum wd_signal)sig, g->stat, g->window_ms, keys, n);
		g->q[sig] = add_query(p, expr, g->ps->label, (enum wd_signal)sig, true, 0);
	}
	free(keys);
}

static void plan_keys(struct plan *p, const struct wd_config *cfg)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_services; i++)
		if (preset_get(cfg->services[i].metrics))
			n += cfg->services[i].n_backends;
	p->keys = xcalloc(n, sizeof(*p->keys));
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct wd_service_cfg *svc = &cfg->services[i];
		const struct preset *ps = preset_get(svc->metrics);
		for (size_t b = 0; ps && b < svc->n_backends; b++) {
			char key[1100];
			if (ps->key(cfg, svc, b, key, sizeof(key)) < 0)
				continue; /* config keeps names far shorter */
			p->keys[p->n_keys++] = (struct plan_key){xstrdup(key), i, b};
		}
	}
	qsort(p->keys, p->n_keys, sizeof(*p->keys), cmp_key);
}

static void plan_presets(struct plan *p, const struct wd_config *cfg)
{
	struct group *groups = NULL;
	size_t n_groups = 0;
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct wd_service_cfg *svc = &cfg->services[i];
		const struct preset *ps = preset_get(svc->metrics);
		if (!ps)
			continue;
		size_t g = 0;
		while (g < n_groups && !in_group(svc, &groups[g]))
			g++;
		if (g == n_groups) {
			groups = xrealloc(groups, (n_groups + 1) * sizeof(*groups));
			groups[n_groups++] = (struct group){ps, preset_window_ms(svc), svc->policy.latency_stat,
							    {-1, -1, -1}};
			group_queries(p, cfg, &groups[g]);
		}
		for (int sig = 0; sig < WD_SIGNALS; sig++)
			use(p, i, (enum wd_signal)sig, groups[g].q[sig]);
	}
	free(groups);
}

void plan_build(const struct wd_config *cfg, struct plan *p)
{
	memset(p, 0, sizeof(*p));
	size_t n = cfg->n_services * WD_SIGNALS;
	p->at = xmalloc(n * sizeof(*p->at));
	for (size_t i = 0; i < n; i++)
		p->at[i] = -1;
	plan_custom(p, cfg);
	plan_keys(p, cfg);
	plan_presets(p, cfg);
}
void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_q; i++)
		free(p->q[i].expr);
	for (size_t i = 0; i < p->n_keys; i++)
		free(p->keys[i].key);
	free(p->q);
	free(p->at);
	free(p->keys);
	memset(p, 0, sizeof(*p));
}

int plan_at(const struct plan *p, size_t svc, enum wd_signal signal)
{
	return p->at[svc * WD_SIGNALS + signal];
}

const struct plan_key *plan_find(const struct plan *p, const char *key, size_t *n)
{
	size_t lo = 0, hi = p->n_keys;
	while (lo < hi) { /* the first entry not below key */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(p->keys[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < p->n_keys && strcmp(p->keys[end].key, key) == 0)
		end++;
	*n = end - lo;
	return *n ? &p->keys[lo] : NULL;
}

void plan_print(const struct plan *p, const struct wd_config *cfg, FILE *f)
{
	fprintf(f, "queries per tick: %zu\n", p->n_q);
	for (size_t i = 0; i < p->n_q; i++) {
		const struct plan_query *q = &p->q[i];
		const char *first = cfg->services[q->first_service].name;
		if (q->n_services == 1)
			fprintf(f, "# %s of service %s\n%s\n", preset_signal_name(q->signal), first, q->expr);
		else
			fprintf(f, "# %s of %zu services (%s, ...)\n%s\n", preset_signal_name(q->signal),
				q->n_services, first, q->expr);
	}
}
