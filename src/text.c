/* text: UTF-8 validation shared by the config checks and the outputs. */
#include "text.h"

size_t text_utf8_len_within(const unsigned char *s, size_t avail)
{
	size_t n = s[0] < 0xc2 ? 0 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] <= 0xf4 ? 4 : 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

size_t text_utf8_len(const unsigned char *s)
{
	/* A NUL ends the sequence: it is no continuation byte. */
	return text_utf8_len_within(s, 4);
}

long text_utf8_invalid_at(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		size_t n = text_utf8_len(p);
		if (!n)
			return (long)(p - (const unsigned char *)s);
		p += n;
	}
	return -1;
}
