/* httpd: /metrics and /healthz over libmicrohttpd. weightd binds the socket
 * itself (for a clear error naming the address) and hands it to MHD, which
 * serves it from one internal polling thread. Handlers only take the metrics
 * mutex for the time of a render. */
#include "httpd.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Scrapers and probes need a handful of connections; these bound what a
 * misbehaving client can hold. */
#define HTTPD_MAX_CONNECTIONS 64
#define HTTPD_MAX_PER_IP 16
#define HTTPD_TIMEOUT_S 10
#define HTTPD_MEMORY_PER_CONNECTION (32 * 1024)

struct httpd {
	struct MHD_Daemon *mhd;
	struct metrics *m;
	char *listen;
	int port;
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
			       char *body, size_t len)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	char *body = xstrdup(text);
	return respond(c, status, "text/plain; charset=utf-8", body, strlen(body));
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	struct httpd *h = cls;
	/* Answer at the first call: a request body is never read (MHD closes
	 * the connection after the answer when one was sent). */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET\n");
	if (strcmp(url, "/metrics") == 0) {
		char *text;
		size_t len;
		if (metrics_render(h->m, &text, &len) < 0)
			return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		return respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
	}
	if (strcmp(url, "/healthz") == 0) {
		char reason[700];
		if (metrics_healthy(h->m, util_mono_ms(), reason, sizeof(reason) - 1)) {
			/* healthy, but say which services weightd cannot steer */
			char body[600] = "ok\n";
			metrics_data_note(h->m, body + 3, sizeof(body) - 4);
			if (body[3])
				strcat(body, "\n");
			return respond_text(c, MHD_HTTP_OK, body);
		}
		strcat(reason, "\n");
		return respond_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, reason);
	}
	return respond_text(c, MHD_HTTP_NOT_FOUND, "not found: weightd serves /metrics and /healthz\n");
}

/* Binds and listens on "HOST:PORT"; returns the socket or -1 with err set. */
static int bind_listen(const char *listen_addr, int *port, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(listen_addr, ':');
	size_t hl = colon ? (size_t)(colon - listen_addr) : 0;
	if (!colon || hl == 0 || hl >= sizeof(host) || !colon[1]) {
		snprintf(err, errlen, "listen \"%s\": want HOST:PORT", listen_addr);
		return -1;
	}
	memcpy(host, listen_addr, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') { /* [::1] */
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res;
	int gai = getaddrinfo(host, colon + 1, &hints, &res);
	if (gai != 0) {
		snprintf(err, errlen, "listen \"%s\": %s", listen_addr, gai_strerror(gai));
		return -1;
	}
	int fd = -1, saved = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "listen \"%s\": %s", listen_addr, strerror(saved));
		return -1;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	*port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

struct httpd *httpd_start(const char *listen_addr, struct metrics *m, char *err, size_t errlen)
{
	struct httpd *h = xcalloc(1, sizeof(*h));
	h->listen = xstrdup(listen_addr);
	h->m = m;
	int fd = bind_listen(listen_addr, &h->port, err, errlen);
	if (fd < 0) {
		free(h->listen);
		free(h);
		return NULL;
	}
	h->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, handle, h,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTPD_MAX_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_MEMORY_PER_CONNECTION,
		MHD_OPTION_END);
	if (!h->mhd) {
		snprintf(err, errlen, "listen \"%s\": cannot start the HTTP server: %s", listen_addr,
			 strerror(errno));
		close(fd);
		free(h->listen);
		free(h);
		return NULL;
	}
	return h;
}

const char *httpd_listen(const struct httpd *h)
{
	return h->listen;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd); /* closes the listening socket */
	free(h->listen);
	free(h);
}
