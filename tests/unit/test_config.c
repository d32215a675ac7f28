/* test_config: the config loader — a failing example for every validation
 * rule (message and line), the shipped etc/weightd.conf, defaults, templates,
 * secrets, and duration parsing. */
#include <math.h>

#include "config.h"
#include "testutil.h"

/* A valid config with slots. Line numbers matter: each slot sits on the line
 * named in its comment, and the expected error lines below rely on them. */
static const char *const base_lines[] = {
	"@INTERVAL@",                                                      /* 1 */
	"@TOP@",                                                           /* 2 */
	"prometheus = { url = \"http://127.0.0.1:9090\"; @PROM@ };",      /* 3 */
	"output = { @OUT@ };",                                             /* 4 */
	"policy = { latency_query = \"lat{svc=\\\"${service}\\\"}\"; window = \"1m\"; @POLICY@ };", /* 5 */
	"services = (",                                                    /* 6 */
	"  { name = \"svc\"; @SVC@",                                        /* 7 */
	"    backends = (",                                                /* 8 */
	"      { name = \"a\"; @BA@ },",                                    /* 9 */
	"      { name = \"b\"; @BB@ }",                                     /* 10 */
	"    );",                                                          /* 11 */
	"  }",                                                             /* 12 */
	");",                                                              /* 13 */
	NULL};

struct slots {
	const char *interval, *top, *prom, *out, *policy, *svc, *ba, *bb;
};

static char *build(const struct slots *s)
{
	static const char *const names[] = {"@INTERVAL@", "@TOP@", "@PROM@", "@OUT@",
					    "@POLICY@", "@SVC@", "@BA@", "@BB@"};
	const char *vals[] = {
		s->interval ? s->interval : "interval = \"15s\";",
		s->top ? s->top : "",
		s->prom ? s->prom : "",
		s->out ? s->out : "type = \"file\"; path = \"/tmp/weightd-test.yml\";",
		s->policy ? s->policy : "",
		s->svc ? s->svc : "",
		s->ba ? s->ba : "url = \"http://a:1\";",
		s->bb ? s->bb : "url = \"http://b:1\";",
	};
	size_t cap = 8192;
	char *out = calloc(1, cap);
	for (const char *const *l = base_lines; *l; l++) {
		const char *line = *l;
		char buf[2048];
		snprintf(buf, sizeof(buf), "%s", line);
		for (size_t i = 0; i < 8; i++) {
			char *at = strstr(buf, names[i]);
			if (at) {
				char rest[2048];
				snprintf(rest, sizeof(rest), "%s", at + strlen(names[i]));
				*at = '\0';
				strncat(buf, vals[i], sizeof(buf) - strlen(buf) - 1);
				strncat(buf, rest, sizeof(buf) - strlen(buf) - 1);
			}
		}
		strncat(out, buf, cap - strlen(out) - 2);
		strcat(out, "\n");
	}
	return out;
}

/* Loads text; returns 0/-1 and leaves errors in errs. */
static int load_text(const char *text, struct wd_config **cfg, struct wd_errors *errs,
		     char **path_out)
{
	char *path = tu_write_temp(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	int rc = config_load(path, cfg, errs, NULL);
	*path_out = path;
	return rc;
}

static int has_error(const struct wd_errors *e, const char *path, int line, const char *needle)
{
	char prefix[512];
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->msgs[i], prefix, strlen(prefix)) == 0 && strstr(e->msgs[i], needle))
			return 1;
	return 0;
}

