/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers the storage files share (maildir_private.h). */
#include "storage/maildir_private.h"

#include "storage/maildir_file.h"

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
		/* exclusively: an existing marker (or a link planted as
		 * one) is left alone */
		fd = open(path,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
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

/* The last UIDVALIDITY handed out in the root (0: none, or unreadable). */
static uint64_t uidvalidity_last(const char *path)
{
	char text[32];
	const char *reason;
	ssize_t n;
	int fd;

	fd = maildir_file_open(path, NULL, &reason);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("event=uidvalidity_read path=%s error=\"%s\"",
				 path, reason);
		return 0;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	return strtoull(text, NULL, 16);
}

uint32_t maildir_next_uidvalidity(struct maildir *store, uint32_t above_this)
{
	char path[PATH_MAX], text[16];
	uint64_t now = (uint64_t)time(NULL), next, last;

	snprintf(path, sizeof(path), "%s/dovecot-uidvalidity", store->root);
	last = uidvalidity_last(path);
	next = now > (uint64_t)above_this ? now : (uint64_t)above_this + 1;
	if (last >= UINT32_MAX) {
		/* a counter at (or beyond) the top leaves no room above it:
		 * one more would wrap to 0. It is only a hint against
		 * repeating an old value; the time and the folder's own
		 * old value still rule. */
		log_warn(
			"event=uidvalidity_counter path=%s value=%llx action=ignored",
			path, (unsigned long long)last);
	} else if (next <= last) {
		next = last + 1;
	}
	if (next > UINT32_MAX) {
		/* the folder's old UIDVALIDITY is 4294967295 itself: nothing
		 * is greater (RFC 3501 2.3.1.1 asks for it); the time at
		 * least differs from it, so clients do resynchronise */
		log_error("event=uidvalidity_exhausted path=%s old=%u new=%llu",
			  store->root, above_this, (unsigned long long)now);
		next = now;
	}
	snprintf(text, sizeof(text), "%08x", (uint32_t)next);
	if (maildir_file_replace(path, text, 8, store->set.fsync) < 0)
		log_error("event=uidvalidity_write path=%s error=\"%s\"", path,
			  strerror(errno));
	return (uint32_t)next;
}
