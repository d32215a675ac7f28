/* traefik: the facts of Traefik's dynamic configuration weightd relies on,
 * as pure functions: the names of the split layout's child services. */
#ifndef WD_TRAEFIK_H
#define WD_TRAEFIK_H

#include <stddef.h>

/* Writes the name of the one-server child service that carries backend of
 * service in the split layout: "<service>--<backend>", each part with every
 * character outside [A-Za-z0-9._-] replaced by '-' (so "app" and
 * "10.0.0.1:8080" give "app--10.0.0.1-8080"). Two backends can map to one
 * name ("a:b", "a-b"): config refuses that. Returns the length, or -1 when
 * buf is too small. */
int traefik_child_name(const char *service, const char *backend, char *buf, size_t len);

#endif
