/* audit: the decision log (one JSON object per backend per tick,
 * appended with one write(2) per line so lines never interleave, reopened on
 * SIGHUP for log rotation, "-" for stdout), and the dry-run table a human
 * reads before trusting weightd with traffic. */
#ifndef WD_AUDIT_H
#define WD_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"

/* One backend's decision in one tick. m may be NULL (nothing measured). */
struct audit_record {
	int64_t ts_ms;   /* wall clock, ms since the epoch (written as UTC) */
	uint64_t tick;
	const char *service;
	const char *backend;
	const struct wd_measurement *m;
	const struct wd_decision *d;
};

struct audit;

/* Opens path for appending (created 0644 if missing); "-" is stdout. NULL on
 * failure with err set. */
struct audit *audit_open(const char *path, char *err, size_t errlen);

/* Reopens the same path (after log rotation). On failure the old file stays
 * open and in use, and -1 is returned with err set. */
int audit_reopen(struct audit *a, char *err, size_t errlen);

/* The path audit_open was given. */
const char *audit_path(const struct audit *a);

/* Appends one record as a JSON line. 0, or -1 with err set. */
int audit_write(struct audit *a, const struct audit_record *r, char *err, size_t errlen);

void audit_close(struct audit *a);

/* Formats one record as a JSON object plus "\n" into a new string the caller
 * frees; unknown and non-finite numbers are null. NULL when cJSON runs out of memory. */
char *audit_format(const struct audit_record *r);

/* Prints the records as an aligned table (service, backend, latency, error
 * ratio, rate, old and new weight, action, reason) to f. */
void audit_print_table(FILE *f, const struct audit_record *r, size_t n);

#endif
