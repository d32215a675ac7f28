/* log: formats one line per message and writes it with a single write(2), so
 * lines from signal-time and tick-time code never interleave. */
#include "log.h"
#include "text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_level = WD_LOG_INFO;
static enum wd_log_format log_format = WD_LOG_LOGFMT;
static FILE *log_stream;

const char *const log_level_names[] = {"error", "warn", "info", "debug", NULL};

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
		if (strcmp(name, log_level_names[i]) == 0)
			return i;
	return -1;
}

const char *log_level_name(int level)
{
	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	return log_level_names[level];
}

/* One record is at most LINE_MAX bytes with its newline. When the fields do
 * not fit, the longest values are cut (at a character boundary, marked with
 * CUT_MARK) and the record itself stays whole: one JSON object or one logfmt
 * line, whatever it carries. */
#define LINE_MAX 4096
#define FIELDS_MAX 24
#define KEY_MAX 64 /* keys are the program's own words; longer ones are cut */
#define CUT_MARK "[...]"

struct line {
	char buf[LINE_MAX];
	size_t len;
};

struct field {
	const char *key, *value;
	size_t need;  /* bytes of the value as written, quotes included */
	size_t limit; /* bytes it may take */
};

static void put_raw(struct line *l, const char *s, size_t n)
{
	size_t room = sizeof(l->buf) - l->len;
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

/* The escaped form of the character at s into esc (at least 8 bytes): the
 * same rules for logfmt's quoted values and JSON strings. Bytes that are not
 * UTF-8 (a garbage answer quoted in an error) become '?', so every line stays
 * valid text and valid JSON. Returns its length; *used is the input taken. */
static size_t escape_char(const char *s, char *esc, size_t *used)
{
	unsigned char c = (unsigned char)*s;
	*used = 1;
	if (c >= 0x80) {
		size_t n = text_utf8_len((const unsigned char *)s);
		if (!n) {
			esc[0] = '?';
			return 1;
		}
		memcpy(esc, s, n);
		*used = n;
		return n;
	}
	if (c == '"' || c == '\\') {
		esc[0] = '\\';
		esc[1] = (char)c;
		return 2;
	}
	if (c == '\n' || c == '\t') {
		esc[0] = '\\';
		esc[1] = c == '\n' ? 'n' : 't';
		return 2;
	}
	if (c < 0x20)
		return (size_t)snprintf(esc, 8, "\\u%04x", c);
	esc[0] = (char)c;
	return 1;
}

static bool quoted(const char *v) { return log_format == WD_LOG_JSON || needs_quotes(v); }

/* Bytes the value takes written whole, quotes included. */
static size_t value_need(const char *v)
{
	size_t n = quoted(v) ? 2 : 0, used;
	char esc[8];
	for (; *v; v += used)
		n += escape_char(v, esc, &used);
	return n;
}

/* Writes v in at most limit bytes (quotes included): whole characters, and
 * CUT_MARK after the last one when it does not fit. */
static void put_value(struct line *l, const char *v, size_t need, size_t limit)
{
	bool q = quoted(v), cut = need > limit;
	if (limit < sizeof(CUT_MARK) + 1)
		limit = sizeof(CUT_MARK) + 1;
	size_t room = limit - (q ? 2 : 0) - (cut ? sizeof(CUT_MARK) - 1 : 0), used;
	char esc[8];
	if (q)
		put(l, "\"");
	for (; *v; v += used) {
		size_t n = escape_char(v, esc, &used);
		if (n > room)
			break;
		put_raw(l, esc, n);
		room -= n;
	}
	if (cut)
		put(l, CUT_MARK);
	if (q)
		put(l, "\"");
}

static size_t key_len(const char *key)
{
	size_t n = strlen(key);
	return n < KEY_MAX ? n : KEY_MAX;
}

static void put_key(struct line *l, const char *key, int first)
{
	if (log_format == WD_LOG_JSON)
		put(l, first ? "{\"" : ",\"");
	else if (!first)
		put(l, " ");
	char k[KEY_MAX + 1];
	size_t n = 0, used;
	char esc[8];
	/* Keys are plain words; anything else in one becomes '_'. */
	for (const char *s = key; *s && n < key_len(key); s += used, n++) {
		k[n] = escape_char(s, esc, &used) == 1 && esc[0] != '?' && esc[0] != '=' &&
				       esc[0] != ' ' ? esc[0] : '_';
	}
	put_raw(l, k, n);
	put(l, log_format == WD_LOG_JSON ? "\":" : "=");
}

/* Shares the room left for values: values that fit their share are whole,
 * the longer ones split the rest equally. */
static void share_room(struct field *f, size_t n, size_t room)
{
	size_t left = n;
	for (size_t i = 0; i < n; i++)
		f[i].limit = 0;
	bool again = true;
	while (again && left) {
		again = false;
		size_t share = room / left;
		for (size_t i = 0; i < n; i++) {
			if (f[i].limit || f[i].need > share)
				continue;
			f[i].limit = f[i].need ? f[i].need : 1;
			room -= f[i].need;
			left--;
			again = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!f[i].limit && f[i].need)
			f[i].limit = room / left;
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
	size_t tl = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + tl, sizeof(ts) - tl, ".%03ldZ", (long)(tv.tv_usec / 1000));

	struct field f[FIELDS_MAX] = {{"ts", ts, 0, 0}, {"level", log_level_name(level), 0, 0},
				       {"msg", msg, 0, 0}};
	size_t n = 3;
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		if (n < FIELDS_MAX)
			f[n++] = (struct field){k, v ? v : "", 0, 0};
	}
	va_end(ap);
	/* The record's frame: keys, separators, the closing brace and newline. */
	size_t frame = 2;
	for (size_t i = 0; i < n; i++) {
		f[i].need = value_need(f[i].value);
		frame += key_len(f[i].key) + 4;
	}
	/* FIELDS_MAX frames of KEY_MAX keys leave every value over 100 bytes. */
	share_room(f, n, LINE_MAX - frame);
	struct line l = {.len = 0};
	for (size_t i = 0; i < n; i++) {
		put_key(&l, f[i].key, i == 0);
		put_value(&l, f[i].value, f[i].need, f[i].limit);
	}
	if (log_format == WD_LOG_JSON)
		put(&l, "}");
	put(&l, "\n");
	int fd = log_stream ? fileno(log_stream) : STDERR_FILENO;
	ssize_t w = write(fd, l.buf, l.len);
	(void)w;
}

void wd_logf(int level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wd_log(level, msg, (char *)NULL);
}
