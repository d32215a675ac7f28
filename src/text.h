/* text: checks on the bytes of strings that reach an output, a query or a
 * log line. */
#ifndef WD_TEXT_H
#define WD_TEXT_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence (2 to 4 bytes) starting at s, or 0 if
 * the bytes there are not one (overlong forms and surrogates included). For
 * a byte below 0x80 it returns 0 too: callers handle ASCII themselves. */
size_t text_utf8_len(const unsigned char *s);

/* The same for a buffer that is not NUL-terminated: only the avail bytes at s
 * are read. */
size_t text_utf8_len_within(const unsigned char *s, size_t avail);

/* Offset of the first byte of s that is not part of valid UTF-8, or -1 when
 * the whole string is valid. */
long text_utf8_invalid_at(const char *s);

#endif
