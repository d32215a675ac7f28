/* output_file: the Traefik file provider output. The document is emitted by
 * libyaml (never printf), after a header comment that marks the file as
 * weightd's, and replaces the target atomically (fileio_replace). Content
 * identical to what is on disk is not rewritten: every write makes Traefik
 * rebuild its load balancers. The tick hands the weights over every time, so a
 * file removed or edited outside weightd is put back (with a warning) even
 * while the weights hold. */
#include "fileio.h"
#include "log.h"
#include "output_impl.h"
#include "text.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_FILE_BYTES (64u << 20)

static const char header[] =
	OUTPUT_FILE_MARKER ": do not edit. weightd rewrites this whole file whenever\n"
	"# weights change; edit weightd.conf and send weightd SIGHUP instead.\n";

static int on_output(void *data, unsigned char *buffer, size_t size)
{
	util_buf_add(data, buffer, size);
	return 1;
}

/* The emitter with a sticky failure flag, so the structure below reads as
 * the document it writes; problem names the cause when libyaml gives none. */
struct em {
	yaml_emitter_t e;
	bool failed;
	const char *problem;
};

/* Hands an initialized event to the emitter, which then owns it (also when
 * it fails: yaml_emitter_delete frees its queue). After a failure the event
 * is nobody's but ours, so it is deleted here. */
static void emit(struct em *m, yaml_event_t *ev, int initialized)
{
	if (!initialized) {
		m->failed = true;
		return;
	}
	if (m->failed)
		yaml_event_delete(ev);
	else if (!yaml_emitter_emit(&m->e, ev))
		m->failed = true;
}

/* A key, or a string value: fixed keys plain, data double-quoted so a name
 * like "true" or "123" stays a string. */
static void str(struct em *m, const char *v, int quoted)
{
	yaml_event_t ev;
	int ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)v, (int)strlen(v),
					      !quoted, quoted,
					      quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
						     : YAML_PLAIN_SCALAR_STYLE);
	/* libyaml refuses a scalar that is not UTF-8 the way it fails an
	 * allocation: tell the two apart. */
	if (!ok && !m->failed && text_utf8_invalid_at(v) >= 0)
		m->problem = "a name or URL is not valid UTF-8";
	emit(m, &ev, ok);
}

static void key(struct em *m, const char *k) { str(m, k, 0); }

static void integer(struct em *m, long long v)
{
	char s[32];
	snprintf(s, sizeof(s), "%lld", v);
	yaml_event_t ev;
	int ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1,
					      0, YAML_PLAIN_SCALAR_STYLE);
	emit(m, &ev, ok);
}

