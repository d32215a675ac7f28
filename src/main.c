/* main: the command line, signals, the tick loop and config reload.
 *
 * One tick: measure (prom) -> decide (policy) -> apply (output) -> remember
 * (state). The loop runs on the monotonic clock with next += interval, and
 * skips ahead after an overrun instead of bursting. Signal handlers only set
 * flags; signals stay blocked except while the loop sleeps in ppoll() or a
 * tick's queries run, so no wake-up is lost and no write is interrupted. A
 * reload runs when the loop wakes for it and changes nothing in the schedule. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "autoconf.h"
#include "config.h"
#include "confwatch.h"
#include "httpd.h"
#include "log.h"
#include "measure.h"
#include "metrics.h"
#include "output.h"
#include "policy.h"
#include "prom.h"
#include "sdnotify.h"
#include "state.h"

#ifdef WD_FAULT_INJECTION
#include "fault_alloc.h" /* tests/tools: a reload's Nth allocation fails */
#else
static void fault_alloc_arm(void) {}
static void fault_alloc_disarm(void) {}
#endif

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

struct options {
	const char *config_path;
	bool dry_run;
	bool once;
	bool check_only;
	bool watch_config; /* reload when the file changes, without SIGHUP */
	int verbosity; /* +1 per -v, -1 per -q */
	enum wd_log_format log_format;
};

/* How often --watch-config looks at the file. */
#define CONFIG_WATCH_MS 1000

struct daemon {
	struct options opt;
	struct confwatch watch;   /* --watch-config: the file as last loaded */
	int64_t watchdog_ms;      /* 0: no service-manager watchdog */
	struct wd_config *cfg;
	struct prom *prom;
	struct output *out;
	struct wd_service_state *st; /* one per cfg service, same order */
	size_t n_st;
	uint64_t tick;
	bool prom_failing;      /* for logging changes, not every tick */
	bool output_failing;
	bool state_failing;
	struct metrics *metrics;
	struct httpd *httpd;    /* NULL when listen = "" or --once */
	struct audit *audit;    /* NULL when audit_log = "" */
	bool audit_failing;
	unsigned char **bflags; /* per service and backend: BF_* (logged states) */
	sigset_t blocked;       /* the loop's mask: SIGHUP, SIGTERM, SIGINT blocked */
	sigset_t unblocked;     /* the same with them unblocked: ppoll and queries */
};

/* Backend states whose start and end are logged once each. */
enum { BF_EJECTED = 1, BF_STALE = 2 };

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: weightd [-c FILE] [-n] [-1] [-t] [-v|-q] [--log-format=logfmt|json]\n"
		"       weightd --help | --version\n"
		"Keeps Traefik backend weights matched to how the backends perform.\n\n"
		"  -c, --config FILE      config file (default %s/weightd/weightd.conf)\n"
		"  -n, --dry-run          decide, log and audit, but never write the output\n"
		"  -1, --once             run one tick and exit (0 all handled, 1 any failure)\n"
		"  -t, --check-config     validate the config, print FILE: ok or its errors\n"
		"  -w, --watch-config     reload when the config file changes (checked every second)\n"
		"  -v, --verbose          more logging than log_level (repeatable)\n"
		"  -q, --quiet            less logging than log_level (repeatable)\n"
		"      --log-format=FMT   logfmt (default) or json\n"
		"  -h, --help             this help\n"
		"  -V, --version          print the version\n",
		SYSCONFDIR);
}

/* Returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"dry-run", no_argument, NULL, 'n'},
		{"once", no_argument, NULL, '1'},
		{"check-config", no_argument, NULL, 't'},
		{"watch-config", no_argument, NULL, 'w'},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"log-format", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	o->config_path = SYSCONFDIR "/weightd/weightd.conf";
	int c;
	while ((c = getopt_long(argc, argv, "c:n1twvqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config_path = optarg; break;
		case 'n': o->dry_run = true; break;
		case '1': o->once = true; break;
		case 't': o->check_only = true; break;
		case 'w': o->watch_config = true; break;
		case 'v': o->verbosity++; break;
		case 'q': o->verbosity--; break;
		case 'L':
			if (strcmp(optarg, "logfmt") == 0)
				o->log_format = WD_LOG_LOGFMT;
			else if (strcmp(optarg, "json") == 0)
				o->log_format = WD_LOG_JSON;
			else {
				fprintf(stderr, "weightd: --log-format must be logfmt or json, not \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("weightd %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "weightd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

static void apply_log_level(const struct daemon *d)
{
	int lvl = d->cfg->log_level + d->opt.verbosity;
	log_set_level(lvl < WD_LOG_ERROR ? WD_LOG_ERROR : lvl > WD_LOG_DEBUG ? WD_LOG_DEBUG : lvl);
}

static void log_errors(const char *msg, const struct wd_errors *e, int level)
{
	for (size_t i = 0; i < e->n; i++)
		wd_log(level, msg, "error", e->msgs[i], (char *)NULL);
}

static void free_flags(unsigned char **fl, size_t n)
{
	for (size_t i = 0; fl && i < n; i++)
		free(fl[i]);
	free(fl);
}

/* Fills fl (one array per cfg service) with each backend's logged states,
 * carried over by service and backend name from the running states. */
static int sync_flags(const struct daemon *d, const struct wd_config *cfg, unsigned char **fl)
{
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct wd_service_cfg *svc = &cfg->services[i];
		fl[i] = calloc(svc->n_backends ? svc->n_backends : 1, 1);
		if (!fl[i])
			return -1;
		for (size_t j = 0; d->bflags && j < d->n_st; j++) {
			if (!d->st[j].name || strcmp(d->st[j].name, svc->name) != 0)
				continue;
			for (size_t b = 0; b < svc->n_backends; b++)
				for (size_t k = 0; k < d->st[j].n; k++)
					if (strcmp(d->st[j].b[k].name, svc->backends[b].name) == 0)
						fl[i][b] = d->bflags[j][k];
		}
	}
	return 0;
}

static void free_states(struct wd_service_state *st, unsigned char **fl, size_t n)
{
	free_flags(fl, n);
	for (size_t i = 0; st && i < n; i++)
		policy_state_free(&st[i]);
	free(st);
}

/* Everything one config needs, built aside from the running one so a reload
 * swaps it in whole or not at all. */
struct runtime {
	struct wd_config *cfg;
	struct prom *prom;
	struct output *out;
	struct wd_service_state *st; /* one per cfg service, same order */
	unsigned char **bflags;
};

static void runtime_free(struct runtime *r)
{
	free_states(r->st, r->bflags, r->cfg ? r->cfg->n_services : 0);
	prom_free(r->prom);
	output_free(r->out);
	config_free(r->cfg);
	memset(r, 0, sizeof(*r));
}

/* Builds r's states from the running ones without touching them: kept by
 * service name (so a reload continues where it was), new ones created,
 * removed ones left behind with the running runtime. */
static int build_states(const struct daemon *d, struct runtime *r)
{
	const struct wd_config *cfg = r->cfg;
	size_t n = cfg->n_services;
	r->st = calloc(n ? n : 1, sizeof(*r->st));
	r->bflags = calloc(n ? n : 1, sizeof(*r->bflags));
	if (!r->st || !r->bflags || sync_flags(d, cfg, r->bflags) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		static const struct wd_service_state none;
		const struct wd_service_state *old = &none;
		for (size_t j = 0; j < d->n_st; j++)
			if (d->st[j].name && strcmp(d->st[j].name, cfg->services[i].name) == 0)
				old = &d->st[j];
		if (policy_state_derive(old, &cfg->services[i], &r->st[i]) < 0)
			return -1;
	}
	return 0;
}

