/* output_file: the Traefik file provider output. The document (traefik.h)
 * replaces the target atomically (fileio_replace). Content
 * identical to what is on disk is not rewritten: every write makes Traefik
 * rebuild its load balancers. The tick hands the weights over every time, so a
 * file removed or edited outside weightd is put back (with a warning) even
 * while the weights hold. */
#include "fileio.h"
#include "log.h"
#include "output_impl.h"
#include "text.h"
#include "util.h"

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
	struct wd_events events; /* for the tick to log */
};

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
	struct output_file *f = xcalloc(1, sizeof(*f));
	f->path = xstrdup(path);
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
	/* FNV-1a: enough to tell "the same document as last time" apart. */
	uint64_t h = util_fnv1a(UTIL_FNV_OFFSET, doc, len);
	if (!same && f->last_valid && h == f->last_hash) {
		event_add(&f->events, WD_LOG_WARN,
			  "the output file was removed or changed outside weightd; writing it again",
			  "path", f->path, (char *)NULL);
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
	if (f) {
		free(f->path);
		event_clear(&f->events);
	}
	free(f);
}

static struct wd_events *file_events(void *impl) { return &((struct output_file *)impl)->events; }

const struct output_ops output_file_ops = {
	.kind = "file", .write = file_write, .free = file_free, .events = file_events};
