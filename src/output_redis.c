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
	return s->n && bsearch(&k, s->v, s->n, sizeof(char *), cmp_str) != NULL;
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
	bool refused;            /* last is what was rendered, but services were refused */
	char refusal[800];       /* and why */
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
 * path traefik_kv can write (an entry or an option of a load balancer or a
 * weighted service)? The record of written keys is filtered through this, so
 * even a record edited by hand cannot make weightd delete a router or another
 * provider's key. */
static int renders_key(const struct output_redis *r, const char *key)
{
	size_t rl = strlen(r->root_key);
	if (strncmp(key, r->root_key, rl) != 0 || strncmp(key + rl, "/http/services/", 15) != 0)
		return 0;
	const char *name = key + rl + 15, *slash = strchr(name, '/');
	return slash && slash != name && traefik_kv_renders(slash + 1);
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

/* ---- services Traefik would reject ----------------------------------------- */

/* The name and the kind ("loadBalancer", "weighted", ...) of a key under
 * <root>/http/services/; 0 when the key is not one. */
static int service_of(const struct output_redis *r, const char *key, const char **name,
		      size_t *nlen, const char **kind, size_t *klen)
{
	size_t rl = strlen(r->root_key);
	if (strncmp(key, r->root_key, rl) != 0 || strncmp(key + rl, "/http/services/", 15) != 0)
		return 0;
	*name = key + rl + 15;
	const char *slash = strchr(*name, '/');
	if (!slash || slash == *name)
		return 0;
	*nlen = (size_t)(slash - *name);
	*kind = slash + 1;
	*klen = strcspn(*kind, "/");
	return 1;
}

/* A service weightd writes, and the kind it writes it as. */
struct rendered {
	const char *name, *kind;
	size_t nlen, klen;
};

static int cmp_rendered(const void *a, const void *b)
{
	const struct rendered *x = a, *y = b;
	size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
	int c = strncmp(x->name, y->name, n);
	return c ? c : (x->nlen > y->nlen) - (x->nlen < y->nlen);
}

/* Finds the services weightd writes under which someone else set keys of
 * another kind (a loadBalancer beside weightd's weighted parent, or the
 * reverse): Traefik rejects a service of two kinds, so weightd must not write
 * it. Their names go into conflicts; the first such key into why. Keys in
 * weightd's record or in kv are its own (a kind it wrote before goes with
 * the write). One SCAN of the services' keys. */
static int find_conflicts(struct output_redis *r, const struct wd_kv_list *kv,
			  const struct strv *mine, struct strv *conflicts, char *why, size_t whylen,
			  char *err, size_t errlen)
{
	struct rendered *rd = xcalloc(kv->n, sizeof(*rd));
	size_t n = 0;
	for (size_t i = 0; i < kv->n; i++)
		if (service_of(r, kv->kv[i].key, &rd[n].name, &rd[n].nlen, &rd[n].kind, &rd[n].klen))
			n++;
	qsort(rd, n, sizeof(*rd), cmp_rendered);
	char pat[600], cursor[32] = "0";
	snprintf(pat, sizeof(pat), "%s/http/services/*", r->root_key);
	int rc = 0;
	do {
		const char *argv[] = {"SCAN", cursor, "MATCH", pat, "COUNT", "1000"};
		redisReply *rep = cmd(r, "SCAN", err, errlen, 6, argv);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING) {
			if (rep)
				snprintf(err, errlen, "Redis %s: SCAN: unexpected reply", r->address);
			freeReplyObject(rep);
			rc = -1;
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		const redisReply *keys = rep->element[1];
		for (size_t i = 0; i < keys->elements && rc == 0; i++) {
			const char *k = keys->element[i]->str;
			struct rendered want;
			if (!k || strv_has(mine, k) ||
			    !service_of(r, k, &want.name, &want.nlen, &want.kind, &want.klen))
				continue;
			const struct rendered *got = bsearch(&want, rd, n, sizeof(*rd), cmp_rendered);
			if (!got || (got->klen == want.klen && strncasecmp(got->kind, want.kind, want.klen) == 0))
				continue;
			if (!conflicts->n)
				snprintf(why, whylen, "Redis holds \"%s\", which weightd did not write, and "
					 "weightd writes \"%.*s\" as %.*s: Traefik rejects a service of two "
					 "kinds; delete those keys or rename the service", k, (int)got->nlen,
					 got->name, (int)got->klen, got->kind);
			strv_add(conflicts, want.name, want.nlen);
		}
		freeReplyObject(rep);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	free(rd);
	strv_sort_unique(conflicts);
	return rc;
}

/* Is key under one of the services named in names (sorted)? */
static int under(const struct output_redis *r, const char *key, const struct strv *names)
{
	const char *name, *kind;
	size_t nlen, klen;
	if (!names->n || !service_of(r, key, &name, &nlen, &kind, &klen))
		return 0;
	char buf[512];
	snprintf(buf, sizeof(buf), "%.*s", (int)nlen, name);
	return strv_has(names, buf);
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
		    const struct strv *keep, char *err, size_t errlen)
{
	size_t argc = 1 + 2 * kv->n;
	const char **argv = xmalloc((argc + stale->n + keep->n + 2) * sizeof(*argv));
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
	for (size_t i = 0; i < keep->n; i++) /* still weightd's, though not written now */
		argv[2 + kv->n + i] = keep->v[i];
	redisAppendCommandArgv(r->c, (int)(2 + kv->n + keep->n), argv, NULL);
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
	if (traefik_kv(r->root_key, s, n, &kv, err, errlen) < 0)
		return -1;
	if (r->c && r->last_valid && r->refused && same_kv(&kv, &r->last)) {
		/* nothing to write until the operator's keys are gone */
		struct strv conflicts = {0};
		char why[700];
		int c = find_conflicts(r, &kv, &r->known, &conflicts, why, sizeof(why), err, errlen);
		size_t nc = conflicts.n;
		strv_free(&conflicts);
		if (c == 0 && nc) {
			traefik_kv_free(&kv);
			snprintf(err, errlen, "%s", r->refusal);
			return -1;
		}
		r->last_valid = false; /* resolved (or the check failed): write it all */
	}
	if (r->c && r->last_valid && same_kv(&kv, &r->last)) {
		int there = still_written(r);
		if (there > 0) {
			traefik_kv_free(&kv);
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
	struct strv keys = {0}, stale = {0}, conflicts = {0}, keep = {0};
	struct wd_kv_list all = kv; /* what was rendered; kv becomes what is written */
	bool filtered = false;      /* kv is an array of its own, borrowing all's strings */
	char why[700] = "";
	if (!r->c && do_connect(r, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < kv.n; i++)
		strv_add(&keys, kv.kv[i].key, strlen(kv.kv[i].key));
	strv_sort_unique(&keys);
	if (find_conflicts(r, &kv, &r->known, &conflicts, why, sizeof(why), err, errlen) < 0)
		goto out;
	if (conflicts.n) {
		/* leave those services as they are; write the others */
		kv = (struct wd_kv_list){xmalloc(all.n * sizeof(*kv.kv)), 0, all.n};
		filtered = true;
		for (size_t i = 0; i < all.n; i++)
			if (!under(r, all.kv[i].key, &conflicts))
				kv.kv[kv.n++] = all.kv[i]; /* borrowed from all */
		for (size_t i = 0; i < r->known.n; i++)
			if (under(r, r->known.v[i], &conflicts))
				strv_add(&keep, r->known.v[i], strlen(r->known.v[i]));
	}
	for (size_t i = 0; i < r->known.n; i++)
		if (!strv_has(&keys, r->known.v[i]) && !under(r, r->known.v[i], &conflicts))
			strv_add(&stale, r->known.v[i], strlen(r->known.v[i]));
	if (kv.n && transact(r, &kv, &stale, &keep, err, errlen) < 0)
		goto out;
	if (conflicts.n) {
		/* the record now holds what was written and what was kept */
		strv_free(&keys);
		for (size_t i = 0; i < kv.n; i++)
			strv_add(&keys, kv.kv[i].key, strlen(kv.kv[i].key));
		for (size_t i = 0; i < keep.n; i++)
			strv_add(&keys, keep.v[i], strlen(keep.v[i]));
		strv_sort_unique(&keys);
	}
	strv_free(&r->known);
	r->known = keys;
	memset(&keys, 0, sizeof(keys));
	traefik_kv_free(&r->last);
	r->last = all;
	memset(&all, 0, sizeof(all));
	r->last_valid = true;
	r->refused = conflicts.n > 0;
	if (conflicts.n) {
		/* checked again at every tick until the operator's keys are gone */
		snprintf(r->refusal, sizeof(r->refusal), "service%s %s%s not written: %s",
			 conflicts.n > 1 ? "s" : "", conflicts.v[0], conflicts.n > 1 ? " and others" : "",
			 why);
		snprintf(err, errlen, "%s", r->refusal);
		rc = -2;
		goto out;
	}
	rc = OUTPUT_WRITTEN;
out:
	if (rc == -2) /* a refusal, not a failure of the connection */
		rc = -1;
	else if (rc < 0)
		disconnect(r);
	strv_free(&keys);
	strv_free(&stale);
	strv_free(&conflicts);
	strv_free(&keep);
	if (filtered)
		free(kv.kv); /* its strings are all's (or now the last write's) */
	traefik_kv_free(&all);
	return rc;
}

static void redis_free(void *impl)
{
	struct output_redis *r = impl;
	if (!r)
		return;
	disconnect(r);
	traefik_kv_free(&r->last);
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
