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
	{{.out = "type = \"redis\"; db = -1;"}, 4, "output.db -1 not within 0..1000"},
	{{.out = "path = \"/tmp/x\";"}, 4, "output.type is required"},
	/* policy */
	{{.policy = "kp = -0.1;"}, 5, "policy.kp -0.1 is negative"},
	{{.policy = "ki = \"fast\";"}, 5, "ki must be a number"},
	{{.policy = "objective = \"fastest\";"}, 5, "objective \"fastest\""},
	{{.policy = "eject_error_ratio = 0.0;"}, 5, "eject_error_ratio 0 must be in (0, 1]"},
	{{.policy = "eject_error_ratio = 1.5;"}, 5, "eject_error_ratio 1.5 must be in (0, 1]"},
	{{.policy = "max_step = 0.0;"}, 5, "policy.max_step 0 must be above 0"},
	{{.policy = "total = 0;"}, 5, "total 0 must be at least 1"},
	{{.policy = "min_weight = 0;"}, 5, "min_weight 0 must be at least 1"},
	{{.policy = "min_weight = 20; max_weight = 10;"}, 5, "max_weight 10 below min_weight 20"},
	{{.policy = "max_weight = 200;"}, 5, "max_weight 200 above total 100"},
	{{.policy = "stale_ticks = 0;"}, 5, "stale_ticks 0 must be at least 1"},
	{{.policy = "deadband = -1;"}, 5, "policy.deadband -1 is negative"},
	{{.policy = "write_budget = 101;"}, 5, "policy.write_budget 101 not within 0..100"},
	{{.policy = "write_budget = -1;"}, 5, "policy.write_budget -1 not within 0..100"},
	{{.policy = "total = 1.5;"}, 5, "total must be an integer"},
	{{.policy = "gain = 1.0;"}, 5, "unknown key \"gain\" in policy"},
	{{.policy = "error_penalty = -2.0;"}, 5, "policy.error_penalty -2 is negative"},
	{{.policy = "min_rate = -1.0;"}, 5, "policy.min_rate -1 is negative"},
	/* services */
	{{.svc = "kind = \"pool\";"}, 7, "kind \"pool\""},
	{{.svc = "label = \"\";"}, 7, "label is empty"},
	{{.svc = "frozen = true;"}, 7, "unknown key \"frozen\" in service"},
	{{.svc = "latency_query = \"\";"}, 7, "no latency_query"},
	{{.svc = "policy = { kd = -1.0; };"}, 7, "service \"svc\": policy.kd -1 is negative"},
	{{.svc = "health_check = { interval = \"5s\"; };"}, 7, "health_check.path is required"},
	{{.svc = "health_check = { path = \"h\"; };"}, 7, "health_check.path \"h\" must start with \"/\""},
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
	/* output.type "haproxy" */
	{{.out = "type = \"haproxy\";"}, 4, "output.address (HAProxy's runtime API"},
	{{.out = "type = \"haproxy\"; address = \"nohostport\";"}, 4, "must be HOST:PORT"},
	{{.out = "type = \"haproxy\"; address = \"127.0.0.1:9999\"; root_key = \"x\";"}, 4, "output.root_key is only for type \"redis\""},
	{{.out = "type = \"file\"; path = \"/tmp/x\"; address = \"h:1\";"}, 4, "output.address is only for type \"redis\" or \"haproxy\""},
	{{.out = "type = \"haproxy\"; address = \"127.0.0.1:9999\";", .policy = "total = 300; max_weight = 200;"}, 7, "total 300 and max_weight 200 must be at most 256"},
	{{.out = "type = \"haproxy\"; address = \"127.0.0.1:9999\";", .policy = "total = 1000; max_weight = 500;"}, 7, "max_weight 500 must be at most 256"},
	{{.out = "type = \"haproxy\"; address = \"127.0.0.1:9999\";", .svc = "kind = \"weighted\";", .ba = "", .bb = ""}, 7, "kind must be \"servers\""},
	{{.out = "type = \"haproxy\"; address = \"127.0.0.1:9999\";", .svc = "health_check = { path = \"/h\"; };"}, 7, "checks belong in haproxy.cfg"},
	{{.out = "type = \"haproxy\"; address = \"127.0.0.1:9999\";", .svc = "haproxy_backend = \"a b\";"}, 7, "HAProxy backend name \"a b\" must be"},
	{{.out = "type = \"haproxy\"; address = \"127.0.0.1:9999\";", .ba = "haproxy_server = \"x;show info\";"}, 9, "HAProxy server name \"x;show info\""},
	{{.out = "type = \"haproxy\"; address = \"127.0.0.1:9999\";", .bb = "haproxy_server = \"a\";"}, 10, "HAProxy server \"svc/a\" is already backend \"a\""},
	{{.svc = "haproxy_backend = \"x\";"}, 7, "haproxy_backend is only for output.type \"haproxy\""},
	{{.ba = "url = \"http://a:1\"; haproxy_server = \"x\";"}, 9, "haproxy_server is only for output.type"},
	{{.ba = "url = \"http://a:1\"; weight = -5;"}, 9, "backend \"a\": weight -5 is negative"},
	{{.ba = "url = \"http://a b:1\";"}, 9, "url \"http://a b:1\" is not an http:// or https:// URL"},
	{{.ba = "url = \"http://a:1\n\";"}, 9, "is not an http:// or https:// URL"},
	{{.svc = "label = \"inst-ance\";"}, 7,
	 "label \"inst-ance\" is not a Prometheus label name"},
	{{.svc = "label = \"1x\";"}, 7, "label \"1x\" is not a Prometheus label name"},
	{{.out = "type = \"redis\"; username = \"weightd\";"}, 4,
	 "output.username needs a password_file"},
	{{.out = "type = \"redis\"; root_key = \"traefik/\";"}, 4,
	 "output.root_key \"traefik/\" must be a key prefix"},
	{{.out = "type = \"redis\"; root_key = \"a b\";"}, 4, "output.root_key \"a b\" must be a key prefix"},
	{{.out = "type = \"redis\"; root_key = \"t*\";"}, 4, "output.root_key \"t*\" must be a key prefix"},
	{{.svc = "health_check = { path = \"/he alth\"; };"}, 7,
	 "health_check.path \"/he alth\" must start with \"/\" and hold no space"},
	{{.svc = "health_check = { path = \"/h\"; hostname = \"a\\nb\"; };"}, 7,
	 "health_check.hostname must be a host name"},
	/* strings that are not UTF-8 (libconfig's \x escapes make the bytes) */
	{{.ba = "url = \"http://caf\\xe9:1\";"}, 9, "url is not valid UTF-8 (byte 11 of the string)"},
	{{.policy = "error_query = \"err{x=\\\"\\xc3\\x28\\\"}\";"}, 5,
	 "error_query is not valid UTF-8 (byte 8 of the string)"},
	{{.prom = "headers = [ \"X-Tenant: \\xff\" ];"}, 3,
	 "prometheus.headers[] is not valid UTF-8 (byte 11 of the string)"},
	{{.svc = "label = \"\\xed\\xa0\\x80\";"}, 7, "label is not valid UTF-8 (byte 1 of the string)"},
	{{.out = "type = \"redis\"; root_key = \"tr\\xc0\\xafk\";"}, 4,
	 "root_key is not valid UTF-8 (byte 3 of the string)"},
};

