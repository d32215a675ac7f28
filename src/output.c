/* output: picks the implementation the config names (the dry run whenever
 * dry_run is set, so the file and Redis are never opened) and the check of
 * what every rendering must refuse. */
#include "output_impl.h"

#include <inttypes.h>
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
	/* Each write renders first, and rendering refuses what output_validate
	 * refuses: the check runs once per write, there. */
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

int output_validate(const struct wd_output_service *s, size_t n, char *err, size_t errlen)
{
	if (n == 0) {
		snprintf(err, errlen, "no service to write");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		bool any = false;
		for (size_t b = 0; b < s[i].cfg->n_backends; b++) {
			if (s[i].weights[b] < 0) {
				snprintf(err, errlen, "service \"%s\": backend \"%s\": negative weight %d",
					 s[i].cfg->name, s[i].cfg->backends[b].name, s[i].weights[b]);
				return -1;
			}
			any = any || s[i].weights[b] > 0;
		}
		if (!any) {
			snprintf(err, errlen,
				 "service \"%s\": every backend is at weight 0; refusing to write a service "
				 "that would serve nothing", s[i].cfg->name);
			return -1;
		}
	}
	return 0;
}

void output_duration(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRId64 "ms", ms);
}
