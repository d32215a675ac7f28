/* tick: one pass of the pipeline, measure -> policy -> output -> report,
 * then the state file. The only place that logs what happened in a tick:
 * measure and the outputs record their findings as events, and the tick
 * writes them out, and its own failures and recoveries, once per change. */
#ifndef WD_TICK_H
#define WD_TICK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "report.h"
#include "runtime.h"

enum tick_result { TICK_OK = 0, TICK_PARTIAL, TICK_FAILED };

/* What the ticks share and remember from one to the next, across reloads. */
struct tick {
	uint64_t n;                   /* ticks run */
	bool prom_failing;            /* what was logged as failing: logged again */
	bool output_failing;          /* only when it recovers */
	bool state_failing;
	struct event_seen seen;       /* warnings about the data already given */
	struct report_sink report;    /* audit log, metrics, dry-run table */
	volatile sig_atomic_t *stop;  /* set: abandon the tick's queries */
	/* The signal mask while the queries run (signals let in, so a stop
	 * cuts them short) and the one for the rest of the tick (signals
	 * kept out, so none fails a write midway); NULL: left alone. */
	const sigset_t *query_sigmask, *sigmask;
};

/* Runs one tick over rt. TICK_OK when every service was measured and the
 * output took the weights; TICK_PARTIAL when some services' queries failed;
 * TICK_FAILED when all did, the output failed, or stop was set. */
enum tick_result tick_run(struct tick *t, struct runtime *rt);

#endif
