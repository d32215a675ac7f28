/* sdnotify: telling the service manager how weightd is doing (systemd's
 * sd_notify protocol through libsystemd): ready once the first config is
 * loaded and its I/O opened, reloading and ready again around a reload,
 * stopping, and the watchdog's keep-alive. Outside systemd (no NOTIFY_SOCKET)
 * every call does nothing. */
#ifndef WD_SDNOTIFY_H
#define WD_SDNOTIFY_H

#include <stdint.h>

/* READY=1 with a one-line STATUS=. */
void sdnotify_ready(const char *status);

/* RELOADING=1 before a reload; sdnotify_ready() after it, success or not. */
void sdnotify_reloading(void);

/* STOPPING=1. */
void sdnotify_stopping(void);

/* How often the loop must call sdnotify_watchdog(), in milliseconds: half of
 * the unit's WatchdogSec=, or 0 when no watchdog is asked for. */
int64_t sdnotify_watchdog_interval_ms(void);

/* WATCHDOG=1: the loop is alive. */
void sdnotify_watchdog(void);

#endif
