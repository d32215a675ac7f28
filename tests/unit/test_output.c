/* test_output: the output module. Rendering is checked by parsing the YAML
 * back with libyaml (every weight a plain integer scalar, drained servers
 * absent), with a randomized property test (seed from tu_seed()),
 * the Redis key layout, and the file output's take-over rule, unchanged
 * detection, kept permissions and dry run. */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <yaml.h>

#include "config.h"
#include "output.h"
#include "readback.h"
#include "testutil.h"


/* ---- YAML helpers ------------------------------------------------------- */

static yaml_node_t *get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static size_t seq_len(yaml_node_t *s)
{
	return s && s->type == YAML_SEQUENCE_NODE
		       ? (size_t)(s->data.sequence.items.top - s->data.sequence.items.start)
		       : 0;
}

static yaml_node_t *seq_at(yaml_document_t *d, yaml_node_t *s, size_t i)
{
	return yaml_document_get_node(d, s->data.sequence.items.start[i]);
}

static const char *sval(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A weight must be a plain scalar of digits: YAML reads it as an integer. */
static int int_val(yaml_node_t *n, int *out)
{
	const char *v = sval(n);
	if (!v || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !*v)
		return -1;
	for (const char *p = v; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	*out = atoi(v);
	return 0;
}

static int parse(const char *doc, size_t len, yaml_document_t *d)
{
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)doc, len);
	int ok = yaml_parser_load(&p, d);
	yaml_parser_delete(&p);
	return ok && yaml_document_get_root_node(d) ? 0 : -1;
}

/* ---- fixtures ----------------------------------------------------------- */

static struct wd_backend_cfg app_b[] = {
	{.name = "s1", .url = "http://10.0.0.1:8080", .weight = 50, .pin = -1},
	{.name = "s2", .url = "http://10.0.0.2:8080", .weight = 30, .pin = -1},
	{.name = "s3", .url = "http://10.0.0.3:8080", .weight = 20, .pin = 0},
};
static struct wd_backend_cfg canary_b[] = {
	{.name = "app-v1@file", .weight = 90, .pin = -1},
	{.name = "app-v2@file", .weight = 10, .pin = -1},
};
static struct wd_service_cfg svcs[] = {
	{.name = "app", .kind = WD_KIND_SERVERS, .backends = app_b, .n_backends = 3,
	 .health = {.set = true, .path = "/health", .port = 8081, .interval_ms = 10000,
		    .timeout_ms = 1500}},
	{.name = "canary", .kind = WD_KIND_WEIGHTED, .backends = canary_b, .n_backends = 2},
};
static const int app_w[] = {70, 30, 0};
static const int canary_w[] = {100, 0};
static const struct wd_output_service outs[] = {{&svcs[0], app_w}, {&svcs[1], canary_w}};

