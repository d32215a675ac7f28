/* policy_fixture: a service config built in code (no file) for the policy's
 * unit and closed-loop tests, with the config's policy defaults. */
#ifndef WD_POLICY_FIXTURE_H
#define WD_POLICY_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy.h"
#include "testutil.h"

#define PF_MAX 64

struct pf_service {
	struct wd_service_cfg svc;
	struct wd_backend_cfg b[PF_MAX];
	char names[PF_MAX][24];
};

/* The policy defaults, as the config loader fills them in for a minimal file
 * (so the tests follow the loader). Aborts if that file does not load. */
static inline void pf_defaults(struct wd_policy_cfg *pc)
{
	static struct wd_policy_cfg cached;
	static bool have;
	if (!have) {
		static const char text[] =
			"prometheus = { url = \"http://127.0.0.1:9090\"; };\n"
			"output = { type = \"file\"; path = \"/tmp/weightd-policy-test.yml\"; };\n"
			"policy = { latency_query = \"lat\"; };\n"
			"services = ({ name = \"s\"; backends = ({ name = \"a\"; url = \"http://a:1\"; }); });\n";
		struct wd_config *cfg = NULL;
		struct wd_errors errs = {0};
		if (tu_load_config(text, &cfg, &errs, NULL) < 0) {
			fprintf(stderr, "policy_fixture: defaults config does not load: %s\n",
				errs.n ? errs.msgs[0] : "?");
			abort();
		}
		cached = cfg->services[0].policy;
		cached.latency_query = cached.error_query = cached.rate_query = NULL;
		config_free(cfg);
		errors_free(&errs);
		have = true;
	}
	*pc = cached;
}

/* n backends named b0, b1, ... with initial weights w (NULL: total / n). */
static inline void pf_init(struct pf_service *f, size_t n, const int *w)
{
	memset(f, 0, sizeof(*f));
	f->svc.name = (char *)"svc";
	f->svc.label = (char *)"instance";
	pf_defaults(&f->svc.policy);
	f->svc.backends = f->b;
	f->svc.n_backends = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(f->names[i], sizeof(f->names[i]), "b%zu", i);
		f->b[i].name = f->names[i];
		f->b[i].weight = w ? w[i] : f->svc.policy.total / (int)n;
		f->b[i].pin = -1;
	}
}

/* A measurement with latency only. */
static inline struct wd_measurement pf_lat(double latency_s)
{
	struct wd_measurement m = {.has_latency = true, .latency_s = latency_s};
	return m;
}

#endif
