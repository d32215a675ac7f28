/* output_dry: the dry run. It opens nothing and writes nothing: it renders
 * what the configured output would have written (the YAML document, the
 * Redis keys as "key = value" lines, or HAProxy's runtime API commands) and keeps it for the audit and the
 * operator (output_preview). The control path is the same as a real run. */
#include "haproxy_cli.h"
#include "output_impl.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct output_dry {
	enum wd_output_type type;
	char *root_key;
	char *preview;
};

void *output_dry_new(const struct wd_config *cfg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	struct output_dry *d = xcalloc(1, sizeof(*d));
	d->type = cfg->output.type;
	if (d->type == WD_OUT_REDIS) /* the only type with keys */
		d->root_key = xstrdup(cfg->output.root_key);
	return d;
}

static int render_kv_lines(const char *root_key, const struct wd_output_service *s, size_t n,
			   char **out, char *err, size_t errlen)
{
	struct wd_kv_list kv;
	if (traefik_kv(root_key, s, n, &kv, err, errlen) < 0)
		return -1;
	size_t len = 1;
	for (size_t i = 0; i < kv.n; i++)
		len += strlen(kv.kv[i].key) + strlen(kv.kv[i].value) + 4;
	char *p = xmalloc(len);
	size_t at = 0;
	p[0] = '\0';
	for (size_t i = 0; i < kv.n; i++)
		at += (size_t)snprintf(p + at, len - at, "%s = %s\n", kv.kv[i].key, kv.kv[i].value);
	traefik_kv_free(&kv);
	*out = p;
	return 0;
}

static int dry_write(void *impl, const struct wd_output_service *s, size_t n, char *err,
		     size_t errlen)
{
	struct output_dry *d = impl;
	char *doc;
	size_t len;
	int rc = d->type == WD_OUT_FILE      ? traefik_yaml(s, n, &doc, &len, err, errlen)
		 : d->type == WD_OUT_HAPROXY ? haproxy_render(s, n, &doc, err, errlen)
					     : render_kv_lines(d->root_key, s, n, &doc, err, errlen);
	if (rc < 0)
		return -1;
	rc = d->preview && strcmp(d->preview, doc) == 0 ? OUTPUT_UNCHANGED : OUTPUT_WRITTEN;
	free(d->preview);
	d->preview = doc;
	return rc;
}

static const char *dry_preview(const void *impl)
{
	return ((const struct output_dry *)impl)->preview;
}

static void dry_free(void *impl)
{
	struct output_dry *d = impl;
	if (d) {
		free(d->root_key);
		free(d->preview);
	}
	free(d);
}

const struct output_ops output_dry_ops = {
	.kind = "dry-run", .write = dry_write, .preview = dry_preview, .free = dry_free};
