/* fileio: reading a small file whole and replacing a file atomically. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int fileio_read(const char *path, size_t max, char **out, size_t *len, char *err, size_t errlen)
{
	*out = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
				free(buf);
				close(fd);
				return -1;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
			continue;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The directory of path, allocated. */
static char *dir_of(const char *path)
{
	char *copy = xstrdup(path);
	char *d = xstrdup(dirname(copy));
	free(copy);
	return d;
}

int fileio_replace(const char *path, const char *data, size_t len, mode_t default_mode,
		   char *err, size_t errlen)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char *dir = dir_of(path);
	size_t tlen = strlen(dir) + strlen(base) + 16;
	char *tmp = xmalloc(tlen);
	/* ".weightd.yml.XXXXXX.tmp": hidden, and not .yml/.yaml/.toml, which
	 * Traefik's directory mode would parse. */
	snprintf(tmp, tlen, "%s/.%s.XXXXXX.tmp", dir, base);

	struct stat st;
	int have_old = stat(path, &st) == 0;
	mode_t mode = have_old ? st.st_mode & 07777 : default_mode;

	int rc = -1, dfd = -1;
	int fd = mkostemps(tmp, 4, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file in %s: %s", dir, strerror(errno));
		goto out;
	}
	if (have_old && (st.st_uid != geteuid() || st.st_gid != getegid()))
		(void)!fchown(fd, st.st_uid, st.st_gid); /* best effort: only root may */
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto fail;
	}
	/* The rename is durable only once the directory is on disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		snprintf(err, errlen, "%s was replaced but its directory could not be synced: %s", path,
			 strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	free(dir);
	return rc;
}