static void test_render_parses_back(void)
{
	char *doc, err[256];
	size_t len;
	CU_ASSERT_EQUAL_FATAL(traefik_yaml(outs, 2, &doc, &len, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(strlen(doc), len);
	CU_ASSERT_EQUAL(strncmp(doc, TRAEFIK_FILE_MARKER, strlen(TRAEFIK_FILE_MARKER)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, "do not edit"));
	yaml_document_t d;
	CU_ASSERT_EQUAL_FATAL(parse(doc, len, &d), 0);
	yaml_node_t *services = get(&d, get(&d, yaml_document_get_root_node(&d), "http"), "services");
	yaml_node_t *lb = get(&d, get(&d, services, "app"), "loadBalancer");
	yaml_node_t *servers = get(&d, lb, "servers");
	CU_ASSERT_EQUAL_FATAL(seq_len(servers), 2); /* s3 is drained: left out */
	int w;
	CU_ASSERT_STRING_EQUAL(sval(get(&d, seq_at(&d, servers, 0), "url")), "http://10.0.0.1:8080");
	CU_ASSERT(int_val(get(&d, seq_at(&d, servers, 0), "weight"), &w) == 0 && w == 70);
	CU_ASSERT_STRING_EQUAL(sval(get(&d, seq_at(&d, servers, 1), "url")), "http://10.0.0.2:8080");
	CU_ASSERT(int_val(get(&d, seq_at(&d, servers, 1), "weight"), &w) == 0 && w == 30);
	CU_ASSERT_PTR_NULL(strstr(doc, "10.0.0.3"));
	yaml_node_t *hc = get(&d, lb, "healthCheck");
	CU_ASSERT_STRING_EQUAL(sval(get(&d, hc, "path")), "/health");
	CU_ASSERT_STRING_EQUAL(sval(get(&d, hc, "interval")), "10s");
	CU_ASSERT_STRING_EQUAL(sval(get(&d, hc, "timeout")), "1500ms");
	CU_ASSERT(int_val(get(&d, hc, "port"), &w) == 0 && w == 8081);
	CU_ASSERT_PTR_NULL(get(&d, hc, "scheme"));
	yaml_node_t *ch = get(&d, get(&d, get(&d, services, "canary"), "weighted"), "services");
	CU_ASSERT_EQUAL_FATAL(seq_len(ch), 2); /* weighted children may be 0 */
	CU_ASSERT_STRING_EQUAL(sval(get(&d, seq_at(&d, ch, 1), "name")), "app-v2@file");
	CU_ASSERT(int_val(get(&d, seq_at(&d, ch, 1), "weight"), &w) == 0 && w == 0);
	yaml_document_delete(&d);
	free(doc);
}

static void test_render_refuses_all_zero(void)
{
	static const int zero3[] = {0, 0, 0}, neg[] = {50, -1, 0};
	struct wd_output_service s = {&svcs[0], zero3};
	char *doc, err[256];
	size_t len;
	CU_ASSERT_EQUAL(traefik_yaml(&s, 1, &doc, &len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(doc);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "service \"app\": every backend is at weight 0"));
	s.weights = neg;
	CU_ASSERT_EQUAL(traefik_yaml(&s, 1, &doc, &len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "negative weight -1"));
	struct wd_kv_list kv;
	CU_ASSERT_EQUAL(traefik_kv("traefik", &s, 1, &kv, err, sizeof(err)), -1);
}

/* A string libyaml refuses (not UTF-8, which the config never lets through)
 * fails the render early in the document with a message naming the cause;
 * every event after it is freed (LeakSanitizer and valgrind check that at
 * exit), on every tick it happens. */
static void test_render_emitter_failure(void)
{
	struct wd_backend_cfg bad_b[] = {
		{.name = "app-v1@file", .weight = 90, .pin = -1},
		{.name = "caf\xe9-v2", .weight = 10, .pin = -1},
	};
	struct wd_service_cfg bad = {.name = "canary", .kind = WD_KIND_WEIGHTED, .backends = bad_b,
				     .n_backends = 2};
	static const int w[] = {90, 10};
	const struct wd_output_service s[] = {{&bad, w}, {&svcs[0], app_w}};
	for (int tick = 0; tick < 3; tick++) {
		char *doc, err[256];
		size_t len;
		CU_ASSERT_EQUAL(traefik_yaml(s, 2, &doc, &len, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NULL(doc);
		CU_ASSERT_STRING_EQUAL(err, "YAML emitter: a name or URL is not valid UTF-8");
	}
}

/* Random names full of YAML's special characters and random weights: what
 * libyaml reads back is exactly what went in, every weight an integer. */
static void test_render_property(void)
{
	srand((unsigned)tu_seed());
	static const char alpha[] = "abcXYZ019 :#\"'\\-@.{}[]&*!|>%,?\t~é";
	for (int round = 0; round < 300; round++) {
		struct wd_backend_cfg b[8];
		char names[8][24], urls[8][48];
		int weights[8];
		size_t nb = 1 + (size_t)rand() % 8;
		int kind = rand() % 2, any = 0;
		for (size_t i = 0; i < nb; i++) {
			size_t l = 1 + (size_t)rand() % 12, j = 0;
			while (j < l) {
				char c = alpha[(size_t)rand() % (sizeof(alpha) - 1)];
				if ((unsigned char)c >= 0x80) { /* keep é whole */
					if (j + 2 > l)
						break;
					names[i][j++] = (char)0xc3;
					names[i][j++] = (char)0xa9;
					continue;
				}
				names[i][j++] = c;
			}
			names[i][j] = '\0';
			if (j == 0)
				snprintf(names[i], sizeof(names[i]), "true");
			snprintf(urls[i], sizeof(urls[i]), "http://h%zu.example:%d/%s", i, rand() % 65536,
				 rand() % 2 ? "#x" : "a b");
			weights[i] = rand() % 4 == 0 ? 0 : rand() % 1000;
			any |= weights[i] > 0;
			b[i] = (struct wd_backend_cfg){.name = names[i], .url = urls[i], .pin = -1};
		}
		if (!any)
			weights[0] = 1;
		struct wd_service_cfg svc = {.name = names[0], .kind = kind ? WD_KIND_WEIGHTED : WD_KIND_SERVERS,
					     .backends = b, .n_backends = nb};
		struct wd_output_service os = {&svc, weights};
		char *doc, err[256];
		size_t len;
		CU_ASSERT_EQUAL_FATAL(traefik_yaml(&os, 1, &doc, &len, err, sizeof(err)), 0);
		yaml_document_t d;
		CU_ASSERT_EQUAL_FATAL(parse(doc, len, &d), 0);
		yaml_node_t *s = get(&d, get(&d, get(&d, yaml_document_get_root_node(&d), "http"), "services"),
				     names[0]);
		yaml_node_t *list = kind ? get(&d, get(&d, s, "weighted"), "services")
					 : get(&d, get(&d, s, "loadBalancer"), "servers");
		size_t k = 0;
		for (size_t i = 0; i < nb; i++) {
			if (!kind && weights[i] == 0)
				continue;
			CU_ASSERT_FATAL(k < seq_len(list));
			yaml_node_t *e = seq_at(&d, list, k++);
			int w = -1;
			CU_ASSERT(int_val(get(&d, e, "weight"), &w) == 0 && w == weights[i]);
			const char *v = sval(get(&d, e, kind ? "name" : "url"));
			CU_ASSERT(v && strcmp(v, kind ? names[i] : urls[i]) == 0);
		}
		CU_ASSERT_EQUAL(k, seq_len(list));
		yaml_document_delete(&d);
		free(doc);
	}
}

static void test_redis_render(void)
{
	struct wd_kv_list kv;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(traefik_kv("traefik", outs, 2, &kv, err, sizeof(err)), 0);
	static const char *const want[][2] = {
		{"traefik/http/services/app/loadBalancer/servers/0/url", "http://10.0.0.1:8080"},
		{"traefik/http/services/app/loadBalancer/servers/0/weight", "70"},
		{"traefik/http/services/app/loadBalancer/servers/1/url", "http://10.0.0.2:8080"},
		{"traefik/http/services/app/loadBalancer/servers/1/weight", "30"},
		{"traefik/http/services/app/loadBalancer/healthCheck/path", "/health"},
		{"traefik/http/services/app/loadBalancer/healthCheck/port", "8081"},
		{"traefik/http/services/app/loadBalancer/healthCheck/interval", "10s"},
		{"traefik/http/services/app/loadBalancer/healthCheck/timeout", "1500ms"},
		{"traefik/http/services/canary/weighted/services/0/name", "app-v1@file"},
		{"traefik/http/services/canary/weighted/services/0/weight", "100"},
		{"traefik/http/services/canary/weighted/services/1/name", "app-v2@file"},
		{"traefik/http/services/canary/weighted/services/1/weight", "0"},
	};
	CU_ASSERT_EQUAL_FATAL(kv.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < kv.n; i++) {
		CU_ASSERT_STRING_EQUAL(kv.kv[i].key, want[i][0]);
		CU_ASSERT_STRING_EQUAL(kv.kv[i].value, want[i][1]);
	}
	traefik_kv_free(&kv);
}

/* The split layout: a weighted parent over one-server children, weights on
 * the parent, a drained backend left out of it but its child still written,
 * the health check on the children and followed by the parent. */
static struct wd_backend_cfg split_b[] = {
	{.name = "s1:80", .url = "http://10.0.0.1:80", .child = "web--s1-80", .pin = -1},
	{.name = "s2:80", .url = "http://10.0.0.2:80", .child = "web--s2-80", .pin = -1},
	{.name = "s3:80", .url = "http://10.0.0.3:80", .child = "web--s3-80", .pin = -1},
};
static struct wd_service_cfg split_svc = {
	.name = "web", .kind = WD_KIND_SERVERS, .metrics = WD_METRICS_TRAEFIK, .backends = split_b,
	.n_backends = 3, .health = {.set = true, .path = "/up"}};

static void test_split_layout(void)
{
	static const int w[] = {60, 0, 40};
	struct wd_output_service os = {&split_svc, w};
	char *doc, err[256];
	size_t len;
	CU_ASSERT_EQUAL_FATAL(traefik_yaml(&os, 1, &doc, &len, err, sizeof(err)), 0);
	yaml_document_t d;
	CU_ASSERT_EQUAL_FATAL(parse(doc, len, &d), 0);
	yaml_node_t *services = get(&d, get(&d, yaml_document_get_root_node(&d), "http"), "services");
	yaml_node_t *parent = get(&d, get(&d, services, "web"), "weighted");
	yaml_node_t *list = get(&d, parent, "services");
	CU_ASSERT_EQUAL_FATAL(seq_len(list), 2);
	int v;
	CU_ASSERT_STRING_EQUAL(sval(get(&d, seq_at(&d, list, 0), "name")), "web--s1-80");
	CU_ASSERT(int_val(get(&d, seq_at(&d, list, 0), "weight"), &v) == 0 && v == 60);
	CU_ASSERT_STRING_EQUAL(sval(get(&d, seq_at(&d, list, 1), "name")), "web--s3-80");
	CU_ASSERT(int_val(get(&d, seq_at(&d, list, 1), "weight"), &v) == 0 && v == 40);
	yaml_node_t *phc = get(&d, parent, "healthCheck");
	CU_ASSERT(phc && phc->type == YAML_MAPPING_NODE);
	CU_ASSERT_PTR_NULL(get(&d, get(&d, services, "web"), "loadBalancer"));
	for (size_t b = 0; b < 3; b++) {
		yaml_node_t *lb = get(&d, get(&d, services, split_b[b].child), "loadBalancer");
		yaml_node_t *servers = get(&d, lb, "servers");
		CU_ASSERT_EQUAL_FATAL(seq_len(servers), 1);
		CU_ASSERT_STRING_EQUAL(sval(get(&d, seq_at(&d, servers, 0), "url")), split_b[b].url);
		CU_ASSERT_PTR_NULL(get(&d, seq_at(&d, servers, 0), "weight"));
		CU_ASSERT_STRING_EQUAL(sval(get(&d, get(&d, lb, "healthCheck"), "path")), "/up");
	}
	yaml_document_delete(&d);
	free(doc);

	struct wd_kv_list kv;
	CU_ASSERT_EQUAL_FATAL(traefik_kv("tr", &os, 1, &kv, err, sizeof(err)), 0);
	static const char *const want[][2] = {
		{"tr/http/services/web/weighted/services/0/name", "web--s1-80"},
		{"tr/http/services/web/weighted/services/0/weight", "60"},
		{"tr/http/services/web/weighted/services/1/name", "web--s3-80"},
		{"tr/http/services/web/weighted/services/1/weight", "40"},
		{"tr/http/services/web/weighted/healthCheck", "true"},
		{"tr/http/services/web--s1-80/loadBalancer/servers/0/url", "http://10.0.0.1:80"},
		{"tr/http/services/web--s1-80/loadBalancer/healthCheck/path", "/up"},
		{"tr/http/services/web--s2-80/loadBalancer/servers/0/url", "http://10.0.0.2:80"},
		{"tr/http/services/web--s2-80/loadBalancer/healthCheck/path", "/up"},
		{"tr/http/services/web--s3-80/loadBalancer/servers/0/url", "http://10.0.0.3:80"},
		{"tr/http/services/web--s3-80/loadBalancer/healthCheck/path", "/up"},
	};
	CU_ASSERT_EQUAL_FATAL(kv.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < kv.n; i++) {
		CU_ASSERT_STRING_EQUAL(kv.kv[i].key, want[i][0]);
		CU_ASSERT_STRING_EQUAL(kv.kv[i].value, want[i][1]);
	}
	traefik_kv_free(&kv);

	/* every child drained: refused like any service that would serve nothing */
	static const int zero[] = {0, 0, 0};
	os.weights = zero;
	CU_ASSERT_EQUAL(traefik_kv("tr", &os, 1, &kv, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "every backend is at weight 0"));
}

/* Traefik's API answers compared with what was written: servers by url,
 * children by name with or without our provider's suffix, a missing weight
 * as 1, another kind or other weights told apart. */
static void test_readback_compare(void)
{
	static const struct traefik_entry lb_e[] = {{"http://a:1", 3}, {"http://b:1", 1}};
	static const struct traefik_entry w_e[] = {{"web--a", 70}, {"web--b", 30}, {"x@docker", 0}};
	struct traefik_service lb = {.name = "web", .weighted = false, .e = lb_e, .n = 2};
	struct traefik_service w = {.name = "web", .weighted = true, .e = w_e, .n = 3};
	char seen[256];
	CU_ASSERT_EQUAL(readback_compare("{\"loadBalancer\":{\"servers\":[{\"url\":\"http://b:1\"},"
					 "{\"url\":\"http://a:1\",\"weight\":3}]},\"status\":\"enabled\"}",
					 &lb, "file", seen, sizeof(seen)), 1);
	CU_ASSERT_EQUAL(readback_compare("{\"loadBalancer\":{\"servers\":[{\"url\":\"http://a:1\",\"weight\":2},"
					 "{\"url\":\"http://b:1\"}]}}", &lb, "file", seen, sizeof(seen)), 0);
	CU_ASSERT_STRING_EQUAL(seen, "http://a:1=2 http://b:1=1");
	CU_ASSERT_EQUAL(readback_compare("{\"weighted\":{\"services\":[{\"name\":\"web--a@file\",\"weight\":70},"
					 "{\"name\":\"web--b\",\"weight\":30},{\"name\":\"x@docker\",\"weight\":0}]}}",
					 &w, "file", seen, sizeof(seen)), 1);
	CU_ASSERT_EQUAL(readback_compare("{\"weighted\":{\"services\":[{\"name\":\"web--a@redis\",\"weight\":70},"
					 "{\"name\":\"web--b\",\"weight\":30},{\"name\":\"x@docker\",\"weight\":0}]}}",
					 &w, "file", seen, sizeof(seen)), 0);
	CU_ASSERT_EQUAL(readback_compare("{\"loadBalancer\":{\"servers\":[]}}", &w, "file", seen, sizeof(seen)), 0);
	CU_ASSERT_STRING_EQUAL(seen, "a loadBalancer service");
	CU_ASSERT_EQUAL(readback_compare("not json", &w, "file", seen, sizeof(seen)), -1);
}

/* ---- the file output ---------------------------------------------------- */

static struct wd_config *file_cfg(const char *path, bool take_over, bool dry)
{
	static struct wd_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.output.type = WD_OUT_FILE;
	cfg.output.path = (char *)path;
	cfg.output.take_over = take_over;
	cfg.dry_run = dry;
	cfg.services = svcs;
	cfg.n_services = 2;
	return &cfg;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static int count_entries(const char *d)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", d);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

static void test_file_take_over(void)
{
	char path[256], err[512];
	snprintf(path, sizeof(path), "%s/foreign.yml", tu_scratch_dir());
	put(path, "http:\n  routers: {}\n");
	struct output *o = output_new(file_cfg(path, false, false), err, sizeof(err));
	CU_ASSERT_PTR_NULL(o);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "was not written by weightd"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "output.take_over = true"));
	o = output_new(file_cfg(path, true, false), err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_EQUAL(output_write(o, outs, 2, err, sizeof(err)), OUTPUT_WRITTEN);
	output_free(o);
	/* Now it is weightd's: no take_over needed. */
	o = output_new(file_cfg(path, false, false), err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(o);
	output_free(o);
	unlink(path);
}

static void test_file_write_unchanged_mode(void)
{
	char path[256], err[512];
	snprintf(path, sizeof(path), "%s/weightd.yml", tu_scratch_dir());
	struct output *o = output_new(file_cfg(path, false, false), err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(output_kind(o), "file");
	CU_ASSERT_PTR_NULL(output_preview(o));
	CU_ASSERT_EQUAL(output_write(o, outs, 2, err, sizeof(err)), OUTPUT_WRITTEN);
	struct stat a, b;
	CU_ASSERT_EQUAL_FATAL(stat(path, &a), 0);
	CU_ASSERT_EQUAL(a.st_mode & 07777, 0644);
	CU_ASSERT_EQUAL(output_write(o, outs, 2, err, sizeof(err)), OUTPUT_UNCHANGED);
	stat(path, &b);
	CU_ASSERT_EQUAL(a.st_ino, b.st_ino);
	CU_ASSERT_EQUAL(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	/* The operator's mode is kept across a rewrite. */
	chmod(path, 0640);
	static const int w2[] = {60, 40, 0};
	struct wd_output_service o2[] = {{&svcs[0], w2}, outs[1]};
	CU_ASSERT_EQUAL(output_write(o, o2, 2, err, sizeof(err)), OUTPUT_WRITTEN);
	stat(path, &b);
	CU_ASSERT_NOT_EQUAL(a.st_ino, b.st_ino);
	CU_ASSERT_EQUAL(b.st_mode & 07777, 0640);
	/* Removed behind weightd's back: the same content is written again. */
	unlink(path);
	CU_ASSERT_EQUAL(output_write(o, o2, 2, err, sizeof(err)), OUTPUT_WRITTEN);
	CU_ASSERT_EQUAL(count_entries(tu_scratch_dir()), 1); /* no temporary file left */
	/* A failed write leaves the last good file and no temporary file. */
	static const int zero[] = {0, 0};
	struct wd_output_service bad[] = {outs[0], {&svcs[1], zero}};
	CU_ASSERT_EQUAL(output_write(o, bad, 2, err, sizeof(err)), -1);
	output_free(o);
	char *doc;
	size_t len;
	traefik_yaml(o2, 2, &doc, &len, err, sizeof(err));
	FILE *f = fopen(path, "r");
	char *got = calloc(1, len + 16);
	size_t n = fread(got, 1, len + 15, f);
	fclose(f);
	CU_ASSERT(n == len && memcmp(got, doc, len) == 0);
	free(got);
	free(doc);
	unlink(path);
}

static void test_file_missing_dir(void)
{
	char path[256], err[512];
	snprintf(path, sizeof(path), "%s/nodir/weightd.yml", tu_scratch_dir());
	struct output *o = output_new(file_cfg(path, false, false), err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_EQUAL(output_write(o, outs, 2, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot create a temporary file in"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file or directory"));
	output_free(o);
}

static void test_dry_run_touches_nothing(void)
{
	char path[256], err[512];
	snprintf(path, sizeof(path), "%s/dry.yml", tu_scratch_dir());
	put(path, "not weightd's\n");
	/* A foreign file is no obstacle: the dry run never opens it. */
	struct output *o = output_new(file_cfg(path, false, true), err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(output_kind(o), "dry-run");
	CU_ASSERT_EQUAL(output_write(o, outs, 2, err, sizeof(err)), OUTPUT_WRITTEN);
	CU_ASSERT_EQUAL(output_write(o, outs, 2, err, sizeof(err)), OUTPUT_UNCHANGED);
	const char *p = output_preview(o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "weight: 70"));
	output_free(o);
	FILE *f = fopen(path, "r");
	char buf[64] = "";
	CU_ASSERT_PTR_NOT_NULL(fgets(buf, sizeof(buf), f));
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "not weightd's\n");
	unlink(path);
	/* Redis dry run: the keys as lines, and no connection attempted. */
	struct wd_config *cfg = file_cfg(path, false, true);
	cfg->output.type = WD_OUT_REDIS;
	cfg->output.address = "127.0.0.1:1";
	cfg->output.root_key = "tk";
	o = output_new(cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_EQUAL(output_write(o, outs, 2, err, sizeof(err)), OUTPUT_WRITTEN);
	CU_ASSERT_PTR_NOT_NULL(strstr(output_preview(o),
				      "tk/http/services/app/loadBalancer/servers/0/weight = 70\n"));
	output_free(o);
}

static const struct tu_test output_tests[] = {
	{"render parses back", test_render_parses_back},
	{"render refuses all zero", test_render_refuses_all_zero},
	{"render emitter failure", test_render_emitter_failure},
	{"render property", test_render_property},
	{"redis render", test_redis_render},
	{"split layout", test_split_layout},
	{"read-back comparison", test_readback_compare},
	{"file take over", test_file_take_over},
	{"file write, unchanged, mode", test_file_write_unchanged_mode},
	{"file missing dir", test_file_missing_dir},
	{"dry run touches nothing", test_dry_run_touches_nothing},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"output", NULL, NULL, output_tests},
	{NULL, NULL, NULL, NULL},
};
