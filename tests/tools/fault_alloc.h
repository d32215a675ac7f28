/* fault_alloc: allocation failure on demand, for the test build of weightd
 * (tests/tools/weightd-fault, linked with --wrap for malloc, calloc, realloc
 * and strdup). With WD_FAULT_RELOAD_ALLOC=K in the environment, the first
 * reload fails the K-th allocation made by weightd's own code (the
 * libraries' internal allocations are not counted) while it builds the new
 * runtime (Prometheus client, output, states) and its listener. Without it,
 * nothing fails. */
#ifndef WD_FAULT_ALLOC_H
#define WD_FAULT_ALLOC_H

/* Counts the allocations from here on (one reload's). */
void fault_alloc_arm(void);
/* Stops counting. */
void fault_alloc_disarm(void);

#endif