/* Loads text, which must fail with msg at line (case i, for the message). */
static void expect_error(size_t i, const char *text, int line, const char *msg)
{
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	char *path = NULL;
	int rc = load_text(text, &cfg, &errs, &path);
	int found = has_error(&errs, path, line, msg);
	if (rc != -1 || !found) {
		fprintf(stderr, "\ncase %zu: expected %s:%d: ...%s...; got rc=%d and:\n", i, path, line,
			msg, rc);
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
}

static void test_each_validation_rule(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char *text = build(&bad_cases[i].s);
		expect_error(i, text, bad_cases[i].line, bad_cases[i].msg);
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

/* A service (and a weighted child) named NAME on line 4. */
#define NAMED(name, child)                                                                   \
	"prometheus = { url = \"http://p:9090\"; };\noutput = { type = \"file\"; path = \"/tmp/x\"; };\n" \
	"services = (\n"                                                                       \
	"  { name = \"" name "\"; kind = \"weighted\"; latency_query = \"q\";"                    \
	" backends = ( { name = \"" child "\"; } ); }\n"                                         \
	");\n"

/* Names that would break a Redis key, a provider reference or a query. */
static const struct whole_case name_cases[] = {
	{NAMED("a/b", "x@file"), 4, "service name \"a/b\" may use only letters, digits, \".\", \"_\" and \"-\""},
	{NAMED("a@file", "x@file"), 4, "service name \"a@file\" may use only letters"},
	{NAMED("a\\\"} or vector(1) #", "x"), 4, "service name \"a\"} or vector(1) #\" may use only"},
	{NAMED("a b", "x"), 4, "service name \"a b\" may use only"},
	{NAMED("caf\xc3\xa9", "x"), 4, "service name \"caf\xc3\xa9\" may use only"},
	{NAMED("app", "x/y"), 4, "backend \"x/y\" names a Traefik service, so it may use only"},
	{NAMED("app", "x@file@docker"), 4, "backend \"x@file@docker\" names a Traefik service"},
	{NAMED("app", "x@"), 4, "backend \"x@\" names a Traefik service"},
	{NAMED("app", "@file"), 4, "backend \"@file\" names a Traefik service"},
	{NAMED("app", "x`y"), 4, "backend \"x`y\" names a Traefik service"},
	{NAMED("app\\xff", "x"), 4, "name is not valid UTF-8 (byte 4 of the string)"},
	{"prometheus = { url = \"http://p:9090\"; };\noutput = { type = \"file\"; path = \"/tmp/x\"; };\n"
	 "services = (\n"
	 "  { name = \"s\"; latency_query = \"q\"; backends = (\n"
	 "    { name = \"a\\tb\"; url = \"http://a\"; } ); }\n"
	 ");\n",
	 5, "service \"s\": backend name holds a control character"},
};

static void check_whole_cases(const struct whole_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_error(i, cases[i].text, cases[i].line, cases[i].msg);
}

static void test_name_rules(void)
{
	check_whole_cases(name_cases, sizeof(name_cases) / sizeof(name_cases[0]));
	/* What the rule allows: dots, dashes, underscores, a child's provider. */
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	char *path = NULL;
	CU_ASSERT_EQUAL(load_text(NAMED("my_app-v2.prod", "app-v1.b_x@kubernetes-crd"), &cfg, &errs, &path), 0);
	for (size_t k = 0; k < errs.n; k++)
		fprintf(stderr, "  %s\n", errs.msgs[k]);
	config_free(cfg);
	errors_free(&errs);
	unlink(path);
	free(path);
}

static void test_whole_file_errors(void)
{
	check_whole_cases(whole_cases, sizeof(whole_cases) / sizeof(whole_cases[0]));
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
	CU_ASSERT_TRUE(has_error(&errs, path, 5, "policy.kp -1 is negative"));
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

/* config_defaults (for configs built in code) gives what a file without the
 * keys gives: both come from the one table. */
static void test_defaults_in_code(void)
{
	char *text = build(&(struct slots){0});
	struct wd_config *cfg = NULL, def = {0};
	struct wd_errors errs = {0};
	char *path = NULL;
	CU_ASSERT_EQUAL_FATAL(load_text(text, &cfg, &errs, &path), 0);
	CU_ASSERT_EQUAL_FATAL(config_defaults(&def), 0);
	CU_ASSERT_EQUAL(def.interval_ms, cfg->interval_ms);
	CU_ASSERT_STRING_EQUAL(def.listen, cfg->listen);
	CU_ASSERT_EQUAL(def.prom.timeout_ms, cfg->prom.timeout_ms);
	CU_ASSERT_EQUAL(def.prom.max_concurrency, cfg->prom.max_concurrency);
	CU_ASSERT_EQUAL(def.prom.max_response_bytes, cfg->prom.max_response_bytes);
	CU_ASSERT_EQUAL(def.output.timeout_ms, 2000);
	CU_ASSERT_STRING_EQUAL(def.output.root_key, "traefik");
	CU_ASSERT_STRING_EQUAL(def.output.address, "127.0.0.1:6379");
	CU_ASSERT_DOUBLE_EQUAL(def.policy.kp, cfg->policy.kp, 0);
	CU_ASSERT_EQUAL(def.policy.total, cfg->policy.total);
	CU_ASSERT_EQUAL(def.policy.stale_ticks, cfg->policy.stale_ticks);
	CU_ASSERT_STRING_EQUAL(def.policy.error_query, "");
	/* config_free takes a heap config: free the copy's strings through one. */
	struct wd_config *heap = calloc(1, sizeof(*heap));
	*heap = def;
	config_free(heap);
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
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0}, warns = {0};
	CU_ASSERT_EQUAL_FATAL(tu_load_config(text, &cfg, &errs, &warns), 0);
	CU_ASSERT_EQUAL(cfg->services[0].policy.objective, WD_OBJ_LATENCY);
	CU_ASSERT_EQUAL_FATAL(warns.n, 1);
	printf("\n%s\n", warns.msgs[0]);
	CU_ASSERT_PTR_NOT_NULL(strstr(warns.msgs[0], ":7: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(warns.msgs[0], "objective \"marginal\" is retired"));
	CU_ASSERT_PTR_NOT_NULL(strstr(warns.msgs[0], "remove the objective key"));
	errors_free(&warns);
	config_free(cfg);
	free(text);
}

static void test_short_interval_warns(void)
{
	struct slots s = {.interval = "interval = \"500ms\";"};
	char *text = build(&s);
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0}, warns = {0};
	CU_ASSERT_EQUAL_FATAL(tu_load_config(text, &cfg, &errs, &warns), 0);
	CU_ASSERT_EQUAL(cfg->interval_ms, 500);
	CU_ASSERT_EQUAL_FATAL(warns.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(warns.msgs[0], ":1: interval below 2s"));
	errors_free(&warns);
	config_free(cfg);
	free(text);
	/* HAProxy applies each change at once: no warning */
	s.out = "type = \"haproxy\"; address = \"127.0.0.1:9999\";";
	text = build(&s);
	CU_ASSERT_EQUAL_FATAL(tu_load_config(text, &cfg, &errs, &warns), 0);
	CU_ASSERT_EQUAL(warns.n, 0);
	errors_free(&warns);
	config_free(cfg);
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

/* output.type "haproxy": urls optional, names default to the config's, and
 * the weights may go up to HAProxy's 256. */
static void test_haproxy_output(void)
{
	struct slots sl = {.out = "type = \"haproxy\"; address = \"/run/haproxy/admin.sock\";",
			   .policy = "total = 256; max_weight = 256;",
			   .svc = "haproxy_backend = \"be_svc\";", .ba = "", .bb = "haproxy_server = \"s2\";"};
	char *text = build(&sl);
	struct wd_config *cfg = NULL;
	struct wd_errors errs = {0};
	char *path = NULL;
	CU_ASSERT_EQUAL_FATAL(load_text(text, &cfg, &errs, &path), 0);
	CU_ASSERT_EQUAL(cfg->output.type, WD_OUT_HAPROXY);
	CU_ASSERT_STRING_EQUAL(cfg->output.address, "/run/haproxy/admin.sock");
	const struct wd_service_cfg *svc = &cfg->services[0];
	CU_ASSERT_STRING_EQUAL(svc->haproxy_backend, "be_svc");
	CU_ASSERT_PTR_NULL(svc->backends[0].url);
	CU_ASSERT_PTR_NULL(svc->backends[0].haproxy_server);
	CU_ASSERT_STRING_EQUAL(svc->backends[1].haproxy_server, "s2");
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

/* ${service} is escaped for where it stands in the PromQL: the table holds
 * template, name, expected query. Names the config refuses are here too:
 * the escaping does not depend on the validation. */
static void test_template_escaping(void)
{
	static const char *const cases[][3] = {
		/* outside a string: as is */
		{"${service}_requests_total", "app", "app_requests_total"},
		/* equality matchers: \ and the quote escaped */
		{"up{job=\"${service}\"}", "a\"b\\c", "up{job=\"a\\\"b\\\\c\"}"},
		{"up{job=\"${service}\"}", "a.b", "up{job=\"a.b\"}"},
		{"up{job!='${service}'}", "it's", "up{job!='it\\'s'}"},
		{"up{job=\"x\\\"${service}\"}", "a\"", "up{job=\"x\\\"a\\\"\"}"},
		/* regex matchers: metacharacters escaped as well */
		{"up{job=~\"${service}\"}", "a.b", "up{job=~\"a\\\\.b\"}"},
		{"up{job!~ \"${service}|x\"}", "a+b(c)", "up{job!~ \"a\\\\+b\\\\(c\\\\)|x\"}"},
		{"up{job=~'${service}.*'}", "a-b_c", "up{job=~'a-b_c.*'}"},
		{"up{job=~`${service}`}", "a.b", "up{job=~`a\\.b`}"},
		{"up{job=~\"${service}\"}", "a\\b", "up{job=~\"a\\\\\\\\b\"}"},
		/* back to plain code after a string */
		{"sum(x{a=~\"y\"}) by (${service})", "le", "sum(x{a=~\"y\"}) by (le)"},
		{"x{a=\"${service}\", b=~\"${service}\"}", "a.b", "x{a=\"a.b\", b=~\"a\\\\.b\"}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *x = config_expand_template(cases[i][0], cases[i][1]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(x);
		if (strcmp(x, cases[i][2]) != 0)
			fprintf(stderr, "\ncase %zu: %s with %s gave %s, not %s\n", i, cases[i][0],
				cases[i][1], x, cases[i][2]);
		CU_ASSERT_STRING_EQUAL(x, cases[i][2]);
		free(x);
	}
}

static const struct tu_test config_tests[] = {
	{"every validation rule names its line", test_each_validation_rule},
	{"whole-file errors", test_whole_file_errors},
	{"service and child names", test_name_rules},
	{"all errors reported, not just the first", test_all_errors_reported},
	{"missing file", test_missing_file},
	{"defaults, overrides and templates", test_valid_defaults_and_templates},
	{"config_defaults gives a file's defaults", test_defaults_in_code},
	{"secrets from files", test_secrets_read_from_files},
	{"short interval warns", test_short_interval_warns},
	{"objective marginal: an alias with a warning", test_marginal_is_an_alias},
	{"etc/weightd.conf loads", test_shipped_config},
	{"durations", test_durations},
	{"numeric durations are seconds", test_numeric_durations},
	{"${service} templates", test_template_expansion},
	{"${service} escaped for its place in PromQL", test_template_escaping},
	{"output haproxy", test_haproxy_output},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"config", NULL, NULL, config_tests},
	{NULL, NULL, NULL, NULL},
};