struct bad_case {
	struct slots s;
	int line;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	/* top level */
	{{.interval = "interval = \"10\";"}, 1, "has no unit"},
	{{.interval = "interval = \"50ms\";"}, 1, "interval must be at least 100ms"},
	{{.interval = "interval = -3;"}, 1, "positive duration"},
	{{.top = "intervall = \"1s\";"}, 2, "unknown key \"intervall\""},
	{{.top = "log_level = \"loud\";"}, 2, "log_level \"loud\""},
	{{.top = "listen = \"nocolon\";"}, 2, "listen \"nocolon\" must be HOST:PORT"},
	{{.top = "dry_run = 1;"}, 2, "dry_run must be true or false"},
	/* prometheus */
	{{.prom = "timeout = \"-1s\";"}, 3, "must be positive"},
	{{.prom = "headers = [ \"NoColon\" ];"}, 3, "headers[0] must be \"Name: value\""},
	{{.prom = "bearer_token_file = \"/nonexistent/token\";"}, 3, "cannot read \"/nonexistent/token\""},
	{{.prom = "password_file = \"/etc/hostname\";"}, 3, "password_file needs a username"},
	{{.prom = "insecure = true;"}, 3, "unknown key \"insecure\" in prometheus"},
	{{.prom = "max_concurrency = 0;"}, 3, "prometheus.max_concurrency 0 not within 1..1024"},
	{{.prom = "max_concurrency = 5000;"}, 3, "prometheus.max_concurrency 5000 not within 1..1024"},
	/* output */
	{{.out = "type = \"s3\";"}, 4, "output.type \"s3\""},
	{{.out = "type = \"file\";"}, 4, "output.path is required"},
	{{.out = "type = \"file\"; path = \"/tmp/x\"; db = 1;"}, 4, "output.db is only for type \"redis\""},
	{{.out = "type = \"redis\"; address = \"nohostport\";"}, 4, "must be HOST:PORT"},
	{{.out = "type = \"redis\"; path = \"/tmp/x\";"}, 4, "output.path is only for type \"file\""},
	{{.out = "type = \"redis\"; db = -1;"}, 4, "output.db must be 0..1000"},
	{{.out = "path = \"/tmp/x\";"}, 4, "output.type is required"},
	/* policy */
	{{.policy = "kp = -0.1;"}, 5, "kp must not be negative"},
	{{.policy = "ki = \"fast\";"}, 5, "ki must be a number"},
	{{.policy = "objective = \"fastest\";"}, 5, "objective \"fastest\""},
	{{.policy = "eject_error_ratio = 0.0;"}, 5, "eject_error_ratio 0 must be in (0, 1]"},
	{{.policy = "eject_error_ratio = 1.5;"}, 5, "eject_error_ratio 1.5 must be in (0, 1]"},
	{{.policy = "max_step = 0.0;"}, 5, "max_step must be above 0"},
	{{.policy = "total = 0;"}, 5, "total 0 must be at least 1"},
	{{.policy = "min_weight = 0;"}, 5, "min_weight 0 must be at least 1"},
	{{.policy = "min_weight = 20; max_weight = 10;"}, 5, "max_weight 10 below min_weight 20"},
	{{.policy = "max_weight = 200;"}, 5, "max_weight 200 above total 100"},
	{{.policy = "stale_ticks = 0;"}, 5, "stale_ticks must be at least 1"},
	{{.policy = "deadband = -1;"}, 5, "deadband must not be negative"},
	{{.policy = "total = 1.5;"}, 5, "total must be an integer"},
	{{.policy = "gain = 1.0;"}, 5, "unknown key \"gain\" in policy"},
	{{.policy = "error_penalty = -2.0;"}, 5, "error_penalty must not be negative"},
	{{.policy = "min_rate = -1.0;"}, 5, "min_rate must not be negative"},
	/* services */
	{{.svc = "kind = \"pool\";"}, 7, "kind \"pool\""},
	{{.svc = "label = \"\";"}, 7, "label is empty"},
	{{.svc = "frozen = true;"}, 7, "unknown key \"frozen\" in service"},
	{{.svc = "latency_query = \"\";"}, 7, "no latency_query"},
	{{.svc = "policy = { kd = -1.0; };"}, 7, "kd must not be negative"},
	{{.svc = "health_check = { interval = \"5s\"; };"}, 7, "health_check.path must be set"},
	{{.svc = "kind = \"weighted\"; health_check = { path = \"/h\"; };", .ba = "", .bb = ""}, 7,
	 "health_check is only for kind \"servers\""},
	{{.svc = "freeze = \"yes\";"}, 7, "freeze must be true or false"},
	/* backends */
	{{.ba = ""}, 9, "backend \"a\": url is required"},
	{{.ba = "url = \"ftp://a\";"}, 9, "url \"ftp://a\" is not an http:// or https:// URL"},
	{{.svc = "kind = \"weighted\";", .bb = ""}, 9, "url is only for kind \"servers\""},
	{{.ba = "url = \"http://a:1\"; weight = 150;"}, 9, "weight 150 not within min_weight 1 .. max_weight 100"},
	{{.policy = "min_weight = 10;", .ba = "url = \"http://a:1\"; weight = 5;"}, 9,
	 "weight 5 not within min_weight 10"},
	{{.ba = "url = \"http://a:1\"; pin = 101;"}, 9, "pin 101 not within 0..100"},
	{{.ba = "url = \"http://a:1\"; pin = -2;"}, 9, "pin -2 not within 0..100"},
	{{.ba = "url = \"http://a:1\"; pin = 60;", .bb = "url = \"http://b:1\"; pin = 60;"}, 8,
	 "pins sum to 120, above total 100"},
	{{.ba = "url = \"http://a:1\"; pin = 0;", .bb = "url = \"http://b:1\"; pin = 0;"}, 8,
	 "every backend is pinned to 0"},
	{{.ba = "url = \"http://a:1\"; pin = 30;", .bb = "url = \"http://b:1\"; pin = 30;"}, 8,
	 "the pins must sum to total 100"},
	{{.ba = "url = \"http://a:1\"; pin = 95;", .policy = "min_weight = 10;"}, 8,
	 "need more than the 5 left by the pins"},
	{{.policy = "max_weight = 40;"}, 8, "cannot reach total 100"},
	{{.ba = "url = \"http://a:1\"; colour = \"red\";"}, 9, "unknown key \"colour\" in backend"},
	{{.ba = "url = \"http://a:1\"; weight = \"heavy\";"}, 9, "weight must be an integer"},
};

