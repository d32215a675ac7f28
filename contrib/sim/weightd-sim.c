/* weightd-sim: a simulated fleet behind a Traefik-like balancer, in real time.
 *
 * Plays a scenario (contrib/sim/scenarios/README.md) with the fleet model,
 * follows weightd's output the way Traefik would (the YAML file or Redis KV),
 * serves the backends' and Traefik's metrics on /metrics for Prometheus (with
 * --traefik-metrics, per server as Traefik labels them in the split layout), and
 * writes the ground truth per interval as CSV. The model runs on simulated
 * seconds = wall seconds x --speed. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autoconf.h"
#include "fleet.h"
#include "log.h"
#include "scenario.h"
#include "sim_api.h"
#include "sim_weights.h"
#include "util.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct sim {
	struct scenario sc;
	struct fleet *f;
	pthread_mutex_t mu;
	FILE *csv;
	struct simw_source *src;
	bool traefik_metrics;
	const char *provider;                /* "file" or "redis": Traefik's suffix */
	char (*holder)[FLEET_NAME_MAX];      /* per backend: its split-layout child, last seen */
	/* Like Traefik, the balancer applies what it reads: after apply_lag_s
	 * (wall seconds), and not at all after stuck_after sets (0: never
	 * stuck), as a Traefik that stopped following its provider. */
	double apply_lag_s;
	long stuck_after, n_applied;
	struct { double at; struct simw_set *set; } queue[16];
	size_t n_queued;
	struct simw_set *applied;            /* in force: what the API shows */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: weightd-sim -s SCENARIO [options]\n"
		"  -s, --scenario FILE   the scenario (libconfig; see contrib/sim/scenarios/README.md)\n"
		"  -l, --listen ADDR     serve /metrics on HOST:PORT (default 127.0.0.1:9478)\n"
		"  -f, --file PATH       follow weights in weightd's YAML file (Traefik file provider)\n"
		"  -r, --redis HOST:PORT follow weights in Redis (Traefik KV provider)\n"
		"      --db N            Redis database (default 0)\n"
		"      --root-key KEY    Redis root key (default traefik)\n"
		"      --poll DURATION   how often to look for new weights (default 250ms)\n"
		"  -o, --csv PATH        write the ground truth per interval as CSV (\"-\" stdout)\n"
		"      --apply-lag SECONDS  apply what is read this many wall seconds later\n"
		"      --stuck-after N   stop following after N weight sets (as a Traefik that\n"
		"                        stopped following its provider)\n"
		"      --traefik-metrics also serve Traefik's service metrics per server, labelled\n"
		"                        service=\"<child>@<provider>\" as Traefik does for the split\n"
		"                        layout's one-server children (none for the parent)\n"
		"      --speed X         simulated seconds per wall second (default 1)\n"
		"  -d, --duration SECONDS  stop after this much simulated time (default: the\n"
		"                        scenario's duration, else run until SIGTERM/SIGINT)\n"
		"      --seed N          override the scenario's seed\n"
		"  -q, --quiet           log warnings and errors only\n"
		"  -h, --help, -V, --version\n");
}

/* ---- /metrics ------------------------------------------------------------ */

static void put_hist(FILE *o, const char *name, const char *lname, const char *lval,
		     const struct fleet_hist *h, const double *le, size_t n_le)
{
	for (size_t i = 0; i < n_le; i++)
		fprintf(o, "%s_bucket{%s=\"%s\",le=\"%g\"} %llu\n", name, lname, lval, le[i],
			(unsigned long long)h->bucket[i]);
	fprintf(o, "%s_bucket{%s=\"%s\",le=\"+Inf\"} %llu\n", name, lname, lval,
		(unsigned long long)h->bucket[n_le]);
	fprintf(o, "%s_sum{%s=\"%s\"} %.9g\n", name, lname, lval, h->sum_s);
	fprintf(o, "%s_count{%s=\"%s\"} %llu\n", name, lname, lval, (unsigned long long)h->count);
}

