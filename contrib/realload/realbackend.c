/* realbackend: a real HTTP backend of known capacity, for the tests, the
 * real-traffic benchmark and the demo (libmicrohttpd, one thread per
 * connection).
 *
 * A request waits in a FIFO queue for one of WORKERS workers, holds it for a
 * service time drawn from a distribution (constant, exponential or
 * log-normal around the mean), and is answered 200. A share of requests can
 * instead fail fast: 503 at once, without a worker. Workers sleep rather than
 * burn CPU, so capacity is WORKERS / mean service time on any machine.
 *
 *   realbackend -l HOST:PORT [-w WORKERS] [-t SERVICE] [-d const|exp|lognormal]
 *               [-f FAIL_SHARE] [-S SEED]
 *
 * Endpoints:
 *   GET /control?workers=N&service=40ms&dist=exp&fail=0.5  changes any of
 *       them at once (a slow-down, a fast failure, a recovery) and answers the
 *       settings now in force as "workers=.. service_s=.. dist=.. fail=..".
 *   GET /metrics  its own latency histogram (arrival to answer, queueing
 *       included), requests by code, workers, busy workers and queue length.
 *   anything else: the work described above. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "realload.h"
#include "util.h"

enum dist { DIST_CONST = 0, DIST_EXP, DIST_LOGNORMAL };
static const char *const dist_names[] = {"const", "exp", "lognormal"};

static const double buckets_s[] = {0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15,
				   0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0};
#define N_BUCKETS (sizeof(buckets_s) / sizeof(buckets_s[0]))
#define MAX_WORKERS 10000

/* Everything below is guarded by mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn = PTHREAD_COND_INITIALIZER;
static int workers = 1, busy;
static double service_s = 0.02, fail_share;
static enum dist dist = DIST_EXP;
static uint64_t next_ticket, serving; /* FIFO: tickets are served in order */
static uint64_t bucket_count[N_BUCKETS + 1], ok_total, failed_total;
static double latency_sum_s;
static unsigned short rng_seed[3] = {0x330e, 0x1234, 0xabcd};

static int stopping; /* under mu: queued requests give up */

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int parse_dist(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, dist_names[i]) == 0)
			return i;
	return -1;
}

/* Draws a service time with the configured mean; called with mu held. */
static double draw_service_s(void)
{
	double u = erand48(rng_seed);
	if (u <= 0)
		u = 1e-12;
	switch (dist) {
	case DIST_EXP:
		return -service_s * log(u);
	case DIST_LOGNORMAL: {
		/* sigma 0.5, median chosen so that the mean is service_s */
		const double sigma = 0.5;
		double v = erand48(rng_seed);
		double z = sqrt(-2 * log(u)) * cos(2 * M_PI * v);
		return service_s * exp(sigma * z - sigma * sigma / 2);
	}
	default:
		return service_s;
	}
}

static void record(double latency_s, int failed)
{
	size_t b = 0;
	while (b < N_BUCKETS && latency_s > buckets_s[b])
		b++;
	bucket_count[b]++;
	latency_sum_s += latency_s;
	if (failed)
		failed_total++;
	else
		ok_total++;
}

/* Queues for a worker, holds it for a service time, records the latency.
 * Returns the HTTP status to answer. */
static unsigned do_work(double arrived_s)
{
	pthread_mutex_lock(&mu);
	if (erand48(rng_seed) < fail_share) {
		record(util_mono_s() - arrived_s, 1);
		pthread_mutex_unlock(&mu);
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	uint64_t ticket = next_ticket++;
	while ((ticket != serving || busy >= workers) && !stopping)
		pthread_cond_wait(&turn, &mu);
	if (stopping) {
		serving++;
		pthread_cond_broadcast(&turn);
		pthread_mutex_unlock(&mu);
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	serving++;
	busy++;
	double t = draw_service_s();
	pthread_cond_broadcast(&turn); /* the next in line may find a free worker */
	pthread_mutex_unlock(&mu);

	sleep_s(t);

	pthread_mutex_lock(&mu);
	busy--;
	record(util_mono_s() - arrived_s, 0);
	pthread_cond_broadcast(&turn);
	pthread_mutex_unlock(&mu);
	return MHD_HTTP_OK;
}

static void settings(char *buf, size_t len)
{
	snprintf(buf, len, "workers=%d service_s=%g dist=%s fail=%g\n", workers, service_s,
		 dist_names[dist], fail_share);
}

/* Applies every parameter given, or none when one is bad. */
static unsigned control(struct MHD_Connection *c, char *buf, size_t len)
{
	const char *w = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "workers");
	const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "service");
	const char *d = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "dist");
	const char *f = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "fail");
	unsigned long nw = 0;
	int nd = d ? parse_dist(d) : 0;
	double ns = s ? realload_duration_s(s) : 0, nf = 0;
	if ((w && realload_parse_ulong(w, 1, MAX_WORKERS, &nw) < 0) || (s && ns < 0) ||
	    (d && nd < 0) || (f && realload_parse_double(f, 0, 1, &nf) < 0)) {
		snprintf(buf, len, "bad control: workers 1..10000, service a duration (40ms), "
				   "dist const|exp|lognormal, fail 0..1\n");
		return MHD_HTTP_BAD_REQUEST;
	}
	pthread_mutex_lock(&mu);
	if (w)
		workers = (int)nw;
	if (s)
		service_s = ns;
	if (d)
		dist = (enum dist)nd;
	if (f)
		fail_share = nf;
	settings(buf, len);
	pthread_cond_broadcast(&turn); /* more workers: let the queue move */
	pthread_mutex_unlock(&mu);
	fprintf(stderr, "realbackend: %s", buf);
	return MHD_HTTP_OK;
}