static void test_each_validation_rule(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char *text = build(&bad_cases[i].s);
		struct wd_config *cfg = NULL;
		struct wd_errors errs = {0};
		char *path = NULL;
		int rc = load_text(text, &cfg, &errs, &path);
		int found = has_error(&errs, path, bad_cases[i].line, bad_cases[i].msg);
		if (rc != -1 || !found) {
			fprintf(stderr, "\ncase %zu: expected %s:%d: ...%s...; got rc=%d and:\n", i, path,
				bad_cases[i].line, bad_cases[i].msg, rc);
			for (size_t k = 0; k < errs.n; k++)
				fprintf(stderr, "  %s\n", errs.msgs[k]);
		}
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_PTR_NULL(cfg);
		CU_ASSERT_TRUE(found);
		errors_free(&errs);
		config_free(cfg);
		unlink(path);
		free(path);
		free(text);
	}
}

/* Whole-file cases the slot template cannot express. */
struct whole_case {
	const char *text;
	int line;
	const char *msg;
};

static const struct whole_case whole_cases[] = {
	{"interval = ;\n", 1, "syntax error"},
	{"prometheus = { url = \"http://p:9090\"; };\noutput = { type = \"file\"; path = \"/tmp/x\"; };\n",
	 0, "services = ( { ... } ) is required"},
	{"output = { type = \"file\"; path = \"/tmp/x\"; };\nservices = ();\n", 0,
	 "prometheus = { url = ...; } is required"},
	{"prometheus = { url = \"http://p:9090\"; };\noutput = { type = \"file\"; path = \"/tmp/x\"; };\n"
	 "services = ();\n", 3, "services needs at least one service"},
	{"prometheus = { url = \"p:9090\"; };\noutput = { type = \"file\"; path = \"/tmp/x\"; };\n"
	 "services = ();\n", 1, "prometheus.url \"p:9090\" is not an http:// or https:// URL"},
	{"prometheus = { url = \"http://p:9090\"; };\noutput = { type = \"file\"; path = \"/tmp/x\"; };\n"
	 "services = (\n"
	 "  { name = \"s\"; latency_query = \"q\"; backends = ( { name = \"a\"; url = \"http://a\"; } ); },\n"
	 "  { name = \"s\"; latency_query = \"q\"; backends = ( { name = \"a\"; url = \"http://a\"; } ); }\n"
	 ");\n",
	 5, "service \"s\" defined twice (first at line 4)"},
	{"prometheus = { url = \"http://p:9090\"; };\noutput = { type = \"file\"; path = \"/tmp/x\"; };\n"
	 "services = (\n"
	 "  { name = \"s\"; latency_query = \"q\"; backends = (\n"
	 "     { name = \"a\"; url = \"http://a\"; },\n"
	 "     { name = \"a\"; url = \"http://b\"; } ); }\n"
	 ");\n",
	 6, "backend \"a\" defined twice (first at line 5)"},
	{"prometheus = { url = \"http://p:9090\"; };\noutput = { type = \"file\"; path = \"/tmp/x\"; };\n"
	 "services = (\n"
	 "  { name = \"s\"; latency_query = \"q\";\n"
	 "    backends = ( ); }\n"
	 ");\n",
	 5, "needs at least one backend"},
	{"prometheus = { url = \"http://p:9090\"; };\noutput = { type = \"file\"; path = \"/tmp/x\"; };\n"
	 "services = (\n"
	 "  { name = \"s\"; latency_query = \"q\"; }\n"
	 ");\n",
	 4, "backends is required"},
	{"prometheus = { url = \"http://p:9090\"; };\noutput = { type = \"file\"; path = \"/tmp/x\"; };\n"
	 "services = (\n"
	 "  { latency_query = \"q\"; backends = ( { name = \"a\"; url = \"http://a\"; } ); }\n"
	 ");\n",
	 4, "service without a name"},
	{"prometheus = { url = \"http://p:9090\"; };\noutput = { type = \"file\"; path = \"/tmp/x\"; };\n"
	 "services = (\n"
	 "  { name = \"s\"; latency_query = \"q\"; backends = ( { url = \"http://a\"; } ); }\n"
	 ");\n",
	 4, "backend without a name"},
};