static void put_codes(FILE *o, const char *name, const char *lname, const char *lval,
		      const char *extra, const struct fleet_counters *c)
{
	const struct {
		const char *code;
		uint64_t n;
	} codes[] = { { "200", c->code200 }, { "500", c->code500 }, { "503", c->code503 } };
	for (size_t i = 0; i < 3; i++)
		if (codes[i].n || i < 2)
			fprintf(o, "%s{%s=\"%s\",code=\"%s\"%s} %llu\n", name, lname, lval, codes[i].code,
				extra, (unsigned long long)codes[i].n);
}

/* The split layout's child holding backend b, as Traefik names it in its
 * labels ("<child>@<provider>"); NULL when the sim has not seen one. */
static const char *split_label(const struct sim *s, size_t b, char *buf, size_t len)
{
	if (!s->traefik_metrics || !s->holder[b][0])
		return NULL;
	snprintf(buf, len, "%s@%s", s->holder[b], s->provider);
	return buf;
}

/* Renders the exposition; the caller holds the lock. */
static void render(struct sim *s, FILE *o)
{
	size_t n_le;
	const double *le = fleet_buckets(s->f, &n_le);
	size_t n = fleet_n_backends(s->f), ng = fleet_n_groups(s->f);
	fputs("# HELP model_inference_duration_seconds Time to answer a request, per backend.\n"
	      "# TYPE model_inference_duration_seconds histogram\n", o);
	for (size_t b = 0; b < n; b++)
		put_hist(o, "model_inference_duration_seconds", "instance", fleet_backend_name(s->f, b),
			 &fleet_backend_counters(s->f, b)->hist, le, n_le);
	fputs("# HELP http_requests_total Requests answered, per backend and code.\n"
	      "# TYPE http_requests_total counter\n", o);
	for (size_t b = 0; b < n; b++)
		put_codes(o, "http_requests_total", "instance", fleet_backend_name(s->f, b), "",
			  fleet_backend_counters(s->f, b));
	fputs("# HELP sim_backend_inflight Requests queued or in service, per backend.\n"
	      "# TYPE sim_backend_inflight gauge\n", o);
	for (size_t b = 0; b < n; b++)
		fprintf(o, "sim_backend_inflight{instance=\"%s\"} %u\n", fleet_backend_name(s->f, b),
			fleet_inflight(s->f, b));
	fputs("# HELP sim_backend_weight The weight the balancer uses, per backend.\n"
	      "# TYPE sim_backend_weight gauge\n", o);
	for (size_t b = 0; b < n; b++)
		fprintf(o, "sim_backend_weight{instance=\"%s\"} %g\n", fleet_backend_name(s->f, b),
			fleet_weight(s->f, b));
	/* Traefik records a service's requests on each server's proxy, labelled
	 * with the service that holds the server: with --traefik-metrics, one
	 * series set per split-layout child; the weighted parent has none. */
	char lbl[FLEET_NAME_MAX + 16];
	bool any = ng > 0;
	for (size_t b = 0; b < n && !any; b++)
		any = split_label(s, b, lbl, sizeof lbl) != NULL;
	if (any) {
		fputs("# HELP traefik_service_request_duration_seconds Request durations, per service.\n"
		      "# TYPE traefik_service_request_duration_seconds histogram\n", o);
		for (size_t b = 0; b < n; b++)
			if (split_label(s, b, lbl, sizeof lbl))
				put_hist(o, "traefik_service_request_duration_seconds", "service", lbl,
					 &fleet_backend_counters(s->f, b)->hist, le, n_le);
		for (size_t g = 0; g < ng; g++)
			put_hist(o, "traefik_service_request_duration_seconds", "service",
				 fleet_group_name(s->f, g), &fleet_group_counters(s->f, g)->hist, le,
				 n_le);
		fputs("# HELP traefik_service_requests_total Requests, per service and code.\n"
		      "# TYPE traefik_service_requests_total counter\n", o);
		for (size_t b = 0; b < n; b++)
			if (split_label(s, b, lbl, sizeof lbl))
				put_codes(o, "traefik_service_requests_total", "service", lbl,
					  ",method=\"GET\",protocol=\"http\"", fleet_backend_counters(s->f, b));
		for (size_t g = 0; g < ng; g++)
			put_codes(o, "traefik_service_requests_total", "service", fleet_group_name(s->f, g),
				  ",method=\"GET\",protocol=\"http\"", fleet_group_counters(s->f, g));
	}
	fprintf(o, "# HELP sim_time_seconds Simulated time since the start.\n"
		   "# TYPE sim_time_seconds gauge\nsim_time_seconds %.3f\n", fleet_now(s->f));
}

