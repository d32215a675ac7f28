/* test_config: placeholder until the config suite lands. */
#include "testutil.h"
#include "config.h"

static void test_duration_ok(void)
{
	int64_t ms;
	char err[256];
	CU_ASSERT_EQUAL(config_parse_duration("15s", &ms, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ms, 15000);
}

int main(void)
{
	CU_initialize_registry();
	CU_pSuite s = CU_add_suite("config", NULL, NULL);
	CU_add_test(s, "duration ok", test_duration_ok);
	return tu_run();
}
