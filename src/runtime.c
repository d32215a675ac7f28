/* runtime: one config's Prometheus client, output, query plan, read-back of
 * Traefik's API and controller state, built aside and freed as a unit; see
 * runtime.h. */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The state of the service named name in old, or NULL. */
static const struct wd_service_state *find_state(const struct runtime *old, const char *name)
{
	for (size_t j = 0; old && j < old->n_st; j++)
		if (old->st[j].name && strcmp(old->st[j].name, name) == 0)
			return &old->st[j];
	return NULL;
}

struct runtime *runtime_new(struct wd_config *cfg, const struct runtime *old,
			    const char **what, char *err, size_t errlen)
{
	struct runtime *rt = xcalloc(1, sizeof(*rt));
	rt->cfg = cfg;
	if (!(rt->prom = prom_new(&cfg->prom, err, errlen))) {
		*what = "cannot create the Prometheus client";
		runtime_free(rt);
		return NULL;
	}
	if (!(rt->out = output_new(cfg, err, errlen))) {
		*what = "cannot open the output";
		runtime_free(rt);
		return NULL;
	}
	plan_build(cfg, &rt->plan);
	err[0] = '\0';
	if (!cfg->dry_run && !(rt->rb = readback_new(cfg, err, errlen)) && err[0]) {
		*what = "cannot read Traefik's API back";
		runtime_free(rt);
		return NULL;
	}
	rt->rb_state = xmalloc(cfg->n_services * sizeof(*rt->rb_state));
	rt->rb_warned = xcalloc(cfg->n_services, sizeof(*rt->rb_warned));
	for (size_t i = 0; i < cfg->n_services; i++)
		rt->rb_state[i] = -1;
	/* Kept by service name, so a reload continues where it was; new
	 * services start fresh, removed ones are left behind with old. */
	rt->st = xcalloc(cfg->n_services, sizeof(*rt->st));
	rt->n_st = cfg->n_services;
	for (size_t i = 0; i < cfg->n_services; i++) {
		static const struct wd_service_state none;
		const struct wd_service_state *prev = find_state(old, cfg->services[i].name);
		policy_state_derive(prev ? prev : &none, &cfg->services[i], &rt->st[i]);
	}
	return rt;
}

void runtime_free(struct runtime *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->n_st; i++)
		policy_state_free(&rt->st[i]);
	free(rt->st);
	output_free(rt->out);
	prom_free(rt->prom);
	plan_free(&rt->plan);
	readback_free(rt->rb);
	free(rt->rb_state);
	free(rt->rb_warned);
	config_free(rt->cfg);
	free(rt);
}
