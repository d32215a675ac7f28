/* scenario: reads a fleet scenario file (libconfig) into a fleet_spec plus the
 * settings the simulator and the benchmark share. The keys are documented in
 * contrib/sim/scenarios/README.md; unknown keys are errors. */
#ifndef WD_SCENARIO_H
#define WD_SCENARIO_H

#include "fleet.h"

struct scenario {
	struct fleet_spec spec;
	double duration_s;     /* 0: not given */
	double interval_s;     /* ground-truth interval; default 1 s */
	double scrape_s;       /* benchmark: Prometheus' scrape interval; 0: every tick */
	char service[FLEET_NAME_MAX];  /* Traefik servers-kind service to follow, "" none */
	char weighted[FLEET_NAME_MAX]; /* Traefik weighted service to follow, "" none */
};

/* Loads path into *sc (zeroed first). Returns 0, or -1 with
 * "FILE:LINE: message" in err; nothing is left to free on failure. */
int scenario_load(const char *path, struct scenario *sc, char *err, size_t errlen);
/* The same from a string (tests); name is used in messages. */
int scenario_parse(const char *text, const char *name, struct scenario *sc, char *err,
		   size_t errlen);
void scenario_free(struct scenario *sc);

/* Seconds from a libconfig-style duration: "0", "0s", "250ms", "1m30s". */
int scenario_parse_seconds(const char *s, double *out, char *err, size_t errlen);

#endif
