/* confwatch: noticing that the config file was replaced or edited, for
 * --watch-config (a Kubernetes ConfigMap mounted as a directory is updated by
 * swapping a symlink; nothing sends SIGHUP). The file's identity is its
 * device, inode, size and modification time, read through symlinks. */
#ifndef WD_CONFWATCH_H
#define WD_CONFWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct confwatch {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
};

/* Records the file's current identity (a missing file is recorded as absent). */
void confwatch_init(struct confwatch *w, const char *path);

/* Whether the file's identity differs from the recorded one; records the new
 * one. A file that disappears counts as no change (a ConfigMap update
 * removes and recreates links): the change is seen when it is back. */
bool confwatch_changed(struct confwatch *w, const char *path);

#endif
