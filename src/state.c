/* state: the controller state as JSON (cJSON), replaced atomically:
 *   {"version":1,"services":{"SVC":{"BACKEND":{"weight":50.0,"out_weight":50,
 *     "e1":0.01,"e2":0.0,"n_err":2,"stale":0}}}}
 * Loading is forgiving: whatever cannot be used is skipped with a warning and
 * the backend starts from its configured weight. */
#include "state.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "util.h"

#define STATE_VERSION 1
#define MAX_STATE_BYTES (64u << 20)

static double finite_or_0(double v) { return isfinite(v) ? v : 0.0; }

int state_save(const char *path, const struct wd_service_state *st, size_t n, char *err,
	       size_t errlen)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *svcs = cJSON_AddObjectToObject(root, "services");
	bool ok = root && svcs && cJSON_AddNumberToObject(root, "version", STATE_VERSION);
	for (size_t i = 0; ok && i < n; i++) {
		if (!st[i].name)
			continue;
		cJSON *s = cJSON_AddObjectToObject(svcs, st[i].name);
		ok = s != NULL;
		for (size_t b = 0; ok && b < st[i].n; b++) {
			const struct wd_backend_state *bs = &st[i].b[b];
			cJSON *o = cJSON_AddObjectToObject(s, bs->name);
			ok = o && cJSON_AddNumberToObject(o, "weight", finite_or_0(bs->weight)) &&
			     cJSON_AddNumberToObject(o, "out_weight", bs->out_weight) &&
			     cJSON_AddNumberToObject(o, "e1", finite_or_0(bs->e1)) &&
			     cJSON_AddNumberToObject(o, "e2", finite_or_0(bs->e2)) &&
			     cJSON_AddNumberToObject(o, "n_err", bs->n_err) &&
			     cJSON_AddNumberToObject(o, "stale", bs->stale);
		}
	}
	char *text = ok ? cJSON_Print(root) : NULL;
	cJSON_Delete(root);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t len = strlen(text);
	text[len] = '\n'; /* cJSON's buffer ends with the NUL we overwrite */
	int rc = fileio_replace(path, text, len + 1, 0644, err, errlen);
	free(text);
	return rc;
}

/* A member that must be a finite number; NAN when it is not. */
static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

static bool is_int_in(double v, double lo, double hi)
{
	return isfinite(v) && v == floor(v) && v >= lo && v <= hi;
}


/* Restores one backend; -1 (with a warning) when the entry is unusable. */
static int load_backend(const char *path, const struct wd_service_cfg *svc, int idx,
			const cJSON *o, struct wd_backend_state *bs, struct wd_errors *warns)
{
	const char *why = NULL;
	double w = num(o, "weight"), ow = num(o, "out_weight"), e1 = num(o, "e1"),
	       e2 = num(o, "e2"), ne = num(o, "n_err"), stale = num(o, "stale");
	if (!cJSON_IsObject(o))
		why = "not an object";
	else if (!isfinite(w) || w < 0)
		why = "weight is not a non-negative number";
	else if (!is_int_in(ow, 0, 1e9))
		why = "out_weight is not a non-negative integer";
	else if (!isfinite(e1) || !isfinite(e2))
		why = "e1 and e2 must be numbers";
	else if (!is_int_in(ne, 0, 2))
		why = "n_err must be 0, 1 or 2";
	else if (!is_int_in(stale, 0, 1e9))
		why = "stale must be a non-negative integer";
	if (why) {
		errors_add(warns, "state: %s: service \"%s\" backend \"%s\": %s; starting it from its "
			   "configured weight", path, svc->name, o->string, why);
		return -1;
	}
	const struct wd_policy_cfg *p = &svc->policy;
	int pin = svc->backends[idx].pin;
	int hi = p->max_weight < p->total ? p->max_weight : p->total;
	bs->weight = w < p->min_weight ? p->min_weight : w > hi ? hi : w;
	bs->out_weight = pin >= 0 ? pin : util_clamp_int((int)ow, p->min_weight, hi);
	bs->e1 = e1;
	bs->e2 = e2;
	bs->n_err = (int)ne;
	bs->stale = (int)stale;
	return 0;
}

int state_load(const char *path, const struct wd_config *cfg, struct wd_service_state *st,
	       size_t n, struct wd_errors *warns)
{
	char *text, err[512];
	size_t len;
	int r = fileio_read(path, MAX_STATE_BYTES, &text, &len, err, sizeof(err));
	if (r == 1)
		return 0;
	if (r < 0) {
		errors_add(warns, "state: %s; starting from the configured weights", err);
		return -1;
	}
	cJSON *root = cJSON_ParseWithLength(text, len);
	free(text);
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	const cJSON *svcs = cJSON_GetObjectItemCaseSensitive(root, "services");
	if (!cJSON_IsObject(root) || !cJSON_IsNumber(ver) || ver->valuedouble != STATE_VERSION ||
	    !cJSON_IsObject(svcs)) {
		errors_add(warns, "state: %s: %s; starting from the configured weights", path,
			   !cJSON_IsObject(root) ? "not valid JSON"
			   : !cJSON_IsNumber(ver) || ver->valuedouble != STATE_VERSION
				   ? "not a version 1 weightd state file"
				   : "no \"services\" object");
		cJSON_Delete(root);
		return -1;
	}
	int restored = 0;
	const cJSON *s;
	cJSON_ArrayForEach(s, svcs) {
		const struct wd_service_cfg *svc = config_find_service(cfg, s->string);
		struct wd_service_state *ss = NULL;
		for (size_t i = 0; svc && i < n; i++)
			if (st[i].name && strcmp(st[i].name, s->string) == 0)
				ss = &st[i];
		if (!svc || !ss || !cJSON_IsObject(s)) {
			errors_add(warns, "state: %s: service \"%s\" %s; ignored", path, s->string,
				   !svc || !ss ? "is not in the config" : "is not an object");
			continue;
		}
		const cJSON *b;
		cJSON_ArrayForEach(b, s) {
			int idx = config_backend_index(svc, b->string);
			if (idx < 0 || (size_t)idx >= ss->n || strcmp(ss->b[idx].name, b->string) != 0) {
				errors_add(warns, "state: %s: service \"%s\" backend \"%s\" is not in the "
					   "config; ignored", path, s->string, b->string);
				continue;
			}
			if (load_backend(path, svc, idx, b, &ss->b[idx], warns) == 0)
				restored++;
		}
		/* Saved under another config (a backend added, total, bounds or
		 * pins changed while weightd was stopped), the restored weights
		 * are made valid for this one as any start set is. */
		policy_state_normalise(ss, svc);
	}
	cJSON_Delete(root);
	return restored;
}
