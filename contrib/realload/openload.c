/* openload: an open-loop HTTP load generator (libcurl multi interface), for
 * the tests, the real-traffic benchmark and the demo.
 *
 * Requests arrive as a Poisson process at a fixed rate, whatever the server
 * does: a slow answer never delays the next request (a closed loop such as
 * wrk's would, and hide the queue). Each request's latency is measured from
 * the time it was meant to be sent, so any lag of the generator itself counts
 * against the server rather than vanishing. Every request is accounted for:
 * sent, ok (2xx), error (any other status, or no answer), timeout.
 *
 *   openload -r RATE -d DURATION [-t TIMEOUT] [-o FILE.csv] [-S SEED] URL
 *   openload -s FILE.csv [-a FROM_S] [-b TO_S]
 *
 * The first form runs the load, writes one CSV row per request
 * (intended_s,latency_s,code,outcome; intended_s from the start, code 0 when
 * there was no answer) and prints a summary line. The second summarises the
 * requests of a CSV whose intended send time lies in [FROM_S, TO_S).
 *
 * Summary: "sent=N ok=N error=N timeout=N p50_s=.. p95_s=.. p99_s=..
 * error_share=..". Percentiles are over the successful requests (as the
 * simulator's benchmark reports them; "nan" when none succeeded), so a
 * policy that fails more requests can look faster: read them with
 * error_share, the share of requests that failed or timed out. In the CSV
 * a timeout's latency is the timeout. */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "realload.h"
#include "util.h"

enum outcome { OUT_OK = 0, OUT_ERROR, OUT_TIMEOUT };
static const char *const outcome_names[] = {"ok", "error", "timeout"};

struct sample {
	double intended_s, latency_s;
	int code;
	enum outcome outcome;
};

struct samples {
	struct sample *v;
	size_t n, cap;
};

static int samples_add(struct samples *s, struct sample x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		struct sample *nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv)
			return -1;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return 0;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank quantile of sorted values. */
static double quantile(const double *v, size_t n, double q)
{
	if (n == 0)
		return NAN;
	size_t k = (size_t)ceil(q * (double)n);
	return v[k ? k - 1 : 0];
}

/* v as "%.6f" writes it and strtod reads it back. */
static double as_written(double v)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%.6f", v);
	return strtod(buf, NULL);
}

/* Prints the summary line of the samples whose intended time is in [from, to). */
static int summarise(FILE *out, const struct samples *s, double from, double to)
{
	size_t count[3] = {0}, n_ok = 0;
	double *lat = malloc((s->n ? s->n : 1) * sizeof(*lat));
	if (!lat)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].intended_s < from || s->v[i].intended_s >= to)
			continue;
		count[s->v[i].outcome]++;
		if (s->v[i].outcome == OUT_OK)
			lat[n_ok++] = s->v[i].latency_s;
	}
	size_t n = count[OUT_OK] + count[OUT_ERROR] + count[OUT_TIMEOUT];
	qsort(lat, n_ok, sizeof(*lat), cmp_double);
	fprintf(out, "sent=%zu ok=%zu error=%zu timeout=%zu p50_s=%.4f p95_s=%.4f p99_s=%.4f "
		     "error_share=%.5f\n",
		n, count[OUT_OK], count[OUT_ERROR], count[OUT_TIMEOUT], quantile(lat, n_ok, 0.50),
		quantile(lat, n_ok, 0.95), quantile(lat, n_ok, 0.99),
		n ? (double)(count[OUT_ERROR] + count[OUT_TIMEOUT]) / (double)n : 0.0);
	free(lat);
	return 0;
}

