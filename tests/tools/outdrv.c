/* outdrv: drives the output module the way the tick does, for the
 * integration tests. Loads a config, opens its output (-n: the dry run), then
 * reads commands on stdin and answers one line each on stdout:
 *   write [SERVICE=W,W,...]...  "written", "unchanged" or "error: MESSAGE"
 *                               (services not named get their configured
 *                               weights, a pin replacing the weight)
 *   loop N [START]              N writes; write t gives every backend weight
 *                               1 + t % 90; answers "loop written=A unchanged=B failed=C"
 *   preview                     the dry run's preview, then a line "."
 *   quit
 * Exits 1 when the output cannot be opened (the reason on stdout). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "log.h"
#include "output.h"

static int set_weights(const struct wd_config *cfg, int **w, char *args)
{
	for (size_t i = 0; i < cfg->n_services; i++)
		for (size_t b = 0; b < cfg->services[i].n_backends; b++) {
			const struct wd_backend_cfg *bc = &cfg->services[i].backends[b];
			w[i][b] = bc->pin >= 0 ? bc->pin : bc->weight;
		}
	for (char *tok = strtok(args, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return -1;
		*eq = '\0';
		size_t i;
		for (i = 0; i < cfg->n_services && strcmp(cfg->services[i].name, tok); i++)
			;
		if (i == cfg->n_services)
			return -1;
		char *p = eq + 1;
		for (size_t b = 0; b < cfg->services[i].n_backends && *p; b++) {
			w[i][b] = (int)strtol(p, &p, 10);
			if (*p == ',')
				p++;
		}
	}
	return 0;
}

static int do_write(struct output *o, const struct wd_config *cfg, int **w, char *err, size_t len)
{
	struct wd_output_service s[64];
	size_t n = cfg->n_services < 64 ? cfg->n_services : 64;
	for (size_t i = 0; i < n; i++) {
		s[i].cfg = &cfg->services[i];
		s[i].weights = w[i];
	}
	int rc = output_write(o, s, n, err, len);
	struct wd_events ev = {0};
	output_take_events(o, &ev); /* logged as the daemon's tick logs them */
	event_log(&ev, NULL);
	return rc;
}

int main(int argc, char **argv)
{
	int dry = argc > 1 && strcmp(argv[1], "-n") == 0;
	if (argc != 2 + dry) {
		fprintf(stderr, "usage: outdrv [-n] CONFIG < commands\n");
		return 2;
	}
	signal(SIGXFSZ, SIG_IGN); /* RLIMIT_FSIZE then gives EFBIG, as for a full disk */
	signal(SIGPIPE, SIG_IGN);
	log_setup(WD_LOG_DEBUG, WD_LOG_LOGFMT);
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	if (config_load(argv[1 + dry], &cfg, &errs, NULL) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			printf("config error: %s\n", errs.msgs[i]);
		errors_free(&errs);
		return 2;
	}
	if (dry)
		cfg->dry_run = true;
	char err[1024];
	struct output *o = output_new(cfg, err, sizeof(err));
	if (!o) {
		printf("open error: %s\n", err);
		config_free(cfg);
		return 1;
	}
	int **w = calloc(cfg->n_services, sizeof(*w));
	for (size_t i = 0; i < cfg->n_services; i++)
		w[i] = calloc(cfg->services[i].n_backends, sizeof(int));
	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "write", 5) == 0) {
			if (set_weights(cfg, w, line + 5) < 0) {
				printf("error: bad write command\n");
				continue;
			}
			int rc = do_write(o, cfg, w, err, sizeof(err));
			if (rc < 0)
				printf("error: %s\n", err);
			else
				printf("%s\n", rc == OUTPUT_WRITTEN ? "written" : "unchanged");
		} else if (strncmp(line, "loop", 4) == 0) {
			long n = 0, start = 0, counts[3] = {0, 0, 0};
			sscanf(line + 4, "%ld %ld", &n, &start);
			for (long t = start; t < start + n; t++) {
				for (size_t i = 0; i < cfg->n_services; i++)
					for (size_t b = 0; b < cfg->services[i].n_backends; b++)
						w[i][b] = 1 + (int)(t % 90);
				int rc = do_write(o, cfg, w, err, sizeof(err));
				counts[rc < 0 ? 2 : rc]++;
				if (rc < 0 && counts[2] == 1)
					fprintf(stderr, "outdrv: write %ld failed: %s\n", t, err);
			}
			printf("loop written=%ld unchanged=%ld failed=%ld\n", counts[0], counts[1], counts[2]);
		} else if (strncmp(line, "preview", 7) == 0) {
			const char *p = output_preview(o);
			printf("%s.\n", p ? p : "");
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		} else {
			printf("error: unknown command\n");
		}
	}
	for (size_t i = 0; i < cfg->n_services; i++)
		free(w[i]);
	free(w);
	output_free(o);
	config_free(cfg);
	return 0;
}
