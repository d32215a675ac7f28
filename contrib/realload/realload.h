/* realload.h: what realbackend and openload share: durations and numbers as
 * their command lines and realbackend's /control take them, checked, and the
 * end of their getopt loops. Their clock is weightd's own (util_mono_s). */
#ifndef WD_REALLOAD_H
#define WD_REALLOAD_H

#include <stdio.h>

/* "250us", "40ms", "1.5s", "2m" or plain seconds; -1 when bad or negative. */
double realload_duration_s(const char *s);

/* A whole decimal number (s) or a finite number (s), within [lo, hi], into
 * *out; -1 when s is anything else, *out untouched. */
int realload_parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);
int realload_parse_double(const char *s, double lo, double hi, double *out);

/* The same for option -OPT's argument ARG, a duration included; on failure
 * they print "PROG: -OPT ARG: what it wants" to stderr and return -1. */
int realload_opt_ulong(const char *prog, int opt, const char *arg, unsigned long lo,
		       unsigned long hi, unsigned long *out);
int realload_opt_double(const char *prog, int opt, const char *arg, double lo, double hi,
			double *out);
int realload_opt_duration(const char *prog, int opt, const char *arg, double *out_s);

/* The end of a getopt switch, and any other misuse: for OPT 'h' prints USAGE
 * to stdout and returns 0, for anything else ('?') prints it to stderr and
 * returns 2; main returns what it returns. */
int realload_usage(int opt, const char *usage);

#endif
