/* output_redis: the Traefik Redis KV provider output (hiredis).
 *
 * Every write is one MULTI/EXEC: an MSET of every managed key, a DEL of the
 * keys weightd wrote before that are gone now (removed backends, drained
 * servers, removed services), and the rewrite of a set outside root_key,
 * "weightd:<root_key>:keys", recording every key weightd wrote. Only keys in
 * that record are ever deleted, and only those in the entries weightd renders
 * (servers, weighted children, health check): an operator's own keys under a
 * managed service (passHostHeader, sticky, serversTransport, ...) are never
 * touched, across restarts too. The MSET is never empty, so a deletion always
 * comes with a SET, whose event makes Traefik re-read everything
 * (traefik#11864).
 *
 * At connect: AUTH, SELECT, a check of notify-keyspace-events (Traefik sees
 * nothing without it), a note when Redis restarted (traefik#6832), and a read
 * of the record so keys of an earlier run that are gone now are deleted. Any
 * error drops the connection; the next write connects afresh. A write whose
 * keys are unchanged still checks (EXISTS on the record) that Redis holds
 * them, so a Redis restarted empty or flushed while the weights hold is
 * written again on the next tick. */
#include "log.h"
#include "output_impl.h"
#include "util.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rendering ---------------------------------------------------------- */

static void kv_add(struct wd_kv_list *l, const char *key, const char *value)
{
	l->kv = util_grow(l->kv, &l->cap, l->n + 1, sizeof(*l->kv), 32);
	l->kv[l->n].key = xstrdup(key);
	l->kv[l->n].value = xstrdup(value);
	l->n++;
}

void output_kv_free(struct wd_kv_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->kv[i].key);
		free(l->kv[i].value);
	}
	free(l->kv);
	memset(l, 0, sizeof(*l));
}

/* Adds prefix/suffix = value. */
static int kvf(struct wd_kv_list *l, const char *prefix, const char *suffix, const char *value)
{
	char key[2048];
	if ((size_t)snprintf(key, sizeof(key), "%s/%s", prefix, suffix) >= sizeof(key))
		return -1;
	kv_add(l, key, value);
	return 0;
}

static int render_health(struct wd_kv_list *l, const char *p, const struct wd_health_cfg *h)
{
	char v[64];
	int rc = kvf(l, p, "loadBalancer/healthCheck/path", h->path);
	if (h->scheme)
		rc |= kvf(l, p, "loadBalancer/healthCheck/scheme", h->scheme);
	if (h->hostname)
		rc |= kvf(l, p, "loadBalancer/healthCheck/hostname", h->hostname);
	if (h->port) {
		snprintf(v, sizeof(v), "%d", h->port);
		rc |= kvf(l, p, "loadBalancer/healthCheck/port", v);
	}
	if (h->interval_ms) {
		output_duration(h->interval_ms, v, sizeof(v));
		rc |= kvf(l, p, "loadBalancer/healthCheck/interval", v);
	}
	if (h->timeout_ms) {
		output_duration(h->timeout_ms, v, sizeof(v));
		rc |= kvf(l, p, "loadBalancer/healthCheck/timeout", v);
	}
	return rc ? -1 : 0;
}

int output_redis_render(const char *root_key, const struct wd_output_service *s, size_t n,
			struct wd_kv_list *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (output_validate(s, n, err, errlen) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct wd_service_cfg *c = s[i].cfg;
		char p[1024], sub[64], w[24];
		if ((size_t)snprintf(p, sizeof(p), "%s/http/services/%s", root_key, c->name) >= sizeof(p)) {
			rc = -1;
			break;
		}
		int idx = 0;
		for (size_t b = 0; b < c->n_backends && rc == 0; b++) {
			snprintf(w, sizeof(w), "%d", s[i].weights[b]);
			if (c->kind == WD_KIND_SERVERS) {
				if (s[i].weights[b] == 0) /* drained: no keys at all */
					continue;
				snprintf(sub, sizeof(sub), "loadBalancer/servers/%d/url", idx);
				rc |= kvf(out, p, sub, c->backends[b].url);
				snprintf(sub, sizeof(sub), "loadBalancer/servers/%d/weight", idx);
				rc |= kvf(out, p, sub, w);
			} else {
				snprintf(sub, sizeof(sub), "weighted/services/%d/name", idx);
				rc |= kvf(out, p, sub, c->backends[b].name);
				snprintf(sub, sizeof(sub), "weighted/services/%d/weight", idx);
				rc |= kvf(out, p, sub, w);
			}
			idx++;
		}
		if (rc == 0 && c->kind == WD_KIND_SERVERS && c->health.set)
			rc = render_health(out, p, &c->health);
	}
	if (rc) {
		output_kv_free(out);
		snprintf(err, errlen, "a key longer than 2 KiB");
		return -1;
	}
	return 0;
}