static char *render_metrics(void)
{
	size_t len = 4096 + N_BUCKETS * 96;
	char *p = malloc(len);
	if (!p)
		return NULL;
	size_t at = 0;
	pthread_mutex_lock(&mu);
	at += (size_t)snprintf(p + at, len - at,
			       "# HELP realbackend_request_duration_seconds Arrival to answer, queueing included.\n"
			       "# TYPE realbackend_request_duration_seconds histogram\n");
	uint64_t cum = 0;
	for (size_t b = 0; b < N_BUCKETS; b++) {
		cum += bucket_count[b];
		at += (size_t)snprintf(p + at, len - at,
				       "realbackend_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
				       buckets_s[b], (unsigned long long)cum);
	}
	cum += bucket_count[N_BUCKETS];
	at += (size_t)snprintf(p + at, len - at,
			       "realbackend_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
			       "realbackend_request_duration_seconds_sum %.9f\n"
			       "realbackend_request_duration_seconds_count %llu\n"
			       "# TYPE realbackend_requests_total counter\n"
			       "realbackend_requests_total{code=\"200\"} %llu\n"
			       "realbackend_requests_total{code=\"503\"} %llu\n"
			       "# TYPE realbackend_workers gauge\nrealbackend_workers %d\n"
			       "# TYPE realbackend_busy_workers gauge\nrealbackend_busy_workers %d\n"
			       "# TYPE realbackend_queue_length gauge\nrealbackend_queue_length %llu\n"
			       "# TYPE realbackend_service_time_seconds gauge\n"
			       "realbackend_service_time_seconds %g\n"
			       "# TYPE realbackend_fail_share gauge\nrealbackend_fail_share %g\n",
			       (unsigned long long)cum, latency_sum_s, (unsigned long long)cum,
			       (unsigned long long)ok_total, (unsigned long long)failed_total, workers,
			       busy, (unsigned long long)(next_ticket - serving), service_s, fail_share);
	pthread_mutex_unlock(&mu);
	return p;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body,
			     enum MHD_ResponseMemoryMode mode, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, mode);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **req)
{
	(void)cls;
	(void)method;
	(void)version;
	(void)upload;
	if (!*req) { /* first call: headers only; remember the arrival */
		double *t = malloc(sizeof(*t));
		if (!t)
			return MHD_NO;
		*t = util_mono_s();
		*req = t;
		return MHD_YES;
	}
	if (*upload_len) { /* a body is read and ignored */
		*upload_len = 0;
		return MHD_YES;
	}
	double arrived_s = *(double *)*req;
	if (strcmp(url, "/metrics") == 0) {
		char *body = render_metrics();
		if (!body)
			return MHD_NO;
		return reply(c, MHD_HTTP_OK, body, MHD_RESPMEM_MUST_FREE,
			     "text/plain; version=0.0.4");
	}
	if (strcmp(url, "/control") == 0) {
		char buf[256];
		unsigned st = control(c, buf, sizeof(buf));
		return reply(c, st, buf, MHD_RESPMEM_MUST_COPY, "text/plain");
	}
	unsigned st = do_work(arrived_s);
	return reply(c, st, st == MHD_HTTP_OK ? "ok\n" : "failing fast\n", MHD_RESPMEM_PERSISTENT,
		     "text/plain");
}

static void completed(void *cls, struct MHD_Connection *c, void **req,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*req);
	*req = NULL;
}

#define USAGE                                                                   \
	"usage: realbackend -l HOST:PORT [-w WORKERS] [-t SERVICE_TIME] "           \
	"[-d const|exp|lognormal] [-f FAIL_SHARE] [-S SEED]\n"
#define PROG "realbackend"

int main(int argc, char **argv)
{
	const char *listen = NULL;
	unsigned long n = 0, seed = 0; /* read only when parsed: a bad one exits */
	int opt;
	while ((opt = getopt(argc, argv, "l:w:t:d:f:S:h")) != -1) {
		int bad = 0;
		switch (opt) {
		case 'l':
			listen = optarg;
			break;
		case 'w':
			bad = realload_opt_ulong(PROG, opt, optarg, 1, MAX_WORKERS, &n);
			workers = (int)n;
			break;
		case 't':
			bad = realload_opt_duration(PROG, opt, optarg, &service_s);
			break;
		case 'd':
			dist = (enum dist)parse_dist(optarg);
			break;
		case 'f':
			bad = realload_opt_double(PROG, opt, optarg, 0, 1, &fail_share);
			break;
		case 'S':
			bad = realload_opt_ulong(PROG, opt, optarg, 0, UINT32_MAX, &seed);
			rng_seed[1] = (unsigned short)seed;
			rng_seed[2] = (unsigned short)(seed >> 16);
			break;
		default:
			return realload_usage(opt, USAGE);
		}
		if (bad)
			return 2;
	}
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	if (!colon || optind != argc || (int)dist < 0)
		return realload_usage('?', USAGE);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
	char host[64];
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "realbackend: -l %s: HOST must be an IPv4 address\n", listen);
		return 2;
	}
	/* Blocked before the server's threads start, so they inherit the mask
	 * and only sigwait below takes the signals. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
		handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)4000, MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "realbackend: cannot listen on %s\n", listen);
		return 1;
	}
	char buf[256];
	settings(buf, sizeof(buf));
	fprintf(stderr, "realbackend: listening on %s, %s", listen, buf);
	int sig;
	sigwait(&sigs, &sig);
	pthread_mutex_lock(&mu);
	stopping = 1;
	pthread_cond_broadcast(&turn);
	pthread_mutex_unlock(&mu);
	MHD_stop_daemon(d);
	return 0;
}
