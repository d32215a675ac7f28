/* sim_weights: Traefik's view of weightd's output, for weightd-sim (see sim_weights.h). */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "fileio.h"
#include "sim_weights.h"
#include "util.h"

/* ---- parsing ------------------------------------------------------------- */

/* Traefik's weights are *int: anything else fails the whole configuration;
 * zero or negative drops the entry. */
static int parse_weight(const char *s, double *out, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno) {
		snprintf(err, errlen, "weight \"%s\" is not an integer", s);
		return -1;
	}
	*out = v > 0 ? (double)v : 0;
	return 0;
}

static int add_entry(struct simw_entry *tab, size_t *n, const char *key, const char *weight,
		     char *err, size_t errlen)
{
	if (*n >= SIMW_MAX) {
		snprintf(err, errlen, "more than %d entries in one service", SIMW_MAX);
		return -1;
	}
	struct simw_entry *e = &tab[*n];
	snprintf(e->key, sizeof e->key, "%s", key);
	e->weight = 1;
	if (weight && parse_weight(weight, &e->weight, err, errlen) < 0)
		return -1;
	(*n)++;
	return 0;
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key, bool nocase)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (!k || k->type != YAML_SCALAR_NODE)
			continue;
		const char *ks = (const char *)k->data.scalar.value;
		if (nocase ? strcasecmp(ks, key) == 0 : strcmp(ks, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Reads a sequence of mappings { keyname: ..., weight: ... }. */
static int read_list(yaml_document_t *d, yaml_node_t *seq, const char *keyname,
		     struct simw_entry *tab, size_t *n, char *err, size_t errlen)
{
	if (!seq)
		return 0;
	if (seq->type != YAML_SEQUENCE_NODE) {
		snprintf(err, errlen, "line %zu: expected a list", seq->start_mark.line + 1);
		return -1;
	}
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(d, *it);
		const char *key = scalar(map_get(d, e, keyname, true));
		yaml_node_t *wn = map_get(d, e, "weight", true);
		if (!key) {
			snprintf(err, errlen, "line %zu: entry without %s",
				 e ? e->start_mark.line + 1 : 0, keyname);
			return -1;
		}
		if (wn && !scalar(wn)) {
			snprintf(err, errlen, "line %zu: weight is not a scalar", wn->start_mark.line + 1);
			return -1;
		}
		if (add_entry(tab, n, key, scalar(wn), err, errlen) < 0)
			return -1;
	}
	return 0;
}

int simw_parse_yaml(const char *text, size_t len, const char *service, const char *weighted,
		    struct simw_set *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	yaml_parser_t p;
	yaml_document_t d;
	if (!yaml_parser_initialize(&p)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &d)) {
		snprintf(err, errlen, "line %zu: %s", p.problem_mark.line + 1,
			 p.problem ? p.problem : "invalid YAML");
		yaml_parser_delete(&p);
		return -1;
	}
	int rc = 0;
	yaml_node_t *svcs = map_get(&d, map_get(&d, yaml_document_get_root_node(&d), "http", true),
				    "services", true);
	yaml_node_t *s = service && *service ? map_get(&d, svcs, service, false) : NULL;
	yaml_node_t *parent = map_get(&d, s, "weighted", true);
	if (s && parent) {
		out->has_servers = out->split = true;
		rc = read_list(&d, map_get(&d, parent, "services", true), "name", out->servers,
			       &out->n_servers, err, errlen);
		/* each child's one server takes the child's place */
		for (size_t i = 0; rc == 0 && i < out->n_servers; i++) {
			struct simw_entry *e = &out->servers[i];
			yaml_node_t *lb = map_get(&d, map_get(&d, svcs, e->key, false), "loadBalancer", true);
			yaml_node_t *list = map_get(&d, lb, "servers", true);
			const char *url = NULL;
			if (list && list->type == YAML_SEQUENCE_NODE &&
			    list->data.sequence.items.top - list->data.sequence.items.start == 1)
				url = scalar(map_get(&d, yaml_document_get_node(&d, *list->data.sequence.items.start),
						     "url", true));
			snprintf(e->holder, sizeof e->holder, "%s", e->key);
			snprintf(e->key, sizeof e->key, "%s", url ? url : "");
		}
	} else if (s) {
		out->has_servers = true;
		rc = read_list(&d, map_get(&d, map_get(&d, s, "loadBalancer", true), "servers", true),
			       "url", out->servers, &out->n_servers, err, errlen);
	}
	yaml_node_t *w = weighted && *weighted ? map_get(&d, svcs, weighted, false) : NULL;
	if (rc == 0 && w) {
		out->has_weighted = true;
		rc = read_list(&d, map_get(&d, map_get(&d, w, "weighted", true), "services", true),
			       "name", out->children, &out->n_children, err, errlen);
	}
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
	return rc;
}

