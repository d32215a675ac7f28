/* haproxy_cli: the text of HAProxy's runtime API: commands, answers and the
 * plan of one tick. No I/O (see haproxy_cli.h). */
#include "haproxy_cli.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- answers ------------------------------------------------------------ */

void haproxy_backend_state_free(struct haproxy_backend_state *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->servers[i].name);
		free(st->servers[i].addr);
		free(st->servers[i].fqdn);
	}
	free(st->servers);
	st->servers = NULL;
	st->n = 0;
}

const struct haproxy_server *haproxy_find_server(const struct haproxy_backend_state *st,
						 const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->servers[i].name, name) == 0)
			return &st->servers[i];
	return NULL;
}

/* The first line of an answer, for an error message. */
static void first_line(const char *answer, char *err, size_t errlen)
{
	size_t n = strcspn(answer, "\n");
	snprintf(err, errlen, "%.*s", (int)(n > 200 ? 200 : n), n ? answer : "(empty answer)");
}

enum { COL_NAME, COL_ADDR, COL_ADMIN, COL_WEIGHT, COL_IWEIGHT, COL_FQDN, COL_PORT, N_COLS };
static const char *const col_names[N_COLS] = {"srv_name", "srv_addr", "srv_admin_state",
					      "srv_uweight", "srv_iweight", "srv_fqdn",
					      "srv_port"};
#define MAX_FIELDS 64

/* Splits line (modified) on blanks into at most MAX_FIELDS fields. */
static size_t split(char *line, char **f)
{
	size_t n = 0;
	for (char *tok = strtok(line, " \t"); tok && n < MAX_FIELDS; tok = strtok(NULL, " \t"))
		f[n++] = tok;
	return n;
}

static int parse_int(const char *s, int *v)
{
	char *end;
	long x = strtol(s, &end, 10);
	if (end == s || *end || x < -1000000 || x > 1000000)
		return -1;
	*v = (int)x;
	return 0;
}

/* Adds a row's server; -1 when a number in it is not one. */
static int add_server(struct haproxy_backend_state *st, size_t *cap, char **f, const int *col)
{
	if (st->n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		st->servers = xrealloc(st->servers, *cap * sizeof(*st->servers));
	}
	struct haproxy_server *s = &st->servers[st->n];
	memset(s, 0, sizeof(*s));
	if (parse_int(f[col[COL_ADMIN]], &s->admin_state) < 0 ||
	    parse_int(f[col[COL_WEIGHT]], &s->weight) < 0 ||
	    parse_int(f[col[COL_IWEIGHT]], &s->initial_weight) < 0 ||
	    parse_int(f[col[COL_PORT]], &s->port) < 0)
		return -1;
	const char *fq = f[col[COL_FQDN]];
	s->name = xstrdup(f[col[COL_NAME]]);
	s->addr = xstrdup(f[col[COL_ADDR]]);
	s->fqdn = strcmp(fq, "-") ? xstrdup(fq) : NULL;
	st->n++;
	return 0;
}

int haproxy_parse_servers_state(const char *answer, struct haproxy_backend_state *out,
				char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	char *copy = xstrdup(answer);
	int col[N_COLS], have_header = 0, rc = 0;
	size_t cap = 0, lineno = 0;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[MAX_FIELDS];
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, "1") != 0) {
				first_line(answer, err, errlen);
				rc = -1;
			}
			continue;
		}
		if (line[0] == '#') {
			size_t n = split(line + 1, f);
			for (int c = 0; c < N_COLS; c++) {
				col[c] = -1;
				for (size_t i = 0; i < n; i++)
					if (strcmp(f[i], col_names[c]) == 0)
						col[c] = (int)i;
				if (col[c] < 0 && rc == 0) {
					snprintf(err, errlen, "show servers state: no column %s", col_names[c]);
					rc = -1;
				}
			}
			have_header = 1;
			continue;
		}
		size_t n = split(line, f);
		if (!have_header) {
			snprintf(err, errlen, "show servers state: a row before the header");
			rc = -1;
			break;
		}
		int enough = 1;
		for (int c = 0; c < N_COLS; c++)
			enough &= (size_t)col[c] < n;
		if (!enough || add_server(out, &cap, f, col) < 0) {
			snprintf(err, errlen, "show servers state: malformed row %zu", lineno);
			rc = -1;
		}
	}
	if (rc == 0 && !have_header) {
		snprintf(err, errlen, "show servers state: no header line");
		rc = -1;
	}
	free(copy);
	if (rc < 0)
		haproxy_backend_state_free(out);
	return rc;
}