/* Builds the Prometheus client, the output and the states for r->cfg (which
 * r owns). 0, or -1 logged; r is then for runtime_free. */
static int runtime_build(const struct daemon *d, struct runtime *r)
{
	char err[512];
	if (!(r->prom = prom_new(&r->cfg->prom, err, sizeof(err)))) {
		log_error("cannot create the Prometheus client", "error", err);
		return -1;
	}
	if (!(r->out = output_new(r->cfg, err, sizeof(err)))) {
		log_error("cannot open the output", "error", err);
		return -1;
	}
	if (build_states(d, r) < 0) {
		log_error("cannot build the controller state", "error", "out of memory");
		return -1;
	}
	return 0;
}

/* Frees the running runtime's parts. */
static void drop_running(struct daemon *d)
{
	free_states(d->st, d->bflags, d->n_st);
	prom_free(d->prom);
	output_free(d->out);
	config_free(d->cfg);
}

/* Puts r in place of the running runtime, which is freed; r is emptied. */
static void runtime_swap(struct daemon *d, struct runtime *r)
{
	drop_running(d);
	d->cfg = r->cfg;
	d->prom = r->prom;
	d->out = r->out;
	d->st = r->st;
	d->bflags = r->bflags;
	d->n_st = r->cfg->n_services;
	memset(r, 0, sizeof(*r));
}

/* Serves /metrics and /healthz on listen ("" none), restarting the server
 * only when the address changed. Never in --once mode: a one-shot audit run
 * beside the daemon must not fight it for the port. */
static int switch_listener(struct daemon *d, const char *listen)
{
	if (d->opt.once || (!d->httpd && !listen[0]) ||
	    (d->httpd && strcmp(httpd_listen(d->httpd), listen) == 0))
		return 0;
	httpd_stop(d->httpd);
	d->httpd = NULL;
	if (!listen[0]) {
		log_info("stopped serving /metrics and /healthz");
		return 0;
	}
	char err[512], port[16];
	d->httpd = httpd_start(listen, d->metrics, err, sizeof(err));
	if (!d->httpd) {
		log_error("cannot serve /metrics and /healthz", "error", err);
		return -1;
	}
	snprintf(port, sizeof(port), "%d", httpd_port(d->httpd));
	log_info("serving /metrics and /healthz", "listen", listen, "port", port);
	return 0;
}

/* After a reload that keeps the audit log's path, or one that failed: reopen
 * it, so SIGHUP after log rotation works even with a broken config. */
static void reopen_audit(struct daemon *d)
{
	char err[512];
	if (d->audit && audit_reopen(d->audit, err, sizeof(err)) < 0)
		log_error("cannot reopen the audit log; still writing to the old file", "error", err);
}

/* Loads the config again and builds everything it needs aside; only when
 * all of it succeeded is it swapped in. On any failure the running config,
 * Prometheus client, output, states, audit log and listener stay as they
 * were. */