/* Looks up or creates the entry with list label idx. */
struct kv_slot {
	char idx[32];
	const char *key, *weight;
};

static struct kv_slot *slot(struct kv_slot *tab, size_t *n, const char *idx, size_t idxlen)
{
	for (size_t i = 0; i < *n; i++)
		if (strlen(tab[i].idx) == idxlen && strncmp(tab[i].idx, idx, idxlen) == 0)
			return &tab[i];
	if (*n >= SIMW_MAX || idxlen >= sizeof tab->idx)
		return NULL;
	struct kv_slot *s = &tab[(*n)++];
	memset(s, 0, sizeof *s);
	memcpy(s->idx, idx, idxlen);
	return s;
}

/* Numeric labels in numeric order, others after them by name. */
static int cmp_slot(const void *a, const void *b)
{
	const struct kv_slot *x = a, *y = b;
	char *ex, *ey;
	long nx = strtol(x->idx, &ex, 10), ny = strtol(y->idx, &ey, 10);
	bool dx = x->idx[0] && !*ex, dy = y->idx[0] && !*ey;
	if (dx && dy)
		return (nx > ny) - (nx < ny);
	if (dx != dy)
		return dx ? -1 : 1;
	return strcmp(x->idx, y->idx);
}

/* Collects root/http/services/<svc>/<mid>/<idx>/<field> keys. */
static int kv_service(char *const *keys, char *const *vals, size_t n, const char *root,
		      const char *svc, const char *mid, const char *keyfield, bool *has,
		      struct simw_entry *tab, size_t *count, char *err, size_t errlen)
{
	char prefix[512];
	snprintf(prefix, sizeof prefix, "%s/http/services/%s/", root, svc);
	size_t plen = strlen(prefix), mlen = strlen(mid);
	struct kv_slot slots[SIMW_MAX];
	size_t ns = 0;
	for (size_t i = 0; i < n; i++) {
		if (strncasecmp(keys[i], prefix, plen) != 0)
			continue;
		*has = true;
		const char *rest = keys[i] + plen;
		if (strncasecmp(rest, mid, mlen) != 0 || rest[mlen] != '/')
			continue;
		const char *idx = rest + mlen + 1, *slash = strchr(idx, '/');
		if (!slash)
			continue;
		struct kv_slot *s = slot(slots, &ns, idx, (size_t)(slash - idx));
		if (!s) {
			snprintf(err, errlen, "too many entries under %s%s", prefix, mid);
			return -1;
		}
		if (strcasecmp(slash + 1, keyfield) == 0)
			s->key = vals[i];
		else if (strcasecmp(slash + 1, "weight") == 0)
			s->weight = vals[i];
	}
	/* in the order of their labels, as Traefik lists them (SCAN has none) */
	qsort(slots, ns, sizeof(slots[0]), cmp_slot);
	for (size_t i = 0; i < ns; i++)
		if (slots[i].key && add_entry(tab, count, slots[i].key, slots[i].weight, err, errlen) < 0)
			return -1;
	return 0;
}