static int read_csv(const char *path, struct samples *s)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "openload: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[256], name[16];
	int lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (lineno == 1 && strncmp(line, "intended_s", 10) == 0)
			continue;
		struct sample x;
		if (sscanf(line, "%lf,%lf,%d,%15s", &x.intended_s, &x.latency_s, &x.code, name) != 4) {
			fprintf(stderr, "openload: %s:%d: not intended_s,latency_s,code,outcome\n", path,
				lineno);
			fclose(f);
			return -1;
		}
		x.outcome = strcmp(name, "ok") == 0 ? OUT_OK
			    : strcmp(name, "timeout") == 0 ? OUT_TIMEOUT : OUT_ERROR;
		if (samples_add(s, x) < 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* ---- the load ----------------------------------------------------------- */

struct request {
	CURL *easy;
	double intended_s; /* absolute, monotonic */
	struct request *next_free;
};

static size_t discard(char *p, size_t size, size_t n, void *u)
{
	(void)p;
	(void)u;
	return size * n;
}

static struct request *request_get(struct request **free_list, const char *url, long timeout_ms)
{
	struct request *r = *free_list;
	if (r) {
		*free_list = r->next_free;
		return r;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->easy = curl_easy_init())) {
		free(r);
		return NULL;
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	return r;
}

static int run_load(const char *url, double rate, double duration_s, double timeout_s,
		    unsigned long seed, struct samples *s)
{
	CURLM *m = curl_multi_init();
	if (!m)
		return -1;
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 1024L);
	unsigned short xs[3] = {0x330e, (unsigned short)seed, (unsigned short)(seed >> 16)};
	struct request *free_list = NULL;
	double start = util_mono_s(), next = start;
	int running = 0, rc = 0;
	size_t in_flight = 0;
	long timeout_ms = (long)(timeout_s * 1000);
	for (;;) {
		double now = util_mono_s();
		/* Start every request whose time has come, late ones included. */
		while (!interrupted && next <= now && next < start + duration_s) {
			struct request *r = request_get(&free_list, url, timeout_ms);
			if (!r) {
				rc = -1;
				break;
			}
			r->intended_s = next;
			curl_multi_add_handle(m, r->easy);
			in_flight++;
			next += -log(1 - erand48(xs)) / rate;
		}
		if (rc < 0 || ((interrupted || next >= start + duration_s) && in_flight == 0))
			break;
		curl_multi_perform(m, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct request *r;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			long code = 0;
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
			struct sample x = {r->intended_s - start, util_mono_s() - r->intended_s, (int)code, OUT_OK};
			if (msg->data.result == CURLE_OPERATION_TIMEDOUT) {
				x.outcome = OUT_TIMEOUT;
				x.latency_s = timeout_s;
			} else if (msg->data.result != CURLE_OK || code < 200 || code > 299) {
				x.outcome = OUT_ERROR;
			}
			if (samples_add(s, x) < 0)
				rc = -1;
			curl_multi_remove_handle(m, r->easy);
			in_flight--;
			r->next_free = free_list;
			free_list = r;
		}
		double wait_s = next - util_mono_s();
		int wait_ms = wait_s <= 0 ? 0 : wait_s > 0.05 ? 50 : (int)(wait_s * 1000);
		if (next >= start + duration_s)
			wait_ms = 50;
		curl_multi_poll(m, NULL, 0, wait_ms, NULL);
	}
	while (free_list) {
		struct request *r = free_list;
		free_list = r->next_free;
		curl_easy_cleanup(r->easy);
		free(r);
	}
	curl_multi_cleanup(m);
	return rc;
}

#define USAGE                                                                         \
	"usage: openload -r RATE -d DURATION [-t TIMEOUT] [-o FILE.csv] [-S SEED] URL\n" \
	"       openload -s FILE.csv [-a FROM_S] [-b TO_S]\n"
#define PROG "openload"

int main(int argc, char **argv)
{
	double rate = 0, duration_s = 0, timeout_s = 10, from = -INFINITY, to = INFINITY;
	const char *out_path = NULL, *summary_path = NULL;
	unsigned long seed = 1;
	int opt;
	while ((opt = getopt(argc, argv, "r:d:t:o:S:s:a:b:h")) != -1) {
		int bad = 0;
		switch (opt) {
		case 'r':
			bad = realload_opt_double(PROG, opt, optarg, 0, INFINITY, &rate);
			break;
		case 'd':
			bad = realload_opt_duration(PROG, opt, optarg, &duration_s);
			break;
		case 't':
			bad = realload_opt_duration(PROG, opt, optarg, &timeout_s);
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'S':
			bad = realload_opt_ulong(PROG, opt, optarg, 0, UINT32_MAX, &seed);
			break;
		case 's':
			summary_path = optarg;
			break;
		case 'a':
			bad = realload_opt_double(PROG, opt, optarg, -INFINITY, INFINITY, &from);
			break;
		case 'b':
			bad = realload_opt_double(PROG, opt, optarg, -INFINITY, INFINITY, &to);
			break;
		default:
			return realload_usage(opt, USAGE);
		}
		if (bad)
			return 2;
	}
	struct samples s = {0};
	if (summary_path) {
		int rc = read_csv(summary_path, &s) < 0 || summarise(stdout, &s, from, to) < 0;
		free(s.v);
		return rc;
	}
	if (optind != argc - 1 || rate <= 0 || duration_s <= 0 || timeout_s <= 0)
		return realload_usage('?', USAGE);
	FILE *out = NULL;
	if (out_path && !(out = fopen(out_path, "w"))) {
		fprintf(stderr, "openload: %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	struct sigaction act = {.sa_handler = on_signal};
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = run_load(argv[optind], rate, duration_s, timeout_s, seed, &s);
	curl_global_cleanup();
	if (rc < 0)
		fprintf(stderr, "openload: out of memory or curl failure; results are partial\n");
	/* The live summary is made from the times as the CSV holds them (to the
	 * microsecond), so that summarising the CSV later gives the same line. */
	for (size_t i = 0; i < s.n; i++) {
		s.v[i].intended_s = as_written(s.v[i].intended_s);
		s.v[i].latency_s = as_written(s.v[i].latency_s);
	}
	if (out) {
		fprintf(out, "intended_s,latency_s,code,outcome\n");
		for (size_t i = 0; i < s.n; i++)
			fprintf(out, "%.6f,%.6f,%d,%s\n", s.v[i].intended_s, s.v[i].latency_s, s.v[i].code,
				outcome_names[s.v[i].outcome]);
		if (fclose(out) != 0) {
			fprintf(stderr, "openload: %s: %s\n", out_path, strerror(errno));
			rc = -1;
		}
	}
	summarise(stdout, &s, -INFINITY, INFINITY);
	free(s.v);
	return rc < 0;
}