static void reload(struct daemon *d)
{
	struct wd_errors errs = {0}, warns = {0};
	struct runtime next = {0};
	struct audit *audit = NULL;
	char err[512];
	log_info("reloading config", "config", d->opt.config_path);
	sdnotify_reloading();
	/* What is loaded now is what the watch compares against next. */
	if (d->opt.watch_config)
		confwatch_init(&d->watch, d->opt.config_path);
	if (config_load(d->opt.config_path, &next.cfg, &errs, &warns) < 0) {
		log_errors("config reload failed; keeping the running config", &errs, WD_LOG_ERROR);
		goto failed;
	}
	log_errors("config warning", &warns, WD_LOG_WARN);
	if (d->opt.dry_run)
		next.cfg->dry_run = true;
	bool same_audit = d->audit && strcmp(audit_path(d->audit), next.cfg->audit_log) == 0;
	if (next.cfg->audit_log[0] && !same_audit &&
	    !(audit = audit_open(next.cfg->audit_log, err, sizeof(err)))) {
		log_error("config reload failed; keeping the running config", "error", err);
		goto failed;
	}
	/* The listener last: it is the one part restarted in place. */
	fault_alloc_arm();
	if (runtime_build(d, &next) < 0 || switch_listener(d, next.cfg->listen) < 0) {
		log_error("config reload failed; keeping the running config", "config", d->opt.config_path);
		switch_listener(d, d->cfg->listen);
		goto failed;
	}
	fault_alloc_disarm();
	runtime_swap(d, &next);
	const struct wd_config *cfg = d->cfg;
	if (same_audit) {
		reopen_audit(d);
	} else {
		audit_close(d->audit);
		d->audit = audit;
		d->audit_failing = false;
	}
	apply_log_level(d);
	metrics_set_config(d->metrics, cfg->interval_ms, cfg->dry_run);
	metrics_config_reload(d->metrics, true, wall_ms() / 1000.0);
	char n[24];
	snprintf(n, sizeof(n), "%zu", cfg->n_services);
	log_info("config reloaded", "config", d->opt.config_path, "services", n);
	goto out;
failed:
	fault_alloc_disarm();
	runtime_free(&next);
	audit_close(audit);
	metrics_config_reload(d->metrics, false, wall_ms() / 1000.0);
	reopen_audit(d);
out:
	errors_free(&errs);
	errors_free(&warns);
}

enum tick_result { TICK_OK = 0, TICK_PARTIAL, TICK_FAILED };

/* Logs a backend's ejection, return, staleness and recovery once per change.
 * Nothing changes in a tick whose queries failed (nothing is known then). */
static void log_backend_change(unsigned char *flags, const char *svc, const char *backend,
			       const struct wd_measurement *m, const struct wd_decision *dec)
{
	enum wd_action a = dec->action;
	char er[32] = "unknown";
	if (m && m->has_error)
		snprintf(er, sizeof(er), "%.4g", m->error_ratio);
	if (a == WD_ACT_EJECTED && !(*flags & BF_EJECTED)) {
		log_warn("backend ejected: its error ratio is at or above eject_error_ratio", "service",
			 svc, "backend", backend, "error_ratio", er, "reason", dec->reason);
		*flags |= BF_EJECTED;
	} else if ((*flags & BF_EJECTED) && a != WD_ACT_EJECTED && a != WD_ACT_FROZEN) {
		log_info("backend returned from ejection", "service", svc, "backend", backend,
			 "error_ratio", er, "action", policy_action_name(a));
		*flags &= (unsigned char)~BF_EJECTED;
	}
	if (a == WD_ACT_STALE && !(*flags & BF_STALE)) {
		log_warn("backend stale: no data; moving it toward its initial weight", "service", svc,
			 "backend", backend, "reason", dec->reason);
		*flags |= BF_STALE;
	} else if ((*flags & BF_STALE) && m && m->has_latency) {
		log_info("backend recovered: its data is back", "service", svc, "backend", backend);
		*flags &= (unsigned char)~BF_STALE;
	}
}

/* Tells the outside what the tick decided: the log lines for backend state
 * changes, the audit records, the metrics series and, for --once --dry-run,
 * the table on stdout. In dry run, "applied" becomes "dry_run". */
