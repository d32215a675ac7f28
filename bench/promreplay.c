/* promreplay: a stand-in for Prometheus's query API for the agent-cost
 * benchmark. Answers every POST (or GET) /api/v1/query with a canned
 * instant vector of N series labelled instance="b0:8080" .. "bN-1:8080":
 * latencies for a query naming a histogram (bucket), error ratios for one
 * naming a status code, request rates otherwise. libmicrohttpd with epoll,
 * so a tick's thousands of concurrent queries all get a connection.
 *
 *   promreplay -l 127.0.0.1:PORT [-n BACKENDS]    (runs until SIGTERM) */
#include <arpa/inet.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind { K_LATENCY, K_ERROR, K_RATE, K_N };

struct req {
	enum kind kind;
	char tail[64]; /* the end of the body seen so far: a keyword may span chunks */
	bool decided;
};

static char *bodies[K_N];
static size_t body_len[K_N];
static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static char *canned(enum kind k, int n)
{
	size_t cap = 256 + (size_t)n * 96, len = 0;
	char *b = malloc(cap);
	if (!b)
		return NULL;
	len += (size_t)snprintf(b, cap, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[");
	for (int i = 0; i < n; i++) {
		double v = k == K_LATENCY ? 0.040 + 0.004 * i : k == K_ERROR ? 0.001 * (i % 3) : 20.0 + i;
		len += (size_t)snprintf(b + len, cap - len,
					"%s{\"metric\":{\"instance\":\"b%d:8080\"},\"value\":[1764201600.000,\"%g\"]}",
					i ? "," : "", i, v);
	}
	snprintf(b + len, cap - len, "]}}");
	return b;
}

static void classify(struct req *r, const char *data, size_t len)
{
	/* a latency query names a histogram's buckets; an error query a code */
	char buf[64 + 4096];
	size_t t = strlen(r->tail), n = len < 4096 ? len : 4096;
	memcpy(buf, r->tail, t);
	memcpy(buf + t, data, n);
	buf[t + n] = 0;
	if (strstr(buf, "bucket")) {
		r->kind = K_LATENCY;
		r->decided = true;
	} else if (strstr(buf, "code")) {
		r->kind = K_ERROR;
		r->decided = true;
	}
	size_t keep = t + n < 16 ? t + n : 16;
	memmove(r->tail, buf + t + n - keep, keep);
	r->tail[keep] = 0;
}

static enum MHD_Result on_http(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_len, void **req_cls)
{
	(void)cls;
	(void)version;
	(void)method;
	struct req *r = *req_cls;
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		r->kind = K_RATE;
		*req_cls = r;
		const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "query");
		if (q)
			classify(r, q, strlen(q));
		return MHD_YES;
	}
	if (*upload_len) {
		if (!r->decided)
			classify(r, upload, *upload_len);
		*upload_len = 0;
		return MHD_YES;
	}
	unsigned status = strcmp(url, "/api/v1/query") == 0 ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND;
	struct MHD_Response *resp =
		status == MHD_HTTP_OK
			? MHD_create_response_from_buffer(body_len[r->kind], bodies[r->kind],
							  MHD_RESPMEM_PERSISTENT)
			: MHD_create_response_from_buffer(10, (void *)"not found\n",
							  MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **req_cls,
		    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*req_cls);
	*req_cls = NULL;
}

int main(int argc, char **argv)
{
	const char *listen = "127.0.0.1:9091";
	int n = 10, opt;
	while ((opt = getopt(argc, argv, "l:n:h")) != -1) {
		if (opt == 'l') {
			listen = optarg;
		} else if (opt == 'n' && atoi(optarg) > 0 && atoi(optarg) <= 10000) {
			n = atoi(optarg);
		} else {
			fprintf(stderr, "usage: promreplay [-l HOST:PORT] [-n BACKENDS (1-10000)]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *colon = strrchr(listen, ':');
	char host[64];
	snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - listen) : 0, listen);
	int port = colon ? atoi(colon + 1) : 0;
	if (!colon || port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "promreplay: -l \"%s\": expected an IPv4 HOST:PORT\n", listen);
		return 2;
	}
	sa.sin_port = htons((uint16_t)port);
	for (int k = 0; k < K_N; k++) {
		bodies[k] = canned((enum kind)k, n);
		if (!bodies[k]) {
			fprintf(stderr, "promreplay: out of memory\n");
			return 1;
		}
		body_len[k] = strlen(bodies[k]);
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_http, NULL,
		MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_CONNECTION_LIMIT, (unsigned)16000,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)30, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "promreplay: cannot listen on %s (in use?)\n", listen);
		return 1;
	}
	while (!stop)
		pause();
	MHD_stop_daemon(d);
	for (int k = 0; k < K_N; k++)
		free(bodies[k]);
	return 0;
}