int haproxy_parse_weight(const char *answer, int *weight, int *initial, char *err, size_t errlen)
{
	char tail;
	if (sscanf(answer, "%d (initial %d%c", weight, initial, &tail) == 3 && tail == ')')
		return 0;
	first_line(answer, err, errlen);
	return -1;
}

int haproxy_parse_identity(const char *answer, char *id, size_t idlen)
{
	const char *pid = strstr(answer, "\nPid: ");
	const char *start = strstr(answer, "\nStart_time_sec: ");
	if (!pid)
		return -1;
	long p = strtol(pid + 6, NULL, 10);
	long s = start ? strtol(start + 17, NULL, 10) : 0;
	snprintf(id, idlen, "%ld/%ld", p, s);
	return 0;
}

int haproxy_valid_name(const char *name)
{
	if (!name || !name[0] || strlen(name) > HAPROXY_MAX_NAME)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-_.:", *p)))
			return 0;
	return 1;
}

int haproxy_check_url(const char *url, const struct haproxy_server *srv, char *err,
		      size_t errlen)
{
	int https = strncmp(url, "https://", 8) == 0;
	const char *h = url + (https ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0);
	size_t hl = strcspn(h, "/?#");
	char host[256];
	int port = https ? 443 : 80;
	const char *colon = NULL;
	if (h[0] == '[') { /* [IPv6]:PORT */
		const char *close = memchr(h, ']', hl);
		if (close && (size_t)(close - h) + 1 < hl && close[1] == ':')
			colon = close + 1;
		snprintf(host, sizeof(host), "%.*s", close ? (int)(close - h - 1) : 0, h + 1);
	} else {
		colon = memchr(h, ':', hl);
		snprintf(host, sizeof(host), "%.*s", (int)(colon ? (size_t)(colon - h) : hl), h);
	}
	if (colon)
		port = atoi(colon + 1);
	int host_ok = strcmp(host, srv->addr) == 0 || (srv->fqdn && strcmp(host, srv->fqdn) == 0);
	if (host_ok && port == srv->port)
		return 0;
	snprintf(err, errlen, "url %s is %s:%d but HAProxy's server \"%s\" is at %s:%d%s%s%s", url,
		 host, port, srv->name, srv->addr, srv->port, srv->fqdn ? " (" : "",
		 srv->fqdn ? srv->fqdn : "", srv->fqdn ? ")" : "");
	return -1;
}

/* ---- names -------------------------------------------------------------- */

const char *haproxy_backend_name(const struct wd_service_cfg *svc)
{
	return svc->haproxy_backend ? svc->haproxy_backend : svc->name;
}

const char *haproxy_server_name(const struct wd_service_cfg *svc, size_t i)
{
	const struct wd_backend_cfg *b = &svc->backends[i];
	return b->haproxy_server ? b->haproxy_server : b->name;
}

/* ---- commands ----------------------------------------------------------- */

void haproxy_cmd_format(const struct haproxy_cmd *c, char *buf, size_t len)
{
	if (c->kind == HAPROXY_SET_WEIGHT)
		snprintf(buf, len, "set server %s/%s weight %d", c->backend, c->server, c->weight);
	else
		snprintf(buf, len, "set server %s/%s state %s", c->backend, c->server,
			 c->kind == HAPROXY_DRAIN ? "drain" : "ready");
}

static void plan_add(struct haproxy_plan *p, enum haproxy_cmd_kind kind, const char *backend,
		     const char *server, int weight)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->cmds = xrealloc(p->cmds, p->cap * sizeof(*p->cmds));
	}
	p->cmds[p->n++] = (struct haproxy_cmd){kind, backend, server, weight};
}

