/* output: where decided weights go. One interface, four implementations:
 * the Traefik file provider (output_file.c), the Traefik Redis KV provider
 * (output_redis.c), HAProxy's runtime API (output_haproxy.c), and the dry
 * run (output_dry.c), which writes nothing.
 * Outputs never compute weights: they carry what the policy decided, and
 * they only transport what traefik.h or haproxy_cli.h renders. */
#ifndef WD_OUTPUT_H
#define WD_OUTPUT_H

#include <stddef.h>

#include "config.h"
#include "traefik.h"

enum { OUTPUT_WRITTEN = 0, OUTPUT_UNCHANGED = 1 };

struct output;

/* Opens the output the config names (the dry run when dry_run is true).
 * NULL on failure with err set (e.g. the file exists and is not weightd's). */
struct output *output_new(const struct wd_config *cfg, char *err, size_t errlen);

/* Writes every managed service in one atomic update. Returns OUTPUT_WRITTEN,
 * OUTPUT_UNCHANGED (content identical, nothing written), or -1 with err set;
 * on failure what readers see is the last good update, untouched. Weights
 * Traefik must never get (negative, or a service all at 0) are refused by the
 * rendering every implementation does first. */
int output_write(struct output *o, const struct wd_output_service *s, size_t n,
		 char *err, size_t errlen);

/* Moves what the output noticed since the last call (a Redis restart, a file
 * changed behind weightd's back, a connection made) to the end of into, for
 * the caller to log: outputs do not log. */
struct wd_events;
void output_take_events(struct output *o, struct wd_events *into);

/* "file", "redis", "haproxy" or "dry-run". */
const char *output_kind(const struct output *o);

/* The dry run's last rendering of what it would have written (the YAML
 * document, "key = value" lines for Redis, or the runtime API commands for
 * HAProxy, as if HAProxy held none of the weights yet); NULL for the other outputs or
 * before the first write. Owned by o, valid until its next write. */
const char *output_preview(const struct output *o);

void output_free(struct output *o);

#endif
