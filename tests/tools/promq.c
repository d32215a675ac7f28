/* promq: runs one batch of instant queries through weightd's prom module
 * against a Prometheus URL and prints what came back, so the integration
 * tests can drive the client from the shell.
 *
 *   promq [options] URL EXPR...
 *     -l LABEL     label whose value is printed per series (default instance)
 *     -t MS        prometheus.timeout in milliseconds (default: the config's)
 *     -m BYTES     prometheus.max_response_bytes (default: the config's)
 *     -H "N: V"    extra request header (repeatable)
 *     -b FILE      bearer token file;  -u USER -p FILE  basic auth
 *     -c FILE      ca_file;            -k  insecure_skip_verify
 *     -r N         run the batch N times on the same client (default 1)
 *
 * Output, per query of each batch:  "ok I N" then "  LABEL VALUE" per series,
 * or "err I MESSAGE"; "warn I TEXT" for warnings; then "elapsed_ms MS".
 * Exit status 0 when every query of every batch succeeded, else 1. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "prom.h"
#include "util.h"

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(2);
	}
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	return strdup(buf);
}

int main(int argc, char **argv)
{
	static struct wd_config defaults; /* the config's defaults, as a file without keys has */
	if (config_defaults(&defaults) < 0)
		return 2;
	struct wd_prom_cfg cfg = defaults.prom;
	const char *label = "instance";
	char *headers[32];
	int repeat = 1, c;
	cfg.headers = headers;
	while ((c = getopt(argc, argv, "l:t:m:H:b:u:p:c:kr:n:")) != -1) {
		switch (c) {
		case 'l': label = optarg; break;
		case 't': cfg.timeout_ms = atoll(optarg); break;
		case 'm': cfg.max_response_bytes = atoll(optarg); break;
		case 'H':
			if (cfg.n_headers < 32)
				headers[cfg.n_headers++] = optarg;
			break;
		case 'b': cfg.bearer_token = read_file(optarg); break;
		case 'u': cfg.username = optarg; break;
		case 'p': cfg.password = read_file(optarg); break;
		case 'c': cfg.ca_file = optarg; break;
		case 'k': cfg.insecure_skip_verify = true; break;
		case 'r': repeat = atoi(optarg); break;
		case 'n': cfg.max_concurrency = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: promq [-l LABEL] [-t MS] [-m BYTES] [-H HDR] [-b FILE] "
					"[-u USER -p FILE] [-c CA] [-k] [-r N] [-n MAX_CONCURRENCY] URL EXPR...\n");
			return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "promq: need a URL and at least one query\n");
		return 2;
	}
	cfg.url = argv[optind];
	size_t n = (size_t)(argc - optind - 1);
	struct prom_query *q = calloc(n, sizeof(*q));
	for (size_t i = 0; i < n; i++) {
		q[i].expr = argv[optind + 1 + (int)i];
		q[i].label = label;
	}
	char err[512];
	struct prom *p = prom_new(&cfg, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "promq: %s\n", err);
		return 2;
	}
	static volatile sig_atomic_t stop;
	int failed = 0;
	for (int r = 0; r < repeat; r++) {
		long long t0 = util_mono_ms();
		failed += prom_query_batch(p, q, n, &stop);
		long long t1 = util_mono_ms();
		for (size_t i = 0; i < n; i++) {
			const struct prom_result *res = &q[i].result;
			if (res->warnings)
				printf("warn %zu %s\n", i, res->warnings);
			if (!res->ok) {
				printf("err %zu %s\n", i, res->err);
				continue;
			}
			printf("ok %zu %zu%s\n", i, res->n_samples, res->scalar ? " scalar" : "");
			for (size_t s = 0; s < res->n_samples; s++)
				printf("  %s %.9g\n", res->samples[s].label[0] ? res->samples[s].label : "-",
				       res->samples[s].value);
		}
		printf("elapsed_ms %lld\n", t1 - t0);
		fflush(stdout);
	}
	for (size_t i = 0; i < n; i++)
		prom_result_clear(&q[i].result);
	free(q);
	prom_free(p);
	free(cfg.bearer_token);
	free(cfg.password);
	return failed ? 1 : 0;
}
