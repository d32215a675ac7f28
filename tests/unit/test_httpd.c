/* test_httpd: the endpoint over real loopback sockets — /metrics, /healthz
 * (503 with its reason, then 200), 404, 405, HEAD, a bind error that names
 * the address, and slow clients that do not stall other requests. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "httpd.h"
#include "testutil.h"
#include "util.h"

struct reply {
	long status;
	char *body;
	size_t len;
	char ctype[128];
	char allow[64];
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	char *b = realloc(r->body, r->len + size * n + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, p, size * n);
	r->len += size * n;
	b[r->len] = '\0';
	r->body = b;
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;
	if (len > 14 && strncasecmp(p, "Content-Type: ", 14) == 0)
		snprintf(r->ctype, sizeof(r->ctype), "%.*s", (int)(len - 16), p + 14);
	if (len > 7 && strncasecmp(p, "Allow: ", 7) == 0)
		snprintf(r->allow, sizeof(r->allow), "%.*s", (int)(len - 9), p + 7);
	return len;
}

static struct reply fetch(int port, const char *method, const char *path)
{
	struct reply r = {0};
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_cleanup(c);
	return r;
}

/* Fetches and checks the status; returns the reply without its body. */
static struct reply expect_status(int port, const char *method, const char *path, long status)
{
	struct reply r = fetch(port, method, path);
	CU_ASSERT_EQUAL(r.status, status);
	free(r.body);
	r.body = NULL;
	return r;
}

static void test_endpoints(void)
{
	char err[256];
	/* Started long ago with a 1 s interval and no good tick: unhealthy. */
	struct metrics *m = metrics_new("9.9.9", util_mono_ms() - 60000);
	metrics_set_config(m, 1000, false);
	metrics_tick(m, METRICS_TICK_FAILED, 0.01, util_mono_ms(), 1, "Prometheus query failed: refused");
	struct httpd *h = httpd_start("127.0.0.1:0", m, err, sizeof(err));
	CU_ASSERT_FATAL(h != NULL);
	int port = httpd_port(h);
	CU_ASSERT(port > 0);
	CU_ASSERT_STRING_EQUAL(httpd_listen(h), "127.0.0.1:0");

	struct reply r = fetch(port, "GET", "/metrics");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.ctype, "text/plain; version=0.0.4"));
	CU_ASSERT_PTR_NOT_NULL(r.body && strstr(r.body, "weightd_build_info{version=\"9.9.9\"} 1\n"));
	free(r.body);

	r = fetch(port, "GET", "/healthz");
	CU_ASSERT_EQUAL(r.status, 503);
	CU_ASSERT_PTR_NOT_NULL(r.body && strstr(r.body, "Prometheus query failed: refused"));
	free(r.body);
	metrics_tick(m, METRICS_TICK_OK, 0.01, util_mono_ms(), 2, NULL);
	r = fetch(port, "GET", "/healthz");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body ? r.body : "", "ok\n");
	free(r.body);

	expect_status(port, "GET", "/", 404);
	expect_status(port, "GET", "/metrics/x", 404);
	r = expect_status(port, "POST", "/metrics", 405);
	CU_ASSERT_STRING_EQUAL(r.allow, "GET, HEAD");
	expect_status(port, "DELETE", "/healthz", 405);
	r = fetch(port, "HEAD", "/metrics");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.len, 0);
	free(r.body);

	/* The port is taken: a second server fails and says where. */
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	CU_ASSERT_PTR_NULL(httpd_start(addr, m, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, addr));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "in use"));

	/* Stopping frees the port at once. */
	httpd_stop(h);
	h = httpd_start(addr, m, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(h);
	httpd_stop(h);
	metrics_free(m);
}

static void test_bad_listen(void)
{
	char err[256];
	struct metrics *m = metrics_new("x", 0);
	CU_ASSERT_PTR_NULL(httpd_start("nohost", m, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "HOST:PORT"));
	CU_ASSERT_PTR_NULL(httpd_start("127.0.0.1:http", m, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "127.0.0.1:http"));
	struct httpd *h = httpd_start("[::1]:0", m, err, sizeof(err));
	if (h) /* IPv6 loopback may be absent in a container */
		CU_ASSERT(httpd_port(h) > 0);
	httpd_stop(h);
	metrics_free(m);
}

/* Clients that connect and send half a request hold a connection each, but
 * other requests are still answered at once. */
static void test_slow_clients(void)
{
	char err[256];
	struct metrics *m = metrics_new("x", 0);
	struct httpd *h = httpd_start("127.0.0.1:0", m, err, sizeof(err));
	CU_ASSERT_FATAL(h != NULL);
	int fds[8];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)httpd_port(h))};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int i = 0; i < 8; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		CU_ASSERT_FATAL(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) == 0);
		CU_ASSERT(write(fds[i], "GET /metr", 9) == 9);
	}
	struct reply r = fetch(httpd_port(h), "GET", "/metrics");
	CU_ASSERT_EQUAL(r.status, 200);
	free(r.body);
	for (int i = 0; i < 8; i++)
		close(fds[i]);
	httpd_stop(h);
	metrics_free(m);
}

static int suite_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int suite_cleanup(void)
{
	curl_global_cleanup();
	return 0;
}

static const struct tu_test httpd_tests[] = {
	{"metrics, healthz, 404, 405, HEAD, port in use", test_endpoints},
	{"bad listen addresses", test_bad_listen},
	{"slow clients do not stall others", test_slow_clients},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"httpd", suite_init, suite_cleanup, httpd_tests},
	{NULL, NULL, NULL, NULL},
};
