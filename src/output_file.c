/* output_file: the Traefik file provider output. The document (traefik.h)
 * replaces the target atomically (fileio_replace). Content
 * identical to what is on disk is not rewritten: every write makes Traefik
 * rebuild its load balancers. The tick hands the weights over every time, so a
 * file removed or edited outside weightd is put back (with a warning) even
 * while the weights hold. */
#include "fileio.h"
#include "log.h"
#include "output_impl.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (64u << 20)

/* ---- the file output ---------------------------------------------------- */

struct output_file {
	char *path;
	uint64_t last_hash; /* of the document last written or found in place */
	bool last_valid;
};

/* FNV-1a: enough to tell "the same document as last time" apart. */
static uint64_t doc_hash(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	return h;
}

void *output_file_new(const struct wd_config *cfg, char *err, size_t errlen)
{
	const char *path = cfg->output.path;
	char *old = NULL;
	size_t len;
	char rerr[256];
	int r = fileio_read(path, MAX_FILE_BYTES, &old, &len, rerr, sizeof(rerr));
	if (r < 0) {
		snprintf(err, errlen, "output.path: %s", rerr);
		return NULL;
	}
	/* An empty file holds nothing to lose (e.g. made by touch). */
	int ours = r == 1 || len == 0 || strncmp(old, TRAEFIK_FILE_MARKER, strlen(TRAEFIK_FILE_MARKER)) == 0;
	free(old);
	if (!ours && !cfg->output.take_over) {
		snprintf(err, errlen,
			 "output.path %s exists and was not written by weightd (its first line is not "
			 "\"%s...\"); move it away, or set output.take_over = true to overwrite it",
			 path, TRAEFIK_FILE_MARKER);
		return NULL;
	}
	struct output_file *f = calloc(1, sizeof(*f));
	if (f)
		f->path = strdup(path);
	if (!f || !f->path) {
		free(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return f;
}

static int file_write(void *impl, const struct wd_output_service *s, size_t n, char *err,
		      size_t errlen)
{
	struct output_file *f = impl;
	char *doc, *cur = NULL;
	size_t len, cur_len;
	if (traefik_yaml(s, n, &doc, &len, err, errlen) < 0)
		return -1;
	/* Compare with the disk, not a memory of the last write: a file someone
	 * removed or edited is put back. A read error just means "write". */
	char rerr[256];
	int r = fileio_read(f->path, MAX_FILE_BYTES, &cur, &cur_len, rerr, sizeof(rerr));
	int same = r == 0 && cur_len == len && memcmp(cur, doc, len) == 0;
	free(cur);
	uint64_t h = doc_hash(doc, len);
	if (!same && f->last_valid && h == f->last_hash) {
		log_warn("the output file was removed or changed outside weightd; writing it again",
			 "path", f->path);
		f->last_valid = false; /* once, even if this write fails */
	}
	int rc = OUTPUT_UNCHANGED;
	if (!same)
		rc = fileio_replace(f->path, doc, len, 0644, err, errlen) < 0 ? -1 : OUTPUT_WRITTEN;
	free(doc);
	if (rc >= 0) {
		f->last_hash = h;
		f->last_valid = true;
	}
	return rc;
}

static void file_free(void *impl)
{
	struct output_file *f = impl;
	if (f)
		free(f->path);
	free(f);
}

const struct output_ops output_file_ops = {"file", file_write, NULL, file_free};