static enum MHD_Result on_http(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_len, void **req_cls)
{
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req_cls;
	struct sim *s = cls;
	char *body = NULL;
	size_t len = 0;
	unsigned status = MHD_HTTP_OK;
	FILE *o = open_memstream(&body, &len);
	if (!o)
		return MHD_NO;
	if (strcmp(method, "GET") != 0) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		fputs("GET only\n", o);
	} else if (strcmp(url, "/metrics") == 0) {
		pthread_mutex_lock(&s->mu);
		render(s, o);
		pthread_mutex_unlock(&s->mu);
	} else if (strncmp(url, "/api/http/services/", 19) == 0) {
		static const struct simw_set none;
		pthread_mutex_lock(&s->mu);
		status = (unsigned)simapi_service(s->applied ? s->applied : &none, s->sc.service,
						   s->sc.weighted, s->provider, url + 19, o);
		pthread_mutex_unlock(&s->mu);
	} else if (strcmp(url, "/healthz") == 0) {
		fputs("ok\n", o);
	} else {
		status = MHD_HTTP_NOT_FOUND;
		fputs("not found: try /metrics\n", o);
	}
	fclose(o);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
				strncmp(url, "/api/", 5) == 0 ? "application/json" :
				status == MHD_HTTP_OK && strcmp(url, "/metrics") == 0 ?
					"text/plain; version=0.0.4; charset=utf-8" : "text/plain");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static struct MHD_Daemon *http_start(struct sim *s, const char *listen, char *err, size_t errlen)
{
	const char *colon = strrchr(listen, ':');
	if (!colon || !colon[1]) {
		snprintf(err, errlen, "--listen \"%s\": expected HOST:PORT", listen);
		return NULL;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535 ||
	    inet_pton(AF_INET, *host ? host : "0.0.0.0", &sa.sin_addr) != 1) {
		snprintf(err, errlen, "--listen \"%s\": expected an IPv4 HOST:PORT", listen);
		return NULL;
	}
	sa.sin_port = htons((uint16_t)port);
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
						0, NULL, NULL, on_http, s, MHD_OPTION_SOCK_ADDR, &sa,
						MHD_OPTION_END);
	if (!d)
		snprintf(err, errlen, "cannot listen on %s (in use?)", listen);
	return d;
}

/* ---- ground truth CSV ---------------------------------------------------- */

static void csv_num(FILE *o, double v)
{
	if (isfinite(v))
		fprintf(o, ",%.6g", v);
	else
		fputs(",", o);
}

static void write_truth(struct sim *s)
{
	const struct fleet_truth *t;
	fleet_truth_take(s->f, &t);
	if (!s->csv)
		return;
	for (size_t b = 0; b < t->n; b++) {
		int g = fleet_backend_group(s->f, b);
		fprintf(s->csv, "%.3f,%s,%s", t->t1_s, fleet_backend_name(s->f, b),
			g >= 0 ? fleet_group_name(s->f, (size_t)g) : "");
		csv_num(s->csv, t->b[b].weight);
		csv_num(s->csv, g >= 0 ? fleet_group_weight(s->f, (size_t)g) : NAN);
		csv_num(s->csv, t->b[b].share);
		fprintf(s->csv, ",%llu", (unsigned long long)t->b[b].done);
		csv_num(s->csv, t->b[b].p95_s);
		csv_num(s->csv, t->b[b].error_ratio);
		csv_num(s->csv, t->p95_s);
		csv_num(s->csv, t->error_ratio);
		fputc('\n', s->csv);
	}
	fflush(s->csv);
}

/* ---- weights ------------------------------------------------------------- */

