/* config: the weightd.conf file (libconfig syntax) turned into an immutable
 * struct wd_config, with every validation error reported as FILE:LINE.
 *
 * One table in config.c lists every key with its type, default, bounds and
 * the groups it may stand in: it is the only place a default or a bound is
 * stated. The stages after the loader trust what it checked (every number
 * finite and within its bounds, every default filled in).
 *
 * A config is built whole and validated before anyone sees it; reload builds a
 * new one and swaps pointers. Secrets (*_file keys) are read here, kept only in
 * the struct, and never printed. */
#ifndef WD_CONFIG_H
#define WD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WD_MAX_BACKENDS 1024

/* "marginal" is retired: the loader reads it, warns and makes it latency, so
 * the policy only ever sees WD_OBJ_LATENCY. */
enum wd_objective { WD_OBJ_LATENCY = 0, WD_OBJ_MARGINAL };
enum wd_kind { WD_KIND_SERVERS = 0, WD_KIND_WEIGHTED };
enum wd_output_type { WD_OUT_FILE = 0, WD_OUT_REDIS, WD_OUT_HAPROXY };
/* Where a service's signals come from: its own queries, or the built-in
 * queries over a load balancer's metrics (preset.h). */
enum wd_metrics { WD_METRICS_CUSTOM = 0, WD_METRICS_TRAEFIK, WD_METRICS_HAPROXY };
/* The latency statistic of a preset's built-in query. */
enum wd_latency_stat { WD_STAT_MEAN = 0, WD_STAT_P95 };

struct wd_policy_cfg {
	enum wd_objective objective;
	double kp, ki, kd;
	double error_penalty;
	double eject_error_ratio;
	int total;
	int min_weight;
	int max_weight;
	double max_step;
	int deadband;
	int write_budget; /* ordinary writes per 100 ticks, at most; 0: no limit */
	int stale_ticks;
	double min_rate;
	int64_t window_ms; /* the signal's range window; 0 = not set */
	enum wd_latency_stat latency_stat; /* preset queries only */
	double min_requests; /* a backend's signal built from fewer requests (rate x window) is thin */
	/* Derived at load, for the policy's delay arithmetic (delay.h): the
	 * interval, and the service's signal window: window_ms, else the longest
	 * range selector in its queries; 0 when it cannot be known. */
	int64_t tick_ms;
	int64_t signal_window_ms;
	/* The quantile the latency signal is (0.95 for a p95), 0 for a mean:
	 * the preset's latency_statistic, or a custom latency query's
	 * histogram_quantile(q, ...). */
	double latency_quantile;
	/* The balancer is Traefik's leasttime (its strategy): weightd then
	 * leaves per-request reaction to it and writes only real moves. */
	bool leasttime;
	/* Templates in the top-level group; expanded (${service} replaced) in a
	 * service's effective policy. "" means absent. */
	char *latency_query;
	char *error_query;
	char *rate_query;
};

struct wd_backend_cfg {
	char *name;
	char *url;   /* kind servers; NULL for weighted (and optional for HAProxy) */
	char *child; /* the one-server Traefik service of the split layout, or NULL */
	char *haproxy_server; /* output haproxy: the server's name there; NULL: name */
	int weight;  /* initial weight */
	int pin;     /* -1: not pinned; 0: drained; N: fixed */
	int line;
};

/* A boolean the operator may leave unset (Traefik's default then). */
enum wd_tristate { WD_UNSET = 0, WD_NO, WD_YES };

struct wd_health_cfg {
	bool set;
	char *path;
	char *scheme;   /* NULL when unset */
	char *hostname; /* NULL when unset */
	int port;       /* 0 when unset */
	int64_t interval_ms, timeout_ms; /* 0 when unset */
	char *method;   /* NULL when unset */
	enum wd_tristate follow_redirects;
	char **headers; /* "Name: value", n_headers of them */
	size_t n_headers;
};

/* The operator's load-balancer options, carried into what weightd writes.
 * Strings are NULL and tri-states WD_UNSET when unset (Traefik's defaults). */
