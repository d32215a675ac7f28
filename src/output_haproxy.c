/* output_haproxy: weights carried to HAProxy over its runtime API (the stats
 * socket, TCP or UNIX), without a reload and without resetting HAProxy's
 * per-request state.
 *
 * One connection a tick, in the CLI's interactive mode: "show info" (who is
 * running: a restart or reload is noticed), "show servers state" for every
 * managed HAProxy backend (current weights, drain, addresses), then only the
 * commands that differ (haproxy_plan_tick), then "get weight" for every
 * weight set, which must read back as written. Nothing is sent before every
 * server has been found and checked, so a config that names a server HAProxy
 * lacks changes nothing. The runtime API has no transaction: HAProxy applies
 * each command as it comes, and a connection lost half-way leaves part of the
 * tick applied; the next tick reads the state again and finishes the job. */
#include "haproxy_cli.h"
#include "log.h"
#include "output_impl.h"
#include "util.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct output_haproxy {
	char *address;       /* as configured, for messages */
	char *host, *port;   /* TCP; NULL host: address is a UNIX socket path */
	int timeout_ms;      /* per command */
	int fd;
	char *buf;           /* the current answer */
	size_t len, cap;
	char identity[64];   /* "PID/START" of the HAProxy last seen, "" before */
	char *last_written;  /* haproxy_render of the last weights written */
	struct wd_events events; /* for the tick to log */
};

void *output_haproxy_new(const struct wd_config *cfg, char *err, size_t errlen)
{
	const struct wd_output_cfg *oc = &cfg->output;
	struct output_haproxy *h = xcalloc(1, sizeof(*h));
	h->address = xstrdup(oc->address);
	h->fd = -1;
	h->timeout_ms = oc->timeout_ms > 0 ? (int)oc->timeout_ms : 2000;
	if (h->address[0] != '/') {
		const char *colon = strrchr(h->address, ':');
		const char *host = h->address;
		size_t hl = (size_t)(colon - host);
		if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
			host++;
			hl -= 2;
		}
		h->host = xstrndup(host, hl);
		h->port = xstrdup(colon + 1);
	}
	(void)err;
	(void)errlen;
	return h;
}

static void disconnect(struct output_haproxy *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes. */
static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		int64_t left = deadline_ms - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = {fd, events, 0};
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* Connects one address without blocking past the deadline. */
static int connect_one(const struct sockaddr *sa, socklen_t salen, int family,
		       int64_t deadline_ms)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, sa, salen) == 0)
		return fd;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline_ms) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
		return fd;
	close(fd);
	errno = soerr ? soerr : errno == EINPROGRESS ? ETIMEDOUT : errno;
	return -1;
}