static void report_tick(struct daemon *d, const struct measure_tick *mt, struct wd_decision **dec)
{
	const struct wd_config *cfg = d->cfg;
	size_t n = 0;
	for (size_t i = 0; dec && i < cfg->n_services; i++)
		n += dec[i] ? cfg->services[i].n_backends : 0;
	struct audit_record *rec = calloc(n ? n : 1, sizeof(*rec));
	struct metrics_backend *mb = calloc(n ? n : 1, sizeof(*mb));
	struct metrics_service *ms = calloc(cfg->n_services ? cfg->n_services : 1, sizeof(*ms));
	if (!dec || !rec || !mb || !ms) {
		free(rec);
		free(mb);
		free(ms);
		return;
	}
	int64_t ts = wall_ms();
	size_t k = 0;
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct wd_service_cfg *svc = &cfg->services[i];
		ms[i] = (struct metrics_service){svc->name, svc->freeze};
		for (size_t b = 0; dec[i] && b < svc->n_backends; b++, k++) {
			struct wd_decision *x = &dec[i][b];
			const struct wd_measurement *m = mt->svc && mt->svc[i].m ? &mt->svc[i].m[b] : NULL;
			if (cfg->dry_run && x->action == WD_ACT_APPLIED)
				x->action = WD_ACT_DRY_RUN;
			if (mt->svc && mt->svc[i].ok)
				log_backend_change(&d->bflags[i][b], svc->name, svc->backends[b].name, m, x);
			rec[k] = (struct audit_record){ts, d->tick, svc->name, svc->backends[b].name, m, x};
			/* The weight the output carries: below the deadband the
			 * decision's new weight is not written. */
			mb[k] = (struct metrics_backend){
				svc->name, svc->backends[b].name, d->st[i].b[b].out_weight,
				m && m->has_latency ? m->latency_s : NAN,
				m && m->has_error ? m->error_ratio : NAN, x->cost, x->error, x->action,
				damping_gain(&d->st[i].b[b].damp), d->st[i].b[b].damp.count};
		}
	}
	char err[512];
	int arc = 0;
	for (size_t r = 0; d->audit && r < n && arc == 0; r++)
		arc = audit_write(d->audit, &rec[r], err, sizeof(err));
	if (d->audit && arc < 0 && !d->audit_failing)
		log_error("cannot write the audit log; records are lost until it recovers", "error", err);
	else if (d->audit && arc == 0 && d->audit_failing)
		log_info("audit log writes recovered", "audit_log", audit_path(d->audit));
	d->audit_failing = d->audit && arc < 0;
	metrics_set_backends(d->metrics, mb, n, ms, cfg->n_services);
	if (d->opt.once && cfg->dry_run) {
		audit_print_table(stdout, rec, n);
		fflush(stdout);
	}
	free(rec);
	free(mb);
	free(ms);
}

/* Hands every service's current integer weights to the output in one
 * update. Returns what output_write returns. */
static int write_output(struct daemon *d, char *err, size_t errlen)
{
	const struct wd_config *cfg = d->cfg;
	struct wd_output_service *os = calloc(cfg->n_services, sizeof(*os));
	int **weights = calloc(cfg->n_services, sizeof(*weights));
	int rc = -1;
	snprintf(err, errlen, "out of memory");
	if (os && weights) {
		size_t i;
		for (i = 0; i < cfg->n_services; i++) {
			weights[i] = calloc(cfg->services[i].n_backends, sizeof(int));
			if (!weights[i])
				break;
			for (size_t b = 0; b < cfg->services[i].n_backends; b++)
				weights[i][b] = d->st[i].b[b].out_weight;
			os[i].cfg = &cfg->services[i];
			os[i].weights = weights[i];
		}
		if (i == cfg->n_services)
			rc = output_write(d->out, os, cfg->n_services, err, errlen);
		for (i = 0; i < cfg->n_services; i++)
			free(weights[i]);
	}
	free(weights);
	free(os);
	return rc;
}

/* Warns once per service when its samples come less often than the tick:
 * the policy then counts the spacing into the signal's delay, but ticks that
 * see nothing new are wasted. Only once the estimate has a few dozen ticks
 * behind it (the first ticks of a run say little). */
