/* status: the /status document, kept for the HTTP thread; see status.h. */
#include "status.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct status {
	pthread_mutex_t mu;
	char *path;
	bool dry_run;
	bool reload_ok;
	double reload_time_s;
	cJSON *tick; /* NULL before the first tick */
};

struct status *status_new(void)
{
	struct status *s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	s->path = xstrdup("");
	s->reload_ok = true;
	return s;
}

void status_free(struct status *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s->path);
	cJSON_Delete(s->tick);
	free(s);
}

void status_set_config(struct status *s, const char *path, bool dry_run, bool reload_ok,
		       double reload_time_s)
{
	char *p = xstrdup(path);
	pthread_mutex_lock(&s->mu);
	char *old = s->path;
	s->path = p;
	s->dry_run = dry_run;
	s->reload_ok = reload_ok;
	s->reload_time_s = reload_time_s;
	pthread_mutex_unlock(&s->mu);
	free(old);
}

void status_set_tick(struct status *s, cJSON *tick)
{
	pthread_mutex_lock(&s->mu);
	cJSON *old = s->tick;
	s->tick = tick;
	pthread_mutex_unlock(&s->mu);
	cJSON_Delete(old);
}

char *status_render(struct status *s)
{
	/* cJSON returns NULL when out of memory, and takes NULL everywhere:
	 * the one check is on the printed text. */
	cJSON *doc = cJSON_CreateObject();
	pthread_mutex_lock(&s->mu);
	cJSON_AddBoolToObject(doc, "dry_run", s->dry_run);
	cJSON *cfg = cJSON_AddObjectToObject(doc, "config");
	cJSON_AddStringToObject(cfg, "path", s->path);
	cJSON_AddBoolToObject(cfg, "last_reload_successful", s->reload_ok);
	if (s->reload_time_s > 0)
		cJSON_AddNumberToObject(cfg, "last_reload_time", s->reload_time_s);
	else
		cJSON_AddNullToObject(cfg, "last_reload_time");
	if (s->tick) {
		for (cJSON *m = s->tick->child; m; m = m->next)
			cJSON_AddItemToObject(doc, m->string, cJSON_Duplicate(m, 1));
	} else {
		cJSON_AddNullToObject(doc, "last_tick");
		cJSON_AddArrayToObject(doc, "services");
	}
	pthread_mutex_unlock(&s->mu);
	char *text = cJSON_Print(doc);
	cJSON_Delete(doc);
	if (!text)
		return NULL;
	size_t len = strlen(text);
	char *out = xmalloc(len + 2);
	memcpy(out, text, len);
	out[len] = '\n';
	out[len + 1] = '\0';
	cJSON_free(text);
	return out;
}
