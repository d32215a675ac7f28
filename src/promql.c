/* promql: lexing helpers for the queries' PromQL text (see promql.h). */
#include "promql.h"

const char *promql_skip_string(const char *p)
{
	char q = *p++;
	while (*p && *p != q) {
		if (*p == '\\' && q != '`' && p[1])
			p++;
		p++;
	}
	return p;
}
