/* prom: the Prometheus HTTP API client. A tick's instant queries go out
 * together as form-encoded POST /api/v1/query requests on one libcurl multi
 * handle; the multi handle, its easy handles and its connection cache live as
 * long as the client, so later ticks reuse the connections. Answers are parsed
 * with cJSON into (label value, sample) pairs. Every failure is one line that
 * names the query and the cause; the config's secrets never appear in it. */
#include "prom.h"
#include "text.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "secret.h"
#include "util.h"

/* One reusable transfer: an easy handle and the buffers of its request. */
struct slot {
	CURL *easy;
	struct prom *p;
	struct prom_query *q; /* the query it carries this batch */
	char *post;           /* "query=..." form body, grown on demand */
	size_t post_len, post_cap;
	char *body;           /* response body, NUL-terminated */
	size_t len, cap;
	bool too_big;
	bool active;
	char errbuf[CURL_ERROR_SIZE];
};

struct prom {
	const struct wd_prom_cfg *cfg;
	CURLM *multi;
	struct slot *slots;
	size_t n_slots;
	struct curl_slist *headers;
	char *url;
	char *basic_b64; /* base64 of "username:password", masked like the password */
	struct secret_set secrets; /* what no error message may quote */
};

/* curl_global_init/cleanup follow the number of live clients (a reload
 * creates the new client before it frees the old one). */
static int curl_users;

#define EXPR_SHOWN 160 /* characters of a query shown in an error */
#define SNIPPET 120    /* characters of a response body shown in an error */

/* ---- error text ---------------------------------------------------------- */

/* Copies at most max bytes of s into dst as one printable line of UTF-8
 * text, as a log line will show it: control characters become spaces, runs
 * of spaces collapse, bytes that are not UTF-8 become '?'. Secrets are
 * masked after this, so that what the log shows is what was masked. */
