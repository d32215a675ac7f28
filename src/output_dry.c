/* output_dry: the dry run. It writes nothing: it asks the configured output
 * type's peek hook (output_peek_ops) for what a write would send and what the
 * target holds now, read without changing anything, and keeps the rendering
 * (output_preview) and the unified diff of the two (output_diff) for the
 * tick to show. The control path is the same as a real run. */
#include "diff.h"
#include "log.h"
#include "output_impl.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct output_dry {
	const struct output_peek_ops *peek;
	void *impl;
	char *preview;
	char *diff;
	struct wd_events events;
};

void *output_dry_new(const struct wd_config *cfg, char *err, size_t errlen)
{
	struct output_dry *d = xcalloc(1, sizeof(*d));
	/* One read-only look per output type; a new type adds its own here. */
	switch (cfg->output.type) {
	case WD_OUT_FILE: d->peek = &output_file_peek_ops; break;
	case WD_OUT_REDIS: d->peek = &output_redis_peek_ops; break;
	case WD_OUT_HAPROXY: d->peek = &output_haproxy_peek_ops; break;
	}
	if (!(d->impl = d->peek->new(cfg, err, errlen))) {
		free(d);
		return NULL;
	}
	return d;
}

static int dry_write(void *impl, const struct wd_output_service *s, size_t n, char *err,
		     size_t errlen)
{
	struct output_dry *d = impl;
	struct output_peek p = {0};
	if (d->peek->peek(d->impl, s, n, &p, err, errlen) < 0)
		return -1;
	if (p.now_err[0])
		event_add_once(&d->events, WD_LOG_WARN,
			       "dry run: cannot read what the output holds now; showing the diff "
			       "against nothing", "error", p.now_err, (char *)NULL);
	char now_label[600], would_label[600];
	snprintf(now_label, sizeof(now_label), "%s\tnow", p.label);
	snprintf(would_label, sizeof(would_label), "%s\tweightd would write", p.label);
	char *diff = diff_unified(p.now, p.would, now_label, would_label);
	int rc = d->diff && strcmp(d->diff, diff) == 0 ? OUTPUT_UNCHANGED : OUTPUT_WRITTEN;
	free(d->diff);
	d->diff = diff;
	free(d->preview);
	d->preview = p.would;
	free(p.now);
	return rc;
}

static const char *dry_preview(const void *impl)
{
	return ((const struct output_dry *)impl)->preview;
}

static const char *dry_diff(const void *impl) { return ((const struct output_dry *)impl)->diff; }

static struct wd_events *dry_events(void *impl)
{
	struct output_dry *d = impl;
	struct wd_events *e = d->peek->events ? d->peek->events(d->impl) : NULL;
	if (e)
		event_move(&d->events, e);
	return &d->events;
}

static void dry_free(void *impl)
{
	struct output_dry *d = impl;
	if (d) {
		d->peek->free(d->impl);
		free(d->preview);
		free(d->diff);
		event_clear(&d->events);
	}
	free(d);
}

const struct output_ops output_dry_ops = {.kind = "dry-run",
					  .write = dry_write,
					  .preview = dry_preview,
					  .diff = dry_diff,
					  .events = dry_events,
					  .free = dry_free};
