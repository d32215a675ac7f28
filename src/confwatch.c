/* confwatch: stat(2)-based change detection of the config file. */
#include "confwatch.h"

#include <sys/stat.h>

static bool read_id(struct confwatch *w, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	w->present = true;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->size = st.st_size;
	w->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return true;
}

void confwatch_init(struct confwatch *w, const char *path)
{
	*w = (struct confwatch){0};
	read_id(w, path);
}

bool confwatch_changed(struct confwatch *w, const char *path)
{
	struct confwatch now = {0};
	if (!read_id(&now, path))
		return false;
	bool changed = !w->present || now.dev != w->dev || now.ino != w->ino ||
		       now.size != w->size || now.mtime_ns != w->mtime_ns;
	*w = now;
	return changed;
}
