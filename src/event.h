/* event: log lines kept for later. The modules below the tick (measure, the
 * outputs) do not log; they record what happened here, and the tick writes
 * the lines out with its context, once. An event marked "once" is a warning
 * that recurs every tick while its cause lasts: the first time it is seen it
 * goes out at its level, later at debug (struct event_seen remembers). */
#ifndef WD_EVENT_H
#define WD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_MAX_FIELDS 4

struct wd_event {
	int level;                          /* WD_LOG_* */
	bool once;                          /* warn once, then debug */
	char *msg;
	char *kv[2 * EVENT_MAX_FIELDS];     /* key, value, ...; n_kv entries */
	size_t n_kv;
};

struct wd_events {
	struct wd_event *ev;
	size_t n, cap;
};

/* Appends an event: level, message, then key/value string pairs ended by
 * NULL (at most EVENT_MAX_FIELDS pairs; more are dropped). e may be NULL
 * (the event is dropped: a caller that does not want to know). */
void event_add(struct wd_events *e, int level, const char *msg, ...) __attribute__((sentinel));
/* The same for a warning that recurs while its cause lasts. */
void event_add_once(struct wd_events *e, int level, const char *msg, ...)
	__attribute__((sentinel));

/* Moves every event of src to the end of dst; src is left empty. */
void event_move(struct wd_events *dst, struct wd_events *src);
void event_clear(struct wd_events *e);

/* The warnings already seen: a small table of hashes, emptied when full. */
#define EVENT_SEEN_MAX 256
struct event_seen {
	uint64_t h[EVENT_SEEN_MAX];
	size_t n;
};

/* Logs every event in order (the "once" ones through seen, which may be
 * NULL: then always at their level) and empties e. */
void event_log(struct wd_events *e, struct event_seen *seen);

#endif
