/* prom: Prometheus HTTP API client. (Placeholder until the client lands.) */
#include "prom.h"

#include <stdio.h>
#include <stdlib.h>

struct prom {
	const struct wd_prom_cfg *cfg;
};

struct prom *prom_new(const struct wd_prom_cfg *cfg, char *err, size_t errlen)
{
	struct prom *p = calloc(1, sizeof(*p));
	if (!p)
		snprintf(err, errlen, "out of memory");
	else
		p->cfg = cfg;
	return p;
}

void prom_free(struct prom *p) { free(p); }

int prom_query_batch(struct prom *p, struct prom_query *q, size_t n, volatile sig_atomic_t *stop)
{
	(void)p;
	(void)stop;
	for (size_t i = 0; i < n; i++) {
		q[i].result.ok = 0;
		snprintf(q[i].result.err, sizeof(q[i].result.err), "query \"%s\": not implemented", q[i].expr);
	}
	return (int)n;
}

int prom_parse_response(const char *body, size_t len, const char *label, struct prom_result *out)
{
	(void)body;
	(void)len;
	(void)label;
	snprintf(out->err, sizeof(out->err), "not implemented");
	return -1;
}

void prom_result_clear(struct prom_result *r)
{
	for (size_t i = 0; i < r->n_samples; i++)
		free(r->samples[i].label);
	free(r->samples);
	free(r->warnings);
	r->samples = NULL;
	r->warnings = NULL;
	r->n_samples = 0;
}
