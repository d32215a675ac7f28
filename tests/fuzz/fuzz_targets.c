/* fuzz_targets: feeds arbitrary bytes to the parsers that read untrusted
 * input: Prometheus responses, the config file, durations, the state file.
 * Each returns 0; a crash, leak or sanitizer report is the failure. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fuzz_targets.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "policy.h"
#include "prom.h"
#include "state.h"

/* Writes data to an anonymous in-memory file; returns its /proc path. */
static int memfile(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
	int fd = memfd_create("fuzz", 0);
	if (fd < 0)
		return -1;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

int fuzz_prom_response(const uint8_t *data, size_t size)
{
	struct prom_result r;
	memset(&r, 0, sizeof(r));
	int rc = prom_parse_response((const char *)data, size, "instance", &r);
	if (rc == 0) {
		for (size_t i = 0; i < r.n_samples; i++) {
			if (!r.samples[i].label)
				abort();
			(void)strlen(r.samples[i].label);
		}
	} else if (r.err[0] == '\0') {
		abort(); /* every failure must say why */
	}
	prom_result_clear(&r);
	return 0;
}

int fuzz_config(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = memfile(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0}, warns = {0};
	int rc = config_load(path, &cfg, &errs, &warns);
	if (rc == 0 && (!cfg || errs.n))
		abort();
	if (rc != 0 && (cfg || errs.n == 0))
		abort(); /* a rejected config always says why */
	config_free(cfg);
	errors_free(&errs);
	errors_free(&warns);
	close(fd);
	return 0;
}

int fuzz_duration(const uint8_t *data, size_t size)
{
	char buf[256];
	if (size >= sizeof(buf))
		size = sizeof(buf) - 1;
	memcpy(buf, data, size);
	buf[size] = '\0';
	int64_t ms = 0;
	char err[256] = "";
	if (config_parse_duration(buf, &ms, err, sizeof(err)) == 0) {
		if (ms < 1)
			abort();
	} else if (err[0] == '\0') {
		abort();
	}
	return 0;
}

static const char state_cfg_text[] =
	"prometheus = { url = \"http://127.0.0.1:9090\"; };\n"
	"output = { type = \"file\"; path = \"/tmp/weightd-fuzz.yml\"; };\n"
	"services = (\n"
	"  { name = \"svc\"; latency_query = \"q\"; backends = (\n"
	"    { name = \"a\"; url = \"http://a\"; weight = 60; },\n"
	"    { name = \"b\"; url = \"http://b\"; weight = 40; pin = 40; } ); },\n"
	"  { name = \"w\"; kind = \"weighted\"; latency_query = \"q\"; backends = (\n"
	"    { name = \"v1\"; weight = 90; }, { name = \"v2\"; weight = 10; } ); }\n"
	");\n";

int fuzz_state(const uint8_t *data, size_t size)
{
	static struct wd_config *cfg;
	if (!cfg) {
		char path[64];
		int fd = memfile((const uint8_t *)state_cfg_text, sizeof(state_cfg_text) - 1, path,
				 sizeof(path));
		struct wd_errors errs = {0};
		if (fd < 0 || config_load(path, &cfg, &errs, NULL) < 0)
			abort();
		close(fd);
	}
	struct wd_service_state st[2];
	memset(st, 0, sizeof(st));
	for (size_t i = 0; i < 2; i++)
		if (policy_state_sync(&st[i], &cfg->services[i]) < 0)
			abort();
	char path[64];
	int fd = memfile(data, size, path, sizeof(path));
	if (fd >= 0) {
		struct wd_errors warns = {0};
		state_load(path, cfg, st, 2, &warns);
		for (size_t i = 0; i < 2; i++)
			for (size_t b = 0; b < st[i].n; b++) {
				const struct wd_backend_state *x = &st[i].b[b];
				if (!isfinite(x->weight) || x->weight < 0 || x->out_weight < 0 ||
				    x->out_weight > cfg->services[i].policy.total || !isfinite(x->e1) ||
				    !isfinite(x->e2))
					abort(); /* a loaded state must be usable as is */
			}
		errors_free(&warns);
		close(fd);
	}
	for (size_t i = 0; i < 2; i++)
		policy_state_free(&st[i]);
	return 0;
}