/* ---- a sorted list of keys ---------------------------------------------- */

struct strv {
	char **v;
	size_t n, cap;
};

static void strv_add(struct strv *s, const char *str, size_t len)
{
	s->v = util_grow(s->v, &s->cap, s->n + 1, sizeof(*s->v), 64);
	s->v[s->n++] = xstrndup(str, len);
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int strv_has(const struct strv *s, const char *k)
{
	return bsearch(&k, s->v, s->n, sizeof(char *), cmp_str) != NULL;
}

/* Sorts and drops duplicates (SCAN may return a key twice). */
static void strv_sort_unique(struct strv *s)
{
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(char *), cmp_str);
	size_t j = 0;
	for (size_t i = 1; i < s->n; i++) {
		if (strcmp(s->v[i], s->v[j]) == 0)
			free(s->v[i]);
		else
			s->v[++j] = s->v[i];
	}
	s->n = j + 1;
}

/* ---- the connection ----------------------------------------------------- */

struct output_redis {
	char *address, *host, *username, *password, *root_key, *marker;
	int port, db;
	struct timeval tv;
	redisContext *c;
	struct strv known;       /* keys weightd wrote, from the record, then written */
	struct wd_kv_list last;  /* what the last EXEC on this connection wrote */
	bool last_valid;
	char run_id[64];
	struct wd_events events; /* for the tick to log */
};

void *output_redis_new(const struct wd_config *cfg, char *err, size_t errlen)
{
	const struct wd_output_cfg *oc = &cfg->output;
	struct output_redis *r = xcalloc(1, sizeof(*r));
	r->db = oc->db;
	r->tv.tv_sec = oc->timeout_ms / 1000;
	r->tv.tv_usec = (oc->timeout_ms % 1000) * 1000;
	r->address = xstrdup(oc->address);
	r->root_key = xstrdup(oc->root_key);
	r->username = oc->username ? xstrdup(oc->username) : NULL;
	r->password = oc->password ? xstrdup(oc->password) : NULL;
	size_t ml = strlen(r->root_key) + 32;
	r->marker = xmalloc(ml);
	snprintf(r->marker, ml, "weightd:%s:keys", r->root_key);
	if (r->address[0] != '/') {
		/* HOST:PORT, or [IPv6]:PORT */
		const char *colon = strrchr(r->address, ':');
		const char *h = r->address;
		size_t hl = (size_t)(colon - h);
		if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
			h++;
			hl -= 2;
		}
		r->host = xstrndup(h, hl);
		r->port = atoi(colon + 1);
		if (r->port <= 0 || r->port > 65535) {
			snprintf(err, errlen, "output.address \"%s\": bad port", r->address);
			output_redis_ops.free(r);
			return NULL;
		}
	}
	return r;
}

static void disconnect(struct output_redis *r)
{
	if (r->c)
		redisFree(r->c);
	r->c = NULL;
	r->last_valid = false;
	strv_free(&r->known);
}

/* Runs one command; NULL with err set on a connection error or an error reply. */
static redisReply *cmd(struct output_redis *r, const char *what, char *err, size_t errlen,
		       int argc, const char **argv)
{
	redisReply *rep = redisCommandArgv(r->c, argc, argv, NULL);
	if (!rep) {
		snprintf(err, errlen, "Redis %s: %s: %s", r->address, what,
			 r->c->errstr[0] ? r->c->errstr : "connection lost");
		return NULL;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "Redis %s: %s: %s", r->address, what, rep->str);
		freeReplyObject(rep);
		return NULL;
	}
	return rep;
}

