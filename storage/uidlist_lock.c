/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dovecot-uidlist dot-lock (see uidlist.h). */
#include "storage/uidlist.h"

#include "storage/maildir_file.h"

#include "lib/log.h"
#include "lib/xalloc.h"
#include "storage/storage_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A holder creates the file and writes "<pid>:<host>" right away: an empty
 * lock older than this lost its holder in between. */
#define LOCK_EMPTY_STALE_SECS 5
#define LOCK_TOUCH_SECS 10

struct uidlist_lock {
	char *path;
	dev_t dev;
	ino_t ino;
	time_t touched;
};

static const char *lock_hostname(void)
{
	static char host[HOST_NAME_MAX + 1];

	if (host[0] == '\0' && gethostname(host, sizeof(host) - 1) < 0)
		strcpy(host, "localhost");
	return host;
}

/* True when the lock names a process on this host that no longer exists. */
static bool lock_holder_is_dead(const char *path)
{
	char text[HOST_NAME_MAX + 32], *colon, *nl;
	const char *reason;
	ssize_t n;
	long pid;
	int fd;

	fd = maildir_file_open(path, NULL, &reason);
	if (fd < 0)
		return false;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	colon = strchr(text, ':');
	if (colon == NULL)
		return false;
	*colon++ = '\0';
	if ((nl = strchr(colon, '\n')) != NULL)
		*nl = '\0';
	pid = strtol(text, NULL, 10);
	if (pid <= 0 || pid == (long)getpid() ||
	    strcmp(colon, lock_hostname()) != 0)
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Breaks the lock when stale; returns true when it was removed. */
static bool lock_break_stale(const char *path, unsigned stale_secs)
{
	struct stat st, st2;
	time_t now = time(NULL);
	bool stale;

	/* lstat: a symlink planted as the lock is judged (and removed) as
	 * itself, never through its target */
	if (lstat(path, &st) < 0)
		return errno == ENOENT;
	if (st.st_size == 0)
		stale = now - st.st_mtime > LOCK_EMPTY_STALE_SECS;
	else
		stale = now - st.st_mtime > (time_t)stale_secs ||
			lock_holder_is_dead(path);
	if (!stale)
		return false;
	/* only remove the very file judged stale, not a fresh successor */
	if (lstat(path, &st2) < 0 || st2.st_ino != st.st_ino ||
	    st2.st_mtime != st.st_mtime)
		return false;
	if (unlink(path) < 0 && errno != ENOENT) {
		log_error(
			"event=uidlist_lock_stale path=%s error=\"unlink: %s\"",
			log_q(path), strerror(errno));
		return false;
	}
	log_warn("event=uidlist_lock_stale path=%s age=%ld", log_q(path),
		 (long)(now - st.st_mtime));
	return true;
}

/*
 * Creates the lock with its content in one step: the content goes to a
 * private file first, which is then hard-linked to the lock name (link()
 * fails if the lock exists, also over NFS). A holder killed at any moment
 * thus never leaves an empty lock. Without a tmp/ next to it (not a
 * Maildir folder) the lock is created with O_EXCL and written.
 */
static int lock_try_create(struct uidlist_lock *lock, const char *dir)
{
	char text[HOST_NAME_MAX + 32], tmp_dir[PATH_MAX];
	struct buf tmp;
	struct stat st;
	int fd, n, ret, err;

	n = snprintf(text, sizeof(text), "%ld:%s\n", (long)getpid(),
		     lock_hostname());
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/tmp", dir);
	buf_init(&tmp, PATH_MAX * 2);
	fd = -1;
	if (lstat(tmp_dir, &st) == 0 && S_ISDIR(st.st_mode))
		fd = maildir_file_create_tmp(tmp_dir, UIDLIST_LOCK_FILE, &tmp);
	if (fd >= 0) {
		ret = write(fd, text, (size_t)n) == n && fstat(fd, &st) == 0
			      ? 0
			      : -1;
		close(fd);
		if (ret == 0)
			ret = link(tmp.data, lock->path);
		err = errno;
		unlink(tmp.data);
		buf_free(&tmp);
		if (ret < 0) {
			errno = err;
			return -1;
		}
	} else {
		buf_free(&tmp);
		fd = open(lock->path,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd < 0)
			return -1;
		if (write(fd, text, (size_t)n) != n || fstat(fd, &st) < 0) {
			err = errno;
			close(fd);
			unlink(lock->path);
			errno = err == EEXIST ? EIO : err;
			return -1;
		}
		close(fd);
	}
	lock->dev = st.st_dev;
	lock->ino = st.st_ino;
	lock->touched = time(NULL);
	return 0;
}

int uidlist_lock_take(const char *dir, unsigned stale_secs,
		      unsigned timeout_secs, struct uidlist_lock **lock_r,
		      const char **error_r)
{
	struct uidlist_lock *lock = xcalloc(1, sizeof(*lock));
	struct timespec start, now, pause = {0, 1000000};
	size_t len = strlen(dir) + sizeof(UIDLIST_LOCK_FILE) + 2;

	if (stale_secs == 0)
		stale_secs = UIDLIST_STALE_SECS_DEFAULT;
	lock->path = xmalloc(len);
	snprintf(lock->path, len, "%s/%s", dir, UIDLIST_LOCK_FILE);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (unsigned tries = 0;; tries++) {
		if (lock_try_create(lock, dir) == 0) {
			*lock_r = lock;
			return 0;
		}
		if (errno != EEXIST) {
			log_error(
				"event=uidlist_lock path=%s error=\"open: %s\"",
				log_q(lock->path), strerror(errno));
			*error_r = "cannot create the UID list lock";
			break;
		}
		/* checking for staleness costs a stat: every 16th try */
		if (tries % 16 == 0 && lock_break_stale(lock->path, stale_secs))
			continue;
		/* never sleep on a thread that runs an event loop: the
		   caller retries later or on a storage thread */
		if (storage_pool_on_loop_thread()) {
			log_info("event=uidlist_lock_busy path=%s",
				 log_q(lock->path));
			*error_r = "the folder is locked, try again";
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)timeout_secs) {
			log_error(
				"event=uidlist_lock path=%s error=\"timeout after %us\"",
				log_q(lock->path), timeout_secs);
			*error_r = "timed out waiting for the UID list lock";
			break;
		}
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 20000000)
			pause.tv_nsec *= 2;
	}
	free(lock->path);
	free(lock);
	return -1;
}

void uidlist_lock_touch(struct uidlist_lock *lock)
{
	time_t now = time(NULL);

	if (now - lock->touched < LOCK_TOUCH_SECS)
		return;
	lock->touched = now;
	if (utimensat(AT_FDCWD, lock->path, NULL, AT_SYMLINK_NOFOLLOW) < 0)
		log_error(
			"event=uidlist_lock_touch path=%s error=\"utimensat: %s\"",
			log_q(lock->path), strerror(errno));
}

void uidlist_lock_release(struct uidlist_lock **lockp)
{
	struct uidlist_lock *lock = *lockp;
	struct stat st;

	if (lock == NULL)
		return;
	if (lstat(lock->path, &st) == 0 && st.st_ino == lock->ino &&
	    st.st_dev == lock->dev) {
		if (unlink(lock->path) < 0)
			log_error(
				"event=uidlist_unlock path=%s error=\"unlink: %s\"",
				log_q(lock->path), strerror(errno));
	} else {
		log_error(
			"event=uidlist_unlock path=%s error=\"lock was taken over while held\"",
			log_q(lock->path));
	}
	free(lock->path);
	free(lock);
	*lockp = NULL;
}
