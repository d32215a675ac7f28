/* preset: Traefik's and HAProxy's metrics as weightd's three signals.
 *
 * Traefik labels traefik_service_request_duration_seconds and
 * traefik_service_requests_total by the service that holds the server that
 * answered, as "<name>@<provider>"; a weighted parent records nothing of its
 * own. So in the split layout each backend's series are its child service's,
 * and for kind weighted they are the child services' themselves.
 *
 * HAProxy's exporter labels its per-server series by proxy and server; a
 * server name repeats across proxies, so a backend's key is "proxy/server",
 * joined into the label weightd_server by the query itself. It has no
 * per-server histogram: its latency is the mean over each server's last
 * 1,024 requests, a gauge with no window (see weightd.conf(5)). */
#include "preset.h"

#include "haproxy_cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *preset_signal_name(enum wd_signal s)
{
	static const char *const names[WD_SIGNALS] = {"latency", "error", "rate"};
	return s < WD_SIGNALS ? names[s] : "?";
}

/* Traefik's name for the provider weightd writes through. */
static const char *traefik_provider(const struct wd_config *cfg)
{
	return cfg->output.type == WD_OUT_REDIS ? "redis" : "file";
}

static int traefik_key(const struct wd_config *cfg, const struct wd_service_cfg *svc, size_t b,
		       char *buf, size_t len)
{
	const struct wd_backend_cfg *bc = &svc->backends[b];
	const char *name = bc->child ? bc->child : bc->name;
	/* A weighted child may name another provider's service ("app@docker"). */
	int n = strchr(name, '@') ? snprintf(buf, len, "%s", name)
				  : snprintf(buf, len, "%s@%s", name, traefik_provider(cfg));
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static const struct preset traefik = {
	.metrics = WD_METRICS_TRAEFIK,
	.label = "service",
	.latency = {
		[WD_STAT_MEAN] =
			"sum by (service) (rate(traefik_service_request_duration_seconds_sum{${selector}}[${window}]))"
			" / sum by (service) (rate(traefik_service_request_duration_seconds_count{${selector}}[${window}]))",
		[WD_STAT_P95] =
			"histogram_quantile(0.95, sum by (le, service) "
			"(rate(traefik_service_request_duration_seconds_bucket{${selector}}[${window}])))",
	},
	.error = "sum by (service) (rate(traefik_service_requests_total{${selector},code=~\"5..\"}[${window}]))"
		 " / sum by (service) (rate(traefik_service_requests_total{${selector}}[${window}]))",
	.rate = "sum by (service) (rate(traefik_service_requests_total{${selector}}[${window}]))",
	.key = traefik_key,
};

static int haproxy_key(const struct wd_config *cfg, const struct wd_service_cfg *svc, size_t b,
		       char *buf, size_t len)
{
	(void)cfg;
	int n = snprintf(buf, len, "%s/%s", haproxy_backend_name(svc), haproxy_server_name(svc, b));
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

#define HAPROXY_KEYED(expr) "label_join(" expr ", \"weightd_server\", \"/\", \"proxy\", \"server\")"

static const struct preset haproxy = {
	.metrics = WD_METRICS_HAPROXY,
	.label = "weightd_server",
	.select_label = "proxy",
	.latency = {
		[WD_STAT_MEAN] = HAPROXY_KEYED(
			"max by (proxy, server) (haproxy_server_total_time_average_seconds{${selector}})"),
	},
	.error = HAPROXY_KEYED(
		"sum by (proxy, server) (rate(haproxy_server_http_responses_total{${selector},code=\"5xx\"}[${window}]))"
		" / sum by (proxy, server) (rate(haproxy_server_http_responses_total{${selector}}[${window}]))"),
	.rate = HAPROXY_KEYED(
		"sum by (proxy, server) (rate(haproxy_server_http_responses_total{${selector}}[${window}]))"),
	.key = haproxy_key,
};

const struct preset *preset_get(enum wd_metrics m)
{
	return m == WD_METRICS_TRAEFIK ? &traefik : m == WD_METRICS_HAPROXY ? &haproxy : NULL;
}

int64_t preset_window_ms(const struct wd_service_cfg *svc)
{
	return svc->policy.window_ms > 0 ? svc->policy.window_ms : PRESET_DEFAULT_WINDOW_MS;
}

static void puts_(struct util_buf *s, const char *v) { util_buf_add(s, v, strlen(v)); }

/* label=~"(k1|k2|...)": each key escaped once for the regex, then once more
 * for the PromQL string it sits in. With prefix, only the part of each key
 * before its first '/', each distinct part once (keys are sorted). */
static void put_selector(struct util_buf *s, const char *label, const char *const *keys, size_t n,
			 bool prefix)
{
	puts_(s, label);
	puts_(s, "=~\"(");
	size_t prev_len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = prefix ? strcspn(keys[i], "/") : strlen(keys[i]);
		if (prefix && i && len == prev_len && strncmp(keys[i], keys[i - 1], len) == 0)
			continue;
		prev_len = len;
		if (i)
			puts_(s, "|");
		for (const char *c = keys[i]; c < keys[i] + len; c++) {
			if (*c == '\\')
				puts_(s, "\\\\\\\\"); /* \\ in the regex */
			else if (strchr(".+*?()|[]{}^$", *c))
				puts_(s, "\\\\"); /* \ before the character in the regex */
			else if (*c == '"')
				puts_(s, "\\");
			if (*c != '\\')
				util_buf_add(s, c, 1);
		}
	}
	puts_(s, ")\"");
}

/* Formats a range for PromQL: the largest unit that divides it. */
static void put_window(struct util_buf *s, int64_t ms)
{
	char b[32];
	if (ms % 3600000 == 0)
		snprintf(b, sizeof(b), "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(b, sizeof(b), "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(b, sizeof(b), "%llds", (long long)(ms / 1000));
	else
		snprintf(b, sizeof(b), "%lldms", (long long)ms);
	puts_(s, b);
}

char *preset_query(const struct preset *ps, enum wd_signal sig, enum wd_latency_stat stat,
		   int64_t window_ms, const char *const *keys, size_t n)
{
	const char *tmpl = sig == WD_SIG_LATENCY ? ps->latency[stat]
			   : sig == WD_SIG_ERROR ? ps->error : ps->rate;
	struct util_buf s = {0};
	static const char sel[] = "${selector}", win[] = "${window}";
	for (const char *t = tmpl; *t;) {
		if (strncmp(t, sel, sizeof(sel) - 1) == 0) {
			put_selector(&s, ps->select_label ? ps->select_label : ps->label, keys, n,
				     ps->select_label != NULL);
			t += sizeof(sel) - 1;
		} else if (strncmp(t, win, sizeof(win) - 1) == 0) {
			put_window(&s, window_ms);
			t += sizeof(win) - 1;
		} else {
			util_buf_add(&s, t++, 1);
		}
	}
	return s.p;
}