static void one_line(char *dst, size_t dstlen, const char *s, size_t slen, size_t max)
{
	size_t o = 0, shown = 0, n;
	bool space = false, cut = false;
	if (!dstlen)
		return;
	for (size_t i = 0; i < slen && s[i]; i += n) {
		unsigned char c = (unsigned char)s[i];
		bool sp = c < 0x20 || c == 0x7f || c == ' ';
		size_t u = c < 0x80 ? 1 : text_utf8_len_within((const unsigned char *)s + i, slen - i);
		n = u ? u : 1; /* a byte that is not UTF-8 is shown as one '?' */
		if (sp && (space || o == 0))
			continue;
		if (shown + n > max) {
			cut = true;
			break;
		}
		if (o + n >= dstlen)
			break;
		if (u > 1)
			memcpy(dst + o, s + i, u);
		else
			dst[o] = sp ? ' ' : u ? (char)c : '?';
		o += n;
		shown += n;
		space = sp;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	if (cut && o + 3 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

static void fmt_err(struct prom_result *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fmt_err(struct prom_result *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->err, sizeof(out->err), fmt, ap);
	va_end(ap);
	out->ok = false;
}

/* Standard base64 of s (caller frees), as HTTP basic auth sends it. */
static char *base64(const char *s)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* ---- parsing ------------------------------------------------------------- */

/* True when body is the start of a JSON object or array that ends before
 * its brackets (or a string) close: a cut-off answer rather than bad syntax. */
static bool truncated(const char *body, size_t len)
{
	size_t i = 0, depth = 0;
	bool in_str = false, esc = false;
	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
		i++;
	if (i == len || (body[i] != '{' && body[i] != '['))
		return false;
	for (; i < len; i++) {
		char c = body[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return false;
			if (--depth == 0)
				return false; /* the document closed: what follows is not a cut */
		}
	}
	return in_str || depth > 0;
}

static int parse_value(const cJSON *pair, double *v, char *why, size_t whylen)
{
	const cJSON *ts = cJSON_GetArrayItem(pair, 0), *val = cJSON_GetArrayItem(pair, 1);
	if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 || !cJSON_IsNumber(ts) ||
	    !cJSON_IsString(val)) {
		snprintf(why, whylen, "is not a [timestamp, \"value\"] pair");
		return -1;
	}
	const char *s = val->valuestring;
	if (strcmp(s, "NaN") == 0) {
		*v = NAN;
	} else if (strcmp(s, "+Inf") == 0 || strcmp(s, "Inf") == 0) {
		*v = INFINITY;
	} else if (strcmp(s, "-Inf") == 0) {
		*v = -INFINITY;
	} else {
		char *end;
		*v = strtod(s, &end);
		if (!*s || *end) {
			char shown[40];
			one_line(shown, sizeof(shown), s, strlen(s), 24);
			snprintf(why, whylen, "value \"%s\" is not a number", shown);
			return -1;
		}
	}
	return 0;
}

static char *join_warnings(const cJSON *w)
{
	size_t len = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, w)
		if (cJSON_IsString(e))
			len += strlen(e->valuestring) + 2;
	if (!len)
		return NULL;
	char *s = xmalloc(len + 1), *o = s;
	cJSON_ArrayForEach(e, w) {
		if (!cJSON_IsString(e))
			continue;
		size_t l = strlen(e->valuestring);
		if (o != s) {
			memcpy(o, "; ", 2);
			o += 2;
		}
		one_line(o, l + 1, e->valuestring, l, l);
		o += strlen(o);
	}
	*o = '\0';
	return s;
}

static int parse_vector(const cJSON *res, const char *label, struct prom_result *out)
{
	if (!cJSON_IsArray(res)) {
		fmt_err(out, "\"data.result\" of a vector is not an array");
		return -1;
	}
	size_t n = (size_t)cJSON_GetArraySize(res);
	out->samples = xcalloc(n, sizeof(*out->samples));
	const cJSON *e;
	size_t i = 0;
	cJSON_ArrayForEach(e, res) {
		const cJSON *metric = cJSON_GetObjectItemCaseSensitive(e, "metric");
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(e, "value");
		char why[96];
		if (!cJSON_IsObject(e) || !cJSON_IsObject(metric)) {
			fmt_err(out, "series %zu of the vector has no \"metric\" object", i);
			return -1;
		}
		if (!value) {
			fmt_err(out, "series %zu has no \"value\"%s", i,
				cJSON_GetObjectItemCaseSensitive(e, "histogram")
					? " (a native histogram: wrap it in histogram_quantile())"
					: "");
			return -1;
		}
		if (parse_value(value, &out->samples[i].value, why, sizeof(why)) < 0) {
			fmt_err(out, "series %zu: %s", i, why);
			return -1;
		}
		const cJSON *lv = label ? cJSON_GetObjectItemCaseSensitive(metric, label) : NULL;
		out->samples[i].label = xstrdup(cJSON_IsString(lv) ? lv->valuestring : "");
		out->n_samples = ++i;
	}
	return 0;
}

static int parse_scalar(const cJSON *res, struct prom_result *out)
{
	char why[96];
	double v;
	if (parse_value(res, &v, why, sizeof(why)) < 0) {
		fmt_err(out, "scalar result %s", why);
		return -1;
	}
	out->samples = xcalloc(1, sizeof(*out->samples));
	out->samples[0].label = xstrdup("");
	out->samples[0].value = v;
	out->n_samples = 1;
	out->scalar = true;
	return 0;
}

/* Masks the secrets in n bytes of upstream text and makes the result one
 * printable line of at most max characters: masked first, then cut. */
static void shown_text(char *dst, size_t dstlen, const struct secret_set *sec, const char *s,
		       size_t n, size_t max)
{
	char masked[4 * SNIPPET + sizeof(((struct prom_result *)0)->err)];
	secret_mask(sec, s, n, masked, sizeof(masked));
	one_line(dst, dstlen, masked, sizeof(masked), max);
}

/* The parser behind prom_parse_response; *api_error tells an answer of
 * Prometheus's own ("status": "error") from a body that is not one. The
 * upstream text it quotes is masked with sec (may be NULL). */
static int parse(const char *body, size_t len, const char *label, struct prom_result *out,
		 const struct secret_set *sec, bool *api_error)
{
	prom_result_clear(out);
	out->ok = false;
	out->scalar = false;
	out->err[0] = '\0';
	*api_error = false;
	if (!body || len == 0) {
		fmt_err(out, "empty response body");
		return -1;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!root) {
		size_t at = end && end >= body ? (size_t)(end - body) : 0;
		if (at >= len || truncated(body, len)) {
			fmt_err(out, "truncated JSON: the response ends after %zu bytes", len);
		} else {
			/* Show the text around the error, from its start if close. */
			size_t from = at > 40 ? at - 20 : 0;
			char shown[SNIPPET + 4];
			shown_text(shown, sizeof(shown), sec, body + from, len - from, SNIPPET);
			fmt_err(out, "invalid JSON at byte %zu: \"%s%s\"", at, from ? "..." : "", shown);
		}
		return -1;
	}
	int rc = -1;
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
	const cJSON *warn = cJSON_GetObjectItemCaseSensitive(root, "warnings");
	if (!cJSON_IsObject(root) || !cJSON_IsString(status)) {
		fmt_err(out, "not a Prometheus API response (no \"status\")");
		goto out;
	}
	if (cJSON_IsArray(warn))
		out->warnings = join_warnings(warn);
	if (strcmp(status->valuestring, "error") == 0) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "errorType");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "error");
		const char *m = cJSON_IsString(msg) ? msg->valuestring : "(no error text)";
		char line[sizeof(out->err)];
		shown_text(line, sizeof(line), sec, m, strlen(m), sizeof(line));
		fmt_err(out, "Prometheus error (%s): %s",
			cJSON_IsString(type) ? type->valuestring : "unknown", line);
		*api_error = true;
		goto out;
	}
	if (strcmp(status->valuestring, "success") != 0) {
		char shown[40];
		one_line(shown, sizeof(shown), status->valuestring, strlen(status->valuestring), 24);
		fmt_err(out, "unknown status \"%s\"", shown);
		goto out;
	}
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(data, "result");
	if (!cJSON_IsObject(data) || !cJSON_IsString(type) || !res) {
		fmt_err(out, "response has no \"data\" with \"resultType\" and \"result\"");
		goto out;
	}
	if (strcmp(type->valuestring, "vector") == 0)
		rc = parse_vector(res, label, out);
	else if (strcmp(type->valuestring, "scalar") == 0)
		rc = parse_scalar(res, out);
	else if (strcmp(type->valuestring, "matrix") == 0 || strcmp(type->valuestring, "string") == 0)
		fmt_err(out, "result is a %s: use an instant vector expression", type->valuestring);
	else {
		char shown[40];
		one_line(shown, sizeof(shown), type->valuestring, strlen(type->valuestring), 24);
		fmt_err(out, "unknown result type \"%s\"", shown);
	}
