/* prom: instant queries against Prometheus's HTTP API (POST /api/v1/query),
 * all queries of a tick at once on one libcurl multi handle, parsed with cJSON
 * into (label value, sample) pairs. Knows nothing about weights. */
#ifndef WD_PROM_H
#define WD_PROM_H

#include <signal.h>
#include <stddef.h>

#include "config.h"
#include "secret.h"

struct prom_sample {
	char *label;  /* value of the query's label; "" when the series lacks it */
	double value; /* may be NaN or +-Inf as Prometheus encodes them */
};

struct prom_result {
	bool ok;           /* the query succeeded */
	char err[512];     /* when !ok: one line naming the cause */
	char *warnings;    /* Prometheus's warnings joined by "; ", or NULL */
	struct prom_sample *samples;
	size_t n_samples;
	bool scalar;       /* the result was a scalar (one sample, label "") */
};

struct prom_query {
	const char *expr;  /* PromQL; not owned */
	const char *label; /* the label that names a backend; not owned */
	struct prom_result result; /* filled by prom_query_batch; prom_result_clear frees */
};

struct prom;

/* Creates a client for cfg (which must outlive it or be replaced by
 * prom_set_config), as config_load or config_defaults left it: the client
 * trusts its values and states no defaults of its own. NULL on failure with
 * err set. */
struct prom *prom_new(const struct wd_prom_cfg *cfg, char *err, size_t errlen);
void prom_free(struct prom *p);

/* Runs the n queries concurrently and fills each one's result. Returns the
 * number of queries that failed. Returns early, failing the rest, when *stop
 * becomes non-zero (checked at least every 100 ms). */
int prom_query_batch(struct prom *p, struct prom_query *q, size_t n,
		     volatile sig_atomic_t *stop);

/* Parses one response body of /api/v1/query. Returns 0 and fills out, or -1
 * with out->err set. Exposed for tests and the fuzzer. */
int prom_parse_response(const char *body, size_t len, const char *label,
			struct prom_result *out);

/* Turns one HTTP answer (status code and body) to query expr into out:
 * the samples, or an error naming expr and the cause. Upstream text quoted
 * in the error, the warnings and the label values is masked with sec (may
 * be NULL), so none holds a fragment of a secret. Exposed for tests and the
 * fuzzer; prom_query_batch uses it for every answer. */
void prom_read_answer(const struct secret_set *sec, const char *expr, const char *label,
		      long code, const char *body, size_t len, struct prom_result *out);

void prom_result_clear(struct prom_result *r);

#endif
