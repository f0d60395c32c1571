/* Helpers the storage files share (maildir_private.h). */
#include "storage/maildir_private.h"

#include "lib/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int maildir_fail(struct maildir *store, enum maildir_error kind,
		 const char *reason, const char **error_r)
{
	store->error = kind;
	*error_r = reason;
	return -1;
}

enum maildir_error maildir_errno_kind(int err)
{
	if (err == ENOSPC || err == EDQUOT)
		return MAILDIR_ERROR_NO_SPACE;
	return MAILDIR_ERROR_TEMP;
}

int maildir_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		log_error("event=fsync_dir path=%s error=\"%s\"", log_q(path),
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	log_error("event=mkdir path=%s error=\"%s\"", log_q(path),
		  strerror(errno));
	return -1;
}

int maildir_make_dirs(const char *dir, bool folder, bool do_fsync)
{
	static const char *const subs[] = {"tmp", "new", "cur"};
	char path[PATH_MAX];
	int fd;

	if (make_dir(dir) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subs[i]);
		if (make_dir(path) < 0)
			return -1;
	}
	if (folder) {
		snprintf(path, sizeof(path), "%s/maildirfolder", dir);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	if (do_fsync)
		(void)maildir_fsync_dir(dir);
	return 0;
}

void maildir_unique_base(struct buf *out)
{
	static struct timeval last;
	static char host[HOST_NAME_MAX + 1];
	struct timeval now;

	if (host[0] == '\0') {
		char raw[HOST_NAME_MAX + 1];
		size_t w = 0;

		if (gethostname(raw, sizeof(raw) - 1) < 0)
			strcpy(raw, "localhost");
		raw[sizeof(raw) - 1] = '\0';
		/* maildir(5): '/' and ':' in the host name are escaped */
		for (const char *p = raw; *p != '\0' && w + 5 < sizeof(host);
		     p++) {
			if (*p == '/' || *p == ':' || *p == ',') {
				w += (size_t)snprintf(
					host + w, sizeof(host) - w, "\\%03o",
					(unsigned char)*p);
			} else {
				host[w++] = *p;
			}
		}
		host[w] = '\0';
	}
	gettimeofday(&now, NULL);
	if (now.tv_sec < last.tv_sec ||
	    (now.tv_sec == last.tv_sec && now.tv_usec <= last.tv_usec)) {
		now = last;
		if (++now.tv_usec >= 1000000) {
			now.tv_sec++;
			now.tv_usec = 0;
		}
	}
	last = now;
	buf_printf(out, "%lld.M%ldP%ld.%s", (long long)now.tv_sec,
		   (long)now.tv_usec, (long)getpid(), host);
}

int maildir_remove_tree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp = opendir(dir);
	int ret = 0;

	if (dp == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((d = readdir(dp)) != NULL) {
		struct stat st;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			ret |= maildir_remove_tree(path);
		else if (unlink(path) < 0 && errno != ENOENT)
			ret = -1;
	}
	closedir(dp);
	if (rmdir(dir) < 0 && errno != ENOENT)
		ret = -1;
	if (ret < 0)
		log_error("event=remove_tree path=%s error=\"%s\"", log_q(dir),
			  strerror(errno));
	return ret;
}

uint32_t maildir_next_uidvalidity(struct maildir *store, uint32_t above_this)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32], text[16];
	uint32_t next = (uint32_t)time(NULL), last = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/dovecot-uidvalidity", store->root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n > 0) {
			text[n] = '\0';
			last = (uint32_t)strtoul(text, NULL, 16);
		}
	}
	if (next <= last)
		next = last + 1;
	if (next <= above_this)
		next = above_this + 1;
	snprintf(text, sizeof(text), "%08x", next);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, text, 8) != 8 || close(fd) < 0 ||
		    rename(tmp, path) < 0)
			unlink(tmp);
	}
	return next;
}