struct wd_lb_cfg {
	char *strategy;          /* "wrr", "hrw" or "leasttime" */
	enum wd_tristate pass_host_header;
	char *servers_transport;
	bool sticky;             /* sticky_cookie is set */
	char *cookie_name, *cookie_same_site;
	enum wd_tristate cookie_secure, cookie_http_only;
	bool passive;            /* passive_health_check is set */
	int64_t failure_window_ms;   /* 0 unset */
	int max_failed_attempts;     /* 0 unset */
};

struct wd_service_cfg {
	char *name;
	enum wd_kind kind;
	enum wd_metrics metrics; /* effective: the service's, else the top level's */
	char *label;
	bool freeze;
	struct wd_policy_cfg policy; /* effective: defaults, then the service's overrides */
	struct wd_backend_cfg *backends;
	size_t n_backends;
	struct wd_health_cfg health;
	struct wd_lb_cfg lb;
	char *haproxy_backend; /* output haproxy: the backend's name there; NULL: name */
	int line;
};

struct wd_prom_cfg {
	char *url;
	int64_t timeout_ms;
	char *bearer_token; /* secret, from bearer_token_file; NULL if none */
	char *bearer_token_file;
	char *username;     /* NULL if none */
	char *password;     /* secret, from password_file */
	char *password_file;
	char **headers;
	size_t n_headers;
	char *ca_file;      /* NULL if none */
	bool insecure_skip_verify;
	int64_t max_response_bytes;
	int max_concurrency; /* queries in flight at once */
};

struct wd_output_cfg {
	enum wd_output_type type;
	/* file */
	char *path;
	bool take_over; /* overwrite an existing file weightd did not write */
	/* redis and haproxy */
	char *address;  /* host:port, or a unix socket path starting with '/' */
	int db;
	char *username; /* NULL if none */
	char *password; /* secret, from password_file */
	char *password_file;
	char *root_key;
	int64_t timeout_ms;
};

struct wd_config {
	char *path;
	int64_t interval_ms;
	bool dry_run;
	int log_level;
	char *listen;     /* "" off */
	char *state_file; /* "" off */
	char *audit_log;  /* "" off, "-" stdout */
	char *traefik_api; /* "" off: Traefik's API, read back after each write */
	struct wd_prom_cfg prom;
	struct wd_output_cfg output;
	enum wd_metrics metrics;     /* the top-level default */
	struct wd_policy_cfg policy; /* the top-level defaults */
	struct wd_service_cfg *services;
	size_t n_services;
};

/* A list of error lines, each "FILE:LINE: message" or "FILE: message". */
struct wd_errors {
	char **msgs;
	size_t n;
};
void errors_add(struct wd_errors *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void errors_free(struct wd_errors *e);

/* Loads and validates the file. On success returns 0 and a config the caller
 * owns (config_free). On failure returns -1 and every error in errs; *out is
 * left NULL. Warnings that do not stop the load (e.g. a short interval) are
 * added to warns when it is not NULL. */
int config_load(const char *path, struct wd_config **out, struct wd_errors *errs,
		struct wd_errors *warns);
void config_free(struct wd_config *cfg);

/* Fills a zeroed config's top level, prometheus, output and policy with the
 * defaults (no services). Returns 0; config_free releases what it holds. For tools and tests that build a
 * config in code. */
int config_defaults(struct wd_config *cfg);

/* Parses "250ms", "10s", "1m", "1h" (also "1.5s", "1m30s") into milliseconds.
 * Returns 0, or -1 with the reason in err. Zero and negative are errors. */
int config_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen);

/* Returns a copy of the PromQL template tmpl with every ${service} replaced
 * by name, escaped for where it stands: as is outside a string, with \ and
 * the quote escaped inside a string, and with regex metacharacters escaped
 * too inside the string of a =~ or !~ matcher (caller frees). The only
 * place a name enters a query. */
char *config_expand_template(const char *tmpl, const char *name);

/* Finds a service / backend by name; NULL or -1 when absent. */
const struct wd_service_cfg *config_find_service(const struct wd_config *cfg, const char *name);
int config_backend_index(const struct wd_service_cfg *svc, const char *name);

/* "custom" or "traefik". */
const char *config_metrics_name(enum wd_metrics m);

/* True when the service is written as a weighted parent over one-server
 * child services (metrics traefik, kind servers); backends' child is set. */
bool config_split_layout(const struct wd_service_cfg *svc);

#endif
