/* log: formats one line per message and writes it with a single write(2), so
 * lines from signal-time and tick-time code never interleave. */
#include "log.h"
#include "text.h"

#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_level = WD_LOG_INFO;
static enum wd_log_format log_format = WD_LOG_LOGFMT;
static FILE *log_stream;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_setup(int level, enum wd_log_format format)
{
	log_level = level;
	log_format = format;
}

void log_set_level(int level) { log_level = level; }
int log_get_level(void) { return log_level; }
void log_set_stream(FILE *stream) { log_stream = stream; }

int log_level_from_name(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *log_level_name(int level)
{
	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	return level_names[level];
}

struct line {
	char buf[4096];
	size_t len;
};

static void put_raw(struct line *l, const char *s, size_t n)
{
	size_t room = sizeof(l->buf) - 2 - l->len; /* keep room for "\n\0" */
	if (n > room)
		n = room;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void put(struct line *l, const char *s) { put_raw(l, s, strlen(s)); }

static int needs_quotes(const char *s)
{
	if (*s == '\0')
		return 1;
	for (; *s; s++)
		if (*s <= ' ' || *s == '"' || *s == '=' || *s == '\\' || (unsigned char)*s >= 0x7f)
			return 1;
	return 0;
}

/* Escapes for both logfmt's quoted values and JSON strings: the same rules.
 * Bytes that are not UTF-8 (a garbage answer quoted in an error) become '?',
 * so every line stays valid text and valid JSON. */
static void put_escaped(struct line *l, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		if (c >= 0x80) {
			size_t n = text_utf8_len((const unsigned char *)s);
			if (n) {
				put_raw(l, s, n);
				s += n - 1;
			} else {
				put(l, "?");
			}
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put_raw(l, esc, 2);
		} else if (c == '\n') {
			put(l, "\\n");
		} else if (c == '\t') {
			put(l, "\\t");
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(l, esc);
		} else {
			put_raw(l, (const char *)&c, 1);
		}
	}
}

static void put_value(struct line *l, const char *v)
{
	if (log_format == WD_LOG_JSON || needs_quotes(v)) {
		put(l, "\"");
		put_escaped(l, v);
		put(l, "\"");
	} else {
		put(l, v);
	}
}

static void put_field(struct line *l, const char *key, const char *value, int first)
{
	if (log_format == WD_LOG_JSON) {
		put(l, first ? "{\"" : ",\"");
		put_escaped(l, key);
		put(l, "\":");
	} else {
		if (!first)
			put(l, " ");
		put(l, key);
		put(l, "=");
	}
	put_value(l, value);
}

void wd_log(int level, const char *msg, ...)
{
	if (level > log_level)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char ts[40];
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", (long)(tv.tv_usec / 1000));

	struct line l = {.len = 0};
	put_field(&l, "ts", ts, 1);
	put_field(&l, "level", log_level_name(level), 0);
	put_field(&l, "msg", msg, 0);
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		put_field(&l, k, v ? v : "", 0);
	}
	va_end(ap);
	if (log_format == WD_LOG_JSON)
		put(&l, "}");
	l.buf[l.len++] = '\n';
	int fd = log_stream ? fileno(log_stream) : STDERR_FILENO;
	ssize_t w = write(fd, l.buf, l.len);
	(void)w;
}