static void warn_sample_spacing(const struct wd_config *cfg, struct wd_service_state *st,
				uint64_t tick)
{
	for (size_t i = 0; tick >= 3 * POLICY_SPACING_MIN_TICKS && i < cfg->n_services; i++) {
		double spacing = policy_sample_spacing(&st[i]);
		if (spacing < 1.5 || st[i].spacing_warned)
			continue;
		st[i].spacing_warned = true;
		char every[32], interval[32], want[32];
		snprintf(every, sizeof(every), "%.3gs", spacing * (double)cfg->interval_ms / 1000.0);
		snprintf(interval, sizeof(interval), "%.3gs", (double)cfg->interval_ms / 1000.0);
		snprintf(want, sizeof(want), "%.0fs", ceil(spacing * (double)cfg->interval_ms / 1000.0));
		log_warn("the tick is shorter than the spacing of the samples the service's queries read: "
			 "most ticks see nothing new; set interval to at least the samples' spacing "
			 "(or scrape more often)", "service", cfg->services[i].name, "interval", interval,
			 "samples_every", every, "suggested_interval", want);
	}
}

static enum tick_result run_tick(struct daemon *d)
{
	const struct wd_config *cfg = d->cfg;
	char err[512], reason[700] = "";
	double start_s = mono_s();
	d->tick++;
	struct measure_tick mt = {0};
	/* A stop may cut the queries short; the writes below run with the
	 * signals blocked, so none fails them midway (EINTR in a connect). */
	sigprocmask(SIG_SETMASK, &d->unblocked, NULL);
	size_t failed = measure_run(d->prom, cfg, &mt, &stop_requested);
	sigprocmask(SIG_SETMASK, &d->blocked, NULL);
	if (stop_requested) {
		measure_tick_free(&mt);
		return TICK_FAILED;
	}
	metrics_queries(d->metrics, mt.queries - mt.failed, mt.failed);
	bool all_failed = failed == cfg->n_services;
	for (size_t i = 0; failed && i < cfg->n_services; i++)
		if (!mt.svc[i].ok && !reason[0])
			snprintf(reason, sizeof(reason), "Prometheus query failed: service %s: %s",
				 cfg->services[i].name, mt.svc[i].err);
	if (failed && !d->prom_failing) {
		for (size_t i = 0; i < cfg->n_services; i++)
			if (!mt.svc[i].ok)
				log_error("Prometheus query failed; holding the service's weights",
					  "service", cfg->services[i].name, "error", mt.svc[i].err);
	} else if (!failed && d->prom_failing) {
		log_info("Prometheus queries recovered");
	}
	d->prom_failing = failed > 0;

	/* Every service's decisions are kept for the audit and the metrics. */
	struct wd_decision **dec = calloc(cfg->n_services ? cfg->n_services : 1, sizeof(*dec));
	for (size_t i = 0; dec && i < cfg->n_services; i++) {
		size_t nb = cfg->services[i].n_backends;
		dec[i] = calloc(nb ? nb : 1, sizeof(**dec));
		if (dec[i])
			policy_step(&cfg->services[i], &d->st[i], mt.svc[i].m, mt.svc[i].ok, dec[i]);
	}
	warn_sample_spacing(cfg, d->st, d->tick);

