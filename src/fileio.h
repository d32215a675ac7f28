/* fileio: the two file operations the file output and the state file share:
 * reading a small file whole, and replacing a file atomically (temporary file
 * in the same directory, fsync, rename, fsync of the directory). */
#ifndef WD_FILEIO_H
#define WD_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads path whole (at most max bytes) into a NUL-terminated buffer the caller
 * frees. Returns 0, 1 when the file does not exist (ENOENT, ENOTDIR; *out NULL), or -1 with err
 * set. */
int fileio_read(const char *path, size_t max, char **out, size_t *len, char *err, size_t errlen);

/* Replaces path with data atomically: writes "DIR/.BASE.XXXXXX.tmp" (a name
 * Traefik's directory mode ignores), fsyncs it, renames it over path and
 * fsyncs the directory. The new file keeps the old one's mode (and owner,
 * when allowed); a new file gets default_mode. On failure the temporary file
 * is removed, path is untouched, and -1 is returned with err set. */
int fileio_replace(const char *path, const char *data, size_t len, mode_t default_mode,
		   char *err, size_t errlen);

#endif
