/* sim_api: Traefik's API for one service, from the weights in force. */
#include "sim_api.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void add_entry(cJSON *list, const char *refkey, const char *ref, double weight, bool with_w)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, refkey, ref);
	if (with_w)
		cJSON_AddNumberToObject(e, "weight", weight);
	cJSON_AddItemToArray(list, e);
}

/* The common fields of Traefik's answer. */
static cJSON *service_doc(const char *name_at, const char *provider, const char *type)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "status", "enabled");
	cJSON_AddStringToObject(doc, "name", name_at);
	cJSON_AddStringToObject(doc, "provider", provider);
	cJSON_AddStringToObject(doc, "type", type);
	return doc;
}

static cJSON *group(cJSON *doc, const char *kind, const char *list)
{
	cJSON *g = cJSON_AddObjectToObject(doc, kind);
	return cJSON_AddArrayToObject(g, list);
}

int simapi_service(const struct simw_set *set, const char *service, const char *weighted,
		   const char *provider, const char *name_at, FILE *o)
{
	char name[512];
	const char *at = strrchr(name_at, '@');
	if (!at || strcmp(at + 1, provider) != 0) {
		fprintf(o, "{\"message\":\"service not found\"}\n");
		return 404;
	}
	snprintf(name, sizeof name, "%.*s", (int)(at - name_at), name_at);
	cJSON *doc = NULL;
	if (set->has_servers && strcmp(name, service) == 0) {
		doc = service_doc(name_at, provider, set->split ? "weighted" : "loadbalancer");
		cJSON *l = set->split ? group(doc, "weighted", "services")
				      : group(doc, "loadBalancer", "servers");
		for (size_t i = 0; i < set->n_servers; i++)
			add_entry(l, set->split ? "name" : "url",
				  set->split ? set->servers[i].holder : set->servers[i].key,
				  set->servers[i].weight, true);
	} else if (set->has_weighted && strcmp(name, weighted) == 0) {
		doc = service_doc(name_at, provider, "weighted");
		cJSON *l = group(doc, "weighted", "services");
		for (size_t i = 0; i < set->n_children; i++)
			add_entry(l, "name", set->children[i].key, set->children[i].weight, true);
	} else {
		for (size_t i = 0; set->split && !doc && i < set->n_servers; i++) {
			if (strcmp(name, set->servers[i].holder) != 0)
				continue;
			doc = service_doc(name_at, provider, "loadbalancer");
			add_entry(group(doc, "loadBalancer", "servers"), "url", set->servers[i].key, 1, false);
		}
	}
	if (!doc) {
		fprintf(o, "{\"message\":\"service not found\"}\n");
		return 404;
	}
	char *text = cJSON_PrintUnformatted(doc);
	fprintf(o, "%s\n", text ? text : "{}");
	free(text);
	cJSON_Delete(doc);
	return 200;
}