static void map_start(struct em *m)
{
	yaml_event_t ev;
	emit(m, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

static void map_end(struct em *m)
{
	yaml_event_t ev;
	emit(m, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void seq_start(struct em *m)
{
	yaml_event_t ev;
	emit(m, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
}

static void seq_end(struct em *m)
{
	yaml_event_t ev;
	emit(m, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void health_check(struct em *m, const struct wd_health_cfg *h)
{
	char d[32];
	key(m, "healthCheck");
	map_start(m);
	key(m, "path");
	str(m, h->path, 1);
	if (h->scheme) {
		key(m, "scheme");
		str(m, h->scheme, 1);
	}
	if (h->hostname) {
		key(m, "hostname");
		str(m, h->hostname, 1);
	}
	if (h->port) {
		key(m, "port");
		integer(m, h->port);
	}
	if (h->interval_ms) {
		output_duration(h->interval_ms, d, sizeof(d));
		key(m, "interval");
		str(m, d, 1);
	}
	if (h->timeout_ms) {
		output_duration(h->timeout_ms, d, sizeof(d));
		key(m, "timeout");
		str(m, d, 1);
	}
	map_end(m);
}

static void service(struct em *m, const struct wd_output_service *s)
{
	const struct wd_service_cfg *c = s->cfg;
	str(m, c->name, 1);
	map_start(m);
	if (c->kind == WD_KIND_SERVERS) {
		key(m, "loadBalancer");
		map_start(m);
		key(m, "servers");
		seq_start(m);
		for (size_t b = 0; b < c->n_backends; b++) {
			if (s->weights[b] == 0) /* drained: left out, never weight 0 */
				continue;
			map_start(m);
			key(m, "url");
			str(m, c->backends[b].url, 1);
			key(m, "weight");
			integer(m, s->weights[b]);
			map_end(m);
		}
		seq_end(m);
		if (c->health.set)
			health_check(m, &c->health);
		map_end(m);
	} else {
		key(m, "weighted");
		map_start(m);
		key(m, "services");
		seq_start(m);
		for (size_t b = 0; b < c->n_backends; b++) {
			map_start(m);
			key(m, "name");
			str(m, c->backends[b].name, 1);
			key(m, "weight");
			integer(m, s->weights[b]);
			map_end(m);
		}
		seq_end(m);
		map_end(m);
	}
	map_end(m);
}

int output_file_render(const struct wd_output_service *s, size_t n, char **out, size_t *len,
		       char *err, size_t errlen)
{
	*out = NULL;
	*len = 0;
	if (output_validate(s, n, err, errlen) < 0)
		return -1;
	struct util_buf b = {0};
	struct em m = {0};
	util_buf_add(&b, header, sizeof(header) - 1);
	if (!yaml_emitter_initialize(&m.e)) {
		util_buf_free(&b);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	yaml_emitter_set_output(&m.e, on_output, &b);
	yaml_emitter_set_width(&m.e, -1); /* never fold a long URL */
	yaml_emitter_set_indent(&m.e, 2);
	yaml_emitter_set_unicode(&m.e, 1);

	yaml_event_t ev;
	emit(&m, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(&m, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	map_start(&m);
	key(&m, "http");
	map_start(&m);
	key(&m, "services");
	map_start(&m);
	for (size_t i = 0; i < n; i++)
		service(&m, &s[i]);
	map_end(&m);
	map_end(&m);
	map_end(&m);
	emit(&m, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(&m, &ev, yaml_stream_end_event_initialize(&ev));
	if (!m.failed && !yaml_emitter_flush(&m.e))
		m.failed = true;
	if (m.failed) {
		snprintf(err, errlen, "YAML emitter: %s",
			 m.problem ? m.problem : m.e.problem ? m.e.problem : "out of memory");
		yaml_emitter_delete(&m.e);
		util_buf_free(&b);
		return -1;
	}
	yaml_emitter_delete(&m.e);
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ---- the file output ---------------------------------------------------- */

struct output_file {
	char *path;
	uint64_t last_hash; /* of the document last written or found in place */
	bool last_valid;
	struct wd_events events; /* for the tick to log */
};

void *output_file_new(const struct wd_config *cfg, char *err, size_t errlen)
{
	const char *path = cfg->output.path;
	char *old = NULL;
	size_t len;
	char rerr[256];
	int r = fileio_read(path, MAX_FILE_BYTES, &old, &len, rerr, sizeof(rerr));
	if (r < 0) {
		snprintf(err, errlen, "output.path: %s", rerr);
		return NULL;
	}
	/* An empty file holds nothing to lose (e.g. made by touch). */
	int ours = r == 1 || len == 0 || strncmp(old, OUTPUT_FILE_MARKER, strlen(OUTPUT_FILE_MARKER)) == 0;
	free(old);
	if (!ours && !cfg->output.take_over) {
		snprintf(err, errlen,
			 "output.path %s exists and was not written by weightd (its first line is not "
			 "\"%s...\"); move it away, or set output.take_over = true to overwrite it",
			 path, OUTPUT_FILE_MARKER);
		return NULL;
	}
	struct output_file *f = xcalloc(1, sizeof(*f));
	f->path = xstrdup(path);
	return f;
}

static int file_write(void *impl, const struct wd_output_service *s, size_t n, char *err,
		      size_t errlen)
{
	struct output_file *f = impl;
	char *doc, *cur = NULL;
	size_t len, cur_len;
	if (output_file_render(s, n, &doc, &len, err, errlen) < 0)
		return -1;
	/* Compare with the disk, not a memory of the last write: a file someone
	 * removed or edited is put back. A read error just means "write". */
	char rerr[256];
	int r = fileio_read(f->path, MAX_FILE_BYTES, &cur, &cur_len, rerr, sizeof(rerr));
	int same = r == 0 && cur_len == len && memcmp(cur, doc, len) == 0;
	free(cur);
	/* FNV-1a: enough to tell "the same document as last time" apart. */
	uint64_t h = util_fnv1a(UTIL_FNV_OFFSET, doc, len);
	if (!same && f->last_valid && h == f->last_hash) {
		event_add(&f->events, WD_LOG_WARN,
			  "the output file was removed or changed outside weightd; writing it again",
			  "path", f->path, (char *)NULL);
		f->last_valid = false; /* once, even if this write fails */
	}
	int rc = OUTPUT_UNCHANGED;
	if (!same)
		rc = fileio_replace(f->path, doc, len, 0644, err, errlen) < 0 ? -1 : OUTPUT_WRITTEN;
	free(doc);
	if (rc >= 0) {
		f->last_hash = h;
		f->last_valid = true;
	}
	return rc;
}

static void file_free(void *impl)
{
	struct output_file *f = impl;
	if (f) {
		free(f->path);
		event_clear(&f->events);
	}
	free(f);
}

static struct wd_events *file_events(void *impl) { return &((struct output_file *)impl)->events; }

const struct output_ops output_file_ops = {
	.kind = "file", .write = file_write, .free = file_free, .events = file_events};
