/* traefik: names of the split layout. */
#include "traefik.h"

#include <ctype.h>
#include <string.h>

static size_t put_safe(char *buf, size_t at, size_t len, const char *s)
{
	for (; *s; s++, at++)
		if (at < len)
			buf[at] = isalnum((unsigned char)*s) || strchr("._-", *s) ? *s : '-';
	return at;
}

int traefik_child_name(const char *service, const char *backend, char *buf, size_t len)
{
	size_t at = put_safe(buf, 0, len, service);
	at = put_safe(buf, at, len, "--");
	at = put_safe(buf, at, len, backend);
	if (at >= len)
		return -1;
	buf[at] = '\0';
	return (int)at;
}