	enum tick_result res = failed ? (all_failed ? TICK_FAILED : TICK_PARTIAL) : TICK_OK;
	enum metrics_write_result wres = METRICS_WRITE_SKIPPED;
	/* The output gets the weights every tick, changed or not: it compares
	 * them with what its target holds and writes only a difference, so an
	 * output file deleted or edited, or a Redis flushed or restarted empty,
	 * is put back while the weights hold. */
	if (!all_failed) {
		int rc = write_output(d, err, sizeof(err));
		if (rc < 0) {
			if (!d->output_failing)
				log_error("output write failed; the last good output stays; retrying next tick",
					  "output", output_kind(d->out), "error", err);
			d->output_failing = true;
			res = TICK_FAILED;
			wres = METRICS_WRITE_FAILED;
			snprintf(reason, sizeof(reason), "output %s write failed: %s", output_kind(d->out), err);
		} else if (rc == OUTPUT_WRITTEN || !d->output_failing) {
			/* Recovered means a write went through: weights that came back
			 * to what the target holds prove nothing about the fault. */
			if (d->output_failing)
				log_info("output write recovered", "output", output_kind(d->out));
			d->output_failing = false;
			if (rc == OUTPUT_WRITTEN)
				log_debug("output written", "output", output_kind(d->out));
			if (rc == OUTPUT_WRITTEN && !cfg->dry_run)
				wres = METRICS_WRITE_OK;
		}
	}
	metrics_output_write(d->metrics, wres, wall_ms() / 1000.0);
	report_tick(d, &mt, dec);
	for (size_t i = 0; dec && i < cfg->n_services; i++)
		free(dec[i]);
	free(dec);
	measure_tick_free(&mt);
	if (cfg->state_file[0] && !cfg->dry_run) {
		if (state_save(cfg->state_file, d->st, d->n_st, err, sizeof(err)) < 0) {
			if (!d->state_failing)
				log_warn("cannot save the controller state", "state_file", cfg->state_file,
					 "error", err);
			d->state_failing = true;
		} else {
			d->state_failing = false;
		}
	}
	static const enum metrics_tick_result mres[] = {
		[TICK_OK] = METRICS_TICK_OK, [TICK_PARTIAL] = METRICS_TICK_PARTIAL,
		[TICK_FAILED] = METRICS_TICK_FAILED};
	metrics_tick(d->metrics, mres[res], mono_s() - start_s, now_ms(), wall_ms() / 1000.0, reason);
	return res;
}

/* Sleeps until deadline_ms (monotonic) or a signal, with signals unblocked
 * only inside ppoll so none is lost between the flag check and the sleep. */
static void sleep_until(struct daemon *d, int64_t deadline_ms, const sigset_t *waitmask)
{
	while (!stop_requested && !reload_requested) {
		int64_t left = deadline_ms - now_ms();
		if (left <= 0)
			return;
		/* Wake for the service manager's watchdog and the config watch. */
		if (d->watchdog_ms > 0 && left > d->watchdog_ms)
			left = d->watchdog_ms;
		if (d->opt.watch_config && left > CONFIG_WATCH_MS)
			left = CONFIG_WATCH_MS;
		struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000};
		if (ppoll(NULL, 0, &ts, waitmask) < 0 && errno != EINTR)
			return;
		if (d->watchdog_ms > 0)
			sdnotify_watchdog();
		if (d->opt.watch_config && confwatch_changed(&d->watch, d->opt.config_path)) {
			log_info("config file changed", "config", d->opt.config_path);
			reload_requested = 1;
		}
	}
}

static int check_config(const struct options *o)
{
	struct wd_errors errs = {0}, warns = {0};
	struct wd_config *cfg = NULL;
	int rc = config_load(o->config_path, &cfg, &errs, &warns);
	for (size_t i = 0; i < warns.n; i++)
		fprintf(stderr, "%s (warning)\n", warns.msgs[i]);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	if (rc == 0)
		printf("%s: ok\n", o->config_path);
	errors_free(&errs);
	errors_free(&warns);
	config_free(cfg);
	return rc == 0 ? 0 : 2;
}

static void daemon_free(struct daemon *d)
{
	httpd_stop(d->httpd); /* first: its thread reads the metrics */
	metrics_free(d->metrics);
	audit_close(d->audit);
	drop_running(d);
}

