/* preset: the built-in queries over a load balancer's own metrics (Traefik's
 * or HAProxy's exporter), and the label value each of a service's backends is
 * named by in their answers. A service with metrics = "traefik" or "haproxy"
 * writes no query: its signals come from here, one query per signal for the
 * whole fleet. */
#ifndef WD_PRESET_H
#define WD_PRESET_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum wd_signal { WD_SIG_LATENCY = 0, WD_SIG_ERROR, WD_SIG_RATE, WD_SIGNALS };

/* "latency", "error" or "rate". */
const char *preset_signal_name(enum wd_signal s);

/* The range of the built-in queries when window is not set. */
#define PRESET_DEFAULT_WINDOW_MS 60000

struct preset {
	enum wd_metrics metrics;
	const char *label; /* the series label whose value names a backend */
	/* Query templates. ${selector} becomes a matcher of label over the keys
	 * of every backend the query serves, ${window} the range ("1m"). With
	 * select_label set, the matcher is on select_label instead, over the
	 * part of each key before the first '/' (HAProxy: the proxy of a
	 * "proxy/server" key, which the query's label_join builds). */
	const char *select_label;
	const char *latency[2]; /* by enum wd_latency_stat; NULL: not offered */
	const char *error;      /* the ratio of failed requests */
	const char *rate;       /* requests per second */
	/* Writes the label value backend b of svc is named by into buf;
	 * 0, or -1 when buf is too small. */
	int (*key)(const struct wd_config *cfg, const struct wd_service_cfg *svc, size_t b,
		   char *buf, size_t len);
};

/* The preset of a metrics source; NULL for custom. */
const struct preset *preset_get(enum wd_metrics m);

/* The range a preset service's queries use: window, else the default. */
int64_t preset_window_ms(const struct wd_service_cfg *svc);

/* Builds signal's query over the n keys (each matched exactly: regex
 * metacharacters escaped). Returns a string the caller frees. */
char *preset_query(const struct preset *ps, enum wd_signal sig, enum wd_latency_stat stat,
		   int64_t window_ms, const char *const *keys, size_t n);

#endif
