/* cli: weightd's command line (options, usage, --version) and the
 * --check-config mode, which prints instead of logging. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "autoconf.h"
#include "config.h"
#include "plan.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

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

int cli_parse(int argc, char **argv, struct cli_options *o)
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

int cli_check_config(const struct cli_options *o)
{
	struct wd_errors errs = {0}, warns = {0};
	struct wd_config *cfg = NULL;
	int rc = config_load(o->config_path, &cfg, &errs, &warns);
	for (size_t i = 0; i < warns.n; i++)
		fprintf(stderr, "%s (warning)\n", warns.msgs[i]);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	if (rc == 0) {
		printf("%s: ok\n", o->config_path);
		/* the queries each tick sends, for an operator to paste into Prometheus */
		struct plan p;
		plan_build(cfg, &p);
		plan_print(&p, cfg, stdout);
		plan_free(&p);
	}
	errors_free(&errs);
	errors_free(&warns);
	config_free(cfg);
	return rc == 0 ? 0 : 2;
}