static void test_whole_file_errors(void)
{
	for (size_t i = 0; i < sizeof(whole_cases) / sizeof(whole_cases[0]); i++) {
		struct wd_config *cfg = NULL;
		struct wd_errors errs = {0};
		char *path = NULL;
		int rc = load_text(whole_cases[i].text, &cfg, &errs, &path);
		int found = has_error(&errs, path, whole_cases[i].line, whole_cases[i].msg);
		if (!found) {
			fprintf(stderr, "\nwhole case %zu: expected line %d ...%s...; got:\n", i,
				whole_cases[i].line, whole_cases[i].msg);
			for (size_t k = 0; k < errs.n; k++)
				fprintf(stderr, "  %s\n", errs.msgs[k]);
		}
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_TRUE(found);
		errors_free(&errs);
		config_free(cfg);
		unlink(path);
		free(path);
	}
}

static void test_all_errors_reported(void)
{
	struct slots s = {.top = "log_level = \"loud\";", .policy = "kp = -1.0;",
			  .ba = "url = \"ftp://a\";"};
	char *text = build(&s);
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	char *path = NULL;
	CU_ASSERT_EQUAL(load_text(text, &cfg, &errs, &path), -1);
	CU_ASSERT_TRUE(has_error(&errs, path, 2, "log_level"));
	CU_ASSERT_TRUE(has_error(&errs, path, 5, "kp must not be negative"));
	CU_ASSERT_TRUE(has_error(&errs, path, 9, "ftp://a"));
	CU_ASSERT_EQUAL(errs.n, 3);
	errors_free(&errs);
	unlink(path);
	free(path);
	free(text);
}

static void test_missing_file(void)
{
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	CU_ASSERT_EQUAL(config_load("/nonexistent/weightd.conf", &cfg, &errs, NULL), -1);
	CU_ASSERT_EQUAL_FATAL(errs.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.msgs[0], "/nonexistent/weightd.conf: cannot open"));
	errors_free(&errs);
}