int simw_from_kv(char *const *keys, char *const *vals, size_t n, const char *root_key,
		 const char *service, const char *weighted, struct simw_set *out, char *err,
		 size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (service && *service &&
	    kv_service(keys, vals, n, root_key, service, "weighted/services", "name",
		       &out->split, out->servers, &out->n_servers, err, errlen) < 0)
		return -1;
	if (out->split && out->n_servers) {
		out->has_servers = true;
		for (size_t i = 0; i < out->n_servers; i++) {
			struct simw_entry *e = &out->servers[i], one[SIMW_MAX];
			size_t n_one = 0;
			bool has = false;
			if (kv_service(keys, vals, n, root_key, e->key, "loadBalancer/servers", "url", &has,
				       one, &n_one, err, errlen) < 0)
				return -1;
			snprintf(e->holder, sizeof e->holder, "%s", e->key);
			snprintf(e->key, sizeof e->key, "%s", n_one == 1 ? one[0].key : "");
		}
	} else if (service && *service) {
		out->split = false;
		out->n_servers = 0;
		if (kv_service(keys, vals, n, root_key, service, "loadBalancer/servers", "url",
			       &out->has_servers, out->servers, &out->n_servers, err, errlen) < 0)
			return -1;
	}
	if (weighted && *weighted &&
	    kv_service(keys, vals, n, root_key, weighted, "weighted/services", "name",
		       &out->has_weighted, out->children, &out->n_children, err, errlen) < 0)
		return -1;
	return 0;
}

static double lookup(const struct simw_entry *tab, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tab[i].key, key) == 0)
			return tab[i].weight;
	return 0; /* not listed: drained */
}

const char *simw_holder(const struct simw_set *set, const struct fleet *f, size_t b)
{
	for (size_t i = 0; set->split && i < set->n_servers; i++)
		if (strcmp(set->servers[i].key, fleet_backend_url(f, b)) == 0)
			return set->servers[i].holder;
	return "";
}

size_t simw_apply(const struct simw_set *set, struct fleet *f)
{
	size_t changed = 0;
	if (set->has_servers) {
		size_t n = fleet_n_backends(f);
		double w[n];
		for (size_t i = 0; i < n; i++) {
			w[i] = lookup(set->servers, set->n_servers, fleet_backend_url(f, i));
			changed += w[i] != fleet_weight(f, i);
		}
		fleet_set_weights(f, w);
	}
	if (set->has_weighted) {
		for (size_t g = 0; g < fleet_n_groups(f); g++) {
			double w = lookup(set->children, set->n_children, fleet_group_name(f, g));
			changed += w != fleet_group_weight(f, g);
			fleet_set_group_weight(f, g, w);
		}
	}
	return changed;
}

/* ---- sources ------------------------------------------------------------- */

struct simw_source {
	char *service, *weighted;
	/* file */
	char *path;
	struct stat last;
	bool seen;
	/* redis */
	char *host, *root_key;
	int port, db;
	redisContext *rc;
};

static struct simw_source *source_new(const char *service, const char *weighted)
{
	struct simw_source *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->service = strdup(service ? service : "");
	s->weighted = strdup(weighted ? weighted : "");
	if (!s->service || !s->weighted) {
		simw_source_free(s);
		return NULL;
	}
	return s;
}

struct simw_source *simw_file_new(const char *path, const char *service, const char *weighted)
{
	struct simw_source *s = source_new(service, weighted);
	if (s && !(s->path = strdup(path))) {
		simw_source_free(s);
		return NULL;
	}
	return s;
}

struct simw_source *simw_redis_new(const char *address, int db, const char *root_key,
				   const char *service, const char *weighted)
{
	struct simw_source *s = source_new(service, weighted);
	if (!s)
		return NULL;
	const char *colon = strrchr(address, ':');
	s->port = colon ? atoi(colon + 1) : 6379;
	s->host = colon ? strndup(address, (size_t)(colon - address)) : strdup(address);
	s->root_key = strdup(root_key);
	s->db = db;
	if (!s->host || !s->root_key || s->port <= 0) {
		simw_source_free(s);
		return NULL;
	}
	return s;
}

