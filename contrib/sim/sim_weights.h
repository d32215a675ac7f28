/* sim_weights: reads weights the way Traefik does, for weightd-sim.
 *
 * From weightd's YAML file (Traefik's file provider: re-read when the file's
 * inode, mtime or size changes; a file that fails to parse leaves the last good
 * weights in force) or from Traefik's Redis KV layout (SCAN + MGET under
 * root_key). Only one servers-kind service (servers matched by url) and one
 * weighted service (children matched by name) are followed. The servers-kind
 * service may be written in the split layout (a weighted parent over
 * one-server child services): its servers are then the children's, each
 * weighted as its child is in the parent, and each named by its child (the
 * service Traefik labels its metrics with). */
#ifndef WD_SIM_WEIGHTS_H
#define WD_SIM_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>

#include "fleet.h"

#define SIMW_MAX 256

struct simw_entry {
	char key[FLEET_NAME_MAX];   /* server url, or child service name */
	double weight;              /* a missing weight is 1, as in Traefik */
	char holder[FLEET_NAME_MAX]; /* servers: the split layout's child holding it, else "" */
};

/* The weights of the two followed services as one configuration holds them. */
struct simw_set {
	bool has_servers, has_weighted; /* the service was defined */
	bool split;                     /* the servers-kind service is a split layout */
	struct simw_entry servers[SIMW_MAX], children[SIMW_MAX];
	size_t n_servers, n_children;
};

/* Parses a Traefik dynamic YAML document. Returns 0, or -1 with the reason
 * (Traefik rejects the whole file: a non-integer or negative weight, bad YAML). */
int simw_parse_yaml(const char *text, size_t len, const char *service, const char *weighted,
		    struct simw_set *out, char *err, size_t errlen);

/* Builds the set from KV pairs (key, value) as Traefik's Redis provider sees
 * them (keys compared without case). Returns 0 or -1 with the reason. */
int simw_from_kv(char *const *keys, char *const *vals, size_t n, const char *root_key,
		 const char *service, const char *weighted, struct simw_set *out, char *err,
		 size_t errlen);

/* The split layout's child service holding backend b's server ("" when the
 * set is no split layout or lists no child for it). */
const char *simw_holder(const struct simw_set *set, const struct fleet *f, size_t b);

/* Applies a set to the fleet: a server not listed, or a child not listed, is
 * drained (weight 0). A service the set does not define leaves the fleet's
 * weights as they are. Returns the number of weights that changed. */
size_t simw_apply(const struct simw_set *set, struct fleet *f);

struct simw_source;
/* A file source (path) or a Redis source (address "host:port", db, root_key). */
struct simw_source *simw_file_new(const char *path, const char *service, const char *weighted);
struct simw_source *simw_redis_new(const char *address, int db, const char *root_key,
				   const char *service, const char *weighted);
void simw_source_free(struct simw_source *s);

/* Polls the source. Returns 1 with a new set in *out when the weights were
 * (re)read, 0 when nothing changed (or the file does not exist yet), -1 on a
 * failure (err says why; the caller keeps its last good weights, as Traefik). */
int simw_poll(struct simw_source *s, struct simw_set *out, char *err, size_t errlen);

#endif
