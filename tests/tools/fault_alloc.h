/* fault_alloc: allocation failure on demand, for the test build of weightd
 * (tests/tools/weightd-fault, linked with --wrap for malloc, calloc, realloc
 * and strdup). With WD_FAULT_RELOAD_ALLOC=sweep in the environment, the k-th
 * reload fails the k-th allocation made by weightd's own code (the libraries'
 * internal allocations are not counted) while it builds the new runtime
 * (Prometheus client, output, states), so successive SIGHUPs walk every
 * allocation point of it until one reload allocates less than k times and
 * succeeds. Without it, nothing fails. */
#ifndef WD_FAULT_ALLOC_H
#define WD_FAULT_ALLOC_H

/* Counts the allocations from here on (one reload's). */
void fault_alloc_arm(void);
/* Stops counting. */
void fault_alloc_disarm(void);

#endif
