/* delay: the signal's delay from the queries and the tick (see delay.h). */
#include "delay.h"
#include "promql.h"

#include <ctype.h>
#include <string.h>

/* A PromQL duration at p ("1h30m", "90s", "1200ms"): its length in ms and
 * where it ends. Returns -1 when p does not start with one. */
static int64_t promql_duration(const char *p, const char **end)
{
	int64_t total = 0;
	int parts = 0;
	while (isdigit((unsigned char)*p)) {
		int64_t v = 0;
		while (isdigit((unsigned char)*p)) {
			if (v > 1000000000000LL)
				return -1;
			v = v * 10 + (*p++ - '0');
		}
		int64_t unit;
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else {
			switch (*p) {
			case 's': unit = 1000; break;
			case 'm': unit = 60000; break;
			case 'h': unit = 3600000; break;
			case 'd': unit = 86400000; break;
			case 'w': unit = 7 * 86400000LL; break;
			case 'y': unit = 365 * 86400000LL; break;
			default: return -1;
			}
			p++;
		}
		total += v * unit;
		parts++;
	}
	*end = p;
	return parts ? total : -1;
}

static const char *skip_space(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

int64_t delay_longest_range_ms(const char *query)
{
	int64_t range = 0, offset = 0;
	if (!query)
		return 0;
	for (const char *p = query; *p; p++) {
		if (*p == '"' || *p == '\'' || *p == '`') {
			p = promql_skip_string(p);
			if (!*p)
				break;
		} else if (*p == '[') {
			const char *end;
			int64_t v = promql_duration(skip_space(p + 1), &end);
			end = v >= 0 ? skip_space(end) : end;
			if (v > 0 && (*end == ']' || *end == ':') && v > range)
				range = v;
		} else if (strncmp(p, "offset", 6) == 0 && (p == query || !isalnum((unsigned char)p[-1]))) {
			const char *q = skip_space(p + 6), *end;
			if (*q == '-') /* a negative offset looks ahead: no older than its range */
				continue;
			int64_t v = promql_duration(q, &end);
			if (v > offset)
				offset = v;
		}
	}
	return range ? range + offset : 0;
}

double delay_tick_scale(int64_t tick_ms, int64_t window_ms)
{
	if (tick_ms <= 0 || window_ms <= 0)
		return 1.0;
	double s = (DELAY_REF_TICKS_PER_WINDOW + 1.0) * (double)tick_ms /
		   (double)(window_ms + tick_ms);
	return s < DELAY_MAX_TICK_SCALE ? s : DELAY_MAX_TICK_SCALE;
}

int64_t delay_signal_ms(int64_t tick_ms, int64_t window_ms)
{
	if (tick_ms <= 0)
		return 0;
	return (window_ms > 0 ? window_ms : DELAY_REF_TICKS_PER_WINDOW * tick_ms) + tick_ms;
}
