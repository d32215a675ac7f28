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
	const char *(*diff)(const void *impl);    /* NULL: no diff */
	void (*free)(void *impl);
	/* What the implementation noticed (lines for the tick to log), or NULL
	 * when it notices nothing. output_take_events empties it. */
	struct wd_events *(*events)(void *impl);
};

/* A dry run's look at one output type: what a write would send, and what
 * the target holds now, read without changing anything (a read-only file
 * read, Redis read commands only, HAProxy's "show" commands), both in one
 * text form so that a unified diff of the two shows what the write would
 * change. */
struct output_peek {
	char *would;       /* the document, or the commands, a write sends */
	char *now;         /* what the target holds, in that form; "" nothing */
	char now_err[256]; /* why now could not be read ("" when it was) */
	char label[512];   /* the target, for the diff's headers */
};

struct output_peek_ops {
	/* The type's state for peeking (a path, a connection); NULL with err. */
	void *(*new)(const struct wd_config *cfg, char *err, size_t errlen);
	/* Fills p (the caller frees would and now). -1 with err set only when
	 * the services cannot be rendered; an unreadable target is now_err. */
	int (*peek)(void *impl, const struct wd_output_service *s, size_t n, struct output_peek *p,
		    char *err, size_t errlen);
	struct wd_events *(*events)(void *impl); /* NULL: notices nothing */
	void (*free)(void *impl);
};
extern const struct output_peek_ops output_file_peek_ops, output_redis_peek_ops,
	output_haproxy_peek_ops;

/* Each constructor returns its state, or NULL with err set. */
void *output_file_new(const struct wd_config *cfg, char *err, size_t errlen);
void *output_redis_new(const struct wd_config *cfg, char *err, size_t errlen);
void *output_dry_new(const struct wd_config *cfg, char *err, size_t errlen);
void *output_haproxy_new(const struct wd_config *cfg, char *err, size_t errlen);
extern const struct output_ops output_file_ops, output_redis_ops, output_dry_ops,
	output_haproxy_ops;

#endif
