/* readback: did Traefik apply what weightd wrote? With traefik_api set, each
 * service written is remembered with the weights written and the time, and
 * Traefik's API (GET /api/http/services/<name>@<provider>) is read until it
 * shows the same weights. Traefik applies a change after its provider's
 * throttle (2 s), so a write is "pending" for a while; one that Traefik still
 * shows otherwise after a few intervals is reported. No logging: the caller
 * reports what readback_check returns. */
#ifndef WD_READBACK_H
#define WD_READBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "traefik.h"

struct readback;

/* A client for cfg's traefik_api (NULL and no error when it is ""). On
 * failure NULL with err set. */
struct readback *readback_new(const struct wd_config *cfg, char *err, size_t errlen);
void readback_free(struct readback *rb);

/* Remembers what was just written (the managed services with the weights
 * they were written with) at now_ms (monotonic); a service written again
 * before Traefik applied the last write keeps its first pending time. 0, or
 * -1 when the services cannot be laid out (the write refused them too). */
int readback_expect(struct readback *rb, const struct wd_output_service *s, size_t n,
		    int64_t now_ms);

/* One service's outcome of a check. */
struct readback_service {
	const char *name;     /* the managed service (borrowed from the config) */
	bool applied;         /* Traefik shows the weights last written */
	bool newly_applied;   /* ... since this check; apply_s says after how long */
	double apply_s;
	double pending_s;     /* when !applied: since the write */
	char seen[256];       /* when !applied: what Traefik shows, or why it could not tell */
	char want[256];       /* when !applied: what weightd wrote */
};

/* Reads Traefik's view of every service not yet seen applied. Fills out
 * (one entry per service written since readback_new, in config order; the
 * caller frees out->svc). Returns the number of API requests that failed;
 * once the API cannot be reached, the services left are not asked this time. */
struct readback_result {
	struct readback_service *svc;
	size_t n;
};
size_t readback_check(struct readback *rb, int64_t now_ms, struct readback_result *out);

/* Compares one answer of Traefik's API (the JSON of a service) with the
 * entries weightd wrote; provider is the suffix a child's name may carry.
 * 1 same, 0 different (seen says what Traefik has), -1 not a service. Exposed
 * for tests. */
int readback_compare(const char *json, const struct traefik_service *want, const char *provider,
		     char *seen, size_t seenlen);

#endif
