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

#include <cjson/cJSON.h>

#include "config.h"
#include "log.h"
#include "policy.h"
#include "prom.h"
#include "secret.h"
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

/* Any fragment of a secret of the set in text, checked the slow way. */
static int shows_secret(const struct secret_set *set, const char *text)
{
	for (size_t k = 0; k < set->n; k++) {
		size_t sl = strlen(set->s[k]), w = sl < SECRET_FRAGMENT ? sl : SECRET_FRAGMENT;
		for (size_t j = 0; j + w <= sl; j++)
			if (memmem(text, strlen(text), set->s[k] + j, w))
				return 1;
	}
	return 0;
}

/* The error-message path: input is [code selector][secret length][secret]
 * [body]; the body is read as an answer with that HTTP status and the secret
 * (and a fixed token) configured, and the error goes through the JSON log
 * formatter. No fragment of a secret may survive, and the line must parse. */
int fuzz_prom_answer(const uint8_t *data, size_t size)
{
	static const long codes[] = {200, 400, 422, 503, 401, 302, 500, 206};
	static FILE *logf;
	if (size < 2)
		return 0;
	long code = codes[data[0] % 8];
	size_t sl = data[1] % 65;
	if (size - 2 < sl)
		return 0;
	char secret[65];
	memcpy(secret, data + 2, sl);
	secret[sl] = '\0';
	struct secret_set set = {0};
	secret_set_add(&set, secret);
	if (strlen(secret) != sl)
		return 0;
	secret_set_add(&set, "tok-S3cr3tBearer-7f1e9a");
	const char *body = (const char *)data + 2 + sl;
	size_t len = size - 2 - sl;
	struct prom_result r;
	memset(&r, 0, sizeof(r));
	prom_read_answer(&set, "rate(x[1m])", "instance", code, body, len, &r);
	if (!r.ok && !r.err[0])
		abort();
	if (shows_secret(&set, r.err) || (r.warnings && shows_secret(&set, r.warnings)))
		abort();
	for (size_t i = 0; i < r.n_samples; i++)
		if (shows_secret(&set, r.samples[i].label))
			abort();
	if (!logf && !(logf = tmpfile()))
		return 0;
	rewind(logf);
	if (ftruncate(fileno(logf), 0) == 0) {
		log_setup(WD_LOG_DEBUG, WD_LOG_JSON);
		log_set_stream(logf);
		log_error("Prometheus query failed", "error", r.err, "warnings",
			  r.warnings ? r.warnings : "");
		log_set_stream(NULL);
		rewind(logf);
		char line[8192];
		size_t n = fread(line, 1, sizeof(line) - 1, logf);
		line[n] = '\0';
		cJSON *j = cJSON_Parse(line);
		const cJSON *e = cJSON_GetObjectItem(j, "error");
		if (n > 4096 || !cJSON_IsString(e) || shows_secret(&set, e->valuestring))
			abort();
		cJSON_Delete(j);
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
