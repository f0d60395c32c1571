/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Safe opening and creating of Maildir files (see maildir_file.h). */
#include "storage/maildir_file.h"

#include "storage/maildir_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Names tried before giving up on EEXIST: with 64 random bits (or a
 * Maildir base name that never repeats) a clash means someone plants
 * files at the names we pick. */
#define CREATE_TRIES 8

/* The reason for the log: a fixed text, or "<call>: <strerror>" in a
 * per-thread buffer valid until the next failure. */
static const char *fail_reason(const char *call, int err)
{
	static __thread char text[128];

	snprintf(text, sizeof(text), "%s: %s", call, strerror(err));
	return text;
}

int maildir_file_open(const char *path, struct stat *st_r,
		      const char **reason_r)
{
	struct stat st;
	int fd, flags, err;

	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer;
	 * O_NOFOLLOW: a symlink fails with ELOOP; O_NOCTTY: a tty planted
	 * here must not become ours */
	fd = open(path,
		  O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		*reason_r = err == ELOOP ? "not a regular file"
					 : fail_reason("open", err);
		errno = err;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		close(fd);
		*reason_r = fail_reason("fstat", err);
		errno = err;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		*reason_r = "not a regular file";
		errno = EINVAL;
		return -1;
	}
	/* reads of a regular file never block; keep the descriptor plain */
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	if (st_r != NULL)
		*st_r = st;
	return fd;
}

static uint64_t random_u64(void)
{
	static uint64_t counter;
	struct timespec ts;
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	/* no entropy yet (early boot): still unique within the host */
	clock_gettime(CLOCK_REALTIME, &ts);
	r = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
	    ((uint64_t)getpid() << 20) ^ ++counter;
	return r * 0x9e3779b97f4a7c15ULL;
}

int maildir_file_create_tmp(const char *dir, const char *prefix,
			    struct buf *path_r)
{
	size_t old_len = path_r->len;
	int fd = -1;

	for (int i = 0; i < CREATE_TRIES; i++) {
		buf_truncate(path_r, old_len);
		buf_printf(path_r, "%s/", dir);
		if (prefix != NULL)
			buf_printf(path_r, "%s.%ld.%016llx.tmp", prefix,
				   (long)getpid(),
				   (unsigned long long)random_u64());
		else
			maildir_unique_base(path_r);
		fd = open(path_r->data,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY |
				  O_CLOEXEC,
			  0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		int err = errno;

		buf_truncate(path_r, old_len);
		errno = err;
	}
	return fd;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Appends the directory for path's temporary file: the tmp/ next to it
 * when that is a real directory (not a link), else path's own. */
static void replace_tmp_dir(const char *path, struct buf *dir)
{
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t len;

	if (slash == NULL)
		buf_append_str(dir, ".");
	else
		buf_append(dir, path,
			   slash == path ? 1 : (size_t)(slash - path));
	len = dir->len;
	buf_append_str(dir, "/tmp");
	if (lstat(dir->data, &st) < 0 || !S_ISDIR(st.st_mode))
		buf_truncate(dir, len);
}

int maildir_file_replace(const char *path, const void *data, size_t len,
			 bool do_fsync)
{
	const char *slash = strrchr(path, '/');
	struct buf dir, tmp;
	int fd, err;

	buf_init(&dir, BUF_UNLIMITED);
	buf_init(&tmp, BUF_UNLIMITED);
	replace_tmp_dir(path, &dir);
	fd = maildir_file_create_tmp(dir.data, slash == NULL ? path : slash + 1,
				     &tmp);
	buf_free(&dir);
	if (fd < 0) {
		buf_free(&tmp);
		return -1;
	}
	if (write_all(fd, data, len) < 0 || (do_fsync && fsync(fd) < 0)) {
		err = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) < 0 || rename(tmp.data, path) < 0) {
		err = errno;
		goto fail;
	}
	buf_free(&tmp);
	return 0;
fail:
	unlink(tmp.data);
	buf_free(&tmp);
	errno = err;
	return -1;
}

bool maildir_file_name_has_ctl(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0';
	     p++) {
		if (*p < 0x20 || *p == 0x7f)
			return true;
	}
	return false;
}
