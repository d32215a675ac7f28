/* state: controller state persistence. (Placeholder: saves nothing.) */
#include "state.h"

int state_save(const char *path, const struct wd_service_state *st, size_t n, char *err,
	       size_t errlen)
{
	(void)path;
	(void)st;
	(void)n;
	(void)err;
	(void)errlen;
	return 0;
}

int state_load(const char *path, const struct wd_config *cfg, struct wd_service_state *st,
	       size_t n, struct wd_errors *warns)
{
	(void)path;
	(void)cfg;
	(void)st;
	(void)n;
	(void)warns;
	return 0;
}