static void test_valid_defaults_and_templates(void)
{
	struct slots s = {.svc = "policy = { ki = 0.3; };"};
	char *text = build(&s);
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	char *path = NULL;
	CU_ASSERT_EQUAL_FATAL(load_text(text, &cfg, &errs, &path), 0);
	CU_ASSERT_EQUAL(cfg->interval_ms, 15000);
	CU_ASSERT_FALSE(cfg->dry_run);
	CU_ASSERT_STRING_EQUAL(cfg->listen, "127.0.0.1:9477");
	CU_ASSERT_EQUAL(cfg->prom.timeout_ms, 5000);
	CU_ASSERT_EQUAL(cfg->prom.max_response_bytes, 16 << 20);
	CU_ASSERT_EQUAL(cfg->prom.max_concurrency, 32);
	CU_ASSERT_EQUAL(cfg->n_services, 1);
	const struct wd_service_cfg *svc = &cfg->services[0];
	CU_ASSERT_STRING_EQUAL(svc->label, "instance");
	CU_ASSERT_EQUAL(svc->kind, WD_KIND_SERVERS);
	CU_ASSERT_STRING_EQUAL(svc->policy.latency_query, "lat{svc=\"svc\"}");
	CU_ASSERT_STRING_EQUAL(cfg->policy.latency_query, "lat{svc=\"${service}\"}");
	CU_ASSERT_DOUBLE_EQUAL(svc->policy.ki, 0.3, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(cfg->policy.ki, 0.4, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(svc->policy.kp, 0.2, 1e-12);
	CU_ASSERT_EQUAL(svc->policy.total, 100);
	CU_ASSERT_EQUAL(svc->n_backends, 2);
	CU_ASSERT_EQUAL(svc->backends[0].weight, 50); /* default: an equal share */
	CU_ASSERT_EQUAL(svc->backends[0].pin, -1);
	CU_ASSERT_EQUAL(svc->backends[0].line, 9);
	CU_ASSERT_PTR_NOT_NULL(config_find_service(cfg, "svc"));
	CU_ASSERT_PTR_NULL(config_find_service(cfg, "nope"));
	CU_ASSERT_EQUAL(config_backend_index(svc, "b"), 1);
	CU_ASSERT_EQUAL(config_backend_index(svc, "c"), -1);
	config_free(cfg);
	unlink(path);
	free(path);
	free(text);
}

static void test_secrets_read_from_files(void)
{
	char *tok = tu_write_temp("s3cr3t-token\n");
	char *pw = tu_write_temp("hunter2\r\n");
	char prom[512], out[512];
	snprintf(prom, sizeof(prom), "bearer_token_file = \"%s\"; headers = [ \"X-Scope-OrgID: team-a\" ];", tok);
	snprintf(out, sizeof(out), "type = \"redis\"; address = \"127.0.0.1:6379\"; username = \"w\"; password_file = \"%s\";", pw);
	struct slots s = {.prom = prom, .out = out};
	char *text = build(&s);
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	char *path = NULL;
	CU_ASSERT_EQUAL_FATAL(load_text(text, &cfg, &errs, &path), 0);
	CU_ASSERT_STRING_EQUAL(cfg->prom.bearer_token, "s3cr3t-token");
	CU_ASSERT_STRING_EQUAL(cfg->output.password, "hunter2");
	CU_ASSERT_STRING_EQUAL(cfg->output.username, "w");
	CU_ASSERT_EQUAL(cfg->output.type, WD_OUT_REDIS);
	CU_ASSERT_STRING_EQUAL(cfg->output.root_key, "traefik");
	CU_ASSERT_EQUAL(cfg->prom.n_headers, 1);
	CU_ASSERT_STRING_EQUAL(cfg->prom.headers[0], "X-Scope-OrgID: team-a");
	config_free(cfg);

	/* An empty secret file is an error that names the file, not the content. */
	FILE *f = fopen(tok, "w");
	fclose(f);
	CU_ASSERT_EQUAL(config_load(path, &cfg, &errs, NULL), -1);
	CU_ASSERT_TRUE(has_error(&errs, path, 3, "is empty"));
	for (size_t i = 0; i < errs.n; i++)
		CU_ASSERT_PTR_NULL(strstr(errs.msgs[i], "hunter2"));
	errors_free(&errs);
	unlink(path);
	unlink(tok);
	unlink(pw);
	free(path);
	free(tok);
	free(pw);
	free(text);
}

static void test_marginal_is_an_alias(void)
{
	/* The retired objective still loads (no rate_query needed any more),
	 * steers as "latency", and says so once. */
	struct slots s = {.svc = "policy = { objective = \"marginal\"; };"};
	char *text = build(&s);
	char *path = tu_write_temp(text);
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0}, warns = {0};
	CU_ASSERT_EQUAL_FATAL(config_load(path, &cfg, &errs, &warns), 0);
	CU_ASSERT_EQUAL(cfg->services[0].policy.objective, WD_OBJ_LATENCY);
	CU_ASSERT_EQUAL_FATAL(warns.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(warns.msgs[0], ":7: objective \"marginal\" is retired"));
	CU_ASSERT_PTR_NOT_NULL(strstr(warns.msgs[0], "remove the objective key"));
	errors_free(&warns);
	config_free(cfg);
	unlink(path);
	free(path);
	free(text);
}

static void test_short_interval_warns(void)
{
	struct slots s = {.interval = "interval = \"500ms\";"};
	char *text = build(&s);
	char *path = tu_write_temp(text);
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0}, warns = {0};
	CU_ASSERT_EQUAL_FATAL(config_load(path, &cfg, &errs, &warns), 0);
	CU_ASSERT_EQUAL(cfg->interval_ms, 500);
	CU_ASSERT_EQUAL_FATAL(warns.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(warns.msgs[0], ":1: interval below 2s"));
	errors_free(&warns);
	config_free(cfg);
	unlink(path);
	free(path);
	free(text);
}

