/* main: signals, the loop and config reload (the command line is cli.c).
 *
 * Each pass of the loop runs one tick (tick.c) over the runtime (runtime.c):
 * the config and what it opened. A reload builds a new runtime aside and
 * swaps it in whole. The daemon keeps only what outlives a config: the
 * metrics, the HTTP listener and the audit log. The loop runs on the
 * monotonic clock with next += interval, and skips ahead after an overrun
 * instead of bursting. Signal handlers only set flags; signals stay blocked
 * except while the loop sleeps in ppoll() or a tick's queries run, so no
 * wake-up is lost and no write is interrupted. A reload runs when the loop
 * wakes for it and changes nothing in the schedule. */
#include <errno.h>
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
#include "cli.h"
#include "config.h"
#include "confwatch.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "runtime.h"
#include "sdnotify.h"
#include "state.h"
#include "tick.h"
#include "util.h"

#ifdef WD_FAULT_INJECTION
#include "fault_alloc.h" /* tests/tools: a reload's Nth allocation fails */
#else
static void fault_alloc_arm(void) {}
static void fault_alloc_disarm(void) {}
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

/* How often --watch-config looks at the file. */
#define CONFIG_WATCH_MS 1000

struct daemon {
	struct cli_options opt;
	struct confwatch watch; /* --watch-config: the file as last loaded */
	int64_t watchdog_ms;    /* 0: no service-manager watchdog */
	struct runtime *rt;     /* swapped whole on reload */
	struct tick tick;       /* what the ticks remember; its report sink holds
				 * the metrics and the audit log (NULL: none) */
	struct httpd *httpd;    /* NULL when listen = "" or --once */
	sigset_t blocked;       /* the loop's mask: SIGHUP, SIGTERM, SIGINT blocked */
	sigset_t unblocked;     /* the same with them unblocked: ppoll and queries */
};

static void apply_log_level(const struct daemon *d, const struct wd_config *cfg)
{
	log_set_level(util_clamp_int(cfg->log_level + d->opt.verbosity, WD_LOG_ERROR, WD_LOG_DEBUG));
}

static void log_errors(const char *msg, const struct wd_errors *e, int level)
{
	for (size_t i = 0; i < e->n; i++)
		wd_log(level, msg, "error", e->msgs[i], (char *)NULL);
}

/* Loads the config file, logging its warnings, or its errors under failed.
 * NULL on failure. */
static struct wd_config *load_config(const struct daemon *d, const char *failed)
{
	struct wd_errors errs = {0}, warns = {0};
	struct wd_config *cfg = NULL;
	if (config_load(d->opt.config_path, &cfg, &errs, &warns) < 0)
		log_errors(failed, &errs, WD_LOG_ERROR);
	else
		log_errors("config warning", &warns, WD_LOG_WARN);
	errors_free(&errs);
	errors_free(&warns);
	if (cfg && d->opt.dry_run)
		cfg->dry_run = true;
	return cfg;
}

/* The runtime for cfg, carrying the running one's state; logs a failure. */
static struct runtime *build_runtime(const struct daemon *d, struct wd_config *cfg)
{
	char err[512];
	const char *what = NULL;
	struct runtime *rt = runtime_new(cfg, d->rt, &what, err, sizeof(err));
	if (!rt)
		log_error(what, "error", err);
	return rt;
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
	d->httpd = httpd_start(listen, d->tick.report.metrics, err, sizeof(err));
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
	struct audit *a = d->tick.report.audit;
	if (a && audit_reopen(a, err, sizeof(err)) < 0)
		log_error("cannot reopen the audit log; still writing to the old file", "error", err);
}

/* Builds everything the new config needs aside (runtime, audit log,
 * listener), then swaps it in; on any failure the running config stays. */
static void reload(struct daemon *d)
{
	static const char failed[] = "config reload failed; keeping the running config";
	const char *path = d->opt.config_path;
	struct report_sink *rep = &d->tick.report;
	char err[512];
	log_info("reloading config", "config", path);
	sdnotify_reloading();
	/* What is loaded now is what the watch compares against next. */
	if (d->opt.watch_config)
		confwatch_init(&d->watch, path);
	struct wd_config *cfg = load_config(d, failed);
	if (!cfg)
		goto failed;
	bool same_audit = rep->audit && strcmp(audit_path(rep->audit), cfg->audit_log) == 0;
	struct audit *audit = NULL;
	if (cfg->audit_log[0] && !same_audit && !(audit = audit_open(cfg->audit_log, err, sizeof(err)))) {
		log_error(failed, "error", err);
		config_free(cfg);
		goto failed;
	}
	/* The listener last: it is the one part restarted in place. */
	fault_alloc_arm();
	struct runtime *rt = build_runtime(d, cfg);
	bool built = rt && switch_listener(d, rt->cfg->listen) == 0;
	fault_alloc_disarm();
	if (!built) {
		log_error(failed, "config", path);
		if (rt)
			switch_listener(d, d->rt->cfg->listen);
		runtime_free(rt);
		audit_close(audit);
		goto failed;
	}
	runtime_free(d->rt);
	d->rt = rt;
	if (same_audit) {
		reopen_audit(d);
	} else {
		audit_close(rep->audit);
		rep->audit = audit;
		rep->audit_failing = false;
	}
	apply_log_level(d, rt->cfg);
	metrics_set_config(rep->metrics, rt->cfg->interval_ms, rt->cfg->dry_run);
	metrics_config_reload(rep->metrics, true, util_wall_ms() / 1000.0);
	char n[24];
	snprintf(n, sizeof(n), "%zu", rt->cfg->n_services);
	log_info("config reloaded", "config", path, "services", n);
	return;
failed:
	metrics_config_reload(rep->metrics, false, util_wall_ms() / 1000.0);
	reopen_audit(d);
}