static int has(const char *s, char c) { return strchr(s, c) != NULL; }

/* Warns when Traefik could not see weightd's changes. Never fails. */
static void check_notify(struct output_redis *r)
{
	const char *argv[] = {"CONFIG", "GET", "notify-keyspace-events"};
	char err[256];
	redisReply *rep = cmd(r, "CONFIG GET", err, sizeof(err), 3, argv);
	if (!rep) {
		if (!r->c->err)
			event_add(&r->events, WD_LOG_WARN,
				  "could not check Redis notify-keyspace-events; Traefik sees weightd's "
				  "changes only if it includes K and A (or K, $ and g), e.g. KEA",
				  "error", err, (char *)NULL);
		return;
	}
	const char *v = "";
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 && rep->element[1]->type == REDIS_REPLY_STRING)
		v = rep->element[1]->str;
	if (!has(v, 'K') || !(has(v, 'A') || (has(v, '$') && has(v, 'g'))))
		event_add(&r->events, WD_LOG_WARN,
			  "Redis notify-keyspace-events lacks K and A (or $ and g): Traefik will not see "
			  "weightd's changes unless it can set them itself; set notify-keyspace-events KEA",
			  "address", r->address, "notify_keyspace_events", v, (char *)NULL);
	freeReplyObject(rep);
}

/* Notes a Redis restart, after which Traefik may stop following (traefik#6832). */
static void check_restart(struct output_redis *r)
{
	const char *argv[] = {"INFO", "server"};
	char err[256];
	redisReply *rep = cmd(r, "INFO", err, sizeof(err), 2, argv);
	if (!rep)
		return;
	const char *p = rep->type == REDIS_REPLY_STRING ? strstr(rep->str, "run_id:") : NULL;
	if (p) {
		char id[64];
		size_t n = strcspn(p + 7, "\r\n");
		snprintf(id, sizeof(id), "%.*s", (int)(n < 63 ? n : 63), p + 7);
		if (r->run_id[0] && strcmp(r->run_id, id) != 0)
			event_add(&r->events, WD_LOG_WARN,
				  "Redis restarted since weightd last wrote; Traefik has been seen to stop "
				  "following Redis after a restart (traefik#6832): check that it picks up "
				  "the new weights", "address", r->address, (char *)NULL);
		snprintf(r->run_id, sizeof(r->run_id), "%s", id);
	}
	freeReplyObject(rep);
}

/* Is key one that weightd renders: <root>/http/services/<name>/ and then a
 * server, a weighted child or the health check? The record of written keys
 * is filtered through this, so even a record edited by hand cannot make
 * weightd delete a router, another provider's key or an operator's setting. */
static int renders_key(const struct output_redis *r, const char *key)
{
	static const char *const managed[] = {"loadBalancer/servers/", "weighted/services/",
					      "loadBalancer/healthCheck/"};
	size_t rl = strlen(r->root_key);
	if (strncmp(key, r->root_key, rl) != 0 || strncmp(key + rl, "/http/services/", 15) != 0)
		return 0;
	const char *name = key + rl + 15, *slash = strchr(name, '/');
	if (!slash || slash == name)
		return 0;
	for (size_t i = 0; i < sizeof(managed) / sizeof(*managed); i++)
		if (strncmp(slash + 1, managed[i], strlen(managed[i])) == 0)
			return 1;
	return 0;
}

/* Reads the record of the keys an earlier run (or connection) wrote into
 * r->known. */
static int read_record(struct output_redis *r, char *err, size_t errlen)
{
	const char *argv[] = {"SMEMBERS", r->marker};
	redisReply *rep = cmd(r, "SMEMBERS", err, errlen, 2, argv);
	if (!rep)
		return -1;
	for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
		const redisReply *e = rep->element[i];
		if (e->type == REDIS_REPLY_STRING && strlen(e->str) == e->len && renders_key(r, e->str))
			strv_add(&r->known, e->str, e->len);
	}
	freeReplyObject(rep);
	return 0;
}

