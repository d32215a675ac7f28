/* audit: JSON-lines decision records (cJSON) written with O_APPEND and one
 * write(2) each, and the aligned dry-run table. */
#include "audit.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct audit {
	char *path;
	int fd;
	bool own_fd; /* false for stdout */
};

static int open_path(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		snprintf(err, errlen, "audit log %s: %s", path, strerror(errno));
	return fd;
}

struct audit *audit_open(const char *path, char *err, size_t errlen)
{
	struct audit *a = xcalloc(1, sizeof(*a));
	a->path = xstrdup(path);
	if (strcmp(path, "-") == 0) {
		a->fd = STDOUT_FILENO;
		return a;
	}
	a->fd = open_path(path, err, errlen);
	if (a->fd < 0) {
		free(a->path);
		free(a);
		return NULL;
	}
	a->own_fd = true;
	return a;
}

int audit_reopen(struct audit *a, char *err, size_t errlen)
{
	if (!a->own_fd)
		return 0;
	int fd = open_path(a->path, err, errlen);
	if (fd < 0)
		return -1;
	close(a->fd);
	a->fd = fd;
	return 0;
}

const char *audit_path(const struct audit *a)
{
	return a->path;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (a->own_fd)
		close(a->fd);
	free(a->path);
	free(a);
}

static void add_number(cJSON *o, const char *key, bool known, double v)
{
	if (known && isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

char *audit_format(const struct audit_record *r)
{
	char ts[40];
	time_t sec = (time_t)(r->ts_ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03dZ", (int)(r->ts_ms % 1000));

	const struct wd_measurement *m = r->m;
	const struct wd_decision *d = r->d;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddNumberToObject(o, "tick", (double)r->tick);
	cJSON_AddStringToObject(o, "service", r->service);
	cJSON_AddStringToObject(o, "backend", r->backend);
	add_number(o, "latency", m && m->has_latency, m ? m->latency_s : NAN);
	add_number(o, "error_ratio", m && m->has_error, m ? m->error_ratio : NAN);
	add_number(o, "rate", m && m->has_rate, m ? m->rate : NAN);
	add_number(o, "cost", true, d->cost);
	add_number(o, "error", true, d->error);
	cJSON_AddNumberToObject(o, "old", d->old_weight);
	cJSON_AddNumberToObject(o, "new", d->new_weight);
	cJSON_AddStringToObject(o, "action", policy_action_name(d->action));
	cJSON_AddStringToObject(o, "reason", d->reason);
	char *json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!json)
		return NULL;
	size_t len = strlen(json);
	char *line = xrealloc(json, len + 2);
	line[len] = '\n';
	line[len + 1] = '\0';
	return line;
}

int audit_write(struct audit *a, const struct audit_record *r, char *err, size_t errlen)
{
	char *line = audit_format(r);
	if (!line) {
		snprintf(err, errlen, "audit log %s: out of memory", a->path);
		return -1;
	}
	size_t len = strlen(line), off = 0;
	int rc = 0;
	/* One write per line; the loop only finishes a write a signal or a full
	 * disk cut short, so a line is never left half-written when avoidable. */
	while (off < len) {
		ssize_t w = write(a->fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "audit log %s: %s", a->path,
				 w < 0 ? strerror(errno) : "short write");
			rc = -1;
			break;
		}
		off += (size_t)w;
	}
	free(line);
	return rc;
}

/* --- the dry-run table --------------------------------------------------- */

enum { COL_SERVICE, COL_BACKEND, COL_LATENCY, COL_ERRORS, COL_RATE, COL_OLD, COL_NEW,
       COL_ACTION, COL_REASON, N_COLS };

static const char *const col_title[N_COLS] = {"SERVICE", "BACKEND", "LATENCY", "ERRORS", "RATE",
					      "OLD",     "NEW",     "ACTION",  "REASON"};
static const int col_right[N_COLS] = {0, 0, 1, 1, 1, 1, 1, 0, 0};

static void cell(const struct audit_record *r, int col, char *buf, size_t len)
{
	const struct wd_measurement *m = r->m;
	switch (col) {
	case COL_SERVICE: snprintf(buf, len, "%s", r->service); break;
	case COL_BACKEND: snprintf(buf, len, "%s", r->backend); break;
	case COL_LATENCY:
		if (!m || !m->has_latency || !isfinite(m->latency_s))
			snprintf(buf, len, "-");
		else if (m->latency_s < 1.0)
			snprintf(buf, len, "%.1fms", m->latency_s * 1000.0);
		else
			snprintf(buf, len, "%.3fs", m->latency_s);
		break;
	case COL_ERRORS:
		if (!m || !m->has_error || !isfinite(m->error_ratio))
			snprintf(buf, len, "-");
		else
			snprintf(buf, len, "%.2f%%", m->error_ratio * 100.0);
		break;
	case COL_RATE:
		if (!m || !m->has_rate || !isfinite(m->rate))
			snprintf(buf, len, "-");
		else
			snprintf(buf, len, "%.1f/s", m->rate);
		break;
	case COL_OLD: snprintf(buf, len, "%d", r->d->old_weight); break;
	case COL_NEW: snprintf(buf, len, "%d", r->d->new_weight); break;
	case COL_ACTION: snprintf(buf, len, "%s", policy_action_name(r->d->action)); break;
	default: snprintf(buf, len, "%s", r->d->reason); break;
	}
}

static void print_row(FILE *f, const int *width, const char cells[N_COLS][160])
{
	char line[N_COLS * 170];
	size_t len = 0;
	for (int c = 0; c < N_COLS; c++) {
		int pad = c == N_COLS - 1 ? 0 : width[c]; /* the last column is not padded */
		len += (size_t)snprintf(line + len, sizeof(line) - len, col_right[c] ? "%*s  " : "%-*s  ",
					pad, cells[c]);
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
	}
	while (len > 0 && line[len - 1] == ' ')
		len--;
	fprintf(f, "%.*s\n", (int)len, line);
}

void audit_print_table(FILE *f, const struct audit_record *r, size_t n)
{
	int width[N_COLS];
	char cells[N_COLS][160];
	for (int c = 0; c < N_COLS; c++)
		width[c] = (int)strlen(col_title[c]);
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < N_COLS; c++) {
			cell(&r[i], c, cells[c], sizeof(cells[c]));
			int w = (int)strlen(cells[c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	for (int c = 0; c < N_COLS; c++)
		snprintf(cells[c], sizeof(cells[c]), "%s", col_title[c]);
	print_row(f, width, (const char(*)[160])cells);
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < N_COLS; c++)
			cell(&r[i], c, cells[c], sizeof(cells[c]));
		print_row(f, width, (const char(*)[160])cells);
	}
}