/* Applies a set read from the source: the fleet's weights, the children's
 * names, and what the API shows. The caller holds the lock. */
static void apply_set(struct sim *s, struct simw_set *set)
{
	if (s->stuck_after && s->n_applied >= s->stuck_after) {
		if (s->n_applied++ == s->stuck_after)
			log_warn("stuck: no longer following the weights (--stuck-after)");
		free(set);
		return;
	}
	s->n_applied++;
	size_t changed = simw_apply(set, s->f);
	for (size_t b = 0; b < fleet_n_backends(s->f); b++) {
		const char *h = simw_holder(set, s->f, b);
		if (h[0]) /* a drained child is still a service with its series */
			snprintf(s->holder[b], sizeof s->holder[b], "%s", h);
	}
	free(s->applied);
	s->applied = set;
	char desc[2048] = "";
	size_t off = 0;
	for (size_t b = 0; changed && b < fleet_n_backends(s->f) && off < sizeof desc - 1; b++)
		off += (size_t)snprintf(desc + off, sizeof desc - off, "%s%s=%g", off ? " " : "",
					fleet_backend_name(s->f, b), fleet_weight(s->f, b));
	for (size_t g = 0; changed && g < fleet_n_groups(s->f) && off < sizeof desc - 1; g++)
		off += (size_t)snprintf(desc + off, sizeof desc - off, " %s=%g",
					fleet_group_name(s->f, g), fleet_group_weight(s->f, g));
	if (changed)
		log_info("weights changed", "weights", desc);
}

/* Applies the queued sets whose time has come (wall seconds since start). */
static void apply_due(struct sim *s, double wall)
{
	pthread_mutex_lock(&s->mu);
	size_t done = 0;
	while (done < s->n_queued && s->queue[done].at <= wall)
		apply_set(s, s->queue[done++].set);
	memmove(s->queue, s->queue + done, (s->n_queued - done) * sizeof(s->queue[0]));
	s->n_queued -= done;
	pthread_mutex_unlock(&s->mu);
}

static void poll_weights(struct sim *s, double wall, char *last_err, size_t errlen)
{
	struct simw_set *set = malloc(sizeof(*set));
	char err[512] = "";
	int rc = set ? simw_poll(s->src, set, err, sizeof err) : -1;
	if (rc < 0) {
		if (!set)
			snprintf(err, sizeof err, "out of memory");
		if (strcmp(err, last_err) != 0)
			log_warn("cannot read weights", "error", err);
		snprintf(last_err, errlen, "%s", err);
		free(set);
		return;
	}
	if (last_err[0] && rc > 0) {
		log_info("weights readable again");
		last_err[0] = 0;
	}
	if (rc == 0 || (s->sc.service[0] && !set->has_servers && s->sc.weighted[0] &&
			!set->has_weighted)) {
		free(set); /* nothing new, or nothing of ours defined (yet) */
		return;
	}
	pthread_mutex_lock(&s->mu);
	if (s->n_queued == sizeof(s->queue) / sizeof(s->queue[0])) {
		/* a slower balancer than reads: the oldest pending set is skipped */
		free(s->queue[0].set);
		memmove(s->queue, s->queue + 1, (s->n_queued - 1) * sizeof(s->queue[0]));
		s->n_queued--;
	}
	s->queue[s->n_queued].at = wall + s->apply_lag_s;
	s->queue[s->n_queued++].set = set;
	pthread_mutex_unlock(&s->mu);
	apply_due(s, wall);
}

/* ---- main ---------------------------------------------------------------- */

