/* status: the document GET /status serves: each service's current weights,
 * each backend's action and reason, the last tick's time and result, the
 * config's path and whether its last reload succeeded, and the dry-run flag.
 *
 * The tick's part is built by report (report_status) and swapped in whole
 * under the mutex, as the metrics are: a reader never sees half a tick. The
 * daemon's part (path, reload) is set by main. The HTTP thread renders. */
#ifndef WD_STATUS_H
#define WD_STATUS_H

#include <stdbool.h>

struct cJSON;
struct status;

struct status *status_new(void);
void status_free(struct status *s); /* NULL is fine */

/* The config file in use, whether the daemon runs dry, and the outcome and
 * Unix time of the last reload (ok true and time 0 before any reload). The
 * path is copied. */
void status_set_config(struct status *s, const char *path, bool dry_run, bool reload_ok,
		       double reload_time_s);

/* Replaces the tick's part with tick, which it takes over: an object whose
 * members ("last_tick", "services") go into the document as they are. */
void status_set_tick(struct status *s, struct cJSON *tick);

/* The whole document as indented JSON in a new string the caller frees;
 * NULL when out of memory. */
char *status_render(struct status *s);

#endif