void haproxy_plan_free(struct haproxy_plan *p)
{
	free(p->cmds);
	memset(p, 0, sizeof(*p));
}

/* The commands for one server; srv NULL when its state is unknown. */
static void plan_server(struct haproxy_plan *p, const char *be, const char *sv, int w,
			const struct haproxy_server *srv)
{
	if (w == 0) { /* drained: its weight stays, so undraining restores it */
		if (!srv || !(srv->admin_state & HAPROXY_ADMIN_DRAIN))
			plan_add(p, HAPROXY_DRAIN, be, sv, 0);
		return;
	}
	if (!srv || srv->weight != w)
		plan_add(p, HAPROXY_SET_WEIGHT, be, sv, w);
	/* Undo a drain weightd may have set; leave an operator's maintenance. */
	if (srv && (srv->admin_state & HAPROXY_ADMIN_FDRAIN) && !(srv->admin_state & HAPROXY_ADMIN_MAINT))
		plan_add(p, HAPROXY_READY, be, sv, 0);
}

int haproxy_plan_tick(const struct wd_output_service *s, size_t n,
		      const struct haproxy_backend_state *states, struct haproxy_plan *out,
		      char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct wd_service_cfg *c = s[i].cfg;
		const char *be = haproxy_backend_name(c);
		bool any = false;
		for (size_t b = 0; b < c->n_backends; b++)
			any |= s[i].weights[b] > 0;
		if (!any) {
			snprintf(err, errlen, "service \"%s\": every backend is at weight 0; refusing to "
				 "drain every server of HAProxy backend \"%s\"", c->name, be);
			goto fail;
		}
		for (size_t b = 0; b < c->n_backends; b++) {
			const char *sv = haproxy_server_name(c, b);
			int w = s[i].weights[b];
			const struct haproxy_server *srv = NULL;
			char why[2 * HAPROXY_MAX_NAME + 300];
			if (w < 0 || w > HAPROXY_MAX_WEIGHT) {
				snprintf(err, errlen, "service \"%s\": backend \"%s\": weight %d not within "
					 "HAProxy's 0..%d", c->name, c->backends[b].name, w,
					 HAPROXY_MAX_WEIGHT);
				goto fail;
			}
			if (states && !(srv = haproxy_find_server(&states[i], sv))) {
				snprintf(err, errlen, "service \"%s\": HAProxy backend \"%s\" has no server "
					 "\"%s\"", c->name, be, sv);
				goto fail;
			}
			if (srv && c->backends[b].url &&
			    haproxy_check_url(c->backends[b].url, srv, why, sizeof(why)) < 0) {
				snprintf(err, errlen, "service \"%s\": backend \"%s\": %s", c->name,
					 c->backends[b].name, why);
				goto fail;
			}
			plan_server(out, be, sv, w, srv);
		}
	}
	return 0;
fail:
	haproxy_plan_free(out);
	return -1;
}

int haproxy_render(const struct wd_output_service *s, size_t n, char **out, char *err,
		   size_t errlen)
{
	struct haproxy_plan p;
	if (haproxy_plan_tick(s, n, NULL, &p, err, errlen) < 0)
		return -1;
	size_t len = 1, at = 0;
	char line[HAPROXY_CMD_MAX];
	for (size_t i = 0; i < p.n; i++) {
		haproxy_cmd_format(&p.cmds[i], line, sizeof(line));
		len += strlen(line) + 1;
	}
	char *buf = xmalloc(len);
	buf[0] = '\0';
	for (size_t i = 0; i < p.n; i++) {
		haproxy_cmd_format(&p.cmds[i], line, sizeof(line));
		at += (size_t)snprintf(buf + at, len - at, "%s\n", line);
	}
	haproxy_plan_free(&p);
	*out = buf;
	return 0;
}

/* ---- config ------------------------------------------------------------- */

