/* output_impl: what output.c needs from each implementation. Internal to the
 * output module (output*.c); everyone else uses output.h. */
#ifndef WD_OUTPUT_IMPL_H
#define WD_OUTPUT_IMPL_H

#include "event.h"
#include "output.h"

struct output_ops {
	const char *kind;
	int (*write)(void *impl, const struct wd_output_service *s, size_t n, char *err,
		     size_t errlen);
	const char *(*preview)(const void *impl); /* NULL: no preview */
	void (*free)(void *impl);
	/* What the implementation noticed (lines for the tick to log), or NULL
	 * when it notices nothing. output_take_events empties it. */
	struct wd_events *(*events)(void *impl);
};

/* Each constructor returns its state, or NULL with err set. */
void *output_file_new(const struct wd_config *cfg, char *err, size_t errlen);
void *output_redis_new(const struct wd_config *cfg, char *err, size_t errlen);
void *output_dry_new(const struct wd_config *cfg, char *err, size_t errlen);
void *output_haproxy_new(const struct wd_config *cfg, char *err, size_t errlen);
extern const struct output_ops output_file_ops, output_redis_ops, output_dry_ops,
	output_haproxy_ops;

#endif
