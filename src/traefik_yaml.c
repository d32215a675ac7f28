/* traefik_yaml: the file provider's document, emitted by libyaml (never
 * printf) after a header comment that marks the file as weightd's: strings
 * double-quoted (a name like "true" stays a string), weights plain integers,
 * long URLs never folded. */
#include "traefik.h"
#include "text.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static const char header[] =
	TRAEFIK_FILE_MARKER ": do not edit. weightd rewrites this whole file whenever\n"
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

/* A scalar of a type: strings double-quoted, numbers and booleans plain. */
static void value(struct em *m, const struct traefik_opt *o)
{
	if (o->type == TRAEFIK_EMPTY) {
		map_start(m);
		map_end(m);
	} else if (o->type == TRAEFIK_STR) {
		str(m, o->value, 1);
	} else {
		yaml_event_t ev;
		int ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)o->value,
						      (int)strlen(o->value), 1, 0, YAML_PLAIN_SCALAR_STYLE);
		emit(m, &ev, ok);
	}
}

/* The options as nested maps: their paths share prefixes in order, so a map
 * is opened at the first path under it and closed after the last. */
static void options(struct em *m, const struct traefik_service *t)
{
	enum { DEPTH = 8 };
	char open[DEPTH][128];
	size_t depth = 0;
	for (size_t i = 0; i < t->n_opt; i++) {
		char comp[DEPTH][128];
		size_t n = 0;
		for (const char *p = t->opt[i].path; *p && n < DEPTH; n++) {
			size_t l = strcspn(p, "/");
			snprintf(comp[n], sizeof(comp[n]), "%.*s", (int)l, p);
			p += l + (p[l] == '/');
		}
		size_t common = 0;
		while (common < depth && common + 1 < n && strcmp(open[common], comp[common]) == 0)
			common++;
		for (; depth > common; depth--)
			map_end(m);
		for (; depth + 1 < n; depth++) {
			key(m, comp[depth]);
			map_start(m);
			memcpy(open[depth], comp[depth], sizeof(open[depth]));
		}
		key(m, comp[n - 1]);
		value(m, &t->opt[i]);
	}
	for (; depth > 0; depth--)
		map_end(m);
}

static void service(struct em *m, const struct traefik_service *t)
{
	str(m, t->name, 1);
	map_start(m);
	key(m, t->weighted ? "weighted" : "loadBalancer");
	map_start(m);
	key(m, t->weighted ? "services" : "servers");
	seq_start(m);
	for (size_t i = 0; i < t->n; i++) {
		map_start(m);
		key(m, t->weighted ? "name" : "url");
		str(m, t->e[i].ref, 1);
		if (t->e[i].weight >= 0) {
			key(m, "weight");
			integer(m, t->e[i].weight);
		}
		map_end(m);
	}
	seq_end(m);
	options(m, t);
	map_end(m);
	map_end(m);
}

int traefik_yaml(const struct wd_output_service *s, size_t n, char **out, size_t *len,
		       char *err, size_t errlen)
{
	*out = NULL;
	*len = 0;
	struct traefik_layout lay;
	if (traefik_layout(s, n, &lay, err, errlen) < 0)
		return -1;
	struct util_buf b = {0};
	struct em m = {0};
	util_buf_add(&b, header, sizeof(header) - 1);
	if (!yaml_emitter_initialize(&m.e)) {
		util_buf_free(&b);
		traefik_layout_free(&lay);
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
	for (size_t i = 0; i < lay.n; i++)
		service(&m, &lay.svc[i]);
	map_end(&m);
	map_end(&m);
	map_end(&m);
	emit(&m, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(&m, &ev, yaml_stream_end_event_initialize(&ev));
	if (!m.failed && !yaml_emitter_flush(&m.e))
		m.failed = true;
	traefik_layout_free(&lay);
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

