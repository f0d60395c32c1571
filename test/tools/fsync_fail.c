/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fsync_fail: an LD_PRELOAD shim that makes fsync() and fdatasync() fail
 * with EIO, for the tests of what a failed flush does to a delivery or an
 * APPEND (test_storage_fsync.py).
 *
 * MERPATI_FSYNC_FAIL names a control file, read at every call (so a test
 * switches the failure on and off while the daemon runs): "file" fails
 * the flush of regular files, "dir" that of directories, "all" both;
 * anything else, or no file, lets every call through. Each call is
 * appended, as "ok file", "ok dir", "fail file" or "fail dir", to the
 * control file's name plus ".log" when that file exists, so a test can
 * also see that a flush it relies on happened at all.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*fsync_fn)(int);

static void fsync_fail_note(const char *ctl, const char *what)
{
	char path[4096];
	int fd;

	if (snprintf(path, sizeof(path), "%s.log", ctl) >= (int)sizeof(path))
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)!write(fd, what, strlen(what));
	close(fd);
}

/* Whether this call fails, noted in the log either way. */
static int fsync_fail_now(int fd)
{
	const char *ctl = getenv("MERPATI_FSYNC_FAIL");
	char mode[16] = "";
	struct stat st;
	int cfd, is_dir, fail;
	ssize_t n;

	if (ctl == NULL || fstat(fd, &st) < 0)
		return 0;
	is_dir = S_ISDIR(st.st_mode);
	cfd = open(ctl, O_RDONLY | O_CLOEXEC);
	if (cfd >= 0) {
		n = read(cfd, mode, sizeof(mode) - 1);
		mode[n > 0 ? n : 0] = '\0';
		close(cfd);
	}
	mode[strcspn(mode, "\n")] = '\0';
	fail = strcmp(mode, "all") == 0 ||
	       strcmp(mode, is_dir ? "dir" : "file") == 0;
	fsync_fail_note(ctl, fail ? (is_dir ? "fail dir\n" : "fail file\n")
				  : (is_dir ? "ok dir\n" : "ok file\n"));
	return fail;
}

static int fsync_fail_call(const char *name, int fd)
{
	fsync_fn real;

	if (fsync_fail_now(fd)) {
		errno = EIO;
		return -1;
	}
	real = (fsync_fn)dlsym(RTLD_NEXT, name);
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd);
}

int fsync(int fd)
{
	return fsync_fail_call("fsync", fd);
}

int fdatasync(int fd)
{
	return fsync_fail_call("fdatasync", fd);
}