void simw_source_free(struct simw_source *s)
{
	if (!s)
		return;
	if (s->rc)
		redisFree(s->rc);
	free(s->service);
	free(s->weighted);
	free(s->path);
	free(s->host);
	free(s->root_key);
	free(s);
}

static int poll_file(struct simw_source *s, struct simw_set *out, char *err, size_t errlen)
{
	struct stat st;
	if (stat(s->path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
		return -1;
	}
	if (s->seen && st.st_ino == s->last.st_ino && st.st_size == s->last.st_size &&
	    st.st_mtim.tv_sec == s->last.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == s->last.st_mtim.tv_nsec)
		return 0;
	s->last = st;
	s->seen = true;
	char *buf = NULL, e[256];
	size_t len = 0;
	if (fileio_read(s->path, 64u << 20, &buf, &len, e, sizeof e) < 0) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	int rc = simw_parse_yaml(buf ? buf : "", len, s->service, s->weighted, out, e, sizeof e);
	free(buf);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s (keeping the last good weights)", s->path, e);
		return -1;
	}
	return 1;
}

static int redis_fail(struct simw_source *s, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "redis %s:%d: %s: %s", s->host, s->port, what,
		 s->rc && s->rc->err ? s->rc->errstr : "unexpected reply");
	if (s->rc)
		redisFree(s->rc);
	s->rc = NULL;
	return -1;
}

static int poll_redis(struct simw_source *s, struct simw_set *out, char *err, size_t errlen)
{
	if (!s->rc) {
		struct timeval tv = { 1, 0 };
		s->rc = redisConnectWithTimeout(s->host, s->port, tv);
		if (!s->rc || s->rc->err)
			return redis_fail(s, "connect", err, errlen);
		redisSetTimeout(s->rc, tv);
		redisReply *r = redisCommand(s->rc, "SELECT %d", s->db);
		bool ok = r && r->type == REDIS_REPLY_STATUS;
		freeReplyObject(r);
		if (!ok)
			return redis_fail(s, "select", err, errlen);
	}
	char pattern[512];
	snprintf(pattern, sizeof pattern, "%s/http/services/*", s->root_key);
	char **keys = NULL, **vals = NULL;
	size_t n = 0, cap = 0;
	char cursor[32] = "0";
	int rc = -1;
	do {
		redisReply *r = redisCommand(s->rc, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			freeReplyObject(r);
			redis_fail(s, "scan", err, errlen);
			goto out;
		}
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		redisReply *ks = r->element[1];
		for (size_t i = 0; i < ks->elements; i++) {
			if (n >= SIMW_MAX * 8) {
				freeReplyObject(r);
				snprintf(err, errlen, "too many keys under %s", pattern);
				goto out;
			}
			keys = util_grow(keys, &cap, n + 1, sizeof *keys, 64);
			keys[n++] = xstrdup(ks->element[i]->str);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	vals = xcalloc(n, sizeof *vals);
	if (n) {
		const char **argv = xmalloc((n + 1) * sizeof *argv);
		argv[0] = "MGET";
		for (size_t i = 0; i < n; i++)
			argv[i + 1] = keys[i];
		redisReply *r = redisCommandArgv(s->rc, (int)n + 1, argv, NULL);
		free(argv);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != n) {
			freeReplyObject(r);
			redis_fail(s, "mget", err, errlen);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			vals[i] = strdup(r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : "");
		freeReplyObject(r);
	}
	char e[256];
	if (simw_from_kv(keys, vals, n, s->root_key, s->service, s->weighted, out, e, sizeof e) < 0) {
		snprintf(err, errlen, "redis: %s (keeping the last good weights)", e);
		goto out;
	}
	rc = 1;
out:
	for (size_t i = 0; i < n; i++) {
		free(keys[i]);
		if (vals)
			free(vals[i]);
	}
	free(keys);
	free(vals);
	return rc;
}

int simw_poll(struct simw_source *s, struct simw_set *out, char *err, size_t errlen)
{
	return s->path ? poll_file(s, out, err, errlen) : poll_redis(s, out, err, errlen);
}
