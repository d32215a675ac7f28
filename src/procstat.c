/* procstat: process_* figures from /proc/self/stat, /proc/self/fd,
 * getrlimit and /proc/stat's boot time. */
#include "procstat.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double boot_time_s(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	double bt = NAN;
	if (!f)
		return NAN;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "btime ", 6) == 0) {
			bt = strtod(line + 6, NULL);
			break;
		}
	fclose(f);
	return bt;
}

static double count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	double n = 0;
	if (!d)
		return NAN;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own descriptor */
}

/* /proc/self/stat: "pid (comm) state ..." where comm may hold spaces and
 * parentheses; the fields after the last ')' are space-separated, utime and
 * stime are fields 14 and 15, starttime 22, vsize 23, rss (pages) 24. */
static void read_stat(struct procstat *p)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	char *s = strrchr(buf, ')');
	if (!s)
		return;
	double field[25] = {0};
	int i = 3; /* s + 2 is field 3 (state) */
	for (char *tok = strtok(s + 2, " "); tok && i < 25; tok = strtok(NULL, " "), i++)
		field[i] = strtod(tok, NULL);
	if (i < 25)
		return;
	double hz = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	p->cpu_seconds = (field[14] + field[15]) / hz;
	p->start_time_s = boot_time_s() + field[22] / hz;
	p->virtual_bytes = field[23];
	p->resident_bytes = field[24] * page;
}

void procstat_read(struct procstat *p)
{
	struct rlimit rl;
	p->cpu_seconds = p->resident_bytes = p->virtual_bytes = NAN;
	p->start_time_s = NAN;
	read_stat(p);
	p->open_fds = count_fds();
	p->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
			     ? (double)rl.rlim_cur
			     : NAN;
}