int main(int argc, char **argv)
{
	struct daemon d = {0};
	int rc = parse_args(argc, argv, &d.opt);
	if (rc >= 0)
		return rc;
	log_setup(WD_LOG_INFO, d.opt.log_format);
	if (d.opt.check_only)
		return check_config(&d.opt);

	struct wd_errors errs = {0}, warns = {0};
	if (d.opt.watch_config)
		confwatch_init(&d.watch, d.opt.config_path);
	if (config_load(d.opt.config_path, &d.cfg, &errs, &warns) < 0) {
		log_errors("invalid config", &errs, WD_LOG_ERROR);
		errors_free(&errs);
		errors_free(&warns);
		return 2;
	}
	if (d.opt.dry_run)
		d.cfg->dry_run = true;
	apply_log_level(&d);
	log_errors("config warning", &warns, WD_LOG_WARN);
	errors_free(&warns);

	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &d.unblocked);
	sigprocmask(SIG_BLOCK, NULL, &d.blocked);
	sigdelset(&d.unblocked, SIGHUP);
	sigdelset(&d.unblocked, SIGTERM);
	sigdelset(&d.unblocked, SIGINT);
	/* SA_RESTART: a signal taken while the queries run restarts the
	 * system calls it interrupted rather than failing them. */
	struct sigaction sa = {.sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit (RLIMIT_FSIZE) must fail the write with EFBIG, which
	 * the output reports and retries, not kill the daemon. */
	signal(SIGXFSZ, SIG_IGN);

	/* The HTTP thread starts with the signals blocked, so it never takes them. */
	d.metrics = metrics_new(PACKAGE_VERSION, now_ms());
	char err[512];
	struct runtime first = {.cfg = d.cfg};
	d.cfg = NULL;
	if (!d.metrics || runtime_build(&d, &first) < 0) {
		runtime_free(&first);
		daemon_free(&d);
		return 1;
	}
	runtime_swap(&d, &first);
	metrics_set_config(d.metrics, d.cfg->interval_ms, d.cfg->dry_run);
	metrics_config_loaded(d.metrics, wall_ms() / 1000.0);
	if (d.cfg->audit_log[0] && !(d.audit = audit_open(d.cfg->audit_log, err, sizeof(err)))) {
		log_error("cannot open the audit log", "error", err);
		daemon_free(&d);
		return 1;
	}
	if (d.cfg->state_file[0]) {
		int restored = state_load(d.cfg->state_file, d.cfg, d.st, d.n_st, &warns);
		log_errors("state file ignored in part", &warns, WD_LOG_WARN);
		errors_free(&warns);
		if (restored > 0) {
			char n[24];
			snprintf(n, sizeof(n), "%d", restored);
			log_info("controller state restored", "state_file", d.cfg->state_file, "backends", n);
		}
	}
	char interval[32];
	snprintf(interval, sizeof(interval), "%.3gs", d.cfg->interval_ms / 1000.0);
	log_info("weightd starting", "version", PACKAGE_VERSION, "config", d.opt.config_path,
		 "output", output_kind(d.out), "dry_run", d.cfg->dry_run ? "true" : "false",
		 "interval", interval);
	if (switch_listener(&d, d.cfg->listen) < 0) {
		daemon_free(&d);
		return 1;
	}

	d.watchdog_ms = sdnotify_watchdog_interval_ms();
	sdnotify_ready("running");

	int status = 0;
	int64_t next = now_ms(), last_due = next;
	while (!stop_requested) {
		sleep_until(&d, next, &d.unblocked);
		if (stop_requested)
			break;
		if (reload_requested) {
			reload_requested = 0;
			reload(&d);
			sdnotify_ready("running");
			/* A reload adds no controller step: what it changes applies
			 * from the next tick, due one (new) interval after the last. */
			if (d.tick > 0)
				next = last_due + d.cfg->interval_ms;
			if (now_ms() < next)
				continue;
		}
		last_due = next;
		enum tick_result r = run_tick(&d);
		if (d.watchdog_ms > 0)
			sdnotify_watchdog();
		if (d.opt.once) {
			status = r == TICK_OK ? 0 : 1;
			break;
		}
		int64_t interval_ms = d.cfg->interval_ms;
		next += interval_ms;
		int64_t now = now_ms();
		if (next <= now) /* overrun: skip the missed ticks instead of bursting */
			next += ((now - next) / interval_ms + 1) * interval_ms;
	}
	if (stop_requested) {
		log_info("weightd stopping");
		sdnotify_stopping();
	}
	daemon_free(&d);
	return status;
}