static void check_service(const struct wd_config *cfg, const struct wd_service_cfg *svc,
			  size_t idx, struct wd_errors *errs)
{
	const char *f = cfg->path, *be = haproxy_backend_name(svc);
	if (svc->kind != WD_KIND_SERVERS)
		errors_add(errs, "%s:%d: service \"%s\": output.type \"haproxy\" steers servers: kind "
			   "must be \"servers\"", f, svc->line, svc->name);
	if (svc->health.set)
		errors_add(errs, "%s:%d: service \"%s\": health_check is written into Traefik's "
			   "config; with HAProxy, checks belong in haproxy.cfg", f, svc->line, svc->name);
	if (!haproxy_valid_name(be))
		errors_add(errs, "%s:%d: service \"%s\": HAProxy backend name \"%s\" must be 1..%d "
			   "letters, digits or \"-_.:\"%s", f, svc->line, svc->name, be,
			   HAPROXY_MAX_NAME, svc->haproxy_backend ? "" : " (set haproxy_backend)");
	for (size_t j = 0; j < idx; j++)
		if (strcmp(haproxy_backend_name(&cfg->services[j]), be) == 0)
			errors_add(errs, "%s:%d: service \"%s\": HAProxy backend \"%s\" is already "
				   "steered by service \"%s\"", f, svc->line, svc->name, be,
				   cfg->services[j].name);
	const struct wd_policy_cfg *pc = &svc->policy;
	if (svc->metrics == WD_METRICS_HAPROXY && pc->latency_stat != WD_STAT_MEAN)
		errors_add(errs, "%s:%d: service \"%s\": HAProxy exports no per-server histogram, so "
			   "metrics = \"haproxy\" offers latency_statistic \"mean\" only; for a "
			   "percentile use metrics = \"custom\" with the backends' own histograms", f,
			   svc->line, svc->name);
	if (pc->total > HAPROXY_MAX_WEIGHT || pc->max_weight > HAPROXY_MAX_WEIGHT)
		errors_add(errs, "%s:%d: service \"%s\": total %d and max_weight %d must be at most "
			   "%d, HAProxy's highest weight", f, svc->line, svc->name, pc->total,
			   pc->max_weight, HAPROXY_MAX_WEIGHT);
	for (size_t b = 0; b < svc->n_backends; b++) {
		const struct wd_backend_cfg *bc = &svc->backends[b];
		const char *sv = haproxy_server_name(svc, b);
		if (!haproxy_valid_name(sv))
			errors_add(errs, "%s:%d: backend \"%s\": HAProxy server name \"%s\" must be 1..%d "
				   "letters, digits or \"-_.:\"%s", f, bc->line, bc->name, sv,
				   HAPROXY_MAX_NAME, bc->haproxy_server ? "" : " (set haproxy_server)");
		for (size_t k = 0; k < b; k++)
			if (strcmp(haproxy_server_name(svc, k), sv) == 0)
				errors_add(errs, "%s:%d: backend \"%s\": HAProxy server \"%s/%s\" is "
					   "already backend \"%s\"", f, bc->line, bc->name, be, sv,
					   svc->backends[k].name);
	}
}

int haproxy_check_config(const struct wd_config *cfg, struct wd_errors *errs)
{
	size_t before = errs->n;
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct wd_service_cfg *svc = &cfg->services[i];
		if (cfg->output.type == WD_OUT_HAPROXY) {
			check_service(cfg, svc, i, errs);
			continue;
		}
		if (svc->haproxy_backend)
			errors_add(errs, "%s:%d: service \"%s\": haproxy_backend is only for output.type "
				   "\"haproxy\"", cfg->path, svc->line, svc->name);
		if (svc->metrics == WD_METRICS_HAPROXY)
			errors_add(errs, "%s:%d: service \"%s\": metrics = \"haproxy\" reads the servers "
				   "weightd steers in HAProxy: it needs output.type \"haproxy\"", cfg->path,
				   svc->line, svc->name);
		for (size_t b = 0; b < svc->n_backends; b++)
			if (svc->backends[b].haproxy_server)
				errors_add(errs, "%s:%d: backend \"%s\": haproxy_server is only for "
					   "output.type \"haproxy\"", cfg->path, svc->backends[b].line,
					   svc->backends[b].name);
	}
	return errs->n > before ? -1 : 0;
}
