/* procstat: the process's own resource use, read from /proc/self, for the
 * standard process_* metrics every Prometheus client library exports (CPU
 * time, resident and virtual memory, open and maximum file descriptors, start
 * time). Linux only; a field that cannot be read is NaN. */
#ifndef WD_PROCSTAT_H
#define WD_PROCSTAT_H

struct procstat {
	double cpu_seconds;      /* user + system */
	double resident_bytes;
	double virtual_bytes;
	double open_fds;
	double max_fds;
	double start_time_s;     /* Unix time */
};

/* Fills p from /proc/self. Never fails: unreadable fields are NaN. */
void procstat_read(struct procstat *p);

#endif
