/* weightd-bench: the control benchmark's command line. Runs one scenario
 * under every policy in simulated time and prints one CSV row per policy
 * (bench/results/control.csv's columns); optionally writes per-tick series
 * for the plots. bench/run-bench.sh drives it over bench/scenarios/. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconf.h"
#include "bench.h"

#define CSV_HEADER "scenario,policy,p50_s,p95_s,p99_s,p95_ratio,error_share,settle_ticks," \
		   "overshoot,writes_per_100_ticks"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: weightd-bench -s SCENARIO [options]\n"
		"  -s, --scenario FILE   a scenario (contrib/sim/scenarios/README.md); its\n"
		"                        interval is the tick (weightd's interval)\n"
		"  -p, --policies LIST   comma-separated subset of: equal,capacity,p2c,leasttime,\n"
		"                        leasttime-phc,step,weightd-latency,weightd-leasttime\n"
		"                        (the oracle always runs)\n"
		"  -d, --duration SECONDS  override the scenario's duration\n"
		"      --noise SIGMA     lognormal noise on measured latency (default 0.05)\n"
		"      --tick SECONDS    weightd's interval instead of the scenario's\n"
		"      --window SECONDS  what the queries average over (default 60: [1m])\n"
		"      --seed N          replace the scenario's seed (a rerun on other randomness)\n"
		"      --set KEYS        extra keys for weightd's policy group, e.g. \"ki = 0.3;\"\n"
		"      --series DIR      write DIR/SCENARIO.POLICY.dat per tick for plots\n"
		"      --header          print the CSV header first\n"
		"  -v, --verbose         the oracle's search on stderr (twice: every decision)\n"
		"  -h, --help, -V, --version\n");
}

static void num(double v, const char *fmt)
{
	putchar(',');
	if (isfinite(v))
		printf(fmt, v);
}

static void row(const struct bench *b, enum bench_policy p, const struct bench_score *s)
{
	printf("%s,%s", b->name, bench_policy_names[p]);
	if (!s) {
		fputs(",,,,,,,,\n", stdout);
		return;
	}
	num(s->p50_s, "%.4f");
	num(s->p95_s, "%.4f");
	num(s->p99_s, "%.4f");
	num(s->p95_ratio, "%.3f");
	num(s->error_share, "%.5f");
	if (s->settle_ticks >= -1)
		printf(",%ld", s->settle_ticks);
	else
		putchar(',');
	num(s->overshoot, "%.2f");
	num(s->writes_per_100, "%.1f");
	putchar('\n');
}

static int series(const char *dir, const struct bench *b, enum bench_policy p,
		  const struct bench_run *r)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.%s.dat", dir, b->name, bench_policy_names[p]);
	FILE *o = fopen(path, "w");
	if (!o)
		return -1;
	fprintf(o, "# %s %s: minute, fleet p95 (s) and error share over the last minute, weights:",
		b->name, bench_policy_names[p]);
	for (size_t e = 0; e < b->nw; e++)
		fprintf(o, " %s", b->names[e]);
	fputc('\n', o);
	for (size_t k = 0; k < r->n_ticks; k++) {
		size_t a = k + 1 >= b->minute_ticks ? k + 1 - b->minute_ticks : 0;
		double p95 = bench_quantile(r, a, k + 1, 0.95);
		fprintf(o, "%.3f %.5f %.5f", (double)(k + 1) * b->tick_s / 60, isnan(p95) ? 0 : p95,
			bench_error_share(r, a, k + 1));
		for (size_t e = 0; e < b->nw; e++)
			fprintf(o, " %.2f", r->w[k * b->nw + e]);
		fputc('\n', o);
	}
	return fclose(o) == 0 ? 0 : -1;
}

static int parse_policies(const char *list, bool *want)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s", list);
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int found = -1;
		for (int p = 0; p < BP_N; p++)
			if (strcmp(t, bench_policy_names[p]) == 0)
				found = p;
		if (found < 0) {
			fprintf(stderr, "weightd-bench: unknown policy \"%s\"\n", t);
			return -1;
		}
		want[found] = true;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 's' }, { "policies", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' }, { "noise", required_argument, NULL, 'n' },
		{ "set", required_argument, NULL, 'k' },      { "series", required_argument, NULL, 'S' },
		{ "header", no_argument, NULL, 'H' },         { "verbose", no_argument, NULL, 'v' },
		{ "tick", required_argument, NULL, 't' },     { "window", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },           { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench b = { .noise = 0.05 };
	const char *scn = NULL, *dir = NULL;
	double duration = 0;
	bool want[BP_N] = { false }, header = false, any = false;
	char *end;
	int c;
	while ((c = getopt_long(argc, argv, "s:p:d:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			scn = optarg;
			break;
		case 'p':
			if (parse_policies(optarg, want) < 0)
				return 2;
			any = true;
			break;
		case 'd':
			duration = strtod(optarg, &end);
			if (*end || !(duration > 0)) {
				fprintf(stderr, "weightd-bench: --duration \"%s\": expected seconds\n", optarg);
				return 2;
			}
			break;
		case 'n':
			b.noise = strtod(optarg, &end);
			if (*end || !(b.noise >= 0 && b.noise < 3)) {
				fprintf(stderr, "weightd-bench: --noise \"%s\": expected 0 to 3\n", optarg);
				return 2;
			}
			break;
		case 'k':
			b.policy_set = optarg;
			break;
		case 'r':
			b.seed_override = strtoull(optarg, &end, 10);
			if (*end || !b.seed_override) {
				fprintf(stderr, "weightd-bench: --seed \"%s\": expected a positive integer\n", optarg);
				return 2;
			}
			break;
		case 't':
		case 'w': {
			double v = strtod(optarg, &end);
			if (*end || !(v >= 1 && v <= 3600)) {
				fprintf(stderr, "weightd-bench: --%s \"%s\": expected 1 to 3600 seconds\n",
					c == 't' ? "tick" : "window", optarg);
				return 2;
			}
			*(c == 't' ? &b.tick_override_s : &b.window_s) = v;
			break;
		}
		case 'S':
			dir = optarg;
			break;
		case 'H':
			header = true;
			break;
		case 'v':
			b.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("weightd-bench %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!scn || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!any)
		for (int p = 0; p < BP_N; p++)
			want[p] = true;
	want[BP_ORACLE] = true;
	char err[512];
	if (bench_load(&b, scn, duration, err, sizeof err) < 0) {
		fprintf(stderr, "weightd-bench: %s\n", err);
		return 2;
	}
	int rc = 1;
	double *seg_w = calloc(b.n_seg * b.nw, sizeof *seg_w);
	struct bench_run oracle = { 0 }, r;
	if (!seg_w || bench_oracle(&b, seg_w, err, sizeof err) < 0 ||
	    bench_run(&b, BP_ORACLE, seg_w, 0, &oracle, err, sizeof err) < 0) {
		fprintf(stderr, "weightd-bench: %s: %s\n", b.name, seg_w ? err : "out of memory");
		goto out;
	}
	if (header)
		puts(CSV_HEADER);
	for (int p = 0; p < BP_N; p++) {
		if (!want[p])
			continue;
		if (!bench_applies(&b, (enum bench_policy)p)) {
			row(&b, (enum bench_policy)p, NULL);
			continue;
		}
		const struct bench_run *run = &oracle;
		if (p != BP_ORACLE) {
			if (bench_run(&b, (enum bench_policy)p, seg_w, 0, &r, err, sizeof err) < 0) {
				fprintf(stderr, "weightd-bench: %s: %s: %s\n", b.name, bench_policy_names[p],
					err);
				goto out;
			}
			run = &r;
		}
		struct bench_score s;
		bench_score(&b, (enum bench_policy)p, run, &oracle, &s);
		row(&b, (enum bench_policy)p, &s);
		if (dir && series(dir, &b, (enum bench_policy)p, run) < 0) {
			fprintf(stderr, "weightd-bench: cannot write series under %s\n", dir);
			if (run != &oracle)
				bench_run_free(&r);
			goto out;
		}
		if (run != &oracle)
			bench_run_free(&r);
		fflush(stdout);
	}
	rc = 0;
out:
	bench_run_free(&oracle);
	free(seg_w);
	bench_free(&b);
	return rc;
}