out:
	cJSON_Delete(root);
	if (rc == 0)
		out->ok = true;
	else {
		/* A failed result carries no partial samples. */
		char *w = out->warnings;
		out->warnings = NULL;
		prom_result_clear(out);
		out->warnings = w;
	}
	return rc;
}

int prom_parse_response(const char *body, size_t len, const char *label, struct prom_result *out)
{
	bool api_error;
	return parse(body, len, label, out, NULL, &api_error);
}

void prom_result_clear(struct prom_result *r)
{
	for (size_t i = 0; i < r->n_samples; i++)
		free(r->samples[i].label);
	free(r->samples);
	free(r->warnings);
	r->samples = NULL;
	r->warnings = NULL;
	r->n_samples = 0;
}

/* ---- transfers ----------------------------------------------------------- */

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;
	size_t n = size * nmemb;
	if ((int64_t)(s->len + n) > s->p->cfg->max_response_bytes) {
		s->too_big = true;
		return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
	}
	s->body = util_grow(s->body, &s->cap, s->len + n + 1, 1, 16384);
	memcpy(s->body + s->len, data, n);
	s->len += n;
	s->body[s->len] = '\0';
	return n;
}

static int slot_init(struct prom *p, struct slot *s)
{
	const struct wd_prom_cfg *c = p->cfg;
	s->p = p;
	s->easy = curl_easy_init();
	if (!s->easy)
		return -1;
	CURL *e = s->easy;
	int bad = 0;
	bad |= curl_easy_setopt(e, CURLOPT_URL, p->url);
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response_bytes);
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "weightd");
	bad |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (c->username) {
		bad |= curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		bad |= curl_easy_setopt(e, CURLOPT_USERNAME, c->username);
		bad |= curl_easy_setopt(e, CURLOPT_PASSWORD, c->password ? c->password : "");
	}
	if (c->ca_file)
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	if (c->insecure_skip_verify) {
		bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return bad ? -1 : 0;
}

