/* measure: a tick's queries and their mapping to backends. (Placeholder.) */
#include "measure.h"

#include <stdio.h>
#include <stdlib.h>

size_t measure_run(struct prom *p, const struct wd_config *cfg, struct measure_tick *t,
		   volatile sig_atomic_t *stop)
{
	(void)p;
	(void)stop;
	t->svc = calloc(cfg->n_services, sizeof(*t->svc));
	t->n_svc = t->svc ? cfg->n_services : 0;
	for (size_t i = 0; i < t->n_svc; i++) {
		t->svc[i].m = calloc(cfg->services[i].n_backends, sizeof(struct wd_measurement));
		snprintf(t->svc[i].err, sizeof(t->svc[i].err), "measurement not implemented");
	}
	return cfg->n_services;
}

void measure_tick_free(struct measure_tick *t)
{
	for (size_t i = 0; i < t->n_svc; i++)
		free(t->svc[i].m);
	free(t->svc);
	t->svc = NULL;
	t->n_svc = 0;
}

void measure_map(const struct prom_result *r, const struct wd_service_cfg *svc,
		 void (*set)(void *ctx, size_t backend, double value),
		 void (*dup)(void *ctx, const char *label), void *ctx)
{
	(void)r;
	(void)svc;
	(void)set;
	(void)dup;
	(void)ctx;
}