static int do_connect(struct output_haproxy *h, char *err, size_t errlen)
{
	int64_t deadline = now_ms() + h->timeout_ms;
	if (!h->host) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		if (strlen(h->address) >= sizeof(sun.sun_path)) {
			snprintf(err, errlen, "HAProxy socket path %s is too long", h->address);
			return -1;
		}
		strcpy(sun.sun_path, h->address);
		h->fd = connect_one((struct sockaddr *)&sun, sizeof(sun), AF_UNIX, deadline);
	} else {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
		int g = getaddrinfo(h->host, h->port, &hints, &res);
		if (g != 0) {
			snprintf(err, errlen, "cannot resolve HAProxy's runtime API address %s: %s",
				 h->address, gai_strerror(g));
			return -1;
		}
		for (struct addrinfo *a = res; a && h->fd < 0; a = a->ai_next)
			h->fd = connect_one(a->ai_addr, a->ai_addrlen, a->ai_family, deadline);
		freeaddrinfo(res);
	}
	if (h->fd < 0) {
		snprintf(err, errlen, "cannot connect to HAProxy's runtime API at %s: %s", h->address,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Sends one command line and reads its answer into h->buf (NUL-terminated,
 * without the prompt and the blank line that end it). In interactive mode
 * every answer ends with "\n> ", and HAProxy sends it only when the command
 * is done. */
static int command(struct output_haproxy *h, const char *cmd, char *err, size_t errlen)
{
	int64_t deadline = now_ms() + h->timeout_ms;
	size_t cl = strlen(cmd), sent = 0;
	char line[HAPROXY_CMD_MAX + 1];
	snprintf(line, sizeof(line), "%s\n", cmd);
	cl++;
	while (sent < cl) {
		ssize_t w = send(h->fd, line + sent, cl - sent, MSG_NOSIGNAL);
		if (w > 0)
			sent += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			goto io_error;
		else if (wait_fd(h->fd, POLLOUT, deadline) < 0)
			goto timeout;
	}
	h->len = 0;
	for (;;) {
		if (h->len >= 3 && memcmp(h->buf + h->len - 3, "\n> ", 3) == 0)
			break;
		if (h->len == 2 && memcmp(h->buf, "> ", 2) == 0)
			break;
		if (h->cap - h->len < 4096) {
			h->cap = h->cap ? h->cap * 2 : 16384;
			h->buf = xrealloc(h->buf, h->cap);
		}
		ssize_t r = recv(h->fd, h->buf + h->len, h->cap - h->len - 1, 0);
		if (r > 0) {
			h->len += (size_t)r;
		} else if (r == 0) {
			errno = ECONNRESET;
			goto io_error;
		} else if (errno != EAGAIN && errno != EINTR) {
			goto io_error;
		} else if (wait_fd(h->fd, POLLIN, deadline) < 0) {
			goto timeout;
		}
	}
	/* body "\n" "> ": drop the prompt and the blank line */
	h->len -= 2;
	if (h->len > 0)
		h->len--;
	h->buf[h->len] = '\0';
	return 0;
io_error:
	snprintf(err, errlen, "HAProxy %s: \"%s\": %s", h->address, cmd, strerror(errno));
	return -1;
timeout:
	snprintf(err, errlen, "HAProxy %s: \"%s\": no answer within %d ms", h->address, cmd,
		 h->timeout_ms);
	return -1;
}

/* Who is running; a change since the last tick is a restart or reload,
 * after which HAProxy's weights are its config file's again. 1 when it
 * changed, else 0. */
static int check_identity(struct output_haproxy *h, char *err, size_t errlen)
{
	char id[64];
	int changed = 0;
	if (command(h, "show info", err, errlen) < 0 ||
	    haproxy_parse_identity(h->buf, id, sizeof(id)) < 0)
		return 0;
	changed = h->identity[0] && strcmp(h->identity, id) != 0;
	if (changed)
		event_add(&h->events, WD_LOG_WARN,
			  "HAProxy restarted or reloaded since weightd's last write: its weights are "
			  "back to its config file's; weightd writes its own again this tick",
			  "address", h->address, (char *)NULL);
	snprintf(h->identity, sizeof(h->identity), "%s", id);
	return changed;
}

static int read_states(struct output_haproxy *h, const struct wd_output_service *s, size_t n,
		       struct haproxy_backend_state *states, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		char cmd[HAPROXY_CMD_MAX], why[256];
		const char *be = haproxy_backend_name(s[i].cfg);
		snprintf(cmd, sizeof(cmd), "show servers state %s", be);
		if (command(h, cmd, err, errlen) < 0)
			return -1;
		if (haproxy_parse_servers_state(h->buf, &states[i], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "HAProxy %s: service \"%s\": backend \"%s\": %s", h->address,
				 s[i].cfg->name, be, why);
			return -1;
		}
	}
	return 0;
}

/* Sends the plan; every "set server" answers nothing when it worked. */
static int apply(struct output_haproxy *h, const struct haproxy_plan *p, char *err, size_t errlen)
{
	char cmd[HAPROXY_CMD_MAX];
	for (size_t i = 0; i < p->n; i++) {
		haproxy_cmd_format(&p->cmds[i], cmd, sizeof(cmd));
		if (command(h, cmd, err, errlen) < 0)
			return -1;
		if (h->len) {
			snprintf(err, errlen, "HAProxy %s: \"%s\" refused: %.200s", h->address, cmd, h->buf);
			return -1;
		}
	}
	return 0;
}

/* Reads back every weight set; a difference is an error. */
static int read_back(struct output_haproxy *h, const struct haproxy_plan *p, char *err,
		     size_t errlen)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct haproxy_cmd *c = &p->cmds[i];
		if (c->kind != HAPROXY_SET_WEIGHT)
			continue;
		char cmd[HAPROXY_CMD_MAX], why[256];
		int w, initial;
		snprintf(cmd, sizeof(cmd), "get weight %s/%s", c->backend, c->server);
		if (command(h, cmd, err, errlen) < 0)
			return -1;
		if (haproxy_parse_weight(h->buf, &w, &initial, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "HAProxy %s: \"%s\": %s", h->address, cmd, why);
			return -1;
		}
		if (w != c->weight) {
			snprintf(err, errlen, "HAProxy %s: %s/%s reads back weight %d after weightd set %d",
				 h->address, c->backend, c->server, w, c->weight);
			return -1;
		}
	}
	return 0;
}

static int haproxy_write(void *impl, const struct wd_output_service *s, size_t n, char *err,
			 size_t errlen)
{
	struct output_haproxy *h = impl;
	char *want = NULL;
	struct haproxy_plan plan = {0};
	struct haproxy_backend_state *states = xcalloc(n ? n : 1, sizeof(*states));
	int rc = -1;
	if (haproxy_render(s, n, &want, err, errlen) < 0 || do_connect(h, err, errlen) < 0 ||
	    command(h, "prompt", err, errlen) < 0)
		goto out;
	int restarted = check_identity(h, err, errlen);
	if (read_states(h, s, n, states, err, errlen) < 0 ||
	    haproxy_plan_tick(s, n, states, &plan, err, errlen) < 0)
		goto out;
	if (plan.n && !restarted && h->last_written && strcmp(h->last_written, want) == 0)
		event_add(&h->events, WD_LOG_WARN,
			  "HAProxy's weights are not those weightd wrote last (restarted, reloaded, or "
			  "changed through its runtime API); writing them again",
			  "address", h->address, (char *)NULL);
	if (apply(h, &plan, err, errlen) < 0 || read_back(h, &plan, err, errlen) < 0)
		goto out;
	free(h->last_written);
	h->last_written = want;
	want = NULL;
	rc = plan.n ? OUTPUT_WRITTEN : OUTPUT_UNCHANGED;
out:
	if (rc < 0) { /* part of a plan may be applied: nothing is known to be written */
		free(h->last_written);
		h->last_written = NULL;
	}
	disconnect(h);
	for (size_t i = 0; i < n; i++)
		haproxy_backend_state_free(&states[i]);
	free(states);
	haproxy_plan_free(&plan);
	free(want);
	return rc;
}

static void haproxy_free(void *impl)
{
	struct output_haproxy *h = impl;
	if (!h)
		return;
	disconnect(h);
	free(h->address);
	free(h->host);
	free(h->port);
	free(h->buf);
	free(h->last_written);
	event_clear(&h->events);
	free(h);
}

static struct wd_events *haproxy_events(void *impl)
{
	return &((struct output_haproxy *)impl)->events;
}

const struct output_ops output_haproxy_ops = {
	.kind = "haproxy", .write = haproxy_write, .free = haproxy_free, .events = haproxy_events};