static void slot_free(struct slot *s)
{
	if (s->easy)
		curl_easy_cleanup(s->easy);
	free(s->post);
	free(s->body);
}

void prom_free(struct prom *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_slots; i++) {
		if (p->slots[i].active)
			curl_multi_remove_handle(p->multi, p->slots[i].easy);
		slot_free(&p->slots[i]);
	}
	free(p->slots);
	if (p->multi)
		curl_multi_cleanup(p->multi);
	curl_slist_free_all(p->headers);
	free(p->url);
	util_free_secret(p->basic_b64);
	free(p);
	if (--curl_users == 0)
		curl_global_cleanup();
}

static int add_header(struct curl_slist **l, const char *h)
{
	struct curl_slist *n = curl_slist_append(*l, h);
	if (!n)
		return -1;
	*l = n;
	return 0;
}

struct prom *prom_new(const struct wd_prom_cfg *cfg, char *err, size_t errlen)
{
	if (curl_users++ == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		curl_users--;
		snprintf(err, errlen, "prometheus: cannot initialise libcurl");
		return NULL;
	}
	struct prom *p = xcalloc(1, sizeof(*p));
	p->cfg = cfg;
	size_t ul = strlen(cfg->url);
	while (ul > 0 && cfg->url[ul - 1] == '/')
		ul--;
	p->url = xmalloc(ul + sizeof("/api/v1/query"));
	memcpy(p->url, cfg->url, ul);
	strcpy(p->url + ul, "/api/v1/query");
	p->multi = curl_multi_init();
	int bad = !p->multi;
	if (cfg->username && cfg->password) {
		size_t n = strlen(cfg->username) + strlen(cfg->password) + 2;
		char *up = xmalloc(n);
		snprintf(up, n, "%s:%s", cfg->username, cfg->password);
		p->basic_b64 = base64(up);
		util_free_secret(up);
	}
	secret_set_add(&p->secrets, cfg->bearer_token);
	secret_set_add(&p->secrets, cfg->password);
	secret_set_add(&p->secrets, p->basic_b64);
	/* "Expect:" stops curl from waiting for a 100-continue on long queries. */
	bad |= add_header(&p->headers, "Accept: application/json") < 0;
	bad |= add_header(&p->headers, "Expect:") < 0;
	for (size_t i = 0; i < cfg->n_headers; i++)
		bad |= add_header(&p->headers, cfg->headers[i]) < 0;
	if (cfg->bearer_token) {
		size_t n = strlen(cfg->bearer_token) + sizeof("Authorization: Bearer ");
		char *h = xmalloc(n);
		snprintf(h, n, "Authorization: Bearer %s", cfg->bearer_token);
		bad |= add_header(&p->headers, h) < 0;
		util_free_secret(h);
	}
	if (bad) {
		snprintf(err, errlen, "prometheus: out of memory in libcurl");
		prom_free(p);
		return NULL;
	}
	return p;
}

static int ensure_slots(struct prom *p, size_t n)
{
	if (n <= p->n_slots)
		return 0;
	struct slot *s = xrealloc(p->slots, n * sizeof(*s));
	p->slots = s;
	for (size_t i = 0; i < p->n_slots; i++) { /* the handles point at their slot */
		curl_easy_setopt(s[i].easy, CURLOPT_PRIVATE, &s[i]);
		curl_easy_setopt(s[i].easy, CURLOPT_WRITEDATA, &s[i]);
		curl_easy_setopt(s[i].easy, CURLOPT_ERRORBUFFER, s[i].errbuf);
	}
	for (; p->n_slots < n; p->n_slots++) {
		memset(&s[p->n_slots], 0, sizeof(*s));
		if (slot_init(p, &s[p->n_slots]) < 0) {
			slot_free(&s[p->n_slots]);
			return -1;
		}
	}
	/* One connection per slot, kept idle for the next tick: never more
	 * connections to Prometheus than queries in flight. */
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)(n < 8 ? 8 : n));
	curl_multi_setopt(p->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
	curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n);
	return 0;
}

