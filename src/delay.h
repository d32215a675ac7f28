/* delay: how old the policy's signal is, and what that means per tick.
 *
 * A query such as rate(x[1m]) averages over its window: a change of weights
 * shows fully in the measurement only a window (plus a tick) later. The
 * policy's gains are therefore set per unit of that delay, not per tick:
 * delay_tick_scale says which share of a "control step" one tick is. The
 * control step is a fifth of the delay (window + interval), i.e. exactly one
 * tick at the reference of four ticks per window, so kp, ki, kd and max_step
 * keep the values they were tuned with there. Pure; no allocation. */
#ifndef WD_DELAY_H
#define WD_DELAY_H

#include <stdint.h>

/* Ticks per window the gains are stated for. */
#define DELAY_REF_TICKS_PER_WINDOW 4
/* The largest share of a control step one tick may take: reached when the
 * tick is as long as the window (the measurement is then fresh each tick). */
#define DELAY_MAX_TICK_SCALE 1.5

/* The longest range selector written in a PromQL query, its offset
 * included: [1m] -> 60000, [90s], [1200ms], [1h30m], a subquery [5m:30s] ->
 * 300000, rate(x[1m] offset 30s) -> 90000. Text inside string literals
 * (label matchers) is skipped. 0 when the query has none, or only ones it
 * cannot read (a Grafana variable such as [$__rate_interval]). */
int64_t delay_longest_range_ms(const char *query);

/* The share of a control step one tick is: 5 tick / (window + tick), which
 * is 1 at four ticks per window, 1/3.4 at sixteen; at most
 * DELAY_MAX_TICK_SCALE. 1 when the tick or the window is unknown (<= 0). */
double delay_tick_scale(int64_t tick_ms, int64_t window_ms);

/* The signal's delay in ms, window + tick; when the window is unknown, the
 * reference: four ticks of window. 0 when the tick is unknown too. */
int64_t delay_signal_ms(int64_t tick_ms, int64_t window_ms);

#endif
