/* sim_api: the part of Traefik's API that weightd reads back,
 * GET /api/http/services/<name>@<provider>, served by weightd-sim from the
 * weights it applied (so a lag or a stuck balancer shows there as in Traefik). */
#ifndef WD_SIM_API_H
#define WD_SIM_API_H

#include <stdio.h>

#include "sim_weights.h"

/* Writes the JSON of the service named name_at ("<name>@<provider>") as
 * Traefik's API would from set, the weights in force: the followed
 * servers-kind service (a loadBalancer, or in the split layout a weighted
 * parent and its one-server children) and the followed weighted service.
 * Returns the HTTP status: 200, or 404 (with a message) for another name. */
int simapi_service(const struct simw_set *set, const char *service, const char *weighted,
		   const char *provider, const char *name_at, FILE *o);

#endif
