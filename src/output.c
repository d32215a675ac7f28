/* output: picks the implementation the config names. (Placeholder: every
 * output is the dry run until the file and Redis outputs land.) */
#include "output.h"

#include <stdio.h>
#include <stdlib.h>

struct output {
	const char *kind;
};

struct output *output_new(const struct wd_config *cfg, char *err, size_t errlen)
{
	struct output *o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o->kind = cfg->dry_run ? "dry-run" : cfg->output.type == WD_OUT_FILE ? "file" : "redis";
	return o;
}

int output_write(struct output *o, const struct wd_output_service *s, size_t n, char *err,
		 size_t errlen)
{
	(void)o;
	(void)s;
	(void)n;
	(void)err;
	(void)errlen;
	return OUTPUT_UNCHANGED;
}

const char *output_kind(const struct output *o) { return o->kind; }

void output_free(struct output *o) { free(o); }
