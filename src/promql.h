/* promql: lexing helpers for the PromQL text of the configured queries,
 * shared by the readers that look into them (delay.c for range selectors,
 * predict.c for the quantile). Pure; no allocation. */
#ifndef WD_PROMQL_H
#define WD_PROMQL_H

/* The end of the string literal starting at p ("...", '...' with backslash
 * escapes, `...` raw): its closing quote, or the string's end when it is
 * not closed. */
const char *promql_skip_string(const char *p);

#endif
