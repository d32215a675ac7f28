/* haproxy_cli: HAProxy's runtime API (the CLI on its stats socket) as text,
 * without I/O: the commands weightd sends, the parsing of HAProxy's answers,
 * and the plan of one tick (which commands bring HAProxy to the decided
 * weights). output_haproxy.c carries them over the socket; the dry run
 * prints them. */
#ifndef WD_HAPROXY_CLI_H
#define WD_HAPROXY_CLI_H

#include <stddef.h>

#include "output.h"

/* HAProxy's weights are 0..256. */
#define HAPROXY_MAX_WEIGHT 256
/* The longest backend or server name weightd sends, and so the longest
 * command line (with its NUL). */
#define HAPROXY_MAX_NAME 200
#define HAPROXY_CMD_MAX (2 * HAPROXY_MAX_NAME + 64)

/* srv_admin_state bits (HAProxy's enum srv_admin). */
#define HAPROXY_ADMIN_FMAINT 0x01 /* forced into maintenance */
#define HAPROXY_ADMIN_MAINT 0x23  /* any maintenance but the config's */
#define HAPROXY_ADMIN_FDRAIN 0x08 /* forced into drain (what weightd sets) */
#define HAPROXY_ADMIN_DRAIN 0x18  /* forced or inherited drain */

/* One server as "show servers state BACKEND" reports it. */
struct haproxy_server {
	char *name;
	char *addr;  /* the address HAProxy uses ("127.0.0.1") */
	char *fqdn;  /* the name the config gave, or NULL when it gave an address */
	int port;
	int admin_state; /* HAPROXY_ADMIN_* bits */
	int weight;      /* current weight */
	int initial_weight;
};

struct haproxy_backend_state {
	struct haproxy_server *servers;
	size_t n;
};

/* Parses the answer to "show servers state BACKEND" (a version line, a
 * "# be_id be_name ..." header, one row per server). Columns are found by
 * their header names. 0, or -1 with err set (e.g. "Can't find backend.").
 * Free with haproxy_backend_state_free. */
int haproxy_parse_servers_state(const char *answer, struct haproxy_backend_state *out,
				char *err, size_t errlen);
void haproxy_backend_state_free(struct haproxy_backend_state *st);
const struct haproxy_server *haproxy_find_server(const struct haproxy_backend_state *st,
						 const char *name);

/* Parses the answer to "get weight B/S": "N (initial M)". 0, or -1 with err
 * set to HAProxy's message when it is not a weight. */
int haproxy_parse_weight(const char *answer, int *weight, int *initial, char *err, size_t errlen);

/* The identity of a running HAProxy process from "show info": "PID/START"
 * (Pid and Start_time_sec). A restart or a reload changes it. 0, or -1 when
 * the answer has no Pid. */
int haproxy_parse_identity(const char *answer, char *id, size_t idlen);

/* A name HAProxy accepts for a backend or server (letters, digits and
 * "-_.:", at most HAPROXY_MAX_NAME characters), which cannot smuggle a second command into a CLI line. */
int haproxy_valid_name(const char *name);

/* Checks a backend's url (http://HOST[:PORT]/...) against the server's
 * address: HOST must be its address or the name the config gave, and PORT
 * (default 80 or 443) its port. 0, or -1 with err saying both. */
int haproxy_check_url(const char *url, const struct haproxy_server *srv, char *err,
		      size_t errlen);

/* The HAProxy backend and server that carry a service and its backend i. */
const char *haproxy_backend_name(const struct wd_service_cfg *svc);
const char *haproxy_server_name(const struct wd_service_cfg *svc, size_t i);

/* One command of a tick. */
enum haproxy_cmd_kind { HAPROXY_SET_WEIGHT = 0, HAPROXY_DRAIN, HAPROXY_READY };
struct haproxy_cmd {
	enum haproxy_cmd_kind kind;
	const char *backend, *server; /* borrowed from the config */
	int weight;                   /* HAPROXY_SET_WEIGHT */
};
struct haproxy_plan {
	struct haproxy_cmd *cmds;
	size_t n, cap;
};

/* "set server B/S weight N", "set server B/S state drain" or "... ready". */
void haproxy_cmd_format(const struct haproxy_cmd *c, char *buf, size_t len);

/* The commands that bring HAProxy from states (one per service, in the same
 * order; NULL: unknown, so every weight and drain is set) to the weights
 * decided in s. A weight of 0 drains the server ("state drain", never weight
 * 0); a positive weight sets the weight when it differs and undoes weightd's
 * drain with "state ready" (a server an operator put in maintenance stays
 * there). Refuses a weight outside 0..256, a service whose backends are all
 * at 0, a server HAProxy does not have, or a url that is not the server's
 * address: 0, or -1 with err set and an empty
 * plan. Free with haproxy_plan_free. */
int haproxy_plan_tick(const struct wd_output_service *s, size_t n,
		      const struct haproxy_backend_state *states, struct haproxy_plan *out,
		      char *err, size_t errlen);
void haproxy_plan_free(struct haproxy_plan *p);

/* The plan from scratch as text, one command a line (the dry run's
 * preview). 0, or -1 with err set; the caller frees *out. */
int haproxy_render(const struct wd_output_service *s, size_t n, char **out, char *err,
		   size_t errlen);

/* The config's rules for output.type "haproxy" (kind servers, names HAProxy
 * accepts, one service per HAProxy backend, total and max_weight within
 * 0..256, the mean latency only with metrics = "haproxy"), and
 * haproxy_backend, haproxy_server and metrics = "haproxy" refused for other
 * outputs.
 * Adds one "FILE:LINE: ..." error per problem; 0, or -1 when it added any. */
int haproxy_check_config(const struct wd_config *cfg, struct wd_errors *errs);

#endif
