/* policy: the PID weight policy. (Placeholder: holds every weight.) */
#include "policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *policy_action_name(enum wd_action a)
{
	static const char *const names[] = {"applied", "dry_run", "held", "pinned",
					    "frozen", "ejected", "stale"};
	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

int policy_state_sync(struct wd_service_state *st, const struct wd_service_cfg *svc)
{
	struct wd_backend_state *b = calloc(svc->n_backends, sizeof(*b));
	if (!b)
		return -1;
	for (size_t i = 0; i < svc->n_backends; i++) {
		b[i].name = strdup(svc->backends[i].name);
		b[i].weight = svc->backends[i].weight;
		b[i].out_weight = svc->backends[i].weight;
	}
	policy_state_free(st);
	st->name = strdup(svc->name);
	st->b = b;
	st->n = svc->n_backends;
	return 0;
}

void policy_state_free(struct wd_service_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		free(st->b[i].name);
	free(st->b);
	free(st->name);
	memset(st, 0, sizeof(*st));
}

bool policy_step(const struct wd_service_cfg *svc, struct wd_service_state *st,
		 const struct wd_measurement *m, bool service_data, struct wd_decision *out)
{
	(void)m;
	(void)service_data;
	for (size_t i = 0; i < svc->n_backends; i++) {
		out[i].action = WD_ACT_HELD;
		out[i].old_weight = out[i].new_weight = st->b[i].out_weight;
		out[i].cost = out[i].error = NAN;
	}
	return false;
}

int policy_apportion(const double *w, size_t n, int total, const int *lo, const int *hi, int *out)
{
	(void)w;
	(void)n;
	(void)total;
	(void)lo;
	(void)hi;
	(void)out;
	return -1;
}
