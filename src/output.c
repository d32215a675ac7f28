/* output: picks the implementation the config names (the dry run whenever
 * dry_run is set, so the file, Redis or HAProxy are never opened). What Traefik
 * must never get is refused where it is rendered (traefik.h); what HAProxy
 * must never get, where its commands are planned (haproxy_cli.h). */
#include "output_impl.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

struct output {
	const struct output_ops *ops;
	void *impl;
};

struct output *output_new(const struct wd_config *cfg, char *err, size_t errlen)
{
	struct output *o = xcalloc(1, sizeof(*o));
	if (cfg->dry_run) {
		o->ops = &output_dry_ops;
		o->impl = output_dry_new(cfg, err, errlen);
	} else if (cfg->output.type == WD_OUT_FILE) {
		o->ops = &output_file_ops;
		o->impl = output_file_new(cfg, err, errlen);
	} else if (cfg->output.type == WD_OUT_HAPROXY) {
		o->ops = &output_haproxy_ops;
		o->impl = output_haproxy_new(cfg, err, errlen);
	} else {
		o->ops = &output_redis_ops;
		o->impl = output_redis_new(cfg, err, errlen);
	}
	if (!o->impl) {
		free(o);
		return NULL;
	}
	return o;
}

int output_write(struct output *o, const struct wd_output_service *s, size_t n, char *err,
		 size_t errlen)
{
	return o->ops->write(o->impl, s, n, err, errlen);
}

void output_take_events(struct output *o, struct wd_events *into)
{
	struct wd_events *e = o->ops->events ? o->ops->events(o->impl) : NULL;
	if (e)
		event_move(into, e);
}

const char *output_kind(const struct output *o) { return o->ops->kind; }

const char *output_preview(const struct output *o)
{
	return o->ops->preview ? o->ops->preview(o->impl) : NULL;
}

void output_free(struct output *o)
{
	if (!o)
		return;
	o->ops->free(o->impl);
	free(o);
}
