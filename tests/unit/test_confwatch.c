/* test_confwatch: a config file replaced by rename, edited, or swapped the way
 * Kubernetes updates a ConfigMap volume (a ..data symlink pointed at a new
 * directory) is noticed once; an untouched or momentarily missing file is not
 * a change. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confwatch.h"
#include "testutil.h"


static void put(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tu_scratch_dir(), rel);
	FILE *f = fopen(p, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void path_of(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", tu_scratch_dir(), rel);
}

static void test_rename_and_edit(void)
{
	char conf[256], tmp[256];
	path_of(conf, sizeof(conf), "weightd.conf");
	path_of(tmp, sizeof(tmp), "weightd.conf.new");
	put("weightd.conf", "interval = \"15s\";\n");
	struct confwatch w;
	confwatch_init(&w, conf);
	CU_ASSERT_FALSE(confwatch_changed(&w, conf));
	CU_ASSERT_FALSE(confwatch_changed(&w, conf));
	/* Replaced by rename (an editor, a deployment tool). */
	put("weightd.conf.new", "interval = \"10s\";\n");
	CU_ASSERT_EQUAL_FATAL(rename(tmp, conf), 0);
	CU_ASSERT_TRUE(confwatch_changed(&w, conf));
	CU_ASSERT_FALSE(confwatch_changed(&w, conf));
	/* Edited in place to a different size. */
	put("weightd.conf", "interval = \"10s\"; # edited\n");
	CU_ASSERT_TRUE(confwatch_changed(&w, conf));
	/* Gone for a moment: not a change; back: a change. */
	unlink(conf);
	CU_ASSERT_FALSE(confwatch_changed(&w, conf));
	put("weightd.conf", "interval = \"5s\";\n");
	CU_ASSERT_TRUE(confwatch_changed(&w, conf));
	unlink(conf);
}

static void test_configmap_swap(void)
{
	char p[256], q[256];
	/* dir/..v1/weightd.conf, dir/..data -> ..v1, dir/cm.conf -> ..data/weightd.conf */
	path_of(p, sizeof(p), "..v1");
	CU_ASSERT_EQUAL_FATAL(mkdir(p, 0755), 0);
	path_of(p, sizeof(p), "..v2");
	CU_ASSERT_EQUAL_FATAL(mkdir(p, 0755), 0);
	put("..v1/weightd.conf", "interval = \"15s\";\n");
	put("..v2/weightd.conf", "interval = \"15s\";\n"); /* same size, new inode */
	path_of(p, sizeof(p), "..data");
	CU_ASSERT_EQUAL_FATAL(symlink("..v1", p), 0);
	path_of(p, sizeof(p), "cm.conf");
	CU_ASSERT_EQUAL_FATAL(symlink("..data/weightd.conf", p), 0);
	char conf[256];
	path_of(conf, sizeof(conf), "cm.conf");
	struct confwatch w;
	confwatch_init(&w, conf);
	CU_ASSERT_FALSE(confwatch_changed(&w, conf));
	/* The kubelet's atomic update: a new link renamed over ..data. */
	path_of(p, sizeof(p), "..data_tmp");
	CU_ASSERT_EQUAL_FATAL(symlink("..v2", p), 0);
	path_of(q, sizeof(q), "..data");
	CU_ASSERT_EQUAL_FATAL(rename(p, q), 0);
	CU_ASSERT_TRUE(confwatch_changed(&w, conf));
	CU_ASSERT_FALSE(confwatch_changed(&w, conf));
	const char *rm[] = {"cm.conf", "..data", "..v1/weightd.conf", "..v2/weightd.conf"};
	for (size_t i = 0; i < 4; i++) {
		path_of(p, sizeof(p), rm[i]);
		unlink(p);
	}
	path_of(p, sizeof(p), "..v1");
	rmdir(p);
	path_of(p, sizeof(p), "..v2");
	rmdir(p);
}

static const struct tu_test confwatch_tests[] = {
	{"rename, in-place edit, a missing file", test_rename_and_edit},
	{"a ConfigMap's ..data symlink swap", test_configmap_swap},
	{NULL, NULL},
};

const struct tu_suite tu_suites[] = {
	{"confwatch", NULL, NULL, confwatch_tests},
	{NULL, NULL, NULL, NULL},
};
