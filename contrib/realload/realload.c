/* realload.c: the argument parsing realbackend and openload share (see
 * realload.h). */
#include "realload.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double realload_duration_s(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -1;
	if (strcmp(end, "us") == 0)
		return v / 1e6;
	if (strcmp(end, "ms") == 0)
		return v / 1000;
	if (strcmp(end, "m") == 0)
		return v * 60;
	if (strcmp(end, "s") == 0 || *end == '\0')
		return v;
	return -1;
}

int realload_parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || *s == '-' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int realload_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int realload_opt_ulong(const char *prog, int opt, const char *arg, unsigned long lo,
		       unsigned long hi, unsigned long *out)
{
	if (realload_parse_ulong(arg, lo, hi, out) == 0)
		return 0;
	fprintf(stderr, "%s: -%c %s: want a whole number from %lu to %lu\n", prog, opt, arg, lo, hi);
	return -1;
}

int realload_opt_double(const char *prog, int opt, const char *arg, double lo, double hi,
			double *out)
{
	if (realload_parse_double(arg, lo, hi, out) == 0)
		return 0;
	if (isinf(lo) && isinf(hi))
		fprintf(stderr, "%s: -%c %s: want a number\n", prog, opt, arg);
	else if (isinf(hi))
		fprintf(stderr, "%s: -%c %s: want a number of at least %g\n", prog, opt, arg, lo);
	else
		fprintf(stderr, "%s: -%c %s: want a number from %g to %g\n", prog, opt, arg, lo, hi);
	return -1;
}

int realload_opt_duration(const char *prog, int opt, const char *arg, double *out_s)
{
	double v = realload_duration_s(arg);
	if (v >= 0) {
		*out_s = v;
		return 0;
	}
	fprintf(stderr, "%s: -%c %s: want a duration such as 250us, 40ms, 1.5s or 2m\n", prog, opt,
		arg);
	return -1;
}

int realload_usage(int opt, const char *usage)
{
	fputs(usage, opt == 'h' ? stdout : stderr);
	return opt == 'h' ? 0 : 2;
}