static void test_shipped_config(void)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	snprintf(path, sizeof(path), "%s/etc/weightd.conf", top ? top : ".");
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	int rc = config_load(path, &cfg, &errs, NULL);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(cfg->n_services, 2);
	CU_ASSERT_EQUAL(cfg->services[1].kind, WD_KIND_WEIGHTED);
	CU_ASSERT_STRING_EQUAL(cfg->services[1].label, "service");
	CU_ASSERT_TRUE(cfg->services[0].health.set);
	CU_ASSERT_EQUAL(cfg->services[0].health.interval_ms, 10000);
	CU_ASSERT_STRING_EQUAL(cfg->services[0].backends[1].url, "http://server2:8080");
	config_free(cfg);
}

struct dur_case {
	const char *in;
	int64_t ms; /* -1: must fail */
	const char *msg;
};

static void test_durations(void)
{
	static const struct dur_case cases[] = {
		{"250ms", 250, NULL},     {"10s", 10000, NULL},   {"1m", 60000, NULL},
		{"1h", 3600000, NULL},    {"1.5s", 1500, NULL},   {"1m30s", 90000, NULL},
		{"100ms", 100, NULL},     {"10", -1, "has no unit"},
		{"-1s", -1, "must be positive"},                 {"1x", -1, "unknown unit"},
		{"", -1, "empty duration"},                      {"s", -1, "invalid duration"},
		{"0s", -1, "at least 1ms"},                      {"0.1ms", -1, "at least 1ms"},
		{"99999999999h", -1, "too large"},               {"1e999s", -1, "invalid"},
		{"1 s", -1, "unknown unit"},                 {"+5s", -1, "must be positive"},
		{"5sec", -1, "invalid duration"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = -42;
		char err[256] = "";
		int rc = config_parse_duration(cases[i].in, &ms, err, sizeof(err));
		if (cases[i].ms >= 0) {
			CU_ASSERT_EQUAL(rc, 0);
			CU_ASSERT_EQUAL(ms, cases[i].ms);
		} else {
			if (rc != -1 || !strstr(err, cases[i].msg))
				fprintf(stderr, "\nduration \"%s\": rc=%d err=%s\n", cases[i].in, rc, err);
			CU_ASSERT_EQUAL(rc, -1);
			CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].msg));
		}
	}
}

static void test_numeric_durations(void)
{
	struct slots s = {.interval = "interval = 2.5;", .prom = "timeout = 3;"};
	char *text = build(&s);
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	char *path = NULL;
	CU_ASSERT_EQUAL_FATAL(load_text(text, &cfg, &errs, &path), 0);
	CU_ASSERT_EQUAL(cfg->interval_ms, 2500);
	CU_ASSERT_EQUAL(cfg->prom.timeout_ms, 3000);
	config_free(cfg);
	unlink(path);
	free(path);
	free(text);
}

static void test_template_expansion(void)
{
	char *x = config_expand_template("a${service}b${service}", "svc");
	CU_ASSERT_STRING_EQUAL(x, "asvcbsvc");
	free(x);
	x = config_expand_template("plain", "svc");
	CU_ASSERT_STRING_EQUAL(x, "plain");
	free(x);
	x = config_expand_template("${servic}", "svc");
	CU_ASSERT_STRING_EQUAL(x, "${servic}");
	free(x);
}

int main(void)
{
	CU_initialize_registry();
	CU_pSuite s = CU_add_suite("config", NULL, NULL);
	CU_add_test(s, "every validation rule names its line", test_each_validation_rule);
	CU_add_test(s, "whole-file errors", test_whole_file_errors);
	CU_add_test(s, "all errors reported, not just the first", test_all_errors_reported);
	CU_add_test(s, "missing file", test_missing_file);
	CU_add_test(s, "defaults, overrides and templates", test_valid_defaults_and_templates);
	CU_add_test(s, "secrets from files", test_secrets_read_from_files);
	CU_add_test(s, "short interval warns", test_short_interval_warns);
	CU_add_test(s, "objective marginal: an alias with a warning", test_marginal_is_an_alias);
	CU_add_test(s, "etc/weightd.conf loads", test_shipped_config);
	CU_add_test(s, "durations", test_durations);
	CU_add_test(s, "numeric durations are seconds", test_numeric_durations);
	CU_add_test(s, "${service} templates", test_template_expansion);
	return tu_run();
}
