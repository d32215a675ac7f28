/* realload.h: what realbackend and openload share: the monotonic clock and
 * durations as their command lines and realbackend's /control take them. */
#ifndef WD_REALLOAD_H
#define WD_REALLOAD_H

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double realload_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "250us", "40ms", "1.5s", "2m" or plain seconds; -1 when bad or negative. */
static inline double realload_duration_s(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -1;
	if (strcmp(end, "us") == 0)
		return v / 1e6;
	if (strcmp(end, "ms") == 0)
		return v / 1000;
	if (strcmp(end, "m") == 0)
		return v * 60;
	if (strcmp(end, "s") == 0 || *end == '\0')
		return v;
	return -1;
}

#endif
