/* test_haproxy: the text of HAProxy's runtime API (haproxy_cli): answers
 * recorded from HAProxy 2.6 parsed, commands rendered, the url check, and
 * the plan of a tick, with a randomized property test (tu_seed: WEIGHTD_SEED
 * replays): applying a plan to a server table and planning again gives
 * nothing, and a weight 0 is never sent. And metrics = "haproxy": its keys,
 * its three fleet-wide queries and its refusals. */

#include "config.h"
#include "haproxy_cli.h"
#include "plan.h"
#include "preset.h"
#include "testutil.h"

/* "show servers state app" from HAProxy 2.6.12, s1 drained by the CLI. */
static const char state_answer[] =
	"1\n"
	"# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
	"srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
	"srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
	"srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
	"srv_agent_port\n"
	"4 app 1 s1 127.0.0.1 2 8 50 10 0 1 0 2 0 0 0 0 - 18081 - 0 0 - - 0\n"
	"4 app 2 s2 127.0.0.1 2 0 20 20 1 1 0 2 0 0 0 0 - 18082 - 0 0 - - 0\n"
	"4 app 3 s3 127.0.0.1 2 0 1 1 1 1 0 2 0 0 0 0 localhost 18083 - 0 0 - - 0\n";

static void test_parse_servers_state(void)
{
	struct haproxy_backend_state st;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(haproxy_parse_servers_state(state_answer, &st, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(st.n, 3);
	const struct haproxy_server *s1 = haproxy_find_server(&st, "s1");
	const struct haproxy_server *s3 = haproxy_find_server(&st, "s3");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s3);
	CU_ASSERT_EQUAL(s1->admin_state, HAPROXY_ADMIN_FDRAIN);
	CU_ASSERT_EQUAL(s1->weight, 50);
	CU_ASSERT_EQUAL(s1->initial_weight, 10);
	CU_ASSERT_EQUAL(s1->port, 18081);
	CU_ASSERT_STRING_EQUAL(s1->addr, "127.0.0.1");
	CU_ASSERT_PTR_NULL(s1->fqdn);
	CU_ASSERT_STRING_EQUAL(s3->fqdn, "localhost");
	CU_ASSERT_PTR_NULL(haproxy_find_server(&st, "s4"));
	haproxy_backend_state_free(&st);

	/* HAProxy's own error, a missing column, a malformed row */
	CU_ASSERT_EQUAL(haproxy_parse_servers_state("Can't find backend.\n", &st, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "Can't find backend.");
	CU_ASSERT_EQUAL(haproxy_parse_servers_state("1\n# be_id srv_name\n", &st, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no column srv_addr"));
	char bad[sizeof(state_answer)];
	snprintf(bad, sizeof(bad), "%s", state_answer);
	*strstr(bad, " 50 10 ") = '\0'; /* the row ends early */
	CU_ASSERT_EQUAL(haproxy_parse_servers_state(bad, &st, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "malformed row"));
	CU_ASSERT_EQUAL(st.n, 0);
	/* a backend without servers */
	const char *empty = "1\n# be_id be_name srv_id srv_name srv_addr srv_admin_state srv_uweight "
			    "srv_iweight srv_fqdn srv_port\n";
	CU_ASSERT_EQUAL(haproxy_parse_servers_state(empty, &st, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(st.n, 0);
}

static void test_parse_weight_and_identity(void)
{
	int w = -1, initial = -1;
	char err[128], id[64];
	CU_ASSERT_EQUAL(haproxy_parse_weight("50 (initial 10)", &w, &initial, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(w, 50);
	CU_ASSERT_EQUAL(initial, 10);
	CU_ASSERT_EQUAL(haproxy_parse_weight("No such server.", &w, &initial, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "No such server.");
	CU_ASSERT_EQUAL(haproxy_parse_weight("50 (initial 10", &w, &initial, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(haproxy_parse_weight("", &w, &initial, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(haproxy_parse_identity("Name: HAProxy\nPid: 4515\nUptime_sec: 1\n"
					       "Start_time_sec: 1795947155\n", id, sizeof(id)), 0);
	CU_ASSERT_STRING_EQUAL(id, "4515/1795947155");
	CU_ASSERT_EQUAL(haproxy_parse_identity("Unknown command.\n", id, sizeof(id)), -1);
}

static void test_names_and_urls(void)
{
	CU_ASSERT_TRUE(haproxy_valid_name("app_v1.be-2:8080"));
	CU_ASSERT_FALSE(haproxy_valid_name(""));
	CU_ASSERT_FALSE(haproxy_valid_name("a b"));
	CU_ASSERT_FALSE(haproxy_valid_name("a;show info"));
	CU_ASSERT_FALSE(haproxy_valid_name("a/b"));
	CU_ASSERT_FALSE(haproxy_valid_name("a\nb"));
	char longname[HAPROXY_MAX_NAME + 2];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CU_ASSERT_FALSE(haproxy_valid_name(longname));

	struct haproxy_server s = {.name = "s1", .addr = "127.0.0.1", .fqdn = "localhost", .port = 8080};
	char err[512];
	CU_ASSERT_EQUAL(haproxy_check_url("http://127.0.0.1:8080/x", &s, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(haproxy_check_url("http://localhost:8080", &s, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(haproxy_check_url("http://127.0.0.1:8081", &s, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "url http://127.0.0.1:8081 is 127.0.0.1:8081 but HAProxy's "
				    "server \"s1\" is at 127.0.0.1:8080 (localhost)");
	CU_ASSERT_EQUAL(haproxy_check_url("http://10.0.0.1:8080", &s, err, sizeof(err)), -1);
	s.port = 80;
	s.fqdn = NULL;
	CU_ASSERT_EQUAL(haproxy_check_url("http://127.0.0.1/", &s, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(haproxy_check_url("https://127.0.0.1/", &s, err, sizeof(err)), -1);
	s.addr = "::1";
	CU_ASSERT_EQUAL(haproxy_check_url("http://[::1]:80", &s, err, sizeof(err)), 0);
}

/* ---- plans -------------------------------------------------------------- */

#define NB 4
static struct wd_backend_cfg backends[NB] = {
	{.name = "a", .url = NULL}, {.name = "b"}, {.name = "c", .haproxy_server = "srv-c"},
	{.name = "d"}};
static struct wd_service_cfg svc = {.name = "app", .haproxy_backend = "be_app",
				    .backends = backends, .n_backends = NB};

/* A server table for svc's servers with the given weights and admin states. */
static void make_state(struct haproxy_backend_state *st, struct haproxy_server *srv,
		       const int *w, const int *admin)
{
	static const char *const names[NB] = {"a", "b", "srv-c", "d"};
	for (size_t i = 0; i < NB; i++)
		srv[i] = (struct haproxy_server){.name = (char *)names[i], .addr = "127.0.0.1",
						 .port = 8000 + (int)i, .admin_state = admin[i],
						 .weight = w[i], .initial_weight = w[i]};
	st->servers = srv;
	st->n = NB;
}

static char *plan_text(const int *want, const struct haproxy_backend_state *st, int *rc,
		       char *err, size_t errlen)
{
	struct wd_output_service s = {&svc, want};
	struct haproxy_plan p;
	*rc = haproxy_plan_tick(&s, 1, st, &p, err, errlen);
	static char out[4096];
	out[0] = '\0';
	for (size_t i = 0; i < p.n; i++) {
		char line[HAPROXY_CMD_MAX];
		haproxy_cmd_format(&p.cmds[i], line, sizeof(line));
		strcat(out, line);
		strcat(out, "\n");
	}
	haproxy_plan_free(&p);
	return out;
}

static void test_plan(void)
{
	struct haproxy_backend_state st;
	struct haproxy_server srv[NB];
	char err[512];
	int rc;
	/* from scratch (the dry run): every weight, drains by state */
	int want[NB] = {40, 0, 35, 25};
	CU_ASSERT_STRING_EQUAL(plan_text(want, NULL, &rc, err, sizeof(err)),
			       "set server be_app/a weight 40\n"
			       "set server be_app/b state drain\n"
			       "set server be_app/srv-c weight 35\n"
			       "set server be_app/d weight 25\n");
	char *doc;
	struct wd_output_service s = {&svc, want};
	CU_ASSERT_EQUAL_FATAL(haproxy_render(&s, 1, &doc, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(doc, plan_text(want, NULL, &rc, err, sizeof(err)));
	free(doc);

	/* HAProxy already holds it: nothing to send */
	int have[NB] = {40, 30, 35, 25}, admin[NB] = {0, HAPROXY_ADMIN_FDRAIN, 0, 0};
	make_state(&st, srv, have, admin);
	CU_ASSERT_STRING_EQUAL(plan_text(want, &st, &rc, err, sizeof(err)), "");
	CU_ASSERT_EQUAL(rc, 0);

	/* b comes back (weight then ready), d changes, a is drained: its weight
	 * stays as it was, never 0 */
	int want2[NB] = {0, 30, 35, 35};
	CU_ASSERT_STRING_EQUAL(plan_text(want2, &st, &rc, err, sizeof(err)),
			       "set server be_app/a state drain\n"
			       "set server be_app/b state ready\n"
			       "set server be_app/d weight 35\n");

	/* an operator's maintenance is left alone, the weight still set */
	int admin_maint[NB] = {0, HAPROXY_ADMIN_FDRAIN | HAPROXY_ADMIN_FMAINT, 0, 0};
	make_state(&st, srv, have, admin_maint);
	int want3[NB] = {40, 31, 35, 25};
	CU_ASSERT_STRING_EQUAL(plan_text(want3, &st, &rc, err, sizeof(err)),
			       "set server be_app/b weight 31\n");

	/* refused: every server drained, above 256, below 0, a missing server, a
	 * url that is not the server */
	int none[NB] = {0, 0, 0, 0}, negative[NB] = {-1, 50, 25, 25};
	CU_ASSERT_STRING_EQUAL(plan_text(none, NULL, &rc, err, sizeof(err)), "");
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_STRING_EQUAL(err, "service \"app\": every backend is at weight 0; refusing to drain "
				    "every server of HAProxy backend \"be_app\"");
	plan_text(negative, NULL, &rc, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "weight -1 not within HAProxy's 0..256"));
	int big[NB] = {257, 1, 1, 1};
	CU_ASSERT_STRING_EQUAL(plan_text(big, NULL, &rc, err, sizeof(err)), "");
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "weight 257 not within HAProxy's 0..256"));
	st.n = 2;
	CU_ASSERT_STRING_EQUAL(plan_text(want, &st, &rc, err, sizeof(err)), "");
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_STRING_EQUAL(err, "service \"app\": HAProxy backend \"be_app\" has no server \"srv-c\"");
	st.n = NB;
	backends[3].url = "http://127.0.0.1:9999";
	plan_text(want, &st, &rc, err, sizeof(err));
	backends[3].url = NULL;
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "backend \"d\": url http://127.0.0.1:9999 is 127.0.0.1:9999 "
					   "but HAProxy's server \"d\" is at 127.0.0.1:8003"));
	backends[3].url = "http://127.0.0.1:8003/";
	plan_text(want, &st, &rc, err, sizeof(err));
	backends[3].url = NULL;
	CU_ASSERT_EQUAL(rc, 0);
}

/* Applies a plan to the server table as HAProxy would. */
static void apply(struct haproxy_backend_state *st, const struct haproxy_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct haproxy_server *s = (struct haproxy_server *)haproxy_find_server(st, p->cmds[i].server);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		if (p->cmds[i].kind == HAPROXY_SET_WEIGHT)
			s->weight = p->cmds[i].weight;
		else if (p->cmds[i].kind == HAPROXY_DRAIN)
			s->admin_state |= HAPROXY_ADMIN_FDRAIN;
		else
			s->admin_state &= ~(HAPROXY_ADMIN_FDRAIN | HAPROXY_ADMIN_MAINT);
	}
}

static void test_plan_property(void)
{
	srand((unsigned)tu_seed());
	static const int admins[] = {0, HAPROXY_ADMIN_FDRAIN, HAPROXY_ADMIN_FMAINT,
				     HAPROXY_ADMIN_FDRAIN | HAPROXY_ADMIN_FMAINT, 0x10};
	for (int round = 0; round < 2000; round++) {
		int want[NB], have[NB], admin[NB];
		for (size_t i = 0; i < NB; i++) {
			want[i] = rand() % 4 == 0 ? 0 : rand() % 257;
			have[i] = rand() % 257;
			admin[i] = admins[rand() % 5];
		}
		if (!want[0] && !want[1] && !want[2] && !want[3])
			want[rand() % NB] = 1 + rand() % 256; /* a service serves something */
		struct haproxy_backend_state st;
		struct haproxy_server srv[NB];
		make_state(&st, srv, have, admin);
		struct wd_output_service s = {&svc, want};
		struct haproxy_plan p;
		char err[256];
		CU_ASSERT_EQUAL_FATAL(haproxy_plan_tick(&s, 1, &st, &p, err, sizeof(err)), 0);
		for (size_t i = 0; i < p.n; i++)
			CU_ASSERT_FALSE(p.cmds[i].kind == HAPROXY_SET_WEIGHT && p.cmds[i].weight == 0);
		apply(&st, &p);
		haproxy_plan_free(&p);
		for (size_t i = 0; i < NB; i++) {
			if (want[i] == 0) {
				CU_ASSERT_TRUE(srv[i].admin_state & HAPROXY_ADMIN_DRAIN);
			} else {
				CU_ASSERT_EQUAL(srv[i].weight, want[i]);
			}
			if (want[i] > 0 && !(admin[i] & HAPROXY_ADMIN_MAINT)) {
				CU_ASSERT_FALSE(srv[i].admin_state & HAPROXY_ADMIN_FDRAIN);
			}
		}
		CU_ASSERT_EQUAL_FATAL(haproxy_plan_tick(&s, 1, &st, &p, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(p.n, 0);
		haproxy_plan_free(&p);
	}
}

/* ---- metrics = "haproxy" ------------------------------------------------- */

static struct wd_config *load_haproxy(const char *output, const char *services,
				      struct wd_errors *e)
{
	char text[4096];
	snprintf(text, sizeof(text),
		 "prometheus = { url = \"http://127.0.0.1:9090\"; };\noutput = { %s };\n"
		 "metrics = \"haproxy\";\nservices = (\n%s\n);\n", output, services);
	struct wd_config *cfg = NULL;
	tu_load_config(text, &cfg, e, NULL);
	return cfg;
}

#define HAPROXY_OUT "type = \"haproxy\"; address = \"127.0.0.1:9999\";"
#define TWO_SERVICES                                                                        \
	"{ name = \"app\"; backends = ( { name = \"s1\"; }, { name = \"s2\"; } ); },\n"            \
	"{ name = \"api\"; haproxy_backend = \"be.api\"; backends = ( { name = \"10.0.0.1:80\";"      \
	" haproxy_server = \"s1\"; } ); }"

static void test_preset_queries(void)
{
	struct wd_errors e = {0};
	struct wd_config *cfg = load_haproxy(HAPROXY_OUT, TWO_SERVICES, &e);
	for (size_t i = 0; i < e.n; i++)
		printf("\n  %s", e.msgs[i]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->services[0].label, "weightd_server");
	struct plan p;
	plan_build(cfg, &p);
	CU_ASSERT_EQUAL(p.n_q, 3);
	CU_ASSERT_EQUAL(p.n_keys, 3);
	size_t n;
	const struct plan_key *k = plan_find(&p, "be.api/s1", &n);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(k->svc, 1);
	CU_ASSERT_PTR_NOT_NULL(plan_find(&p, "app/s2", &n));
	CU_ASSERT_PTR_NULL(plan_find(&p, "app/10.0.0.1:80", &n));
	/* the selector names each proxy once, the key is built by label_join */
	CU_ASSERT_STRING_EQUAL(p.q[plan_at(&p, 0, WD_SIG_LATENCY)].expr,
		"label_join(max by (proxy, server) (haproxy_server_total_time_average_seconds"
		"{proxy=~\"(app|be\\\\.api)\"}), \"weightd_server\", \"/\", \"proxy\", \"server\")");
	CU_ASSERT_STRING_EQUAL(p.q[plan_at(&p, 1, WD_SIG_ERROR)].expr,
		"label_join(sum by (proxy, server) (rate(haproxy_server_http_responses_total"
		"{proxy=~\"(app|be\\\\.api)\",code=\"5xx\"}[1m])) / sum by (proxy, server) "
		"(rate(haproxy_server_http_responses_total{proxy=~\"(app|be\\\\.api)\"}[1m])), "
		"\"weightd_server\", \"/\", \"proxy\", \"server\")");
	CU_ASSERT_STRING_EQUAL(p.q[plan_at(&p, 0, WD_SIG_RATE)].expr,
		"label_join(sum by (proxy, server) (rate(haproxy_server_http_responses_total"
		"{proxy=~\"(app|be\\\\.api)\"}[1m])), \"weightd_server\", \"/\", \"proxy\", \"server\")");
	plan_free(&p);
	config_free(cfg);
	errors_free(&e);
}

static void test_preset_refusals(void)
{
	struct wd_errors e = {0};
	/* lines: 1 prometheus, 2 output, 3 metrics, 4 "services = (", 5 the service */
	struct wd_config *cfg = load_haproxy(
		"type = \"file\"; path = \"/tmp/x.yml\";",
		"{ name = \"app\"; backends = ( { name = \"s1\"; url = \"http://a\"; } ); }", &e);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(e.n, 1);
	CU_ASSERT_PTR_NOT_NULL(e.n ? strstr(e.msgs[0], ":5: service \"app\": metrics = \"haproxy\" "
						  "reads the servers weightd steers in HAProxy") : NULL);
	errors_free(&e);
	cfg = load_haproxy(HAPROXY_OUT,
			   "{ name = \"app\"; latency_statistic = \"p95\"; backends = ( { name = \"s1\"; } ); }",
			   &e);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(e.n, 1);
	CU_ASSERT_PTR_NOT_NULL(e.n ? strstr(e.msgs[0], ":5: service \"app\": HAProxy exports no "
						  "per-server histogram") : NULL);
	errors_free(&e);
	cfg = load_haproxy(HAPROXY_OUT,
			   "{ name = \"app\"; latency_query = \"q\"; backends = ( { name = \"s1\"; } ); }",
			   &e);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_PTR_NOT_NULL(e.n ? strstr(e.msgs[0], "latency_query is built in with metrics = "
						  "\"haproxy\"") : NULL);
	errors_free(&e);
}

static const struct tu_test haproxy_tests[] = {
	{"parse servers state", test_parse_servers_state},
	{"parse weight and identity", test_parse_weight_and_identity},
	{"names and urls", test_names_and_urls},
	{"plan", test_plan},
	{"plan property", test_plan_property},
	{"metrics = haproxy: queries", test_preset_queries},
	{"metrics = haproxy: refusals", test_preset_refusals},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"haproxy", NULL, NULL, haproxy_tests},
	{NULL, NULL, NULL, NULL},
};
