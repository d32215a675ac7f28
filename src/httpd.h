/* httpd: weightd's own HTTP endpoint (libmicrohttpd, on its own polling
 * thread so it never blocks the tick loop): GET /metrics renders the metrics
 * registry, GET /healthz reports its health, GET /status the status
 * document (JSON), anything else is 404 (405 for
 * methods other than GET and HEAD). Connections are limited in number, per
 * client IP and in idle time, so a slow or hostile client cannot pile up. */
#ifndef WD_HTTPD_H
#define WD_HTTPD_H

#include <stddef.h>

#include "metrics.h"
#include "status.h"

struct httpd;

/* Listens on listen ("HOST:PORT"; HOST may be a name, an IPv4 address or a
 * bracketed IPv6 address; PORT 0 picks a free port) and serves m and st (NULL:
 * no /status), which must outlive the server. Start it with SIGHUP, SIGTERM and SIGINT blocked so its
 * thread never takes them. NULL on failure with err set. */
struct httpd *httpd_start(const char *listen, struct metrics *m, struct status *st, char *err,
			  size_t errlen);

/* The listen string it was started with, and the port it is bound to. */
const char *httpd_listen(const struct httpd *h);
int httpd_port(const struct httpd *h);

/* Stops the server, closes its socket and joins its thread. NULL is fine. */
void httpd_stop(struct httpd *h);

#endif
