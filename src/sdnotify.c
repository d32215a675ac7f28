/* sdnotify: thin wrapper over libsystemd's sd_notify(3) and
 * sd_watchdog_enabled(3), so the loop names what it tells and not how. */
#include "sdnotify.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

void sdnotify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status ? status : "running");
}

void sdnotify_reloading(void)
{
	sd_notify(0, "RELOADING=1\nSTATUS=reloading the config");
}

void sdnotify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

int64_t sdnotify_watchdog_interval_ms(void)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	int64_t ms = (int64_t)(usec / 2000);
	return ms > 0 ? ms : 1;
}

void sdnotify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}