static int do_connect(struct output_redis *r, char *err, size_t errlen)
{
	r->c = r->host ? redisConnectWithTimeout(r->host, r->port, r->tv)
		       : redisConnectUnixWithTimeout(r->address, r->tv);
	if (!r->c || r->c->err) {
		snprintf(err, errlen, "cannot connect to Redis at %s: %s", r->address,
			 r->c ? r->c->errstr : "out of memory");
		return -1;
	}
	if (redisSetTimeout(r->c, r->tv) != REDIS_OK) {
		snprintf(err, errlen, "Redis %s: cannot set the command timeout", r->address);
		return -1;
	}
	redisReply *rep = NULL;
	if (r->password) {
		const char *argv[] = {"AUTH", r->username ? r->username : r->password, r->password};
		if (!(rep = cmd(r, "AUTH (check output.username and output.password_file)", err, errlen,
				r->username ? 3 : 2, argv)))
			return -1;
		freeReplyObject(rep);
	}
	if (r->db) {
		char db[16];
		snprintf(db, sizeof(db), "%d", r->db);
		const char *argv[] = {"SELECT", db};
		if (!(rep = cmd(r, "SELECT (check output.db)", err, errlen, 2, argv)))
			return -1;
		freeReplyObject(rep);
	}
	check_notify(r);
	check_restart(r);
	if (r->c->err) {
		snprintf(err, errlen, "Redis %s: %s", r->address, r->c->errstr);
		return -1;
	}
	if (read_record(r, err, errlen) < 0)
		return -1;
	strv_sort_unique(&r->known);
	event_add(&r->events, WD_LOG_INFO, "connected to Redis", "address", r->address, "root_key",
		  r->root_key, (char *)NULL);
	return 0;
}

static bool same_kv(const struct wd_kv_list *a, const struct wd_kv_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->kv[i].key, b->kv[i].key) || strcmp(a->kv[i].value, b->kv[i].value))
			return false;
	return true;
}

/* Queues MULTI, MSET, DEL, the rewrite of the record and EXEC, then reads the
 * replies. kv is never empty (output_validate), so the MSET always runs. */
static int transact(struct output_redis *r, const struct wd_kv_list *kv, const struct strv *stale,
		    char *err, size_t errlen)
{
	size_t argc = 1 + 2 * kv->n;
	const char **argv = xmalloc((argc + stale->n + 2) * sizeof(*argv));
	int queued = 0;
	redisAppendCommand(r->c, "MULTI");
	argv[0] = "MSET";
	for (size_t i = 0; i < kv->n; i++) {
		argv[1 + 2 * i] = kv->kv[i].key;
		argv[2 + 2 * i] = kv->kv[i].value;
	}
	redisAppendCommandArgv(r->c, (int)argc, argv, NULL);
	queued++;
	if (stale->n) {
		argv[0] = "DEL";
		for (size_t i = 0; i < stale->n; i++)
			argv[1 + i] = stale->v[i];
		redisAppendCommandArgv(r->c, (int)(1 + stale->n), argv, NULL);
		queued++;
	}
	redisAppendCommand(r->c, "DEL %s", r->marker);
	argv[0] = "SADD";
	argv[1] = r->marker;
	for (size_t i = 0; i < kv->n; i++)
		argv[2 + i] = kv->kv[i].key;
	redisAppendCommandArgv(r->c, (int)(2 + kv->n), argv, NULL);
	queued += 2;
	redisAppendCommand(r->c, "EXEC");
	free(argv);

	int rc = 0;
	char first[256] = "";
	redisReply *rep;
	for (int i = 0; i < queued + 2; i++) {
		if (redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
			snprintf(err, errlen, "Redis %s: transaction failed: %s", r->address,
				 r->c->errstr[0] ? r->c->errstr : "connection lost");
			return -1;
		}
		bool is_exec = i == queued + 1;
		if (rep->type == REDIS_REPLY_ERROR && !is_exec && !first[0])
			snprintf(first, sizeof(first), "%s", rep->str);
		if (is_exec) {
			if (rep->type == REDIS_REPLY_ERROR || rep->type == REDIS_REPLY_NIL) {
				snprintf(err, errlen, "Redis %s: transaction aborted, nothing written: %s%s%s",
					 r->address, rep->type == REDIS_REPLY_NIL ? "EXEC returned nil" : rep->str,
					 first[0] ? "; first error: " : "", first);
				rc = -1;
			} else {
				for (size_t k = 0; k < rep->elements; k++)
					if (rep->element[k]->type == REDIS_REPLY_ERROR && rc == 0) {
						snprintf(err, errlen, "Redis %s: a command of the transaction failed: %s",
							 r->address, rep->element[k]->str);
						rc = -1;
					}
			}
		}
		freeReplyObject(rep);
	}
	return rc;
}