struct opts {
	const char *scenario, *listen, *file, *redis, *root_key, *csv;
	int db;
	bool traefik_metrics;
	double poll_s, speed, duration_s, apply_lag_s;
	long stuck_after;
	long long seed;
	int verbosity;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_DB = 256, O_ROOT, O_POLL, O_SPEED, O_SEED, O_TRAEFIK, O_LAG, O_STUCK };
	static const struct option lo[] = {
		{ "scenario", required_argument, NULL, 's' }, { "listen", required_argument, NULL, 'l' },
		{ "file", required_argument, NULL, 'f' },     { "redis", required_argument, NULL, 'r' },
		{ "db", required_argument, NULL, O_DB },      { "root-key", required_argument, NULL, O_ROOT },
		{ "poll", required_argument, NULL, O_POLL },  { "csv", required_argument, NULL, 'o' },
		{ "speed", required_argument, NULL, O_SPEED }, { "duration", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, O_SEED },  { "quiet", no_argument, NULL, 'q' },
		{ "traefik-metrics", no_argument, NULL, O_TRAEFIK },
		{ "apply-lag", required_argument, NULL, O_LAG },
		{ "stuck-after", required_argument, NULL, O_STUCK },
		{ "help", no_argument, NULL, 'h' },           { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	*o = (struct opts){ .listen = "127.0.0.1:9478", .root_key = "traefik", .poll_s = 0.25,
			    .speed = 1, .seed = -1 };
	int c;
	char err[200], *end;
	while ((c = getopt_long(argc, argv, "s:l:f:r:o:d:qhV", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->scenario = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'f': o->file = optarg; break;
		case 'r': o->redis = optarg; break;
		case 'o': o->csv = optarg; break;
		case 'q': o->verbosity--; break;
		case O_ROOT: o->root_key = optarg; break;
		case O_TRAEFIK: o->traefik_metrics = true; break;
		case O_LAG:
			o->apply_lag_s = strtod(optarg, &end);
			if (*end || !(o->apply_lag_s >= 0) || !isfinite(o->apply_lag_s)) {
				fprintf(stderr, "weightd-sim: --apply-lag \"%s\": expected seconds >= 0\n", optarg);
				return 2;
			}
			break;
		case O_STUCK:
			o->stuck_after = strtol(optarg, &end, 10);
			if (*end || o->stuck_after < 1) {
				fprintf(stderr, "weightd-sim: --stuck-after \"%s\": expected a count >= 1\n", optarg);
				return 2;
			}
			break;
		case O_DB:
			o->db = (int)strtol(optarg, &end, 10);
			if (*end || o->db < 0) {
				fprintf(stderr, "weightd-sim: --db \"%s\": expected a database number\n", optarg);
				return 2;
			}
			break;
		case O_POLL:
			if (scenario_parse_seconds(optarg, &o->poll_s, err, sizeof err) < 0 || o->poll_s <= 0) {
				fprintf(stderr, "weightd-sim: --poll: %s\n", err);
				return 2;
			}
			break;
		case O_SPEED:
			o->speed = strtod(optarg, &end);
			if (*end || !(o->speed > 0) || !isfinite(o->speed)) {
				fprintf(stderr, "weightd-sim: --speed \"%s\": expected a positive number\n", optarg);
				return 2;
			}
			break;
		case 'd':
			o->duration_s = strtod(optarg, &end);
			if (*end || !(o->duration_s > 0) || !isfinite(o->duration_s)) {
				fprintf(stderr, "weightd-sim: --duration \"%s\": expected seconds > 0\n", optarg);
				return 2;
			}
			break;
		case O_SEED:
			o->seed = strtoll(optarg, &end, 10);
			if (*end || o->seed < 0) {
				fprintf(stderr, "weightd-sim: --seed \"%s\": expected an integer >= 0\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("weightd-sim %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !o->scenario) {
		fprintf(stderr, "weightd-sim: %s\n", optind < argc ? "unexpected argument" :
			"a scenario is required (-s FILE)");
		usage(stderr);
		return 2;
	}
	if (o->file && o->redis) {
		fprintf(stderr, "weightd-sim: --file and --redis exclude each other\n");
		return 2;
	}
	return -1;
}

static int setup(struct sim *s, const struct opts *o)
{
	char err[512];
	if (scenario_load(o->scenario, &s->sc, err, sizeof err) < 0) {
		fprintf(stderr, "weightd-sim: %s\n", err);
		return 2;
	}
	if (o->seed >= 0)
		s->sc.spec.seed = (uint64_t)o->seed;
	s->f = fleet_new(&s->sc.spec, err, sizeof err);
	if (!s->f) {
		fprintf(stderr, "weightd-sim: %s: %s\n", o->scenario, err);
		return 2;
	}
	if ((o->file || o->redis) && !s->sc.service[0] && !s->sc.weighted[0]) {
		fprintf(stderr, "weightd-sim: %s: no traefik.service or traefik.weighted to follow\n",
			o->scenario);
		return 2;
	}
	s->traefik_metrics = o->traefik_metrics;
	s->apply_lag_s = o->apply_lag_s;
	s->stuck_after = o->stuck_after;
	s->provider = o->redis ? "redis" : "file";
	s->holder = calloc(fleet_n_backends(s->f) ? fleet_n_backends(s->f) : 1, sizeof *s->holder);
	if (!s->holder) {
		fprintf(stderr, "weightd-sim: out of memory\n");
		return 1;
	}
	if (o->file)
		s->src = simw_file_new(o->file, s->sc.service, s->sc.weighted);
	else if (o->redis)
		s->src = simw_redis_new(o->redis, o->db, o->root_key, s->sc.service, s->sc.weighted);
	if ((o->file || o->redis) && !s->src) {
		fprintf(stderr, "weightd-sim: bad weight source\n");
		return 2;
	}
	if (o->csv) {
		s->csv = strcmp(o->csv, "-") == 0 ? stdout : fopen(o->csv, "w");
		if (!s->csv) {
			fprintf(stderr, "weightd-sim: %s: %s\n", o->csv, strerror(errno));
			return 1;
		}
		fputs("time_s,backend,service,weight,service_weight,share,requests,p95_s,"
		      "error_ratio,fleet_p95_s,fleet_error_ratio\n", s->csv);
		fflush(s->csv);
	}
	return -1;
}

static void run(struct sim *s, const struct opts *o, double duration_s)
{
	double start = util_mono_s(), next_truth = s->sc.interval_s, next_poll = 0;
	char last_err[512] = "";
	while (!stop_requested) {
		double wall = util_mono_s() - start, t = wall * o->speed;
		if (duration_s > 0 && t >= duration_s)
			t = duration_s;
		if (s->src && wall >= next_poll) {
			poll_weights(s, wall, last_err, sizeof last_err);
			next_poll = wall + o->poll_s;
		}
		if (s->n_queued)
			apply_due(s, wall);
		pthread_mutex_lock(&s->mu);
		while (next_truth <= t) {
			fleet_run_until(s->f, next_truth);
			write_truth(s);
			next_truth += s->sc.interval_s;
		}
		fleet_run_until(s->f, t);
		pthread_mutex_unlock(&s->mu);
		if (duration_s > 0 && t >= duration_s)
			break;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL); /* a signal cuts it short */
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	log_setup(o.verbosity < 0 ? WD_LOG_WARN : WD_LOG_INFO, WD_LOG_LOGFMT);
	struct sim s = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct MHD_Daemon *d = NULL;
	rc = setup(&s, &o);
	if (rc < 0) {
		char err[256];
		d = http_start(&s, o.listen, err, sizeof err);
		if (!d) {
			fprintf(stderr, "weightd-sim: %s\n", err);
			rc = 1;
		}
	}
	if (rc < 0) {
		struct sigaction sa = { .sa_handler = on_stop };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		double duration = o.duration_s > 0 ? o.duration_s : s.sc.duration_s;
		char dur[32], spd[32];
		snprintf(dur, sizeof dur, "%g", duration);
		snprintf(spd, sizeof spd, "%g", o.speed);
		log_info("weightd-sim started", "scenario", o.scenario, "listen", o.listen,
			 "duration_s", dur, "speed", spd);
		run(&s, &o, duration);
		log_info("weightd-sim stopped");
		rc = 0;
	}
	if (d)
		MHD_stop_daemon(d);
	if (s.csv && s.csv != stdout)
		fclose(s.csv);
	simw_source_free(s.src);
	free(s.holder);
	free(s.applied);
	for (size_t i = 0; i < s.n_queued; i++)
		free(s.queue[i].set);
	fleet_free(s.f);
	scenario_free(&s.sc);
	return rc;
}
