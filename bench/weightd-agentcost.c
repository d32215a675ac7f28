/* weightd-agentcost: the agent-cost benchmark's probe. Loads a weightd.conf
 * and runs weightd's own tick path (measure_run over prom: every service's
 * queries concurrently on one libcurl multi handle, then policy_step per
 * service) for a number of ticks against whatever Prometheus the config
 * names (bench/agent-cost.sh points it at promreplay). Prints one line of
 * key=value: wall and CPU time per tick (median and worst, the policy's
 * share apart), failed queries, and the process's peak RSS.
 *
 *   weightd-agentcost -c CONFIG [-n TICKS] */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "measure.h"
#include "policy.h"
#include "prom.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int ticks = 10, opt;
	while ((opt = getopt(argc, argv, "c:n:h")) != -1) {
		if (opt == 'c') {
			path = optarg;
		} else if (opt == 'n' && atoi(optarg) > 0 && atoi(optarg) <= 1000) {
			ticks = atoi(optarg);
		} else {
			fprintf(stderr, "usage: weightd-agentcost -c CONFIG [-n TICKS (1-1000)]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: weightd-agentcost -c CONFIG [-n TICKS (1-1000)]\n");
		return 2;
	}
	log_setup(log_level_from_name("error"), WD_LOG_LOGFMT);
	struct wd_errors errs = { 0 };
	struct wd_config *cfg = NULL;
	if (config_load(path, &cfg, &errs, NULL) < 0) {
		fprintf(stderr, "weightd-agentcost: %s\n", errs.n ? errs.msgs[0] : "invalid config");
		errors_free(&errs);
		return 2;
	}
	char err[512];
	struct prom *p = prom_new(&cfg->prom, err, sizeof err);
	struct wd_service_state *st = calloc(cfg->n_services, sizeof *st);
	struct wd_decision *dec = calloc(WD_MAX_BACKENDS, sizeof *dec);
	double *wall = calloc((size_t)ticks, sizeof *wall), *cpu = calloc((size_t)ticks, sizeof *cpu);
	double *pcpu = calloc((size_t)ticks, sizeof *pcpu);
	int rc = 1;
	if (!p || !st || !dec || !wall || !cpu || !pcpu) {
		fprintf(stderr, "weightd-agentcost: %s\n", p ? "out of memory" : err);
		goto out;
	}
	size_t backends = 0;
	for (size_t i = 0; i < cfg->n_services; i++) {
		if (policy_state_sync(&st[i], &cfg->services[i]) < 0) {
			fprintf(stderr, "weightd-agentcost: out of memory\n");
			goto out;
		}
		backends += cfg->services[i].n_backends;
	}
	volatile sig_atomic_t stop = 0;
	size_t queries = 0, failed_q = 0, writes = 0;
	struct plan plan;
	plan_build(cfg, &plan);
	for (int t = 0; t < ticks; t++) {
		double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		struct measure_tick mt = { 0 };
		measure_run(p, cfg, &plan, &mt, &stop);
		double c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		for (size_t i = 0; i < cfg->n_services; i++)
			writes += policy_step(&cfg->services[i], &st[i], mt.svc[i].m, mt.svc[i].ok, dec);
		queries += mt.queries;
		failed_q += mt.failed;
		measure_tick_free(&mt);
		double c2 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		wall[t] = clock_s(CLOCK_MONOTONIC) - w0;
		cpu[t] = c2 - c0;
		pcpu[t] = c2 - c1;
	}
	plan_free(&plan);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double wmax = 0, cmax = 0;
	for (int t = 0; t < ticks; t++) {
		wmax = wall[t] > wmax ? wall[t] : wmax;
		cmax = cpu[t] > cmax ? cpu[t] : cmax;
	}
	printf("services=%zu backends=%zu ticks=%d queries=%zu failed=%zu writes=%zu "
	       "wall_ms_median=%.1f wall_ms_max=%.1f cpu_ms_median=%.1f cpu_ms_max=%.1f "
	       "policy_cpu_ms_median=%.2f peak_rss_kib=%ld\n",
	       cfg->n_services, backends, ticks, queries, failed_q, writes,
	       1000 * median(wall, (size_t)ticks), 1000 * wmax, 1000 * median(cpu, (size_t)ticks),
	       1000 * cmax, 1000 * median(pcpu, (size_t)ticks), ru.ru_maxrss);
	rc = failed_q ? 1 : 0;
	if (failed_q)
		fprintf(stderr, "weightd-agentcost: %zu of %zu queries failed\n", failed_q, queries);
out:
	for (size_t i = 0; st && i < cfg->n_services; i++)
		policy_state_free(&st[i]);
	free(st);
	free(dec);
	free(wall);
	free(cpu);
	free(pcpu);
	prom_free(p);
	config_free(cfg);
	return rc;
}