/* Before skipping an unchanged write: does Redis still hold what weightd
 * wrote? A restart closed the connection (seen here, not only at the next
 * change); a restart that came back before the next tick, a FLUSHALL or a
 * failover to an empty replica lost the record written with every
 * transaction. 1: still there; 0: gone; -1: the connection failed. */
static int still_written(struct output_redis *r)
{
	const char *argv[] = {"EXISTS", r->marker};
	char err[256];
	redisReply *rep = cmd(r, "EXISTS", err, sizeof(err), 2, argv);
	if (!rep)
		return -1;
	int rc = rep->type == REDIS_REPLY_INTEGER ? rep->integer > 0 : -1;
	freeReplyObject(rep);
	return rc;
}

static int redis_write(void *impl, const struct wd_output_service *s, size_t n, char *err,
		       size_t errlen)
{
	struct output_redis *r = impl;
	struct wd_kv_list kv;
	if (output_redis_render(r->root_key, s, n, &kv, err, errlen) < 0)
		return -1;
	if (r->c && r->last_valid && same_kv(&kv, &r->last)) {
		int there = still_written(r);
		if (there > 0) {
			output_kv_free(&kv);
			return OUTPUT_UNCHANGED;
		}
		/* Write the same weights again, on a fresh connection: the scan at
		 * connect finds what is left, and a restart is noted there. */
		if (there == 0)
			event_add(&r->events, WD_LOG_WARN,
				  "weightd's keys are gone from Redis (flushed, or restarted empty); "
				  "writing them again", "address", r->address, "marker", r->marker, (char *)NULL);
		disconnect(r);
	}
	int rc = -1;
	struct strv keys = {0}, stale = {0};
	if (!r->c && do_connect(r, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < kv.n; i++)
		strv_add(&keys, kv.kv[i].key, strlen(kv.kv[i].key));
	strv_sort_unique(&keys);
	for (size_t i = 0; i < r->known.n; i++)
		if (!strv_has(&keys, r->known.v[i]))
			strv_add(&stale, r->known.v[i], strlen(r->known.v[i]));
	if (transact(r, &kv, &stale, err, errlen) < 0)
		goto out;
	strv_free(&r->known);
	r->known = keys;
	memset(&keys, 0, sizeof(keys));
	output_kv_free(&r->last);
	r->last = kv;
	memset(&kv, 0, sizeof(kv));
	r->last_valid = true;
	rc = OUTPUT_WRITTEN;
out:
	if (rc < 0)
		disconnect(r);
	strv_free(&keys);
	strv_free(&stale);
	output_kv_free(&kv);
	return rc;
}

static void redis_free(void *impl)
{
	struct output_redis *r = impl;
	if (!r)
		return;
	disconnect(r);
	output_kv_free(&r->last);
	free(r->address);
	free(r->host);
	free(r->username);
	util_free_secret(r->password);
	free(r->root_key);
	free(r->marker);
	event_clear(&r->events);
	free(r);
}

static struct wd_events *redis_events(void *impl) { return &((struct output_redis *)impl)->events; }

const struct output_ops output_redis_ops = {
	.kind = "redis", .write = redis_write, .free = redis_free, .events = redis_events};