/* The query as shown in errors: one line, cut after EXPR_SHOWN characters. */
static void shown_expr(char *dst, size_t dstlen, const char *expr)
{
	one_line(dst, dstlen, expr, strlen(expr), EXPR_SHOWN);
}

/* Sets out's error to "query EXPR: CAUSE" with the secrets masked in the
 * whole line (the expression and the cause meet in it), then cut to fit. */
static void fail_masked(struct prom_result *out, const struct secret_set *sec, const char *expr,
			const char *cause)
{
	char shown[EXPR_SHOWN + 4], line[sizeof(out->err) + sizeof(shown) + 16];
	shown_expr(shown, sizeof(shown), expr);
	snprintf(line, sizeof(line), "query \"%s\": %s", shown, cause);
	secret_mask(sec, line, sizeof(line), out->err, sizeof(out->err));
	out->ok = false;
}

/* Masks a string the answer carries (a warning, a label value) in place:
 * the mask is at most twice as long as what it hides. */
static void mask_owned(const struct secret_set *sec, char **s)
{
	size_t n = *s ? strlen(*s) : 0;
	if (!n || !secret_leaks(sec, *s, n))
		return;
	char *m = xmalloc(2 * n + sizeof(SECRET_MARK));
	secret_mask(sec, *s, n, m, 2 * n + sizeof(SECRET_MARK));
	free(*s);
	*s = m;
}

void prom_read_answer(const struct secret_set *sec, const char *expr, const char *label,
		      long code, const char *body, size_t len, struct prom_result *out)
{
	char cause[sizeof(out->err)];
	bool api_error;
	int rc = parse(body, len, label, out, sec, &api_error);
	for (size_t i = 0; rc == 0 && i < out->n_samples; i++)
		mask_owned(sec, &out->samples[i].label);
	mask_owned(sec, &out->warnings);
	if (rc == 0 && code / 100 == 2)
		return;
	if (out->ok) { /* a well-formed answer with a non-2xx status */
		prom_result_clear(out);
		snprintf(cause, sizeof(cause), "HTTP %ld with a success body", code);
	} else if (code / 100 == 2 || api_error) {
		snprintf(cause, sizeof(cause), "%s", out->err);
	} else {
		char snip[SNIPPET + 4];
		shown_text(snip, sizeof(snip), sec, body ? body : "", body ? len : 0, SNIPPET);
		snprintf(cause, sizeof(cause), "HTTP %ld from Prometheus%s%s%s", code,
			 code / 100 == 3 ? " (redirects are not followed: check prometheus.url)" : "",
			 snip[0] ? ": " : " (empty body)", snip);
	}
	fail_masked(out, sec, expr, cause);
}

static void fail_query(struct prom_query *q, const char *cause)
{
	fail_masked(&q->result, NULL, q->expr, cause);
}

static void finish(struct prom *p, struct slot *s, CURLcode rc)
{
	struct prom_result *r = &s->q->result;
	char cause[sizeof(r->err)];
	if (rc == CURLE_OK) {
		long code = 0;
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
		prom_read_answer(&p->secrets, s->q->expr, s->q->label, code, s->body, s->len, r);
		return;
	}
	if (s->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(cause, sizeof(cause),
			 "response larger than prometheus.max_response_bytes (%lld bytes)",
			 (long long)p->cfg->max_response_bytes);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(cause, sizeof(cause), "no answer within prometheus.timeout (%.3gs)",
			 p->cfg->timeout_ms / 1000.0);
	} else {
		one_line(cause, sizeof(cause), s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc),
			 CURL_ERROR_SIZE, CURL_ERROR_SIZE);
	}
	fail_masked(r, &p->secrets, s->q->expr, cause);
}

/* Writes "query=" and expr form-encoded as curl_easy_escape would (all but
 * A-Z a-z 0-9 - . _ ~ as %XX) into the slot's reusable buffer: no
 * allocation per query once the buffer fits the longest query. */
