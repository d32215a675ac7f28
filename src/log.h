/* log: logfmt or JSON lines on stderr, with levels.
 *
 * A message is a fixed text plus key/value string pairs, ended by NULL:
 *   wd_log(WD_LOG_INFO, "config reloaded", "config", path, NULL);
 * Values are quoted and escaped as the format needs. Secrets never go in.
 * A message without fields can also be formatted printf-style:
 *   wd_logf(WD_LOG_ERROR, "out of memory (%zu bytes); aborting", n); */
#ifndef WD_LOG_H
#define WD_LOG_H

#include <stdio.h>

enum wd_log_level { WD_LOG_ERROR = 0, WD_LOG_WARN, WD_LOG_INFO, WD_LOG_DEBUG };
enum wd_log_format { WD_LOG_LOGFMT = 0, WD_LOG_JSON };

/* Sets the threshold and the format. Defaults: info, logfmt, stderr. */
void log_setup(int level, enum wd_log_format format);
void log_set_level(int level);
int log_get_level(void);
/* Redirects log lines (tests); NULL means stderr. */
void log_set_stream(FILE *stream);

/* Level names "error", "warn", "info", "debug"; -1 when unknown. */
/* The level names, indexed by enum wd_log_level, NULL-terminated. */
extern const char *const log_level_names[];
int log_level_from_name(const char *name);
const char *log_level_name(int level);

void wd_log(int level, const char *msg, ...) __attribute__((sentinel));
void wd_logf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) wd_log(WD_LOG_ERROR, __VA_ARGS__, (char *)NULL)
#define log_warn(...) wd_log(WD_LOG_WARN, __VA_ARGS__, (char *)NULL)
#define log_info(...) wd_log(WD_LOG_INFO, __VA_ARGS__, (char *)NULL)
#define log_debug(...) wd_log(WD_LOG_DEBUG, __VA_ARGS__, (char *)NULL)

#endif
