/* event: log lines recorded below the tick and written by it; see event.h. */
#include "event.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static void add(struct wd_events *e, int level, bool once, const char *msg, va_list ap)
{
	if (!e)
		return;
	e->ev = util_grow(e->ev, &e->cap, e->n + 1, sizeof(*e->ev), 8);
	struct wd_event *ev = &e->ev[e->n++];
	memset(ev, 0, sizeof(*ev));
	ev->level = level;
	ev->once = once;
	ev->msg = xstrdup(msg);
	for (const char *k; (k = va_arg(ap, const char *)) != NULL;) {
		const char *v = va_arg(ap, const char *);
		if (ev->n_kv == 2 * EVENT_MAX_FIELDS)
			continue;
		ev->kv[ev->n_kv++] = xstrdup(k);
		ev->kv[ev->n_kv++] = xstrdup(v ? v : "");
	}
}

void event_add(struct wd_events *e, int level, const char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	add(e, level, false, msg, ap);
	va_end(ap);
}

void event_add_once(struct wd_events *e, int level, const char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	add(e, level, true, msg, ap);
	va_end(ap);
}

void event_move(struct wd_events *dst, struct wd_events *src)
{
	if (!src->n)
		return;
	dst->ev = util_grow(dst->ev, &dst->cap, dst->n + src->n, sizeof(*dst->ev), 8);
	memcpy(dst->ev + dst->n, src->ev, src->n * sizeof(*src->ev));
	dst->n += src->n;
	src->n = 0;
}

void event_clear(struct wd_events *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->ev[i].msg);
		for (size_t k = 0; k < e->ev[i].n_kv; k++)
			free(e->ev[i].kv[k]);
	}
	free(e->ev);
	memset(e, 0, sizeof(*e));
}

/* Whether this event was seen before; remembers it if not. */
static bool seen_before(struct event_seen *seen, const struct wd_event *ev)
{
	uint64_t h = util_fnv1a(UTIL_FNV_OFFSET, ev->msg, strlen(ev->msg) + 1);
	for (size_t k = 0; k < ev->n_kv; k++)
		h = util_fnv1a(h, ev->kv[k], strlen(ev->kv[k]) + 1);
	for (size_t i = 0; i < seen->n; i++)
		if (seen->h[i] == h)
			return true;
	if (seen->n == EVENT_SEEN_MAX)
		seen->n = 0;
	seen->h[seen->n++] = h;
	return false;
}

void event_log(struct wd_events *e, struct event_seen *seen)
{
	for (size_t i = 0; i < e->n; i++) {
		const struct wd_event *ev = &e->ev[i];
		int level = ev->once && seen && seen_before(seen, ev) ? WD_LOG_DEBUG : ev->level;
		char *const *kv = ev->kv;
		/* Unused pairs are NULL, which ends the list early. */
		wd_log(level, ev->msg, kv[0], kv[1], kv[2], kv[3], kv[4], kv[5], kv[6], kv[7],
		       (char *)NULL);
	}
	event_clear(e);
}