static bool encode_post(struct slot *s, const char *expr)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t need = sizeof("query=") + 3 * strlen(expr);
	if (need > s->post_cap) {
		s->post = xrealloc(s->post, need);
		s->post_cap = need;
	}
	char *o = s->post + sizeof("query=") - 1;
	memcpy(s->post, "query=", sizeof("query=") - 1);
	for (const unsigned char *c = (const unsigned char *)expr; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    *c == '-' || *c == '.' || *c == '_' || *c == '~') {
			*o++ = (char)*c;
		} else {
			*o++ = '%';
			*o++ = hex[*c >> 4];
			*o++ = hex[*c & 15];
		}
	}
	*o = '\0';
	s->post_len = (size_t)(o - s->post);
	return true;
}

/* Puts query q on slot s and starts it; false (q failed) if it cannot. */
static bool start_query(struct prom *p, struct slot *s, struct prom_query *q)
{
	s->q = q;
	s->len = 0;
	s->too_big = false;
	s->errbuf[0] = '\0';
	if (!encode_post(s, q->expr) ||
	    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)s->post_len) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->post) != CURLE_OK ||
	    curl_multi_add_handle(p->multi, s->easy) != CURLM_OK) {
		fail_query(q, "cannot start the request (out of memory)");
		return false;
	}
	s->active = true;
	return true;
}

int prom_query_batch(struct prom *p, struct prom_query *q, size_t n, volatile sig_atomic_t *stop)
{
	for (size_t i = 0; i < n; i++) {
		prom_result_clear(&q[i].result);
		memset(&q[i].result, 0, sizeof(q[i].result));
	}
	/* At most max_concurrency transfers at once, each slot taking the next
	 * query as its last one ends: memory stays bounded by the cap, not by the
	 * number of queries. Queries not started once one has timed out, or
	 * within prometheus.timeout of the batch's start, fail at once, so a dead
	 * Prometheus costs a tick about one timeout (two at most), whatever the
	 * number of queries. */
	size_t cap = (size_t)p->cfg->max_concurrency;
	size_t width = n < cap ? n : cap;
	if (ensure_slots(p, width) < 0) {
		for (size_t i = 0; i < n; i++)
			fail_query(&q[i], "out of memory");
		return (int)n;
	}
	int64_t deadline = util_mono_ms() + p->cfg->timeout_ms;
	bool timed_out = false; /* once one query timed out, the rest would too */
	size_t next = 0, active = 0;
	for (size_t i = 0; i < width; i++)
		while (next < n && !start_query(p, &p->slots[i], &q[next++]))
			;
	for (size_t i = 0; i < width; i++)
		active += p->slots[i].active;
	while (active > 0 && !(stop && *stop)) {
		int running = 0;
		if (curl_multi_perform(p->multi, &running) != CURLM_OK)
			break;
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			char *priv = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
			struct slot *s = (struct slot *)priv;
			CURLcode rc = m->data.result;
			curl_multi_remove_handle(p->multi, s->easy);
			s->active = false;
			active--;
			finish(p, s, rc);
			timed_out |= rc == CURLE_OPERATION_TIMEDOUT;
			if (s->cap > (1u << 20)) { /* keep small buffers for the next tick only */
				free(s->body);
				s->body = NULL;
				s->cap = 0;
			}
			if (next < n && !timed_out && util_mono_ms() < deadline && !(stop && *stop)) {
				while (next < n && !start_query(p, s, &q[next++]))
					;
				active += s->active;
			}
		}
		if (active == 0)
			break;
		/* Wakes on socket activity or after 100 ms to look at *stop. */
		curl_multi_poll(p->multi, NULL, 0, 100, NULL);
	}
	for (size_t i = 0; i < width; i++) {
		struct slot *s = &p->slots[i];
		if (s->active) {
			curl_multi_remove_handle(p->multi, s->easy);
			s->active = false;
			fail_query(s->q, stop && *stop ? "aborted: weightd is stopping"
						     : "transfer ended without a result");
		}
	}
	for (; next < n; next++)
		fail_query(&q[next], stop && *stop ? "aborted: weightd is stopping"
				     : timed_out ? "not started: an earlier query of this tick timed out"
						 : "not started: the tick's queries ran past prometheus.timeout");
	int failed = 0;
	for (size_t i = 0; i < n; i++)
		if (!q[i].result.ok)
			failed++;
	return failed;
}