/* Sleeps until deadline_ms (monotonic) or a signal, with signals unblocked
 * only inside ppoll so none is lost between the flag check and the sleep;
 * wakes meanwhile for the service manager's watchdog and the config watch. */
static void sleep_until(struct daemon *d, int64_t deadline_ms, const sigset_t *waitmask)
{
	while (!stop_requested && !reload_requested) {
		int64_t left = deadline_ms - util_mono_ms();
		if (left <= 0)
			return;
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

static void daemon_free(struct daemon *d)
{
	httpd_stop(d->httpd); /* first: its thread reads the metrics */
	metrics_free(d->tick.report.metrics);
	audit_close(d->tick.report.audit);
	runtime_free(d->rt);
}

/* Restores the controller state saved by an earlier run, if any. */
static void restore_state(struct runtime *rt)
{
	const struct wd_config *cfg = rt->cfg;
	struct wd_errors warns = {0};
	if (!cfg->state_file[0])
		return;
	int restored = state_load(cfg->state_file, cfg, rt->st, rt->n_st, &warns);
	log_errors("state file ignored in part", &warns, WD_LOG_WARN);
	errors_free(&warns);
	if (restored > 0) {
		char n[24];
		snprintf(n, sizeof(n), "%d", restored);
		log_info("controller state restored", "state_file", cfg->state_file, "backends", n);
	}
}

/* Blocks the signals weightd handles (they are let in only while the loop
 * sleeps in ppoll or a tick's queries run) and installs their handlers. */
static void setup_signals(struct daemon *d)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &d->unblocked);
	sigprocmask(SIG_BLOCK, NULL, &d->blocked);
	sigdelset(&d->unblocked, SIGHUP);
	sigdelset(&d->unblocked, SIGTERM);
	sigdelset(&d->unblocked, SIGINT);
	d->tick.query_sigmask = &d->unblocked;
	d->tick.sigmask = &d->blocked;
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
}

/* Everything the first config needs; logs what failed. 0, or -1. */
static int start(struct daemon *d, struct wd_config *cfg)
{
	char err[512];
	struct report_sink *rep = &d->tick.report;
	d->tick.stop = &stop_requested;
	rep->table = d->opt.once && cfg->dry_run ? stdout : NULL;
	rep->metrics = metrics_new(PACKAGE_VERSION, util_mono_ms());
	if (!(d->rt = build_runtime(d, cfg)))
		return -1;
	metrics_set_config(rep->metrics, cfg->interval_ms, cfg->dry_run);
	metrics_config_loaded(rep->metrics, util_wall_ms() / 1000.0);
	if (cfg->audit_log[0] && !(rep->audit = audit_open(cfg->audit_log, err, sizeof(err)))) {
		log_error("cannot open the audit log", "error", err);
		return -1;
	}
	restore_state(d->rt);
	char interval[32];
	snprintf(interval, sizeof(interval), "%.3gs", cfg->interval_ms / 1000.0);
	log_info("weightd starting", "version", PACKAGE_VERSION, "config", d->opt.config_path,
		 "output", output_kind(d->rt->out), "dry_run", cfg->dry_run ? "true" : "false",
		 "interval", interval);
	/* The HTTP thread starts with the signals blocked, so it never takes them. */
	return switch_listener(d, cfg->listen);
}

int main(int argc, char **argv)
{
	struct daemon d = {0};
	int rc = cli_parse(argc, argv, &d.opt);
	if (rc >= 0)
		return rc;
	log_setup(WD_LOG_INFO, d.opt.log_format);
	if (d.opt.check_only)
		return cli_check_config(&d.opt);
	if (d.opt.watch_config)
		confwatch_init(&d.watch, d.opt.config_path);
	struct wd_config *cfg = load_config(&d, "invalid config");
	if (!cfg)
		return 2;
	apply_log_level(&d, cfg);

	setup_signals(&d);
	if (start(&d, cfg) < 0) {
		daemon_free(&d);
		return 1;
	}
	d.watchdog_ms = sdnotify_watchdog_interval_ms();
	sdnotify_ready("running");
	int status = 0;
	int64_t next = util_mono_ms(), last_due = next;
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
			if (d.tick.n > 0)
				next = last_due + d.rt->cfg->interval_ms;
			if (util_mono_ms() < next)
				continue;
		}
		last_due = next;
		enum tick_result r = tick_run(&d.tick, d.rt);
		if (d.watchdog_ms > 0)
			sdnotify_watchdog();
		if (d.opt.once) {
			status = r == TICK_OK ? 0 : 1;
			break;
		}
		int64_t interval_ms = d.rt->cfg->interval_ms;
		next += interval_ms;
		int64_t now = util_mono_ms();
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
